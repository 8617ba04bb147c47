"""The quality service's contract for First Article Inspection reports
(AS9102 Rev C): RPC input and output schemas, also the gateway's."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mes_common.schemas import (NO_NUL, PageQuery, Relation, SignatureCredentials, SignatureOut, exactly_one_of,
                                page_schema)
from quality_service.contract.common import CODE, REASON, version

KINDS = ("full", "partial")
REASONS = ("new_part", "design_change", "process_change", "source_change", "production_lapse", "natural_event",
           "corrective_action")
STATUSES = ("draft", "in_review", "approved", "rejected")
SHORT = [validate.Length(min=1, max=64), NO_NUL]


def _text(length, **metadata):
    return fields.String(allow_none=True, validate=[validate.Length(min=1, max=length), NO_NUL], metadata=metadata)


class FaiFields(Schema):
    """Form 1 fields a person states (the rest the MES knows); no defaults, so
    a change names only what it changes."""
    drawing_number = fields.String(validate=SHORT, metadata={"description": "form 1 field 6; default: the part number"})
    drawing_revision = fields.String(validate=[validate.Length(min=1, max=16), NO_NUL],
                                     metadata={"description": "form 1 field 7; default: the part revision"})
    additional_changes = _text(2000, description="form 1 field 8: changes not on the drawing")
    organization = _text(200, description="form 1 field 10")
    supplier_code = _text(64, description="form 1 field 11")
    po_number = _text(64, description="form 1 field 12")
    comments = _text(5000)


class FaiCreate(FaiFields):
    serial_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "the first article (a serial the MES made or received)"})
    work_order_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "or the work order: its first serial (lowest serial number) is the first article"})
    openapi_extra = exactly_one_of("serial_id", "work_order_id")
    kind = fields.String(load_default="full", validate=validate.OneOf(KINDS))
    reason = fields.String(load_default="new_part", validate=validate.OneOf(REASONS), metadata={
        "description": "AS9102 §4.4 / §4.6; a partial FAI is for a change"})
    previous_fair_id = fields.UUID(load_default=None, allow_none=True,
                                   metadata={"description": "partial FAI: the FAIR it completes"})
    plan_numbers = fields.List(fields.String(validate=CODE), load_default=None, allow_none=True,
                               validate=validate.Length(min=1, max=20), metadata={
                                   "description": "the plans whose characteristics form 3 accounts for; default: "
                                                  "every released plan of the part revision"})

    @validates_schema
    def _one_article(self, data, **kwargs):
        if (data.get("serial_id") is None) == (data.get("work_order_id") is None):
            raise ValidationError(Relation("give serial_id or work_order_id"), "serial_id")


class FaiUpdate(FaiFields):
    version = version()


class FaiSign(Schema):
    signature = fields.Nested(SignatureCredentials, required=True)
    version = version()


class FaiReject(Schema):
    reason = fields.String(required=True, validate=REASON)
    version = version()


class FaiListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(STATUSES))
    part_id = fields.UUID()
    serial_id = fields.UUID()


class DetailPartOut(Schema):
    part_number = fields.String(required=True)
    part_name = fields.String(required=True)
    part_type = fields.String(required=True, metadata={"description": "the component's part type"})
    serial_or_lot = fields.String(required=True)
    fair_number = fields.String(required=True, allow_none=True, metadata={
        "description": "its approved FAIR (null: none yet, the FAI is not complete)"})


class Form2Row(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("material", "special_process", "functional_test")))
    name = fields.String(required=True)
    specification = fields.String(required=True)
    code = fields.String(required=True)
    supplier_code = fields.String(required=True)
    customer_approval = fields.String(required=True)
    certificate = fields.String(required=True)
    test_procedure = fields.String(required=True)
    test_result = fields.String(required=True)


class Form3Row(Schema):
    plan_number = fields.String(required=True)
    number = fields.Integer(required=True)
    balloon = fields.String(required=True)
    reference_location = fields.String(required=True)
    designator = fields.String(required=True, metadata={"description": "Key, Critical or empty"})
    requirement = fields.String(required=True)
    results = fields.List(fields.String(), required=True)
    conforming = fields.Boolean(required=True)
    tooling = fields.String(required=True)
    ncr_number = fields.String(required=True)
    notes = fields.String(required=True)


class FaiOut(Schema):
    id = fields.UUID(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    kind = fields.String(required=True)
    reason = fields.String(required=True)
    reason_text = fields.String(required=True)
    previous_fair_id = fields.UUID(required=True, allow_none=True)
    previous_fair_number = fields.String(required=True, allow_none=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    part_name = fields.String(required=True)
    part_revision = fields.String(required=True)
    serial_id = fields.UUID(required=True)
    serial_number = fields.String(required=True)
    work_order_id = fields.UUID(required=True, allow_none=True)
    work_order_number = fields.String(required=True, allow_none=True)
    drawing_number = fields.String(required=True)
    drawing_revision = fields.String(required=True)
    additional_changes = fields.String(required=True, allow_none=True)
    process_reference = fields.String(required=True, allow_none=True)
    organization = fields.String(required=True, allow_none=True)
    supplier_code = fields.String(required=True, allow_none=True)
    po_number = fields.String(required=True, allow_none=True)
    assembly = fields.Boolean(required=True, metadata={"description": "form 1 field 13: it has detail parts"})
    plan_numbers = fields.List(fields.String(), required=True)
    detail_parts = fields.List(fields.Nested(DetailPartOut), required=True)
    form2 = fields.List(fields.Nested(Form2Row), required=True)
    form3 = fields.List(fields.Nested(Form3Row), required=True)
    open_items = fields.List(fields.String(), required=True, metadata={
        "description": "what keeps it from approval (a characteristic without a result, a failure without an NCR)"})
    complete = fields.Boolean(required=True, metadata={"description": "form 1 field 19: FAI complete"})
    comments = fields.String(required=True, allow_none=True)
    status_reason = fields.String(required=True, allow_none=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    version = fields.Integer(required=True)
    signatures = fields.List(fields.Nested(SignatureOut), required=True, metadata={
        "description": "prepared by (authorship) and approved by (approval): the manifestations (21 CFR 11.50)"})


class FaiSummary(Schema):
    id = fields.UUID(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)
    kind = fields.String(required=True)
    part_number = fields.String(required=True)
    part_revision = fields.String(required=True)
    serial_number = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


FaiPage = page_schema(FaiSummary, "FaiPage")
