"""The resource service's RPC contract (also the gateway's HTTP contract)."""
from marshmallow import Schema, fields, validate

from mes_common.schemas import (Boolean, NO_NUL, PageQuery, Pattern, Quantity, SignatureCredentials, SignatureOut,
                                page_schema)
from resource_service.contract import LEVELS, ROUTING_STATUSES

CODE = Pattern(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$",
               error="use letters, digits, '.', '_' or '-', starting with a letter or digit")


class NodeCreate(Schema):
    level = fields.String(required=True, validate=validate.OneOf(LEVELS),
                          metadata={"description": "ISA-95 equipment level"})
    code = fields.String(required=True, validate=[validate.Length(min=1, max=64), CODE],
                         metadata={"description": "unique among the node's siblings", "example": "WC-10"})
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL],
                         metadata={"example": "5-axis machining"})
    description = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=2000), NO_NUL])
    parent_id = fields.UUID(load_default=None, allow_none=True,
                            metadata={"description": "null only for an enterprise"})


class NodeUpdate(Schema):
    code = fields.String(validate=[validate.Length(min=1, max=64), CODE])
    name = fields.String(validate=[validate.Length(min=1, max=200), NO_NUL])
    description = fields.String(allow_none=True, validate=[validate.Length(max=2000), NO_NUL])
    version = fields.Integer(strict=True, validate=validate.Range(min=1),
                             metadata={"description": "refuse the change unless the node is at this version"})


class NodeMove(Schema):
    parent_id = fields.UUID(required=True)
    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class NodeDeactivate(Schema):
    version = fields.Integer(strict=True, validate=validate.Range(min=1))
    reason = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=500), NO_NUL])


class NodeOut(Schema):
    id = fields.UUID(required=True)
    level = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    parent_id = fields.UUID(allow_none=True)
    depth = fields.Integer(required=True, metadata={"description": "0 for an enterprise"})
    active = Boolean(required=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class NodeSummary(Schema):
    """The display fields other services cache (reference data)."""
    id = fields.UUID(required=True)
    level = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    parent_id = fields.UUID(allow_none=True)
    active = Boolean(required=True)


class TreeNode(NodeOut):
    children = fields.List(fields.Nested(lambda: TreeNode()), required=True)


class NodeListQuery(PageQuery):
    level = fields.String(validate=validate.OneOf(LEVELS))
    parent_id = fields.UUID()
    active = Boolean()


class TreeQuery(Schema):
    max_depth = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=10),
                               metadata={"description": "levels below the node to include (default: all)"})


NodePage = page_schema(NodeOut, "NodePage")


class NodeCodesQuery(Schema):
    codes = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                        validate=validate.Length(min=1, max=10_000))
    level = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LEVELS))


class FoundNode(NodeOut):
    path_codes = fields.List(fields.String(), required=True, metadata={"description": "from the root to it"})
    site_id = fields.UUID(allow_none=True)
    site_code = fields.String(allow_none=True)


class SummaryQuery(Schema):
    ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=1000))


# ------------------------------------------------------------------ routings

PART_REVISION = [validate.Length(min=1, max=32), NO_NUL]  # as the material service spells it
INSTRUCTION_CODE = [validate.Length(min=1, max=64), CODE]


class Minutes(Quantity):
    """Standard minutes: a JSON number like a quantity (NUMERIC(18,6)), zero allowed."""

    def __init__(self, **kwargs):
        fields.Decimal.__init__(self, places=6, validate=validate.Range(min=0, max=int(Quantity.MAX)), **kwargs)


def minutes(description):
    return Minutes(required=True, metadata={"description": description, "example": 12.5})


SKILL_CODE = [validate.Length(min=1, max=64), CODE]
MAX_LEVELS = 10


class SkillRequirement(Schema):
    """A skill an operation needs, at a level or above."""
    skill = fields.String(required=True, validate=SKILL_CODE, metadata={"example": "TORQUE"})
    min_level = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=MAX_LEVELS),
                               metadata={"example": 1})


class SpecialProcess(Schema):
    """An operation that is a special process (AS9100 8.5.1.2: heat treatment, plating, NDT, welding...): what
    a First Article Inspection's form 2 lists for it."""
    specification = fields.String(required=True, validate=[validate.Length(min=1, max=100), NO_NUL],
                                  metadata={"example": "AMS 2770"})
    code = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=64), NO_NUL],
                         metadata={"description": "process code or class", "example": "Cond. T6"})
    supplier_code = fields.String(load_default=None, allow_none=True,
                                  validate=[validate.Length(min=1, max=64), NO_NUL],
                                  metadata={"description": "who performs it (an approved special-process source)"})
    customer_approved = fields.Boolean(load_default=False, metadata={
        "description": "the source is on the customer's approved list"})


class RoutingOperationIn(Schema):
    sequence = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1_000_000),
                              metadata={"description": "order of the operation; unique in the routing",
                                        "example": 10})
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL],
                         metadata={"example": "Rough milling"})
    work_center_id = fields.UUID(required=True,
                                 metadata={"description": "an active equipment node of level work_center"})
    setup_time = minutes("standard setup time, minutes")
    run_time = minutes("standard run time per unit, minutes")
    required_skills = fields.List(fields.Nested(SkillRequirement), load_default=list,
                                  validate=validate.Length(max=20), metadata={
                                      "description": "skills of the catalogue the operator must hold (valid, at "
                                                     "the level or above) to start the operation"})
    skill_note = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=500), NO_NUL],
                               metadata={"description": "what the skill codes cannot say (not checked)"})
    work_instruction_code = fields.String(load_default=None, allow_none=True, validate=INSTRUCTION_CODE,
                                          metadata={"description": "code of a work instruction; its latest "
                                                                   "released version is frozen at work order release"})
    special_process = fields.Nested(SpecialProcess, load_default=None, allow_none=True,
                                    metadata={"description": "the operation is a special process"})


class RoutingCreate(Schema):
    part_id = fields.UUID(required=True, metadata={"description": "a part of the material service"})
    part_revision = fields.String(required=True, validate=PART_REVISION, metadata={"example": "A"})
    description = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=2000), NO_NUL])
    operations = fields.List(fields.Nested(RoutingOperationIn), required=True,
                             validate=validate.Length(min=1, max=500))


class RoutingUpdate(Schema):
    description = fields.String(allow_none=True, validate=[validate.Length(max=2000), NO_NUL])
    operations = fields.List(fields.Nested(RoutingOperationIn), validate=validate.Length(min=1, max=500),
                             metadata={"description": "replaces every operation"})
    version = fields.Integer(strict=True, validate=validate.Range(min=1),
                             metadata={"description": "refuse the change unless the routing is at this "
                                                      "`row_version` (409 otherwise)"})


class RoutingRelease(Schema):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1), metadata={
        "description": "the `row_version` the signer reviewed: refused (409) if the draft changed since"})
    signature = fields.Nested(SignatureCredentials, required=True, metadata={
        "description": "the releasing person's e-signature (meaning: approval)"})


class RoutingOperationOut(Schema):
    id = fields.UUID(required=True)
    sequence = fields.Integer(required=True)
    name = fields.String(required=True)
    work_center_id = fields.UUID(required=True)
    work_center_code = fields.String(required=True, attribute="work_center.code")
    work_center_name = fields.String(required=True, attribute="work_center.name")
    setup_time = fields.Float(required=True, metadata={"description": "minutes"})
    run_time = fields.Float(required=True, metadata={"description": "minutes per unit"})
    required_skills = fields.List(fields.Nested(SkillRequirement), required=True)
    skill_note = fields.String(required=True, allow_none=True)
    work_instruction_code = fields.String(required=True, allow_none=True)
    special_process = fields.Nested(SpecialProcess, required=True, allow_none=True)


class RoutingOut(Schema):
    id = fields.UUID(required=True)
    part_id = fields.UUID(required=True)
    part_revision = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "1, 2, … per part revision"})
    status = fields.String(required=True, validate=validate.OneOf(ROUTING_STATUSES))
    description = fields.String(required=True, allow_none=True)
    operations = fields.List(fields.Nested(RoutingOperationOut), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    released_at = fields.DateTime(required=True, allow_none=True)
    row_version = fields.Integer(required=True, metadata={"description": "optimistic concurrency: give it "
                                                                         "as `version` to update_routing"})
    signatures = fields.List(fields.Nested(SignatureOut), metadata={
        "description": "of the release (reading one routing): valid while it is as it was signed"})


class RoutingListQuery(PageQuery):
    part_id = fields.UUID()
    part_revision = fields.String(validate=PART_REVISION)
    status = fields.String(validate=validate.OneOf(ROUTING_STATUSES))


class ReleasedRoutingQuery(Schema):
    part_id = fields.UUID(required=True)
    part_revision = fields.String(required=True, validate=PART_REVISION)


RoutingPage = page_schema(RoutingOut, "RoutingPage")
