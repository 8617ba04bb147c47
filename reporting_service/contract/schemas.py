"""The RPC (and HTTP) contract of the reporting service.

Exact numbers travel as strings: a KPI's `exact` is the fraction it is
(`"342/405"`), its `value` that fraction as a decimal of 10 places, rounded
once (half even); `display` is rounded as its definition says. Components are
whole seconds (times) and decimal strings (quantities), so anyone can check a
ratio by hand.
"""
import datetime as dt

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from mes_common.schemas import NO_NUL, PageQuery, Pattern, Relation, UtcDateTime, page_schema
from reporting_service.contract import ALERT_WINDOWS, BAND_COLOURS, BY, KPIS, PARETOS, PERIODS

KEY = [validate.Length(min=1, max=60), Pattern(r"^[a-z][a-z0-9_]*$", error="lower case letters, digits and _")]
NAME = [validate.Length(min=1, max=200), NO_NUL]
MAX_DAYS = 400


def decimal_text(**kwargs):
    """An exact decimal in an answer, as text ("0.85")."""
    return fields.String(metadata={"description": "an exact decimal", "example": "0.85"}, **kwargs)


DECIMAL = decimal_text(allow_none=True)
HOUR = dt.timedelta(hours=1)


class Window(Schema):
    start = UtcDateTime(required=True, data_key="from", metadata={
        "description": "from this hour (an instant within an hour: from its start; the model's buckets are hours)",
        "example": "2026-12-01T00:00:00Z"})
    end = UtcDateTime(required=True, data_key="to", metadata={
        "description": "to this hour (an instant within an hour: to its end)", "example": "2026-12-08T00:00:00Z"})

    @post_load
    def _whole_hours(self, data, **kwargs):
        """Widened to whole hours (the answer's `from` and `to` say what was reported)."""
        start, end = data["start"], data["end"]
        floor = start.replace(minute=0, second=0, microsecond=0)
        ceiling = end.replace(minute=0, second=0, microsecond=0)
        if ceiling < end:
            ceiling = ceiling + HOUR if ceiling < dt.datetime.max.replace(tzinfo=dt.timezone.utc) - HOUR else ceiling
        if end <= start:
            raise ValidationError(Relation("after from"), "to")
        if (ceiling - floor).days > MAX_DAYS:
            raise ValidationError(Relation(f"at most {MAX_DAYS} days after from"), "to")
        return {**data, "start": floor, "end": ceiling}


class Scope(Window):
    node_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "a work center, area, site or enterprise of the resource hierarchy (default: everything)"})
    part_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "only this part"})
    timezone = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=64), NO_NUL],
                             metadata={"description": "IANA zone of days, weeks and months (default: the calendar "
                                                      "of the scope, else UTC)", "example": "Europe/Paris"})


class KpiQuery(Scope):
    period = fields.String(load_default="none", validate=validate.OneOf(PERIODS), metadata={
        "description": "one row per hour, shift, day, week (from Monday) or month; none: the whole interval"})
    by = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(BY), metadata={
        "description": "one row per member of this level within the scope (or per part)"})
    kpis = fields.List(fields.String(validate=KEY), load_default=None, validate=validate.Length(max=30),
                       metadata={"description": "definition keys (default: every definition)"})


class ParetoQuery(Scope):
    pass


class KpiValue(Schema):
    value = fields.String(allow_none=True, metadata={"description": "10 decimal places; null when the "
                                                                    "denominator is 0"})
    exact = fields.String(allow_none=True, metadata={"description": "the exact fraction", "example": "342/405"})
    display = fields.String(required=True, metadata={"example": "84.4 %"})
    band = fields.String(allow_none=True, validate=validate.OneOf(BAND_COLOURS))


class Member(Schema):
    id = fields.UUID(allow_none=True)
    level = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class KpiRow(Schema):
    label = fields.String(required=True, metadata={"example": "2026-12-07"})
    start = fields.DateTime(required=True, data_key="from")
    end = fields.DateTime(required=True, data_key="to")
    member = fields.Nested(Member, allow_none=True)
    components = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "ISO 22400 elements: seconds (times, integers) and decimal strings (quantities)"})
    kpis = fields.Dict(keys=fields.String(), values=fields.Nested(KpiValue), required=True)


def number(**kwargs):
    """An exact decimal given as a JSON number (0.85 is read as written, never as a float)."""
    return fields.Decimal(places=6, validate=validate.Range(min=-10 ** 9, max=10 ** 9), **kwargs)


class KpiBandIn(Schema):
    colour = fields.String(required=True, validate=validate.OneOf(BAND_COLOURS))
    below = number(metadata={"description": "values below this"})
    start = number(data_key="from", metadata={"description": "values at or above this"})

    @validates_schema
    def _one_edge(self, data, **kwargs):
        if ("below" in data) == ("start" in data):
            raise ValidationError(Relation("give `below` or `from`"), "colour")


class KpiBand(Schema):
    colour = fields.String(required=True, validate=validate.OneOf(BAND_COLOURS))
    below = decimal_text()
    start = decimal_text(data_key="from")


class DefinitionIn(Schema):
    name = fields.String(required=True, validate=NAME, metadata={"example": "OEE"})
    formula = fields.String(required=True, validate=validate.OneOf(sorted(KPIS)), metadata={
        "description": "the ISO 22400-2 KPI it computes"})
    target = number(load_default=None, allow_none=True, metadata={
        "description": "in the KPI's value scale (a ratio: 0.85 for 85 %)"})
    bands = fields.List(fields.Nested(KpiBandIn), load_default=list, validate=validate.Length(max=5), metadata={
        "description": "colours by value, e.g. [{colour: red, below: 0.65}, {colour: green, from: 0.85}]; "
                       "a value in none of them is amber"})
    decimals = fields.Integer(load_default=1, validate=validate.Range(min=0, max=6))
    version = fields.Integer(strict=True, validate=validate.Range(min=1), metadata={
        "description": "the version you read: 409 if it changed since"})


class DefinitionOut(Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    formula = fields.String(required=True)
    expression = fields.String(required=True, metadata={"example": "APT / PBT"})
    unit = fields.String(required=True)
    target = DECIMAL
    bands = fields.List(fields.Nested(KpiBand), required=True)
    decimals = fields.Integer(required=True)
    components = fields.List(fields.String(), required=True)
    changed_by = fields.String(required=True)
    changed_at = fields.DateTime(required=True)


class DefinitionList(Schema):
    items = fields.List(fields.Nested(DefinitionOut), required=True)


class DefinitionQuery(Schema):
    version = fields.Integer(validate=validate.Range(min=1), metadata={"description": "an earlier version"})


class KpiReport(Schema):
    scope = fields.Nested(Member, required=True)
    part_id = fields.UUID(allow_none=True)
    start = fields.DateTime(required=True, data_key="from")
    end = fields.DateTime(required=True, data_key="to")
    period = fields.String(required=True)
    by = fields.String(allow_none=True)
    timezone = fields.String(required=True)
    definitions = fields.Dict(keys=fields.String(), values=fields.Nested(DefinitionOut), required=True)
    total = fields.Nested(KpiRow, required=True)
    rows = fields.List(fields.Nested(KpiRow), required=True)


class ParetoItem(Schema):
    key = fields.String(required=True)
    value = fields.String(required=True)
    share = fields.String(required=True)
    cumulative = fields.String(required=True, metadata={"description": "share of this and every item before it"})


class ParetoOut(Schema):
    title = fields.String(required=True)
    unit = fields.String(required=True)
    total = fields.String(required=True)
    items = fields.List(fields.Nested(ParetoItem), required=True)


class PeriodReportQuery(Scope):
    period = fields.String(load_default="day", validate=validate.OneOf(PERIODS[1:]))


class PeriodReport(KpiReport):
    title = fields.String(required=True)
    generated_at = fields.DateTime(required=True)
    snapshot = fields.Dict(allow_none=True)
    paretos = fields.Dict(keys=fields.String(validate=validate.OneOf(PARETOS)), values=fields.Nested(ParetoOut),
                          required=True)


class FileOut(Schema):
    filename = fields.String(required=True)
    content = fields.Raw(required=True, metadata={"description": "text, or base64 for a workbook"})


class SnapshotCreate(PeriodReportQuery):
    title = fields.String(load_default=None, allow_none=True, validate=NAME)


class SnapshotOut(Schema):
    id = fields.UUID(required=True)
    title = fields.String(required=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    definition_versions = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    report = fields.Nested(PeriodReport, required=True)


class SnapshotSummary(Schema):
    id = fields.UUID(required=True)
    title = fields.String(required=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    start = fields.DateTime(required=True, data_key="from")
    end = fields.DateTime(required=True, data_key="to")


SnapshotPage = page_schema(SnapshotSummary, "SnapshotPage")


class SnapshotListQuery(PageQuery):
    pass


class AlertRuleIn(Schema):
    name = fields.String(required=True, validate=NAME, metadata={"example": "WC-10 OEE low"})
    kpi = fields.String(required=True, validate=KEY, metadata={"description": "a definition key", "example":
                                                               "oee_index"})
    node_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "scope (default: all)"})
    window = fields.String(required=True, validate=validate.OneOf(ALERT_WINDOWS), metadata={
        "description": "shift: the shift in progress (or the last one); day: today so far; hours: the last `hours`"})
    hours = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=168))
    condition = fields.String(required=True, validate=validate.OneOf(("below", "above")))
    threshold = number(required=True, metadata={
        "description": "in the KPI's value scale (a ratio: 0.60 for 60 %; NCR rate: per thousand)"})
    hysteresis = fields.Decimal(places=6, load_default=0, validate=validate.Range(min=0, max=10 ** 9), metadata={
        "description": "a raised alert clears only once the value is this far past the threshold"})
    active = fields.Boolean(load_default=True)

    @validates_schema
    def _hours(self, data, **kwargs):
        if (data.get("window") == "hours") != (data.get("hours") is not None):
            raise ValidationError(Relation("given exactly when window is hours"), "hours")


class AlertRuleUpdate(Schema):
    name = fields.String(validate=NAME)
    threshold = number()
    hysteresis = fields.Decimal(places=6, validate=validate.Range(min=0, max=10 ** 9))
    active = fields.Boolean()
    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class AlertRuleOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    kpi = fields.String(required=True)
    node_id = fields.UUID(allow_none=True)
    window = fields.String(required=True)
    hours = fields.Integer(allow_none=True)
    condition = fields.String(required=True)
    threshold = DECIMAL
    hysteresis = DECIMAL
    active = fields.Boolean(required=True)
    raised = fields.Boolean(required=True, metadata={"description": "an alert of the rule is open"})
    last_value = fields.String(allow_none=True)
    evaluated_at = fields.DateTime(allow_none=True)
    version = fields.Integer(required=True)
    created_by = fields.String(required=True)


class AlertRuleList(Schema):
    items = fields.List(fields.Nested(AlertRuleOut), required=True)


class AlertOut(Schema):
    id = fields.UUID(required=True)
    rule_id = fields.UUID(required=True)
    rule_name = fields.String(required=True)
    kpi = fields.String(required=True)
    node_id = fields.UUID(allow_none=True)
    condition = fields.String(required=True)
    threshold = DECIMAL
    status = fields.String(required=True, validate=validate.OneOf(("raised", "cleared")))
    raised_at = fields.DateTime(required=True)
    raised_value = fields.String(required=True)
    cleared_at = fields.DateTime(allow_none=True)
    cleared_value = fields.String(allow_none=True)
    window_start = fields.DateTime(required=True)
    window_end = fields.DateTime(required=True)
    acknowledged_by = fields.String(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)


AlertPage = page_schema(AlertOut, "AlertPage")


class AlertListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(("raised", "cleared")))
    rule_id = fields.UUID()


class Acknowledge(Schema):
    note = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=1000), NO_NUL])


class ReportingModelStatusOut(Schema):
    active = fields.String(required=True)
    rebuilding = fields.String(allow_none=True)
    rebuild_started_at = fields.DateTime(allow_none=True)
    rebuilt_at = fields.DateTime(allow_none=True)
    rebuild_events = fields.Integer(allow_none=True)
    facts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    computed_through = fields.DateTime(allow_none=True, metadata={"description": "buckets are final up to here"})


class DefinitionKey(Schema):
    key = fields.String(required=True, validate=KEY)


class ParetoKind(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(PARETOS))
