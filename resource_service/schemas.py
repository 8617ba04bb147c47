"""The resource service's RPC contract (also the gateway's HTTP contract)."""
from marshmallow import Schema, fields, validate

from mes_common.schemas import NO_NUL, PageQuery, Pattern, page_schema
from resource_service.domain import LEVELS

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
    active = fields.Boolean(required=True)
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
    active = fields.Boolean(required=True)


class TreeNode(NodeOut):
    children = fields.List(fields.Nested(lambda: TreeNode()), required=True)


class NodeListQuery(PageQuery):
    level = fields.String(validate=validate.OneOf(LEVELS))
    parent_id = fields.UUID()
    active = fields.Boolean()


class TreeQuery(Schema):
    max_depth = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=10),
                               metadata={"description": "levels below the node to include (default: all)"})


NodePage = page_schema(NodeOut, "NodePage")


class SummaryQuery(Schema):
    ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=1000))
