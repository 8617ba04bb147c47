"""The quality service's contract for nonconformance reports (NCR) and their
Material Review Board disposition: RPC input and output schemas, also the gateway's."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mes_common.schemas import (Boolean, NO_NUL, PageQuery, Quantity, Relation, SignatureCredentials, SignatureOut,
                                UtcDateTime, page_schema)
from quality_service.contract import (CRITICALITIES, DECISIONS, EFFECT_STATUSES, HOLD_STATUSES, NCR_SOURCES,
                                      NCR_STATUSES, REWORK_STATUSES, SEVERITIES)
from quality_service.contract.common import RecordLifeOut, REASON, TITLE, optional_text, version

TARGET_TYPES = ("lot", "serial")          # what people name in a new NCR: material
ITEM_TYPES = TARGET_TYPES + ("operation",)  # and what an in-process inspection's NCR holds
DEFECT_CODE = fields.String(validate=[validate.Length(min=1, max=40), NO_NUL], metadata={"example": "DIM-OOT"})


class NcrItemIn(Schema):
    target_type = fields.String(required=True, validate=validate.OneOf(TARGET_TYPES))
    target_id = fields.UUID(required=True, metadata={"description": "the lot or serial (material service)"})
    quantity = Quantity(load_default=None, allow_none=True, metadata={
        "description": "nonconforming quantity; default: the lot's quantity on hand, 1 for a serial"})


class NcrCreate(Schema):
    source = fields.String(required=True, validate=validate.OneOf(NCR_SOURCES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES), metadata={
        "description": "critical: two MRB signatures, and customer approval for use-as-is or repair"})
    title = fields.String(required=True, validate=TITLE)
    description = fields.String(required=True, validate=[validate.Length(min=1, max=10_000), NO_NUL])
    items = fields.List(fields.Nested(NcrItemIn), required=True, validate=validate.Length(min=1, max=100),
                        metadata={"description": "the lots and serials, each held in material with the NCR number "
                                                 "as the reason (and their genealogy children with them)"})
    defect_codes = fields.List(DEFECT_CODE, load_default=list, validate=validate.Length(max=20))
    work_order_id = fields.UUID(load_default=None, allow_none=True)
    operation_id = fields.UUID(load_default=None, allow_none=True)
    supplier = optional_text(200)
    containment = fields.List(fields.String(validate=[validate.Length(min=1, max=1000), NO_NUL]),
                              load_default=list, validate=validate.Length(max=20),
                              metadata={"description": "containment actions already taken"})
    draft = Boolean(load_default=False, metadata={"description": "keep it a draft: nothing held until raised"})

    @validates_schema
    def _distinct(self, data, **kwargs):
        keys = [(i["target_type"], i["target_id"]) for i in data["items"]]
        if len(set(keys)) != len(keys):
            raise ValidationError(Relation("each lot or serial once"), "items")


class NcrUpdate(Schema):
    title = fields.String(validate=TITLE)
    description = fields.String(validate=[validate.Length(min=1, max=10_000), NO_NUL])
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    defect_codes = fields.List(DEFECT_CODE, validate=validate.Length(max=20))
    version = version()


class NcrSubmit(Schema):
    version = version()


class NcrAction(Schema):
    reason = fields.String(required=True, validate=REASON)
    version = version()


class ContainmentAdd(Schema):
    action = fields.String(required=True, validate=[validate.Length(min=1, max=1000), NO_NUL],
                           metadata={"example": "100 % sorted the WIP at op 30; 2 pieces tagged"})
    version = version()


class DispositionLineIn(Schema):
    target_id = fields.UUID(required=True, metadata={"description": "the NCR item (lot or serial) it disposes"})
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    quantity = Quantity(required=True)
    justification = optional_text(5000, metadata={"description": "engineering justification: required for "
                                                                 "use_as_is and repair"})
    customer_approval = optional_text(200, metadata={
        "description": "the customer's approval reference: required for use_as_is and repair of a critical NCR"})
    instructions = optional_text(5000, metadata={"description": "rework / repair instructions, regrade target"})


class DispositionSet(Schema):
    """The MRB's proposed disposition: replaces the lines until the first signature."""
    lines = fields.List(fields.Nested(DispositionLineIn), required=True, validate=validate.Length(min=1, max=200))
    version = version()


class DispositionSign(Schema):
    signature = fields.Nested(SignatureCredentials, required=True)
    version = version()


class NcrItemOut(Schema):
    target_type = fields.String(required=True, validate=validate.OneOf(ITEM_TYPES), metadata={
        "description": "lot or serial (held in material), or operation: the work in process of a work-order "
                       "operation (an in-process inspection's NCR), held by the operation's inspection gate"})
    target_id = fields.UUID(required=True)
    target_number = fields.String(required=True)
    quantity = fields.Float(required=True)
    hold_id = fields.UUID(required=True, allow_none=True)
    hold_status = fields.String(required=True, validate=validate.OneOf(HOLD_STATUSES), metadata={
        "description": "pending until material confirms the hold (an operation's is held at once by its gate); "
                       "released when the disposition was applied"})


class DispositionOut(Schema):
    id = fields.UUID(required=True, metadata={"description": "the line (a rework operation names it)"})
    target_id = fields.UUID(required=True)
    target_number = fields.String(required=True)
    decision = fields.String(required=True)
    quantity = fields.Float(required=True)
    justification = fields.String(required=True, allow_none=True)
    customer_approval = fields.String(required=True, allow_none=True)
    instructions = fields.String(required=True, allow_none=True)
    effect_status = fields.String(required=True, validate=validate.OneOf(EFFECT_STATUSES), metadata={
        "description": "proposed; pending (signed, material not yet done); applied"})
    rework_status = fields.String(required=True, allow_none=True, validate=validate.OneOf(REWORK_STATUSES),
                                  metadata={"description": "rework and repair lines once signed: pending until the "
                                                           "work order service made the rework operation, then its "
                                                           "status; the NCR closes when every one is completed"})
    rework_number = fields.String(required=True, allow_none=True, metadata={"example": "RW-000001"})


class CharacteristicRef(Schema):
    number = fields.Integer(required=True)
    name = fields.String(required=True)
    criticality = fields.String(required=True, validate=validate.OneOf(CRITICALITIES))


class NcrStatusChange(Schema):
    from_status = fields.String(required=True, allow_none=True)
    to_status = fields.String(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    reason = fields.String(required=True, allow_none=True)


class NcrOut(RecordLifeOut):
    id = fields.UUID(required=True)
    number = fields.String(required=True)
    source = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(NCR_STATUSES))
    severity = fields.String(required=True)
    critical = Boolean(required=True, metadata={"description": "critical severity or a critical characteristic"})
    title = fields.String(required=True)
    description = fields.String(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    quantity = fields.Float(required=True)
    work_order_id = fields.UUID(required=True, allow_none=True)
    work_order_number = fields.String(required=True, allow_none=True)
    operation_id = fields.UUID(required=True, allow_none=True)
    operation_sequence = fields.Integer(required=True, allow_none=True)
    inspection_id = fields.UUID(required=True, allow_none=True)
    inspection_number = fields.String(required=True, allow_none=True)
    supplier = fields.String(required=True, allow_none=True)
    characteristics = fields.List(fields.Nested(CharacteristicRef), required=True)
    defect_codes = fields.List(fields.String(), required=True)
    containment = fields.List(fields.Dict(), required=True, metadata={"description": "{action, by, at}"})
    hold_status = fields.String(required=True, validate=validate.OneOf(("none", *HOLD_STATUSES)), metadata={
        "description": "pending while material has not confirmed every hold (it lands when material is back)"})
    items = fields.List(fields.Nested(NcrItemOut), required=True)
    dispositions = fields.List(fields.Nested(DispositionOut), required=True)
    signatures_required = fields.Integer(required=True, metadata={"description": "MRB approvals needed: 2 when "
                                                                                 "critical"})
    signatures = fields.List(fields.Nested(SignatureOut), required=True,
                             metadata={"description": "the MRB's signature manifestations (21 CFR 11.50)"})
    history = fields.List(fields.Nested(NcrStatusChange), required=True)


class NcrListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(NCR_STATUSES))
    source = fields.String(validate=validate.OneOf(NCR_SOURCES))
    part_id = fields.UUID()
    created_since = UtcDateTime()


class NcrSummary(Schema):
    id = fields.UUID(required=True)
    number = fields.String(required=True)
    source = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(NCR_STATUSES))
    severity = fields.String(required=True)
    title = fields.String(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    quantity = fields.Float(required=True)
    inspection_number = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


NcrPage = page_schema(NcrSummary, "NcrPage")
