"""The RPC (and HTTP) contract of the traceability service."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mes_common.schemas import DEFAULT_PAGE_SIZE, NO_NUL, PageQuery, exactly_one_of, page_schema
from traceability_service.contract import DIRECTIONS, EDGE_KINDS, MAX_DEPTH, MAX_NESTED_NODES, NODE_TYPES

NUMBER = [validate.Length(min=1, max=200), NO_NUL]


class NodeSearchQuery(PageQuery):
    number = fields.String(required=True, validate=NUMBER, metadata={
        "description": "a lot, serial, work order, operation (WO-000001/10), inspection or NCR number: exact"})
    type = fields.String(validate=validate.OneOf(NODE_TYPES))


class TraceNodeOut(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True, metadata={"enum": list(NODE_TYPES)})
    number = fields.String(required=True, allow_none=True, metadata={
        "description": "null while only another record named it (its own event has not arrived)"})
    depth = fields.Integer(required=True, metadata={"description": "edges from the root"})
    known = fields.Boolean(required=True, metadata={"description": "its own event arrived"})
    part_id = fields.UUID(allow_none=True)
    part_number = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    quantity = fields.Float(allow_none=True)
    heat_number = fields.String(allow_none=True)
    supplier = fields.String(allow_none=True)
    supplier_lot = fields.String(allow_none=True)
    work_order_id = fields.UUID(allow_none=True)
    on_hold = fields.Boolean(required=True)


class GenealogyNodeOut(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True)
    number = fields.String(required=True, allow_none=True)
    known = fields.Boolean(required=True)
    attrs = fields.Dict(required=True, metadata={"description": "what the events said of it, latest per field"})


GenealogyNodePage = page_schema(GenealogyNodeOut, "GenealogyNodePage")


class TraceQuery(PageQuery):
    depth = fields.Integer(load_default=10, validate=validate.Range(min=1, max=MAX_DEPTH),
                           metadata={"description": f"levels of edges to follow (at most {MAX_DEPTH})"})
    types = fields.List(fields.String(validate=validate.OneOf(NODE_TYPES)), load_default=None,
                        validate=validate.Length(min=1, max=len(NODE_TYPES)), metadata={
                            "description": "list only these node types (the walk still goes through the others)",
                            "uniqueItems": True})
    via = fields.List(fields.String(validate=validate.OneOf(EDGE_KINDS)), load_default=None,
                      validate=validate.Length(min=1, max=len(EDGE_KINDS)), metadata={
                          "description": "follow only these edge kinds (default: all)", "uniqueItems": True})
    format = fields.String(load_default="flat", validate=validate.OneOf(("flat", "nested")), metadata={
        "description": "flat: a page of nodes by depth, and the edges between them; nested: a tree from the root "
                       "of at most `limit` nodes (a node met again is a reference)"})
    # a genealogy graph is drawn from one nested answer, expanded and collapsed in the browser
    limit = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_NESTED_NODES),
                           metadata={"description": f"flat: nodes per page; nested: nodes in the tree (at most "
                                                    f"{MAX_NESTED_NODES} either way)"})

    @validates_schema
    def _unique(self, data, **kwargs):
        for name in ("types", "via"):
            if data.get(name) and len(set(data[name])) != len(data[name]):
                raise ValidationError("each once", name)



class TraceEdgeOut(Schema):
    from_id = fields.UUID(required=True)
    to_id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"enum": list(EDGE_KINDS)})
    quantity = fields.Float(allow_none=True)


class TraceTree(Schema):
    id = fields.UUID(required=True)
    via = fields.String(allow_none=True, metadata={"description": "the edge kind from its parent"})
    quantity = fields.Float(allow_none=True)
    ref = fields.Boolean(required=True, metadata={"description": "shown in full elsewhere in the tree"})
    children = fields.List(fields.Nested(lambda: TraceTree()), required=True)


class TraceOut(Schema):
    root = fields.Nested(TraceNodeOut, required=True)
    direction = fields.String(required=True, metadata={"enum": list(DIRECTIONS)})
    depth = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "nodes reached (of the types asked)"})
    nodes = fields.List(fields.Nested(TraceNodeOut), required=True,
                        metadata={"description": "flat: this page; nested: every node of the tree"})
    edges = fields.List(fields.Nested(TraceEdgeOut), required=True)
    tree = fields.Nested(TraceTree, allow_none=True, metadata={"description": "nested format only"})
    truncated = fields.Boolean(required=True, metadata={"description": "nested: more than `limit` nodes"})
    next_cursor = fields.String(allow_none=True)


class RecallQuery(Schema):
    """What is suspect: a lot or a serial (`node_id`), every lot of a heat, or every lot of a supplier lot."""
    node_id = fields.UUID(metadata={"description": "a lot or a serial"})
    heat_number = fields.String(validate=NUMBER)
    supplier_lot = fields.String(validate=NUMBER)

    openapi_extra = exactly_one_of("node_id", "heat_number", "supplier_lot")

    @validates_schema
    def _one(self, data, **kwargs):
        given = [k for k in ("node_id", "heat_number", "supplier_lot") if data.get(k) is not None]
        if len(given) != 1:
            raise ValidationError("give exactly one of node_id, heat_number, supplier_lot",
                                  given[1] if len(given) > 1 else "node_id")


class Location(Schema):
    location_id = fields.UUID(allow_none=True)
    location_code = fields.String(allow_none=True)
    quantity = fields.Float(allow_none=True)


class RecallItemOut(Schema):
    category = fields.String(required=True, metadata={"enum": ["in_stock", "in_work", "consumed", "shipped",
                                                               "scrapped"]})
    type = fields.String(required=True)
    id = fields.UUID(required=True)
    number = fields.String(required=True, allow_none=True)
    part_number = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    quantity = fields.Float(allow_none=True, metadata={"description": "on hand for a lot, 1 for a serial, the "
                                                                      "order's quantity for a work order"})
    on_hold = fields.Boolean(required=True)
    locations = fields.List(fields.Nested(Location), required=True)
    heat_number = fields.String(allow_none=True)
    supplier = fields.String(allow_none=True)
    supplier_lot = fields.String(allow_none=True)
    work_order_id = fields.UUID(allow_none=True)
    depth = fields.Integer(required=True)


class RecallTotal(Schema):
    category = fields.String(required=True)
    lots = fields.Integer(required=True)
    serials = fields.Integer(required=True)
    work_orders = fields.Integer(required=True)
    quantity = fields.Float(required=True, metadata={"description": "on hand of the lots"})


class RecallOut(Schema):
    roots = fields.List(fields.Nested(TraceNodeOut), required=True, metadata={"description": "the suspect lots"})
    generated_at = fields.DateTime(required=True)
    totals = fields.List(fields.Nested(RecallTotal), required=True)
    items = fields.List(fields.Nested(RecallItemOut), required=True,
                        metadata={"description": "every affected lot, serial and work order"})


class AsBuiltOut(Schema):
    """The as-built record (digital thread) of a serial: its own data, its
    components down the tree, every operation that made it or them, every
    inspection and NCR about any of them."""
    serial = fields.Dict(required=True)
    generated_at = fields.DateTime(required=True)
    work_orders = fields.List(fields.Dict(), required=True, metadata={
        "description": "each with its routing version and operations (operator, equipment, times, work "
                       "instruction version, special process, buy-off values and signatures, gauges used)"})
    components = fields.List(fields.Dict(), required=True, metadata={
        "description": "tree: {id, type, number, part_number, quantity, heat_number, supplier, supplier_lot, "
                       "certificates, via, components}"})
    inspections = fields.List(fields.Dict(), required=True, metadata={"description": "with results and signatures"})
    ncrs = fields.List(fields.Dict(), required=True, metadata={"description": "with dispositions and signatures"})


class TimelineQuery(PageQuery):
    pass


class TimelineEntryOut(Schema):
    event_id = fields.UUID(required=True)
    at = fields.DateTime(required=True)
    type = fields.String(required=True)
    actor = fields.String(allow_none=True)
    summary = fields.String(required=True)
    data = fields.Dict(required=True)


TimelinePage = page_schema(TimelineEntryOut, "TimelinePage")


class ModelStatusOut(Schema):
    active = fields.String(required=True, metadata={"description": "the generation that answers"})
    rebuilding = fields.String(allow_none=True, metadata={"description": "the generation a rebuild is filling"})
    rebuild_started_at = fields.DateTime(allow_none=True)
    rebuilt_at = fields.DateTime(allow_none=True)
    rebuild_events = fields.Integer(allow_none=True)
    nodes = fields.Integer(required=True)
    edges = fields.Integer(required=True)
    timeline = fields.Integer(required=True)


class Download(Schema):
    filename = fields.String(required=True)
    content = fields.String(required=True)
