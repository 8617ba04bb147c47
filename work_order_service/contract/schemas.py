"""The work order service's RPC contract (also the gateway's HTTP contract)."""
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mes_common.schemas import (Boolean, NO_NUL, PageQuery, Pattern, Quantity, Relation, SignatureCredentials,
                                SignatureOut, UtcDateTime, absent, page_schema, present)
from work_order_service.contract import OPERATION_STATUSES as OP_STATUSES, STATUSES
from resource_service.contract import schemas as resource_schemas

NUMBER = Pattern(r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$",
                 error="use letters, digits, '.', '_', '/' or '-', starting with a letter or digit")
# serial and lot numbers as material accepts them
IDENT = Pattern(r"^[A-Za-z0-9][A-Za-z0-9._/#:\-]*$",
                error="use letters, digits, '.', '_', '/', '#', ':' or '-', starting with a letter or digit")
KEY = [validate.Length(min=1, max=200), NO_NUL]


class Reported(Quantity):
    """A reported quantity: a JSON number >= 0 (good 0 with some scrap is a report)."""

    def __init__(self, **kwargs):
        fields.Decimal.__init__(self, places=6, validate=validate.Range(min=0, max=Quantity.MAX), **kwargs)


def text(max_length, **kwargs):
    return fields.String(validate=[validate.Length(min=1, max=max_length), NO_NUL], **kwargs)


def optional_text(max_length):
    return fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=max_length), NO_NUL])


class _Reason(Schema):
    reason = optional_text(500)


class HoldRequest(Schema):
    reason = text(500, required=True)


class ResumeRequest(_Reason):
    pass


class CloseRequest(_Reason):
    signature = fields.Nested(SignatureCredentials, required=True, metadata={
        "description": "the e-signature of the person closing the order (meaning: approval)"})


# ------------------------------------------------------------------ work orders

class WorkOrderCreate(Schema):
    number = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=64), NUMBER],
                           metadata={"description": "the ERP's number; generated (WO-000001) when absent"})
    part_id = fields.UUID(required=True)
    part_revision = text(16, load_default=None, allow_none=True,
                         metadata={"description": "default: the part's current revision"})
    quantity = Quantity(required=True)
    due_date = fields.Date(required=True)
    priority = fields.Integer(load_default=500, strict=True, validate=validate.Range(min=1, max=999),
                              metadata={"description": "1 = most urgent"})
    site_id = fields.UUID(required=True)
    work_center_id = fields.UUID(load_default=None, allow_none=True)
    output_location_id = fields.UUID(load_default=None, allow_none=True,
                                     metadata={"description": "where output goes (default: material's PRODUCTION)"})


class PlannedOperation(Schema):
    """An operation as the ERP plans it (B2MML SegmentRequirement): at release it replaces the routing's
    operation of the same sequence in work center and times, and keeps the routing's instruction, skills and
    special process (an order whose part has no released routing runs on the plan alone)."""
    sequence = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=99_999))
    name = text(200, required=True)
    work_center_id = fields.UUID(required=True)
    setup_time = fields.Decimal(load_default=Decimal(0), places=6, validate=validate.Range(min=0, max=10_000_000),
                                metadata={"description": "minutes"})
    run_time = fields.Decimal(load_default=Decimal(0), places=6, validate=validate.Range(min=0, max=10_000_000),
                              metadata={"description": "minutes per unit"})
    process_segment_id = optional_text(64)

    @validates_schema
    def _finite(self, data, **kwargs):
        for name in ("setup_time", "run_time"):
            if name in data and not data[name].is_finite():
                raise ValidationError("must be a number", name)


class OperationPlan(Schema):
    """What an operation is planned as: where, and how long."""
    sequence = fields.Integer(required=True)
    name = fields.String(required=True)
    work_center_id = fields.UUID(required=True)
    work_center_code = fields.String(allow_none=True)
    work_center_name = fields.String(allow_none=True)
    setup_time = fields.Float(required=True, metadata={"description": "minutes"})
    run_time = fields.Float(required=True, metadata={"description": "minutes per unit"})


class PlannedOperationOut(OperationPlan):
    process_segment_id = fields.String(allow_none=True)


class WorkOrderImport(Schema):
    """One order of an import: its number is the ERP's."""
    number = fields.String(required=True, validate=[validate.Length(min=1, max=64), NUMBER])
    part_id = fields.UUID(required=True)
    part_revision = text(16, load_default=None, allow_none=True)
    quantity = Quantity(required=True)
    due_date = fields.Date(required=True)
    planned_start = UtcDateTime(load_default=None, allow_none=True)
    priority = fields.Integer(load_default=500, strict=True, validate=validate.Range(min=1, max=999))
    site_id = fields.UUID(required=True)
    description = optional_text(2000)
    operations = fields.List(fields.Nested(PlannedOperation), load_default=list, validate=validate.Length(max=500))

    @validates_schema
    def _distinct_sequences(self, data, **kwargs):
        sequences = [op["sequence"] for op in data.get("operations", [])]
        if len(sequences) != len(set(sequences)):
            raise ValidationError("the same sequence twice", "operations")


IMPORT_MODES = ("create", "change", "sync")


class ImportWorkOrders(Schema):
    orders = fields.List(fields.Nested(WorkOrderImport), required=True, validate=validate.Length(min=1, max=5000))
    mode = fields.String(load_default="create", validate=validate.OneOf(IMPORT_MODES), metadata={
        "description": "create: all new (a number in use is refused); change: all exist and are not released "
                       "yet; sync: create the missing, change those not released, keep the others"})
    source = optional_text(200)

    @validates_schema
    def _distinct_numbers(self, data, **kwargs):
        numbers = [o["number"] for o in data.get("orders", [])]
        if len(numbers) != len(set(numbers)):
            raise ValidationError("the same work order number twice", "orders")


class ImportedOrderOut(Schema):
    id = fields.UUID(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)
    action = fields.String(required=True, metadata={"enum": ["created", "changed", "unchanged", "kept"]})
    reason = fields.String(allow_none=True, metadata={"description": "why a sync kept it as it is"})


class ImportResult(Schema):
    orders = fields.List(fields.Nested(ImportedOrderOut), required=True)


class WorkOrderNumbers(Schema):
    numbers = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                          validate=validate.Length(min=1, max=5000))


class WorkOrderUpdate(Schema):
    quantity = Quantity()
    due_date = fields.Date()
    priority = fields.Integer(strict=True, validate=validate.Range(min=1, max=999))
    version = fields.Integer(strict=True, validate=validate.Range(min=1),
                             metadata={"description": "refuse the change unless the order is at this version"})


class WorkOrderListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(STATUSES))
    part_id = fields.UUID()
    work_center_id = fields.UUID()
    number = text(64, metadata={"description": "number prefix"})


class StatusChangeOut(Schema):
    from_ = fields.String(data_key="from", attribute="from_status", allow_none=True, required=True)
    to = fields.String(attribute="to_status", required=True)
    reason = fields.String(allow_none=True)
    actor = fields.String(required=True)
    at = fields.DateTime(required=True)


class WorkInstructionOut(Schema):
    """The work instruction version frozen into the operation at release."""
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    steps = fields.List(fields.Dict(), required=True)


class BuyOffOut(Schema):
    step = fields.Integer(required=True)
    values = fields.Dict(required=True)
    note = fields.String(allow_none=True)
    by_id = fields.UUID(allow_none=True)
    by_name = fields.String(required=True)
    at = fields.DateTime(required=True)
    signatures = fields.List(fields.Nested(SignatureOut), metadata={
        "description": "the operator's, valid while the buy-off is as it was signed"})


class OperationOut(OperationPlan):
    id = fields.UUID(required=True)
    required_skills = fields.List(fields.Nested(resource_schemas.SkillRequirement), required=True, metadata={
        "description": "what the operator must be qualified in, from the routing at release"})
    skill_note = fields.String(allow_none=True)
    special_process = fields.Nested(resource_schemas.SpecialProcess, allow_none=True,
                                    metadata={"description": "the routing's, as released"})
    work_instruction = fields.Nested(WorkInstructionOut, allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(OP_STATUSES)})
    quantity_good = fields.Float(required=True)
    quantity_scrap = fields.Float(required=True)
    quantity_rework = fields.Float(required=True)
    planned_start = fields.DateTime(allow_none=True)
    planned_end = fields.DateTime(allow_none=True)
    actual_start = fields.DateTime(allow_none=True)
    actual_end = fields.DateTime(allow_none=True)
    operator_id = fields.UUID(allow_none=True)
    operator_name = fields.String(allow_none=True)
    equipment_id = fields.UUID(allow_none=True)
    buy_offs = fields.List(fields.Nested(BuyOffOut), required=True,
                           metadata={"description": "step buy-offs of the frozen work instruction"})


class WorkOrderSummaryOut(Schema):
    """A work order without its operations and status history (list items)."""
    id = fields.UUID(required=True)
    number = fields.String(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    part_name = fields.String(required=True)
    part_revision = fields.String(required=True)
    uom = fields.String(required=True)
    quantity = fields.Float(required=True)
    due_date = fields.Date(required=True)
    priority = fields.Integer(required=True)
    site_id = fields.UUID(required=True)
    site_name = fields.String(required=True)
    work_center_id = fields.UUID(allow_none=True)
    work_center_name = fields.String(allow_none=True)
    output_location_id = fields.UUID(allow_none=True)
    description = fields.String(allow_none=True)
    planned_start = fields.DateTime(allow_none=True)
    source = fields.String(allow_none=True, metadata={"description": "where it came from (an ERP import)"})
    created_by_id = fields.UUID(allow_none=True)
    created_by_name = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    hold_reason = fields.String(allow_none=True)
    release_error = fields.String(allow_none=True, metadata={"description": "why the last release was refused"})
    quantity_completed = fields.Float(required=True, metadata={"description": "good made by the last operation"})
    quantity_scrapped = fields.Float(required=True, metadata={"description": "scrap over all operations"})
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    released_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)


class WorkOrderOut(WorkOrderSummaryOut):
    operations = fields.List(fields.Nested(OperationOut), required=True)
    planned_operations = fields.List(fields.Nested(PlannedOperationOut), allow_none=True, metadata={
        "description": "the ERP's plan (imported): the operations of the release"})
    status_history = fields.List(fields.Nested(StatusChangeOut), attribute="history", required=True)
    signatures = fields.List(fields.Nested(SignatureOut), metadata={
        "description": "of the close, valid while the order is as it was signed"})


WorkOrderPage = page_schema(WorkOrderSummaryOut, "WorkOrderPage")


class ReleaseRequest(Schema):
    pass


class CancelRequest(_Reason):
    pass


# ------------------------------------------------------------------ execution

class Qualified(Schema):
    override_reason = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=500),
                                                                                   NO_NUL], metadata={
        "description": "go ahead although the operator lacks a required qualification (needs the permission "
                       "`qualification:override`; audited with the shortfalls)"})


class StartOperation(Qualified):
    equipment_id = fields.UUID(load_default=None, allow_none=True)
    tools = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=20), metadata={
        "description": "gauges and tools (assets of the resource service) the operation starts with: each must be "
                       "fit for use (calibration current, not quarantined); their use is recorded",
        "uniqueItems": True})

    @validates_schema
    def _distinct_tools(self, data, **kwargs):
        if len(set(data.get("tools", []))) != len(data.get("tools", [])):
            raise ValidationError("each tool once", "tools")


class PauseOperation(_Reason):
    pass


class ResumeOperation(Qualified):
    pass


class CompleteOperation(Schema):
    good = Reported(required=True)
    scrap = Reported(load_default=Decimal(0))
    rework = Reported(load_default=Decimal(0))
    reason_codes = fields.List(text(50), load_default=list, validate=validate.Length(max=20),
                               metadata={"description": "required when scrap or rework is reported"})
    serial_numbers = fields.List(fields.String(validate=[validate.Length(min=1, max=100), IDENT]),
                                 load_default=None, allow_none=True,
                                 validate=validate.Length(min=1, max=100_000),
                                 metadata={"uniqueItems": True,
                                           "description": "last operation of a serial-controlled part: the "
                                                          "output's serials (generated <WO number>-0001… if absent)"})
    lot_number = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=64), IDENT])
    location_id = fields.UUID(load_default=None, allow_none=True)
    idempotency_key = fields.String(load_default=None, allow_none=True, validate=KEY,
                                    metadata={"description": "a retried report with the same key applies once"})

    @validates_schema
    def _check(self, data, **kwargs):
        if not (data["good"] or data["scrap"] or data["rework"]):
            raise ValidationError(Relation("report at least one quantity"), "good")
        if (data["scrap"] or data["rework"]) and not data["reason_codes"]:
            raise ValidationError(Relation("required when scrap or rework is reported"), "reason_codes")
        serials = data.get("serial_numbers")
        if serials is not None:
            if len(set(serials)) != len(serials):
                raise ValidationError("serial numbers repeat", "serial_numbers")
            if Decimal(len(serials)) != data["good"]:
                raise ValidationError(Relation(f"give one serial number per good unit ({len(serials)} for "
                                               f"{data['good'].normalize():f})"), "serial_numbers")


class ConsumeItem(Schema):
    lot_id = fields.UUID(load_default=None, allow_none=True)
    quantity = Quantity(load_default=None, allow_none=True)
    location_id = fields.UUID(load_default=None, allow_none=True)
    serial_id = fields.UUID(load_default=None, allow_none=True)

    # a lot with a quantity, or a serial
    openapi_extra = {"oneOf": [{"allOf": [present("lot_id"), present("quantity"), absent("serial_id")]},
                               {"allOf": [present("serial_id"), absent("lot_id")]}]}

    @validates_schema
    def _check(self, data, **kwargs):
        if (data["lot_id"] is None) == (data["serial_id"] is None):
            raise ValidationError("give either lot_id (with quantity) or serial_id", "lot_id")
        if data["lot_id"] is not None and data["quantity"] is None:
            raise ValidationError("required with lot_id", "quantity")


class ConsumeMaterial(Schema):
    items = fields.List(fields.Nested(ConsumeItem), required=True, validate=validate.Length(min=1, max=200))
    idempotency_key = fields.String(load_default=None, allow_none=True, validate=KEY,
                                    metadata={"description": "generated when absent"})


class ConsumptionOut(Schema):
    """Material's answer to the consumption (its ledger transactions)."""
    idempotency_key = fields.String(required=True)
    transactions = fields.List(fields.Dict(), required=True)


class BuyOffRequest(Schema):
    step = fields.Integer(required=True, strict=True, validate=validate.Range(min=0),
                          metadata={"description": "index of the step in the frozen work instruction"})
    values = fields.Dict(keys=fields.String(), load_default=dict)
    note = optional_text(2000)
    signature = fields.Nested(SignatureCredentials, required=True, metadata={
        "description": "the operator's e-signature (meaning: responsibility)"})


# ------------------------------------------------------------------ downtime

class DowntimeCreate(Schema):
    work_center_id = fields.UUID(required=True)
    equipment_id = fields.UUID(load_default=None, allow_none=True)
    work_order_id = fields.UUID(load_default=None, allow_none=True)
    operation_id = fields.UUID(load_default=None, allow_none=True)
    reason_code = text(50, required=True)
    started_at = UtcDateTime(required=True)
    ended_at = UtcDateTime(load_default=None, allow_none=True)
    note = optional_text(2000)

    # an operation belongs to a work order
    openapi_extra = {"anyOf": [absent("operation_id"), present("work_order_id")]}

    @validates_schema
    def _check(self, data, **kwargs):
        if data["ended_at"] is not None and data["ended_at"] < data["started_at"]:
            raise ValidationError(Relation("must not be before started_at"), "ended_at")
        if data["operation_id"] is not None and data["work_order_id"] is None:
            raise ValidationError("required with operation_id", "work_order_id")


class DowntimeEnd(Schema):
    ended_at = UtcDateTime(required=True)


class DowntimeListQuery(PageQuery):
    work_center_id = fields.UUID()
    work_order_id = fields.UUID()
    open = Boolean(metadata={"description": "true: not ended yet; false: ended"})


class DowntimeOut(Schema):
    id = fields.UUID(required=True)
    work_center_id = fields.UUID(required=True)
    work_center_name = fields.String(allow_none=True)
    equipment_id = fields.UUID(allow_none=True)
    work_order_id = fields.UUID(allow_none=True)
    operation_id = fields.UUID(allow_none=True)
    reason_code = fields.String(required=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True)
    duration_minutes = fields.Float(allow_none=True, metadata={"description": "null while open"})
    note = fields.String(allow_none=True)
    recorded_by_id = fields.UUID(allow_none=True)
    recorded_by_name = fields.String(required=True)
    created_at = fields.DateTime(required=True)


DowntimePage = page_schema(DowntimeOut, "DowntimePage")


# ------------------------------------------------------------------ dispatch, schedule, variance

class DispatchQuery(PageQuery):
    pass


class DispatchItem(OperationOut):
    """An operation to work on, with its order's planning fields."""
    work_order_id = fields.UUID(required=True)
    work_order_number = fields.String(required=True)
    work_order_status = fields.String(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    part_name = fields.String(required=True)
    order_quantity = fields.Float(required=True)
    due_date = fields.Date(required=True)
    priority = fields.Integer(required=True)


DispatchPage = page_schema(DispatchItem, "DispatchPage")


class ScheduleRequest(Schema):
    start_at = UtcDateTime(load_default=None, allow_none=True, metadata={"description": "default: now"})


class ScheduledOperation(Schema):
    id = fields.UUID(required=True)
    sequence = fields.Integer(required=True)
    name = fields.String(required=True)
    work_center_id = fields.UUID(required=True)
    work_center_name = fields.String(allow_none=True)
    status = fields.String(required=True)
    duration_minutes = fields.Float(required=True, metadata={"description": "setup + run × quantity"})
    planned_start = fields.DateTime(allow_none=True)
    planned_end = fields.DateTime(allow_none=True)


class ScheduleOut(Schema):
    work_order_id = fields.UUID(required=True)
    number = fields.String(required=True)
    due_date = fields.Date(required=True)
    planned_start = fields.DateTime(allow_none=True)
    planned_end = fields.DateTime(allow_none=True)
    late = Boolean(allow_none=True, metadata={"description": "planned end after the due date"})
    operations = fields.List(fields.Nested(ScheduledOperation), required=True)


class _Variance(Schema):
    planned_quantity = fields.Float(required=True)
    actual_good = fields.Float(required=True)
    actual_scrap = fields.Float(required=True)
    quantity_difference = fields.Float(required=True, metadata={"description": "good − planned"})
    quantity_ratio = fields.Float(allow_none=True, metadata={"description": "good / planned"})
    planned_minutes = fields.Float(required=True, metadata={"description": "setup + run × order quantity"})
    earned_minutes = fields.Float(required=True, metadata={"description": "setup + run × (good + scrap)"})
    actual_minutes = fields.Float(required=True, metadata={"description": "running time, pauses excluded"})
    minutes_difference = fields.Float(required=True, metadata={"description": "actual − planned"})
    minutes_ratio = fields.Float(allow_none=True, metadata={"description": "actual / planned"})


class OperationVariance(_Variance):
    id = fields.UUID(required=True)
    sequence = fields.Integer(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    actual_rework = fields.Float(required=True)


class VarianceOut(Schema):
    work_order_id = fields.UUID(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)
    operations = fields.List(fields.Nested(OperationVariance), required=True)
    order = fields.Nested(_Variance, required=True)
