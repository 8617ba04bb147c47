"""The RPC (and HTTP) contract of rework operations: what the Material Review
Board sent to rework or repair (one line of an NCR's signed disposition),
worked on the shop floor like an operation."""
from marshmallow import Schema, fields, validate

from mes_common.schemas import NO_NUL, PageQuery, page_schema
from work_order_service.contract import REWORK_STATUSES
from work_order_service.contract.schemas import Qualified


class ReworkStart(Qualified):
    equipment_id = fields.UUID(load_default=None, allow_none=True)
    work_center_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "where it is done: required when the rework has no work center yet (material that came "
                       "from no operation of ours, e.g. a purchased lot)"})


class ReworkComplete(Schema):
    note = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=5000), NO_NUL],
                         metadata={"description": "what was done; a unit the rework could not save gets an NCR "
                                                  "of its own"})


class ReworkListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(REWORK_STATUSES))
    work_center_id = fields.UUID()
    work_order_id = fields.UUID()
    ncr_number = fields.String(validate=[validate.Length(min=1, max=32), NO_NUL])


class ReworkOut(Schema):
    id = fields.UUID(required=True)
    number = fields.String(required=True, metadata={"example": "RW-000001"})
    status = fields.String(required=True, validate=validate.OneOf(REWORK_STATUSES))
    decision = fields.String(required=True, validate=validate.OneOf(("rework", "repair")))
    disposition_id = fields.UUID(required=True, metadata={"description": "the NCR's disposition line"})
    ncr_id = fields.UUID(required=True)
    ncr_number = fields.String(required=True)
    ncr_title = fields.String(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    target_type = fields.String(required=True, validate=validate.OneOf(("lot", "serial", "operation")), metadata={
        "description": "what is reworked: a lot, a serial, or the work in process of an operation"})
    target_id = fields.UUID(required=True)
    target_number = fields.String(required=True)
    quantity = fields.Float(required=True)
    instructions = fields.String(required=True, allow_none=True, metadata={"description": "the MRB's"})
    work_order_id = fields.UUID(required=True, allow_none=True)
    work_order_number = fields.String(required=True, allow_none=True)
    operation_id = fields.UUID(required=True, allow_none=True)
    operation_sequence = fields.Integer(required=True, allow_none=True)
    work_center_id = fields.UUID(required=True, allow_none=True)
    work_center_name = fields.String(required=True, allow_none=True)
    required_skills = fields.List(fields.Dict(), required=True, metadata={
        "description": "those of the operation it came from ({skill, min_level}), checked at start"})
    operator_id = fields.UUID(required=True, allow_none=True)
    operator_name = fields.String(required=True, allow_none=True)
    equipment_id = fields.UUID(required=True, allow_none=True)
    note = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(required=True, allow_none=True)
    completed_at = fields.DateTime(required=True, allow_none=True)
    version = fields.Integer(required=True)


ReworkPage = page_schema(ReworkOut, "ReworkPage")
