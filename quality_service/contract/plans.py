"""The quality service's contract for inspection plans, their characteristics
and control points: RPC input and output schemas, also the gateway's."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mes_common.schemas import (Boolean, NO_NUL, PageQuery, Relation, SignatureCredentials, SignatureOut, absent,
                                page_schema, present)
from quality_service.contract import (CHARACTERISTIC_KINDS, CONTROL_POINT_KINDS, CRITICALITIES, PLAN_STATUSES)
from quality_service.contract.common import CODE, TITLE, UNIT, Measure, optional_text, text, version
from resource_service.contract.schemas import SkillRequirement

SAMPLING_METHODS = ("all", "first_piece", "every_nth", "aql")
INSPECTION_LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
AQLS = ("0.010", "0.015", "0.025", "0.040", "0.065", "0.10", "0.15", "0.25", "0.40", "0.65",
        "1.0", "1.5", "2.5", "4.0", "6.5", "10")
RULE_SETS = ("nelson", "western_electric")
MAX_CHARACTERISTICS = 500
REVISION = [validate.Length(min=1, max=16), NO_NUL]


class Sampling(Schema):
    method = fields.String(required=True, validate=validate.OneOf(SAMPLING_METHODS), metadata={
        "description": "all: every unit (100 %); first_piece: one unit; every_nth: one unit in `n`; "
                       "aql: ANSI/ASQ Z1.4 single sampling by `aql`, `level` and the lot size, with switching"})
    n = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=2, max=100_000),
                       metadata={"description": "every_nth: one unit in n"})
    aql = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(AQLS),
                        metadata={"description": "aql: acceptance quality limit, percent nonconforming"})
    level = fields.String(load_default="II", validate=validate.OneOf(INSPECTION_LEVELS),
                          metadata={"description": "aql: inspection level (general I-III, special S-1..S-4)"})
    reduced_allowed = Boolean(load_default=False, metadata={
        "description": "aql: production is steady and reduced inspection is approved (switching score 30)"})

    openapi_extra = {"oneOf": [
        {"properties": {"method": {"enum": ["all", "first_piece"]}, **absent("n", "aql")["properties"]}},
        {"allOf": [{"properties": {"method": {"enum": ["every_nth"]}}}, absent("aql"), present("n")]},
        {"allOf": [{"properties": {"method": {"enum": ["aql"]}}}, absent("n"), present("aql")]},
    ]}

    @validates_schema
    def _fields_of_method(self, data, **kwargs):
        method, problems = data["method"], {}
        wanted = {"every_nth": "n", "aql": "aql"}.get(method)
        for name in ("n", "aql"):
            if name == wanted and data.get(name) is None:
                problems[name] = [f"required with method {method}"]
            elif name != wanted and data.get(name) is not None:
                problems[name] = [f"not with method {method}"]
        if problems:
            raise ValidationError(problems)


class Spc(Schema):
    rules = fields.String(load_default="nelson", validate=validate.OneOf(RULE_SETS), metadata={
        "description": "nelson: Nelson's rules 1-8; western_electric: the four Western Electric zone rules"})
    opens_ncr = Boolean(load_default=False, metadata={"description": "a rule violation raises an NCR"})


class CharacteristicIn(Schema):
    number = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=99_999),
                            metadata={"description": "the balloon number on the drawing"})
    name = fields.String(required=True, validate=TITLE, metadata={"example": "Bore diameter"})
    kind = fields.String(required=True, validate=validate.OneOf(CHARACTERISTIC_KINDS), metadata={
        "description": "variable: measured against nominal and tolerances; attribute: pass/fail; "
                       "visual: pass/fail by eye"})
    criticality = fields.String(required=True, validate=validate.OneOf(CRITICALITIES))
    nominal = Measure(load_default=None, allow_none=True, metadata={"description": "variable: required"})
    lower_tolerance = Measure(load_default=None, allow_none=True, metadata={
        "description": "variable: signed deviation from nominal (-0.05); null: no lower limit"})
    upper_tolerance = Measure(load_default=None, allow_none=True, metadata={
        "description": "variable: signed deviation from nominal (+0.05); null: no upper limit"})
    unit = fields.String(load_default=None, allow_none=True, validate=UNIT,
                         metadata={"description": "variable: required (mm, in, N*m, degC ...)", "example": "mm"})
    gauge_type = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=100), NO_NUL],
                               metadata={"description": "results name a calibrated gauge whose type contains this",
                                         "example": "micrometer"})
    sampling = fields.Nested(Sampling, load_default=lambda: {"method": "all", "n": None, "aql": None, "level": "II",
                                                             "reduced_allowed": False})
    subgroup_size = fields.Integer(load_default=5, strict=True, validate=validate.Range(min=1, max=25), metadata={
        "description": "SPC subgroup size (1: individuals and moving range)"})
    spc = fields.Nested(Spc, load_default=None, allow_none=True, metadata={"description": "chart it (null: no SPC)"})
    description = optional_text()
    designator = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=40), NO_NUL],
                               metadata={"description": "the designator as the drawing writes it, when it is not "
                                                        "just the balloon number", "example": "12a"})
    drawing_zone = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=40), NO_NUL],
                                 metadata={"description": "where on the drawing (AS9102 form 3 reference location)",
                                           "example": "C4"})
    external_id = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=64), NO_NUL],
                                metadata={"description": "the QIF characteristic item it came from (id or UUID): "
                                                         "QIF results are matched by it when no balloon matches"})

    openapi_extra = {"oneOf": [
        {"properties": {"kind": {"enum": ["variable"]}}, "allOf": [
            present("nominal"), present("unit"), {"anyOf": [present("lower_tolerance"), present("upper_tolerance")]}]},
        {"properties": {"kind": {"enum": ["attribute", "visual"]},
                        **absent("nominal", "lower_tolerance", "upper_tolerance", "unit")["properties"]}},
    ]}

    @validates_schema
    def _kind(self, data, **kwargs):
        problems = {}
        if data["kind"] == "variable":
            for name in ("nominal", "unit"):
                if data.get(name) is None:
                    problems[name] = ["required for a variable characteristic"]
            lower, upper = data.get("lower_tolerance"), data.get("upper_tolerance")
            if lower is None and upper is None and not problems:
                problems["upper_tolerance"] = ["a variable characteristic needs a tolerance"]
            elif lower is not None and upper is not None and lower > upper:
                problems["lower_tolerance"] = [Relation("above upper_tolerance")]
        else:
            for name in ("nominal", "lower_tolerance", "upper_tolerance", "unit"):
                if data.get(name) is not None:
                    problems[name] = [f"only for a variable characteristic, not {data['kind']}"]
        if problems:
            raise ValidationError(problems)


def _distinct_numbers(characteristics):
    numbers = [c["number"] for c in characteristics]
    if len(set(numbers)) != len(numbers):
        raise ValidationError(Relation("each balloon number once"), "characteristics")


class PlanCreate(Schema):
    plan_number = fields.String(required=True, validate=CODE, metadata={"example": "IP-BRACKET-100"})
    title = fields.String(required=True, validate=TITLE)
    part_id = fields.UUID(required=True)
    part_revision = fields.String(required=True, validate=REVISION, metadata={"example": "A"})
    operation_sequence = fields.Integer(load_default=None, allow_none=True, strict=True,
                                        validate=validate.Range(min=1, max=99_999),
                                        metadata={"description": "the routing operation it belongs to, if one"})
    description = optional_text()
    inspector_skills = fields.List(fields.Nested(SkillRequirement), load_default=list,
                                   validate=validate.Length(max=10), metadata={
                                       "description": "who records results must be qualified in these skills"})
    characteristics = fields.List(fields.Nested(CharacteristicIn), required=True,
                                  validate=validate.Length(min=1, max=MAX_CHARACTERISTICS))

    @validates_schema
    def _distinct(self, data, **kwargs):
        _distinct_numbers(data["characteristics"])


class PlanUpdate(Schema):
    """A draft's changes; `characteristics` replaces them all."""
    title = fields.String(validate=TITLE)
    operation_sequence = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=99_999))
    description = text(allow_none=True)
    change_note = text(allow_none=True)
    inspector_skills = fields.List(fields.Nested(SkillRequirement), validate=validate.Length(max=10))
    characteristics = fields.List(fields.Nested(CharacteristicIn),
                                  validate=validate.Length(min=1, max=MAX_CHARACTERISTICS))
    version = version()

    @validates_schema
    def _distinct(self, data, **kwargs):
        if "characteristics" in data:
            _distinct_numbers(data["characteristics"])


class PlanRevise(Schema):
    change_note = fields.String(required=True, validate=[validate.Length(min=1, max=2000), NO_NUL],
                                metadata={"description": "why the plan changes (the revision history)"})


class PlanRelease(Schema):
    signature = fields.Nested(SignatureCredentials, required=True)
    version = version()


class PlanKey(Schema):
    plan_number = fields.String(required=True, validate=CODE)


class PlanQuery(Schema):
    revision = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=100_000),
                              metadata={"description": "default: the released revision, else the newest"})


class CharacteristicOut(CharacteristicIn):
    id = fields.UUID(required=True)
    lower_limit = Measure(allow_none=True, metadata={"description": "nominal + lower_tolerance"})
    upper_limit = Measure(allow_none=True, metadata={"description": "nominal + upper_tolerance"})

    openapi_extra = None


class PlanOut(Schema):
    id = fields.UUID(required=True)
    plan_number = fields.String(required=True)
    revision = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(PLAN_STATUSES))
    title = fields.String(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    part_revision = fields.String(required=True)
    operation_sequence = fields.Integer(required=True, allow_none=True)
    description = fields.String(required=True, allow_none=True)
    change_note = fields.String(required=True, allow_none=True)
    inspector_skills = fields.List(fields.Nested(SkillRequirement), required=True)
    characteristics = fields.List(fields.Nested(CharacteristicOut), required=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    released_at = fields.DateTime(required=True, allow_none=True)
    released_by = fields.String(required=True, allow_none=True)
    version = fields.Integer(required=True)
    signatures = fields.List(fields.Nested(SignatureOut), required=True,
                             metadata={"description": "the release's signature manifestation (21 CFR 11.50)"})


class PlanSummary(Schema):
    id = fields.UUID(required=True)
    plan_number = fields.String(required=True)
    revision = fields.Integer(required=True)
    status = fields.String(required=True)
    title = fields.String(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    part_revision = fields.String(required=True)
    operation_sequence = fields.Integer(required=True, allow_none=True)
    characteristic_count = fields.Integer(required=True)
    released_at = fields.DateTime(required=True, allow_none=True)
    updated_at = fields.DateTime(required=True)


class PlanListQuery(PageQuery):
    part_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(PLAN_STATUSES))
    plan_number = fields.String(validate=CODE, metadata={"description": "prefix of the plan number"})


PlanPage = page_schema(PlanSummary, "PlanPage")


# ------------------------------------------------------------------ control points

class ControlPointCreate(Schema):
    part_id = fields.UUID(required=True)
    part_revision = fields.String(load_default=None, allow_none=True, validate=REVISION,
                                  metadata={"description": "null: every revision of the part"})
    kind = fields.String(required=True, validate=validate.OneOf(CONTROL_POINT_KINDS), metadata={
        "description": "receiving: lots of the part received from suppliers; in_process: at an operation; "
                       "final: at the last operation, before the order completes"})
    operation_sequence = fields.Integer(load_default=None, allow_none=True, strict=True,
                                        validate=validate.Range(min=1, max=99_999),
                                        metadata={"description": "in_process and final: the operation"})
    plan_number = fields.String(required=True, validate=CODE,
                                metadata={"description": "its released revision applies when an inspection opens"})
    gates = Boolean(load_default=True, metadata={
        "description": "in_process and final: the operation cannot complete until its inspection has passed"})

    openapi_extra = {"oneOf": [
        {"properties": {"kind": {"enum": ["receiving"]}, **absent("operation_sequence")["properties"]}},
        {"allOf": [{"properties": {"kind": {"enum": ["in_process", "final"]}}}, present("operation_sequence")]},
    ]}

    @validates_schema
    def _operation(self, data, **kwargs):
        if data["kind"] == "receiving" and data.get("operation_sequence") is not None:
            raise ValidationError("not for a receiving control point", "operation_sequence")
        if data["kind"] != "receiving" and data.get("operation_sequence") is None:
            raise ValidationError(f"required for a {data['kind']} control point", "operation_sequence")


class ControlPointUpdate(Schema):
    gates = Boolean()
    active = Boolean(metadata={"description": "an inactive control point opens no inspection and gates nothing"})
    version = version()


class ControlPointOut(Schema):
    id = fields.UUID(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    part_revision = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True)
    operation_sequence = fields.Integer(required=True, allow_none=True)
    plan_number = fields.String(required=True)
    gates = Boolean(required=True)
    active = Boolean(required=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    version = fields.Integer(required=True)


class ControlPointListQuery(PageQuery):
    part_id = fields.UUID()
    kind = fields.String(validate=validate.OneOf(CONTROL_POINT_KINDS))
    active = Boolean()


ControlPointPage = page_schema(ControlPointOut, "ControlPointPage")
