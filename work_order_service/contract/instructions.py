"""The RPC (and HTTP) contract of work instructions."""
from marshmallow import Schema, fields, validate

from mes_common.schemas import (Boolean, NO_NUL, PageQuery, Pattern, SignatureCredentials, SignatureOut, absent,
                                page_schema, present)
from work_order_service.contract import FIELD_TYPES, INSTRUCTION_STATUSES as STATUSES

CODE = [validate.Length(min=1, max=64),
        Pattern(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$",
                error="use letters, digits, '.', '_' or '-', starting with a letter or digit")]
FIELD_NAME = [validate.Length(min=1, max=64),
              Pattern(r"^[A-Za-z][A-Za-z0-9_]*$", error="use letters, digits and '_', starting with a letter")]
LIMIT = 1e15  # far beyond any measurement; keeps JSON numbers finite and comparable


class InstructionField(Schema):
    """A data-collection field of a step, filled in when the step is bought off."""
    name = fields.String(required=True, validate=FIELD_NAME, metadata={"example": "torque"})
    type = fields.String(required=True, validate=validate.OneOf(FIELD_TYPES))
    required = Boolean(load_default=False)
    unit = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=16), NO_NUL],
                         metadata={"description": "number fields only", "example": "N·m"})
    min = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-LIMIT, max=LIMIT),
                       metadata={"description": "number fields only"})
    max = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-LIMIT, max=LIMIT),
                       metadata={"description": "number fields only; not below min"})
    choices = fields.List(fields.String(validate=[validate.Length(min=1, max=200), NO_NUL]),
                          load_default=None, allow_none=True, validate=validate.Length(max=100),
                          metadata={"description": "choice fields only: the values an operator can pick"})

    # which keys go with which type, as rules.check_steps says (min ≤ max and
    # unique names are relations the document cannot state: 422)
    openapi_extra = {"oneOf": [
        {"allOf": [{"properties": {"type": {"enum": ["number"]}}}, absent("choices")]},
        {"allOf": [{"properties": {"type": {"enum": ["choice"]},
                                   "choices": {"minItems": 1, "uniqueItems": True}}},
                   present("choices"), absent("unit", "min", "max")]},
        {"allOf": [{"properties": {"type": {"enum": ["text", "boolean"]}}},
                   absent("unit", "min", "max", "choices")]}]}


class InstructionStep(Schema):
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])
    text = fields.String(load_default="", validate=[validate.Length(max=20000), NO_NUL],
                         metadata={"description": "what to do, as the operator reads it"})
    fields_ = fields.List(fields.Nested(InstructionField), data_key="fields", attribute="fields",
                          load_default=list, validate=validate.Length(max=50))


class WorkInstructionCreate(Schema):
    code = fields.String(required=True, validate=CODE, metadata={"example": "WI-DEBURR"})
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])
    steps = fields.List(fields.Nested(InstructionStep), required=True, validate=validate.Length(min=1, max=200))


class WorkInstructionRevise(Schema):
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])
    steps = fields.List(fields.Nested(InstructionStep), required=True, validate=validate.Length(min=1, max=200))


class WorkInstructionKey(Schema):
    """The code argument of an RPC."""
    code = fields.String(required=True, validate=CODE)


class WorkInstructionVersionKey(WorkInstructionKey):
    """The code and version arguments of an RPC."""
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=2 ** 31 - 1))


class WorkInstructionQuery(Schema):
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2 ** 31 - 1),
                             metadata={"description": "default: the newest version, whatever its status"})


class WorkInstructionListQuery(PageQuery):
    code = fields.String(validate=[validate.Length(min=1, max=64), NO_NUL],
                         metadata={"description": "codes starting with this"})
    status = fields.String(validate=validate.OneOf(STATUSES))


class WorkInstructionRelease(Schema):
    signature = fields.Nested(SignatureCredentials, required=True, metadata={
        "description": "the releasing person's e-signature (meaning: approval)"})


class WorkInstructionVersionOut(Schema):
    id = fields.UUID(required=True)
    code = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "1, 2, … per code"})
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    steps = fields.List(fields.Nested(InstructionStep), required=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)
    released_at = fields.DateTime(required=True, allow_none=True)
    released_by = fields.String(required=True, allow_none=True)
    obsoleted_at = fields.DateTime(required=True, allow_none=True)
    signatures = fields.List(fields.Nested(SignatureOut), metadata={
        "description": "of the release (reading one version): valid while it is as it was signed"})


WorkInstructionPage = page_schema(WorkInstructionVersionOut, "WorkInstructionPage")
