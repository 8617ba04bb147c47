"""The quality service's contract for corrective and preventive actions (CAPA):
RPC input and output schemas, also the gateway's."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mes_common.schemas import Boolean, NO_NUL, PageQuery, SignatureCredentials, SignatureOut, page_schema
from quality_service.contract import (CAPA_ACTION_KINDS, CAPA_ACTION_STATUSES, CAPA_STATUSES, FISHBONE_CATEGORIES,
                                      ROOT_CAUSE_METHODS)
from quality_service.contract.common import RecordLifeOut, REASON, TITLE, optional_text, version

LONG_TEXT = [validate.Length(min=1, max=10_000), NO_NUL]
WHY = fields.String(validate=[validate.Length(min=1, max=1000), NO_NUL])


class RootCause(Schema):
    root_cause_method = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(ROOT_CAUSE_METHODS))
    whys = fields.List(WHY, load_default=list, validate=validate.Length(max=7),
                       metadata={"description": "five_why: each answer, the first why first"})
    fishbone_category = fields.String(load_default=None, allow_none=True,
                                      validate=validate.OneOf(FISHBONE_CATEGORIES))
    root_cause = optional_text(10_000)


class CapaCreate(RootCause):
    title = fields.String(required=True, validate=TITLE)
    problem = fields.String(required=True, validate=LONG_TEXT)
    ncr_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=20),
                          metadata={"uniqueItems": True, "description": "the nonconformances it answers"})
    owner_name = fields.String(required=True, validate=TITLE)
    owner_id = fields.UUID(load_default=None, allow_none=True)
    due_on = fields.Date(load_default=None, allow_none=True)
    effectiveness_criteria = optional_text(5000, metadata={
        "example": "no bore nonconformance on the next 10 lots from Acme"})

    @validates_schema
    def _distinct(self, data, **kwargs):
        if len(set(data["ncr_ids"])) != len(data["ncr_ids"]):
            raise ValidationError("each NCR once", "ncr_ids")


class CapaUpdate(Schema):
    title = fields.String(validate=TITLE)
    problem = fields.String(validate=LONG_TEXT)
    root_cause_method = fields.String(allow_none=True, validate=validate.OneOf(ROOT_CAUSE_METHODS))
    whys = fields.List(WHY, validate=validate.Length(max=7))
    fishbone_category = fields.String(allow_none=True, validate=validate.OneOf(FISHBONE_CATEGORIES))
    root_cause = fields.String(allow_none=True, validate=[validate.Length(max=10_000), NO_NUL])
    owner_name = fields.String(validate=TITLE)
    due_on = fields.Date(allow_none=True)
    effectiveness_criteria = fields.String(allow_none=True, validate=[validate.Length(max=5000), NO_NUL])
    version = version()


class ActionCreate(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(CAPA_ACTION_KINDS))
    description = fields.String(required=True, validate=LONG_TEXT)
    owner_name = fields.String(required=True, validate=TITLE)
    owner_id = fields.UUID(load_default=None, allow_none=True)
    due_on = fields.Date(required=True)


class ActionDone(Schema):
    evidence = fields.String(required=True, validate=LONG_TEXT, metadata={"description": "what shows it is done"})


class ActionKey(Schema):
    number = fields.Integer(required=True, validate=validate.Range(min=1, max=1000))   # from the path: text


class EffectivenessSign(Schema):
    result = fields.String(required=True, validate=LONG_TEXT, metadata={"description": "what the check found"})
    effective = Boolean(required=True, metadata={"description": "false: the CAPA stays open for more actions"})
    signature = fields.Nested(SignatureCredentials, required=True)
    version = version()


class CapaClose(Schema):
    signature = fields.Nested(SignatureCredentials, required=True)
    version = version()


class CapaCancel(Schema):
    reason = fields.String(required=True, validate=REASON)
    version = version()


class ActionOut(Schema):
    number = fields.Integer(required=True)
    kind = fields.String(required=True)
    description = fields.String(required=True)
    owner_id = fields.UUID(required=True, allow_none=True)
    owner_name = fields.String(required=True)
    due_on = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CAPA_ACTION_STATUSES))
    evidence = fields.String(required=True, allow_none=True)
    done_at = fields.DateTime(required=True, allow_none=True)
    done_by = fields.String(required=True, allow_none=True)


class CapaNcrOut(Schema):
    ncr_id = fields.UUID(required=True)
    ncr_number = fields.String(required=True)


class CapaOut(RecordLifeOut):
    id = fields.UUID(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    problem = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CAPA_STATUSES))
    root_cause_method = fields.String(required=True, allow_none=True)
    whys = fields.List(fields.String(), required=True)
    fishbone_category = fields.String(required=True, allow_none=True)
    root_cause = fields.String(required=True, allow_none=True)
    owner_id = fields.UUID(required=True, allow_none=True)
    owner_name = fields.String(required=True)
    due_on = fields.Date(required=True, allow_none=True)
    effectiveness_criteria = fields.String(required=True, allow_none=True)
    effectiveness_result = fields.String(required=True, allow_none=True)
    effective = Boolean(required=True, allow_none=True)
    ncrs = fields.List(fields.Nested(CapaNcrOut), required=True)
    actions = fields.List(fields.Nested(ActionOut), required=True)
    signatures = fields.List(fields.Nested(SignatureOut), required=True, metadata={
        "description": "effectiveness (verification) and closure (approval) manifestations (21 CFR 11.50)"})


class CapaSummary(Schema):
    id = fields.UUID(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    owner_name = fields.String(required=True)
    due_on = fields.Date(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class CapaListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(CAPA_STATUSES))


CapaPage = page_schema(CapaSummary, "CapaPage")
