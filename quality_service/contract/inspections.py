"""The quality service's contract for inspections and their results: RPC input
and output schemas, also the gateway's."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mes_common.schemas import Boolean, PageQuery, Relation, UtcDateTime, exactly_one_of, page_schema
from quality_service.contract import INSPECTION_KINDS, INSPECTION_STATUSES
from quality_service.contract.common import CODE, REASON, UNIT, Measure, optional_text

MAX_RESULTS = 10_000   # results in one request


class InspectionOpen(Schema):
    """Open an inspection by hand: of a lot, a serial, or a work order's operation."""
    plan_number = fields.String(required=True, validate=CODE,
                                metadata={"description": "its released revision is used"})
    kind = fields.String(load_default="manual", validate=validate.OneOf(INSPECTION_KINDS))
    lot_id = fields.UUID(load_default=None, allow_none=True)
    serial_id = fields.UUID(load_default=None, allow_none=True)
    operation_id = fields.UUID(load_default=None, allow_none=True,
                               metadata={"description": "with work_order_id: the operation inspected"})
    work_order_id = fields.UUID(load_default=None, allow_none=True)
    quantity = fields.Integer(load_default=None, allow_none=True, strict=True,
                              validate=validate.Range(min=1, max=10_000_000), metadata={
                                  "description": "units the samples are drawn from; default: the lot's quantity, "
                                                 "1 for a serial, the order's quantity for an operation"})

    openapi_extra = exactly_one_of("lot_id", "serial_id", "operation_id")

    @validates_schema
    def _subject(self, data, **kwargs):
        given = [n for n in ("lot_id", "serial_id", "operation_id") if data.get(n) is not None]
        if len(given) != 1:
            raise ValidationError("give exactly one of lot_id, serial_id, operation_id", "lot_id")
        if (data.get("operation_id") is None) != (data.get("work_order_id") is None):
            raise ValidationError(Relation("operation_id and work_order_id go together"), "work_order_id")


class ResultIn(Schema):
    characteristic = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=99_999),
                                    metadata={"description": "the characteristic's balloon number"})
    sample = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000_000),
                            metadata={"description": "1 .. the sample size of the characteristic"})
    value = Measure(load_default=None, allow_none=True, metadata={"description": "variable: the measured value"})
    unit = fields.String(load_default=None, allow_none=True, validate=UNIT,
                         metadata={"description": "variable: the unit of `value` (default: the characteristic's); "
                                                  "converted, 422 when it does not convert"})
    passed = Boolean(load_default=None, allow_none=True, metadata={"description": "attribute and visual"})
    defects = fields.Integer(load_default=None, allow_none=True, strict=True,
                             validate=validate.Range(min=0, max=10_000),
                             metadata={"description": "attribute: nonconformities counted on the unit (c chart)"})
    gauge_id = fields.UUID(load_default=None, allow_none=True,
                           metadata={"description": "the gauge used: calibrated and of the characteristic's type"})
    note = optional_text(500)


class ResultsRecord(Schema):
    results = fields.List(fields.Nested(ResultIn), required=True, validate=validate.Length(min=1, max=MAX_RESULTS))

    @validates_schema
    def _distinct(self, data, **kwargs):
        keys = [(r["characteristic"], r["sample"]) for r in data["results"]]
        if len(set(keys)) != len(keys):
            raise ValidationError(Relation("each characteristic's sample once"), "results")


class InspectionCancel(Schema):
    reason = fields.String(required=True, validate=REASON)


class ResultOut(Schema):
    id = fields.UUID(required=True)
    characteristic = fields.Integer(required=True)
    sample = fields.Integer(required=True)
    value = Measure(required=True, allow_none=True, metadata={"description": "in the characteristic's unit"})
    entered_value = Measure(required=True, allow_none=True)
    entered_unit = fields.String(required=True, allow_none=True)
    passed = fields.Boolean(required=True, allow_none=True)
    defects = fields.Integer(required=True, allow_none=True)
    conforming = fields.Boolean(required=True, metadata={"description": "computed: in tolerance, or passed"})
    gauge_id = fields.UUID(required=True, allow_none=True)
    gauge_number = fields.String(required=True, allow_none=True)
    inspector_id = fields.UUID(required=True, allow_none=True)
    inspector = fields.String(required=True)
    recorded_at = fields.DateTime(required=True)
    note = fields.String(required=True, allow_none=True)


class InspectionItemOut(Schema):
    characteristic = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    criticality = fields.String(required=True)
    sample_size = fields.Integer(required=True)
    accept = fields.Integer(required=True, metadata={"description": "at most this many nonconforming: accepted"})
    reject = fields.Integer(required=True, metadata={"description": "this many nonconforming: rejected"})
    severity = fields.String(required=True, allow_none=True, metadata={"description": "Z1.4: normal, tightened, "
                                                                                      "reduced"})
    code_letter = fields.String(required=True, allow_none=True)
    measured = fields.Integer(required=True)
    nonconforming = fields.Integer(required=True)
    verdict = fields.String(required=True, allow_none=True, validate=validate.OneOf(("pass", "fail")),
                            metadata={"description": "null until decided (computed, never typed)"})


class InspectedOut(Schema):
    """What an inspection inspects: its part and a lot, a serial or a work order's operation."""
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    lot_id = fields.UUID(required=True, allow_none=True)
    lot_number = fields.String(required=True, allow_none=True)
    serial_id = fields.UUID(required=True, allow_none=True)
    serial_number = fields.String(required=True, allow_none=True)
    work_order_id = fields.UUID(required=True, allow_none=True)
    work_order_number = fields.String(required=True, allow_none=True)
    operation_id = fields.UUID(required=True, allow_none=True)
    operation_sequence = fields.Integer(required=True, allow_none=True)


class InspectionOut(InspectedOut):
    id = fields.UUID(required=True)
    number = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(INSPECTION_STATUSES))
    plan_id = fields.UUID(required=True)
    plan_number = fields.String(required=True)
    plan_revision = fields.Integer(required=True)
    control_point_id = fields.UUID(required=True, allow_none=True)
    quantity = fields.Integer(required=True)
    supplier = fields.String(required=True, allow_none=True)
    opened_by = fields.String(required=True)
    opened_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(required=True, allow_none=True)
    status_reason = fields.String(required=True, allow_none=True)
    ncr_id = fields.UUID(required=True, allow_none=True)
    ncr_number = fields.String(required=True, allow_none=True)
    version = fields.Integer(required=True)
    items = fields.List(fields.Nested(InspectionItemOut), required=True)
    results = fields.List(fields.Nested(ResultOut), metadata={"description": "with get_inspection"})


class InspectionListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(INSPECTION_STATUSES))
    kind = fields.String(validate=validate.OneOf(INSPECTION_KINDS))
    lot_id = fields.UUID()
    work_order_id = fields.UUID()
    operation_id = fields.UUID()
    plan_number = fields.String(validate=CODE)
    opened_since = UtcDateTime()


InspectionPage = page_schema(InspectionOut, "InspectionPage")


class GateQuery(Schema):
    """May this operation of a work order complete, as far as inspection goes?"""
    work_order_id = fields.UUID(required=True)
    operation_id = fields.UUID(required=True)
    part_id = fields.UUID(required=True)
    part_revision = fields.String(required=True, validate=validate.Length(min=1, max=16))
    operation_sequence = fields.Integer(required=True, strict=True)


class GateInspection(Schema):
    id = fields.UUID(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)


class GateOut(Schema):
    open = fields.Boolean(required=True, metadata={"description": "true: nothing of quality stops it"})
    reason = fields.String(required=True, allow_none=True)
    plan_number = fields.String(required=True, allow_none=True)
    inspections = fields.List(fields.Nested(GateInspection), required=True)
