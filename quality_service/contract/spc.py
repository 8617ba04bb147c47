"""The quality service's contract for statistical process control: control
charts of a characteristic, their frozen limits, and the rule violations found
as results arrive. Also the gateway's schemas."""
from marshmallow import Schema, fields, validate

from mes_common.schemas import PageQuery, UtcDateTime, page_schema
from quality_service.contract.common import CODE, REASON
from quality_service.contract.inspections import InspectedOut

CHARTS = ("xbar_r", "xbar_s", "imr", "p", "c")
MAX_POINTS = 20_000
CHART_DOC = ("xbar_r, xbar_s: subgroup means with ranges or standard deviations; imr: individuals and moving "
             "ranges (variable characteristics); p: fraction nonconforming per inspection; c: defects per unit "
             "(attribute and visual). Default: imr for subgroups of 1, xbar_r up to 10, xbar_s above; p for "
             "attributes.")


def _characteristic():
    return fields.Integer(required=True, strict=False, validate=validate.Range(min=1, max=99_999),
                          metadata={"description": "the characteristic's balloon number"})


class ChartKey(Schema):
    plan_number = fields.String(required=True, validate=CODE, metadata={
        "description": "a characteristic is charted across the plan's revisions (its released revision says "
                       "the subgroup size, tolerances and rules)"})
    characteristic = _characteristic()
    chart = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CHARTS),
                          metadata={"description": CHART_DOC})


class ChartQuery(ChartKey):
    limit = fields.Integer(load_default=100, strict=False, validate=validate.Range(min=1, max=MAX_POINTS),
                           metadata={"description": "the latest this many points"})
    since = UtcDateTime(load_default=None, allow_none=True,
                        metadata={"description": "only inspections opened at or after this time"})


class LimitsFreeze(ChartKey):
    baseline = fields.Integer(load_default=25, strict=True, validate=validate.Range(min=20, max=MAX_POINTS),
                              metadata={"description": "compute from the latest this many points (20 at least)"})
    until = UtcDateTime(load_default=None, allow_none=True, metadata={
        "description": "the baseline ends with the inspections opened before this time (default: now)"})
    reason = fields.String(required=True, validate=REASON, metadata={
        "example": "baseline after the spindle rebuild"})


class Band(Schema):
    centre = fields.Float(required=True)
    lcl = fields.Float(required=True, allow_none=True, metadata={"description": "p chart: per point"})
    ucl = fields.Float(required=True, allow_none=True, metadata={"description": "p chart: per point"})
    sigma = fields.Float(required=True, allow_none=True, metadata={"description": "one sigma of the plotted value"})


class Baseline(Schema):
    points = fields.Integer(required=True)
    first = fields.String(required=True, allow_none=True, metadata={"description": "point key"})
    last = fields.String(required=True, allow_none=True, metadata={"description": "point key"})


class LimitsOut(Schema):
    id = fields.UUID(required=True, allow_none=True, metadata={"description": "null: trial limits"})
    frozen = fields.Boolean(required=True, metadata={
        "description": "true: computed from a baseline and kept until recomputed (rule violations are raised "
                       "against these only); false: trial limits of the points shown"})
    chart = fields.String(required=True, validate=validate.OneOf(CHARTS))
    subgroup_size = fields.Integer(required=True)
    location = fields.Nested(Band, required=True)
    dispersion = fields.Nested(Band, required=True, allow_none=True)
    sigma_within = fields.Float(required=True, allow_none=True)
    baseline = fields.Nested(Baseline, required=True)
    computed_by = fields.String(required=True, allow_none=True)
    computed_at = fields.DateTime(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)


class PointOut(Schema):
    key = fields.String(required=True, metadata={"description": "<inspection id>:<subgroup or sample>, or the "
                                                                "inspection id (p chart)"})
    inspection_id = fields.UUID(required=True)
    inspection_number = fields.String(required=True)
    at = fields.DateTime(required=True, metadata={"description": "when its inspection opened"})
    value = fields.Float(required=True, metadata={"description": "x-bar, x, p or c"})
    spread = fields.Float(required=True, allow_none=True, metadata={"description": "range, s or moving range"})
    size = fields.Integer(required=True, allow_none=True, metadata={"description": "p chart: units inspected"})
    lcl = fields.Float(required=True, allow_none=True)
    ucl = fields.Float(required=True, allow_none=True)
    rules = fields.List(fields.String(), required=True, metadata={"description": "the rules it breaks"})


class CapabilityOut(Schema):
    count = fields.Integer(required=True, metadata={"description": "measurements"})
    mean = fields.Float(required=True, allow_none=True)
    sigma_within = fields.Float(required=True, allow_none=True)
    sigma_overall = fields.Float(required=True, allow_none=True)
    lsl = fields.Float(required=True, allow_none=True)
    usl = fields.Float(required=True, allow_none=True)
    cp = fields.Float(required=True, allow_none=True, metadata={"description": "null with a one-sided tolerance"})
    cpk = fields.Float(required=True, allow_none=True)
    pp = fields.Float(required=True, allow_none=True)
    ppk = fields.Float(required=True, allow_none=True)


class RuleFinding(Schema):
    key = fields.String(required=True)
    series = fields.String(required=True, metadata={"description": "xbar, x, p, c; r, s, mr"})
    rule = fields.String(required=True)
    description = fields.String(required=True)


class ChartOut(Schema):
    plan_number = fields.String(required=True)
    plan_revision = fields.Integer(required=True)
    characteristic = fields.Integer(required=True)
    name = fields.String(required=True)
    unit = fields.String(required=True, allow_none=True)
    chart = fields.String(required=True, validate=validate.OneOf(CHARTS))
    subgroup_size = fields.Integer(required=True)
    rule_set = fields.String(required=True)
    series = fields.List(fields.String(), required=True, metadata={"description": "[location, dispersion]"})
    limits = fields.Nested(LimitsOut, required=True, allow_none=True,
                           metadata={"description": "null until there are points"})
    points = fields.List(fields.Nested(PointOut), required=True)
    findings = fields.List(fields.Nested(RuleFinding), required=True, metadata={
        "description": "every rule broken by the points shown, against the limits shown"})
    capability = fields.Nested(CapabilityOut, required=True, allow_none=True,
                               metadata={"description": "variable charts"})


class ViolationOut(Schema):
    id = fields.UUID(required=True)
    plan_number = fields.String(required=True)
    characteristic = fields.Integer(required=True)
    chart = fields.String(required=True)
    series = fields.String(required=True)
    rule = fields.String(required=True)
    description = fields.String(required=True)
    point_key = fields.String(required=True)
    value = fields.Float(required=True)
    inspection_id = fields.UUID(required=True)
    limits_id = fields.UUID(required=True)
    detected_at = fields.DateTime(required=True)
    ncr_id = fields.UUID(required=True, allow_none=True)


class ViolationListQuery(PageQuery):
    plan_number = fields.String(validate=CODE)
    characteristic = fields.Integer(strict=False, validate=validate.Range(min=1, max=99_999))
    rule = fields.String(validate=validate.Length(min=1, max=40))


ViolationPage = page_schema(ViolationOut, "SpcViolationPage")


class FrozenLimitsOut(LimitsOut):
    """Limits frozen for a characteristic's chart (also the spc.limits_frozen event)."""
    plan_number = fields.String(required=True)
    characteristic = fields.Integer(required=True)


class BrokenLimits(Schema):
    location = fields.Nested(Band, required=True)
    dispersion = fields.Nested(Band, required=True, allow_none=True)
    sigma_within = fields.Float(required=True, allow_none=True)


class ViolationEvent(ViolationOut, InspectedOut):
    """The spc.violation event: the violation, the limits it broke and what was inspected."""
    limits = fields.Nested(BrokenLimits, required=True)
    ncr_number = fields.String(required=True, allow_none=True)
    inspection_number = fields.String(required=True)
