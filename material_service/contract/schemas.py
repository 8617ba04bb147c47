"""The material service's RPC contract (also the gateway's HTTP contract).

Quantities come in as JSON numbers (Quantity: a Decimal of 6 places) and go
out as JSON numbers (Float); dates are ISO dates, times UTC ISO 8601.
"""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from material_service.contract import (HOLD_STATUSES, LOT_STATUSES, MANUAL_LOT_STATUSES, MAX_SERIALS, PART_STATUSES,
                                     PART_TYPES, RELATIONS, RESERVATION_STATUSES, SERIAL_STATUSES, TARGET_TYPES,
                                     TRANSACTION_TYPES)
from mes_common.schemas import (Boolean, NO_NUL, PageQuery, Pattern, Quantity, Relation, absent, exactly_one_of,
                                page_schema, present)

IDENT = Pattern(r"^[A-Za-z0-9][A-Za-z0-9._/#:\-]*$",
                error="use letters, digits, '.', '_', '/', '#', ':' or '-', starting with a letter or digit")
CODE = Pattern(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$",
               error="use letters, digits, '.', '_' or '-', starting with a letter or digit")


def ident(max_length, **kwargs):
    return fields.String(validate=[validate.Length(min=1, max=max_length), IDENT], **kwargs)


def text(max_length, **kwargs):
    return fields.String(validate=[validate.Length(max=max_length), NO_NUL], **kwargs)


def required_text(max_length, **kwargs):
    return fields.String(required=True, validate=[validate.Length(min=1, max=max_length), NO_NUL], **kwargs)


def optional(field_cls, *args, **kwargs):
    return field_cls(*args, load_default=None, allow_none=True, **kwargs)


IDEMPOTENCY_KEY = dict(validate=[validate.Length(min=1, max=200), NO_NUL],
                       metadata={"description": "the same key again returns the first answer and changes nothing"})
REASON = dict(validate=[validate.Length(min=1, max=500), NO_NUL])
VERSION = dict(strict=True, validate=validate.Range(min=1),
               metadata={"description": "refuse the change unless the record is at this version (409)"})


def _exactly_one(data, names, field):
    given = [n for n in names if data.get(n) is not None]
    if len(given) != 1:
        raise ValidationError(f"give exactly one of {', '.join(names)}", field)


# ------------------------------------------------------------------ parts

class PartCreate(Schema):
    part_number = ident(64, required=True, metadata={"example": "P-100"})
    name = required_text(200, metadata={"example": "Bracket, wing rib"})
    description = optional(fields.String, validate=[validate.Length(max=2000), NO_NUL])
    uom = fields.String(load_default="ea", validate=[validate.Length(min=1, max=16), NO_NUL],
                        metadata={"description": "unit of measure (free text)"})
    type = fields.String(required=True, validate=validate.OneOf(PART_TYPES))
    lot_controlled = Boolean(load_default=False)
    serial_controlled = Boolean(load_default=False)
    revision = ident(16, load_default="A", metadata={"description": "the first revision"})


class PartUpdate(Schema):
    name = fields.String(validate=[validate.Length(min=1, max=200), NO_NUL])
    description = fields.String(allow_none=True, validate=[validate.Length(max=2000), NO_NUL])
    uom = fields.String(validate=[validate.Length(min=1, max=16), NO_NUL])
    status = fields.String(validate=validate.OneOf(PART_STATUSES))
    lot_controlled = Boolean()
    serial_controlled = Boolean()
    version = fields.Integer(**VERSION)


class RevisionCreate(Schema):
    revision = ident(16, required=True, metadata={"example": "B"})
    reason = fields.String(required=True, **REASON)


class RevisionOut(Schema):
    revision = fields.String(required=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)


class PartOut(Schema):
    id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    uom = fields.String(required=True)
    type = fields.String(required=True)
    lot_controlled = Boolean(required=True)
    serial_controlled = Boolean(required=True)
    status = fields.String(required=True)
    revision = fields.String(required=True, metadata={"description": "the current revision"})
    revisions = fields.List(fields.Nested(RevisionOut), required=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class PartSummary(Schema):
    """The display fields other services cache (reference kind "part")."""
    id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    name = fields.String(required=True)
    revision = fields.String(required=True)
    uom = fields.String(required=True)
    type = fields.String(required=True)
    lot_controlled = Boolean(required=True)
    serial_controlled = Boolean(required=True)
    status = fields.String(required=True)


class PartListQuery(PageQuery):
    part_number = fields.String(validate=[validate.Length(min=1, max=64), NO_NUL],
                                metadata={"description": "prefix of the part number"})
    type = fields.String(validate=validate.OneOf(PART_TYPES))
    status = fields.String(validate=validate.OneOf(PART_STATUSES))


PartPage = page_schema(PartOut, "PartPage")


class PartNumbersQuery(Schema):
    part_numbers = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                               validate=validate.Length(min=1, max=10_000))


class PartSummaryQuery(Schema):
    ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=1000))


# ------------------------------------------------------------------ BOMs

class BomComponentIn(Schema):
    part_id = fields.UUID(required=True)
    quantity = Quantity(required=True, metadata={"description": "per one unit of the parent"})
    uom = optional(fields.String, validate=[validate.Length(min=1, max=16), NO_NUL],
                   metadata={"description": "default: the component's unit"})
    effective_from = optional(fields.Date, metadata={"description": "inclusive; none: always"})
    effective_to = optional(fields.Date, metadata={"description": "inclusive; none: open-ended"})
    position = optional(fields.Integer, strict=True, validate=validate.Range(min=0, max=100_000),
                        metadata={"description": "find number / order; default 10, 20, ... by input order"})

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("effective_from") and data.get("effective_to") and data["effective_to"] < data["effective_from"]:
            raise ValidationError(Relation("must not be before effective_from"), "effective_to")


class BomSet(Schema):
    revision = ident(16, metadata={"description": "default: the part's current revision"})
    components = fields.List(fields.Nested(BomComponentIn), required=True, validate=validate.Length(max=500))


class BomQuery(Schema):
    revision = ident(16, metadata={"description": "default: the part's current revision"})


class BomComponentOut(Schema):
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    name = fields.String(required=True)
    quantity = fields.Float(required=True)
    uom = fields.String(required=True)
    effective_from = fields.Date(allow_none=True)
    effective_to = fields.Date(allow_none=True)
    position = fields.Integer(required=True)


class BomOut(Schema):
    part_id = fields.UUID(required=True)
    revision = fields.String(required=True)
    components = fields.List(fields.Nested(BomComponentOut), required=True)
    version = fields.Integer(required=True, metadata={"description": "0 while the revision has no BOM"})
    updated_at = fields.DateTime(allow_none=True)


class ExplodeQuery(Schema):
    revision = ident(16, metadata={"description": "of the top part; default: its current revision"})
    quantity = fields.Float(load_default=1.0, validate=validate.Range(min=0, min_inclusive=False, max=1e12))
    at = fields.Date(metadata={"description": "effectivity date (default: today, UTC)"})
    levels = fields.Integer(validate=validate.Range(min=1, max=30),
                            metadata={"description": "levels to explode (default: all)"})


class ExplosionLine(Schema):
    level = fields.Integer(required=True)
    parent_part_id = fields.UUID(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    name = fields.String(required=True)
    quantity_per = fields.Float(required=True)
    quantity = fields.Float(required=True)
    uom = fields.String(required=True)


class BomRequirement(Schema):
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    name = fields.String(required=True)
    quantity = fields.Float(required=True)
    uom = fields.String(required=True)


class ExplosionOut(Schema):
    part_id = fields.UUID(required=True)
    revision = fields.String(required=True)
    quantity = fields.Float(required=True)
    lines = fields.List(fields.Nested(ExplosionLine), required=True)
    requirements = fields.List(fields.Nested(BomRequirement), required=True,
                               metadata={"description": "quantities summed per part over `lines`"})


class WhereUsedLine(Schema):
    level = fields.Integer(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    name = fields.String(required=True)
    revision = fields.String(required=True)
    current = Boolean(required=True, metadata={"description": "the parent's current revision"})
    quantity_per = fields.Float(required=True)


# ------------------------------------------------------------------ locations

class LocationCreate(Schema):
    code = fields.String(required=True, validate=[validate.Length(min=1, max=64), CODE],
                         metadata={"example": "STORES-A1"})
    name = required_text(200)
    site_id = optional(fields.UUID, metadata={"description": "the resource service's site"})


class LocationOut(Schema):
    id = fields.UUID(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    site_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)


class LocationListQuery(PageQuery):
    code = fields.String(validate=[validate.Length(min=1, max=64), NO_NUL], metadata={"description": "prefix"})
    site_id = fields.UUID()


LocationPage = page_schema(LocationOut, "LocationPage")


# ------------------------------------------------------------------ holds

class HoldTarget(Schema):
    target_type = fields.String(required=True)
    target_id = fields.UUID(required=True)


class HoldCreate(Schema):
    target_type = fields.String(required=True, validate=validate.OneOf(TARGET_TYPES))
    target_id = fields.UUID(required=True)
    reason = fields.String(required=True, **REASON)
    reference = optional(fields.String, validate=[validate.Length(min=1, max=200), NO_NUL],
                         metadata={"description": "what it is for, e.g. the NCR number (kept on the cascade)"})


class HoldRelease(Schema):
    reason = fields.String(required=True, **REASON)


class HoldOut(Schema):
    id = fields.UUID(required=True)
    target_type = fields.String(required=True)
    target_id = fields.UUID(required=True)
    root_hold_id = fields.UUID(allow_none=True, metadata={"description": "set on a hold placed by cascade"})
    reason = fields.String(required=True)
    reference = fields.String(allow_none=True)
    status = fields.String(required=True)
    placed_by = fields.String(required=True)
    placed_at = fields.DateTime(required=True)
    released_by = fields.String(allow_none=True)
    released_at = fields.DateTime(allow_none=True)
    release_reason = fields.String(allow_none=True)
    cascade = fields.List(fields.Nested(HoldTarget), required=True,
                          metadata={"description": "descendants held by this (root) hold"})


class HoldListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(HOLD_STATUSES))
    target_type = fields.String(validate=validate.OneOf(TARGET_TYPES))
    target_id = fields.UUID()


HoldPage = page_schema(HoldOut, "HoldPage")


# ------------------------------------------------------------------ lots and inventory

class LotReceive(Schema):
    part_id = fields.UUID(required=True)
    quantity = Quantity(required=True)
    location_id = fields.UUID(required=True)
    lot_number = ident(64, metadata={"description": "generated (LOT-000001, ...) if absent"})
    supplier = optional(fields.String, validate=[validate.Length(max=200), NO_NUL])
    supplier_lot = optional(fields.String, validate=[validate.Length(max=64), NO_NUL])
    heat_number = optional(fields.String, validate=[validate.Length(max=64), NO_NUL])
    certificates = fields.List(fields.String(validate=[validate.Length(min=1, max=200), NO_NUL]),
                               load_default=list, validate=validate.Length(max=50),
                               metadata={"description": "certificate references (e.g. EN 10204 3.1 numbers)"})
    expiry_date = optional(fields.Date)
    reference = optional(fields.String, validate=[validate.Length(max=200), NO_NUL],
                         metadata={"description": "e.g. the purchase order or delivery note"})
    reason = optional(fields.String, validate=[validate.Length(max=500), NO_NUL])
    idempotency_key = fields.String(**IDEMPOTENCY_KEY)


class LotStatusChange(Schema):
    status = fields.String(required=True, validate=validate.OneOf(MANUAL_LOT_STATUSES),
                           metadata={"description": "consumed is set by consumption"})
    reason = fields.String(required=True, **REASON)
    version = fields.Integer(**VERSION)


class SplitChild(Schema):
    quantity = Quantity(required=True)
    location_id = optional(fields.UUID, metadata={"description": "default: the parent's location"})
    lot_number = ident(64, metadata={"description": "default: <parent lot number>-1, -2, ..."})


class LotSplit(Schema):
    children = fields.List(fields.Nested(SplitChild), required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(required=True, **REASON)


class LotMerge(Schema):
    lot_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=2, max=100),
                          metadata={"uniqueItems": True})
    lot_number = ident(64, metadata={"description": "generated if absent"})
    location_id = optional(fields.UUID, metadata={"description": "default: the sources' location"})
    reason = fields.String(required=True, **REASON)

    @validates_schema
    def _distinct(self, data, **kwargs):
        if len(set(data.get("lot_ids", []))) != len(data.get("lot_ids", [])):
            raise ValidationError("a lot appears twice", "lot_ids")


class InventoryChangeBody(Schema):
    location_id = optional(fields.UUID, metadata={"description": "where the lot is; default: its only location"})
    quantity = Quantity(required=True)
    reason = fields.String(required=True, **REASON)
    reference = optional(fields.String, validate=[validate.Length(max=200), NO_NUL])


class MoveBody(InventoryChangeBody):
    to_location_id = fields.UUID(required=True)


class AdjustBody(InventoryChangeBody):
    quantity = Quantity(required=True, positive=False, metadata={"description": "signed change, not zero"})


class InventoryChange(InventoryChangeBody):
    lot_id = fields.UUID(required=True)


class MoveRequest(MoveBody):
    lot_id = fields.UUID(required=True)


class AdjustRequest(AdjustBody):
    lot_id = fields.UUID(required=True)


class LotBalanceOut(Schema):
    location_id = fields.UUID(required=True)
    location_code = fields.String(required=True)
    quantity = fields.Float(required=True)
    reserved = fields.Float(required=True)


class LotOut(Schema):
    id = fields.UUID(required=True)
    lot_number = fields.String(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    status = fields.String(required=True)
    quantity = fields.Float(required=True, metadata={"description": "on hand, all locations"})
    reserved = fields.Float(required=True)
    available = fields.Float(required=True, metadata={
        "description": "unreserved on hand if the lot can be reserved (released, not held, not expired), else 0"})
    supplier = fields.String(allow_none=True)
    supplier_lot = fields.String(allow_none=True)
    heat_number = fields.String(allow_none=True)
    certificates = fields.List(fields.String(), required=True)
    expiry_date = fields.Date(allow_none=True)
    work_order_id = fields.UUID(allow_none=True, metadata={"description": "the work order that produced it"})
    balances = fields.List(fields.Nested(LotBalanceOut), required=True)
    holds = fields.List(fields.Nested(HoldOut), required=True, metadata={"description": "active holds"})
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class LotListQuery(PageQuery):
    part_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(LOT_STATUSES))
    lot_number = fields.String(validate=[validate.Length(min=1, max=64), NO_NUL], metadata={"description": "prefix"})
    work_order_id = fields.UUID()


LotPage = page_schema(LotOut, "LotPage")


class InventoryTransactionOut(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    part_id = fields.UUID(required=True)
    lot_id = fields.UUID(allow_none=True)
    serial_id = fields.UUID(allow_none=True)
    location_id = fields.UUID(allow_none=True)
    quantity = fields.Float(required=True, metadata={"description": "signed: negative takes stock out"})
    reason = fields.String(allow_none=True)
    actor = fields.String(required=True)
    reference = fields.String(allow_none=True)
    work_order_id = fields.UUID(allow_none=True)
    operation_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)


class InventoryResult(Schema):
    lot = fields.Nested(LotOut, required=True)
    transactions = fields.List(fields.Nested(InventoryTransactionOut), required=True)


class SplitOut(Schema):
    parent = fields.Nested(LotOut, required=True)
    children = fields.List(fields.Nested(LotOut), required=True)


class MergeOut(Schema):
    lot = fields.Nested(LotOut, required=True)
    sources = fields.List(fields.Nested(LotOut), required=True)


class InventoryTransactionQuery(PageQuery):
    lot_id = fields.UUID()
    serial_id = fields.UUID()
    part_id = fields.UUID()
    work_order_id = fields.UUID()
    type = fields.String(validate=validate.OneOf(TRANSACTION_TYPES))


InventoryTransactionPage = page_schema(InventoryTransactionOut, "InventoryTransactionPage")


class BalanceOut(Schema):
    part_id = fields.UUID(required=True)
    lot_id = fields.UUID(required=True)
    lot_number = fields.String(required=True)
    location_id = fields.UUID(required=True)
    location_code = fields.String(required=True)
    quantity = fields.Float(required=True)
    reserved = fields.Float(required=True)


class BalanceListQuery(PageQuery):
    part_id = fields.UUID()
    lot_id = fields.UUID()
    location_id = fields.UUID()
    include_empty = Boolean(load_default=False, metadata={"description": "also balances at 0"})


BalancePage = page_schema(BalanceOut, "BalancePage")


# ------------------------------------------------------------------ serials

SERIAL_NUMBER = fields.String(validate=[validate.Length(min=1, max=100), IDENT])


class SerialCreate(Schema):
    part_id = fields.UUID(required=True)
    pattern = fields.String(validate=[validate.Length(min=1, max=120), NO_NUL],
                            metadata={"example": "SN-{00001..10000}"})
    serial_numbers = fields.List(SERIAL_NUMBER, validate=validate.Length(min=1, max=MAX_SERIALS))
    lot_id = optional(fields.UUID)
    location_id = optional(fields.UUID)
    work_order_id = optional(fields.UUID)

    openapi_extra = exactly_one_of("pattern", "serial_numbers")

    @validates_schema
    def _one_source(self, data, **kwargs):
        _exactly_one(data, ("pattern", "serial_numbers"), "pattern")


class SerialRef(Schema):
    id = fields.UUID(required=True)
    serial_number = fields.String(required=True)


class SerialsCreated(Schema):
    part_id = fields.UUID(required=True)
    count = fields.Integer(required=True)
    first = fields.String(required=True)
    last = fields.String(required=True)
    serials = fields.List(fields.Nested(SerialRef), required=True)


class SerialOut(Schema):
    id = fields.UUID(required=True)
    serial_number = fields.String(required=True)
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    status = fields.String(required=True)
    lot_id = fields.UUID(allow_none=True)
    location_id = fields.UUID(allow_none=True)
    work_order_id = fields.UUID(allow_none=True)
    parent_serial_id = fields.UUID(allow_none=True)
    holds = fields.List(fields.Nested(HoldOut), required=True, metadata={"description": "active holds"})
    created_at = fields.DateTime(required=True)


class SerialListQuery(PageQuery):
    part_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(SERIAL_STATUSES))
    serial_number = fields.String(validate=[validate.Length(min=1, max=100), NO_NUL],
                                  metadata={"description": "prefix"})
    lot_id = fields.UUID()
    work_order_id = fields.UUID()


SerialPage = page_schema(SerialOut, "SerialPage")


# ------------------------------------------------------------------ genealogy

class GenealogyQuery(Schema):
    target_type = fields.String(required=True, validate=validate.OneOf(TARGET_TYPES))
    target_id = fields.UUID(required=True)
    direction = fields.String(load_default="down", validate=validate.OneOf(("down", "up")),
                              metadata={"description": "down: what was made from it; up: what it was made from"})
    max_depth = fields.Integer(validate=validate.Range(min=1, max=100), metadata={"description": "default: all"})


class GenealogyLinkOut(Schema):
    id = fields.UUID(required=True)
    source_type = fields.String(required=True)
    source_id = fields.UUID(required=True)
    target_type = fields.String(required=True)
    target_id = fields.UUID(required=True)
    relation = fields.String(required=True, metadata={"description": " | ".join(RELATIONS)})
    quantity = fields.Float(allow_none=True, metadata={
        "description": "produced_from: what of the source the target holds (a lot's consumption shared over the "
                       "order's quantity); split, merge: the quantity moved"})
    work_order_id = fields.UUID(allow_none=True)
    operation_id = fields.UUID(allow_none=True, metadata={"description": "produced_from: the operation that "
                                                                       "consumed the source"})
    created_at = fields.DateTime(required=True)


class GenealogyNode(Schema):
    type = fields.String(required=True)
    id = fields.UUID(required=True)
    number = fields.String(required=True, metadata={"description": "lot or serial number"})
    part_id = fields.UUID(required=True)


class GenealogyOut(Schema):
    root = fields.Nested(GenealogyNode, required=True)
    links = fields.List(fields.Nested(GenealogyLinkOut), required=True)
    nodes = fields.List(fields.Nested(GenealogyNode), required=True)


class AssemblyParent(Schema):
    serial_id = fields.UUID()
    lot_id = fields.UUID()

    openapi_extra = exactly_one_of("serial_id", "lot_id")

    @validates_schema
    def _one(self, data, **kwargs):
        _exactly_one(data, ("serial_id", "lot_id"), "serial_id")


class MaterialTaken(Schema):
    """A serial, or a quantity of a lot (from one of its locations)."""
    lot_id = fields.UUID()
    serial_id = fields.UUID()
    quantity = Quantity(metadata={"description": "required with lot_id; a serial is 1"})
    location_id = optional(fields.UUID, metadata={"description": "with lot_id: where to take it from"})

    # a lot with a quantity, or a serial (one unit, no location)
    openapi_extra = {"oneOf": [
        {"allOf": [present("lot_id"), present("quantity"), absent("serial_id")]},
        {"allOf": [present("serial_id"), absent("lot_id", "location_id"),
                   {"properties": {"quantity": {"enum": [1, None], "nullable": True}}}]}]}

    @validates_schema
    def _shape(self, data, **kwargs):
        _exactly_one(data, ("lot_id", "serial_id"), "lot_id")
        if data.get("lot_id") is not None and data.get("quantity") is None:
            raise ValidationError("required with lot_id", "quantity")
        if data.get("serial_id") is not None:
            if data.get("quantity") not in (None, 1):
                raise ValidationError("a serial is one unit", "quantity")
            if data.get("location_id") is not None:
                raise ValidationError("only with lot_id", "location_id")


class AssembleRequest(Schema):
    parent = fields.Nested(AssemblyParent, required=True)
    child = fields.Nested(MaterialTaken, required=True)
    work_order_id = optional(fields.UUID)
    operation_id = optional(fields.UUID)
    idempotency_key = fields.String(required=True, **IDEMPOTENCY_KEY)


class AssemblyOut(Schema):
    idempotency_key = fields.String(required=True)
    link = fields.Nested(GenealogyLinkOut, required=True)
    transactions = fields.List(fields.Nested(InventoryTransactionOut), required=True)


# ------------------------------------------------------------------ reservations

class ReserveRequest(Schema):
    work_order_id = fields.UUID(required=True)
    part_id = fields.UUID(required=True)
    quantity = Quantity(required=True)
    idempotency_key = fields.String(required=True, **IDEMPOTENCY_KEY)
    reference = optional(fields.String, validate=[validate.Length(max=200), NO_NUL])


class ReservationReleaseBody(Schema):
    reason = optional(fields.String, validate=[validate.Length(max=500), NO_NUL])


class ReservationRelease(ReservationReleaseBody):
    """The HTTP body of a release: the key travels in it."""
    idempotency_key = fields.String(required=True, **IDEMPOTENCY_KEY)


class AllocationOut(Schema):
    lot_id = fields.UUID(required=True)
    lot_number = fields.String(required=True)
    location_id = fields.UUID(required=True)
    location_code = fields.String(required=True)
    quantity = fields.Float(required=True, metadata={"description": "still reserved"})
    consumed = fields.Float(required=True, metadata={"description": "consumed by the work order since"})


class ReservationOut(Schema):
    id = fields.UUID(required=True)
    idempotency_key = fields.String(required=True)
    work_order_id = fields.UUID(allow_none=True, metadata={"description": "null on a tombstone"})
    part_id = fields.UUID(allow_none=True)
    part_number = fields.String(allow_none=True)
    quantity = fields.Float(required=True)
    status = fields.String(required=True, metadata={"description": " | ".join(RESERVATION_STATUSES)})
    reference = fields.String(allow_none=True)
    allocations = fields.List(fields.Nested(AllocationOut), required=True)
    created_at = fields.DateTime(required=True)
    released_at = fields.DateTime(allow_none=True)
    release_reason = fields.String(allow_none=True)


class WorkOrderReleaseOut(Schema):
    work_order_id = fields.UUID(required=True)
    released = fields.List(fields.Nested(ReservationOut), required=True)


class ReservationListQuery(PageQuery):
    work_order_id = fields.UUID()
    part_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(RESERVATION_STATUSES))


ReservationPage = page_schema(ReservationOut, "ReservationPage")


class AvailabilityItem(Schema):
    part_id = fields.UUID(required=True)
    quantity = Quantity(required=True)


class AvailabilityRequest(Schema):
    items = fields.List(fields.Nested(AvailabilityItem), required=True, validate=validate.Length(min=1, max=500))


class AvailabilityLine(Schema):
    part_id = fields.UUID(required=True)
    part_number = fields.String(required=True)
    required = fields.Float(required=True)
    available = fields.Float(required=True)
    short = fields.Float(required=True)


# ------------------------------------------------------------------ consumption and output

class ConsumeRequest(Schema):
    work_order_id = fields.UUID(required=True)
    work_order_number = optional(fields.String, validate=[validate.Length(max=64), NO_NUL])
    operation_id = fields.UUID(required=True)
    items = fields.List(fields.Nested(MaterialTaken), required=True, validate=validate.Length(min=1, max=200))
    idempotency_key = fields.String(required=True, **IDEMPOTENCY_KEY)


class ConsumeOut(Schema):
    idempotency_key = fields.String(required=True)
    transactions = fields.List(fields.Nested(InventoryTransactionOut), required=True)


class ProduceRequest(Schema):
    work_order_id = fields.UUID(required=True)
    work_order_number = fields.String(required=True, validate=[validate.Length(min=1, max=64), NO_NUL],
                                      metadata={"description": "the ledger's reference; names generated serials"})
    operation_id = optional(fields.UUID)
    part_id = fields.UUID(required=True)
    quantity = Quantity(required=True)
    serial_numbers = fields.List(SERIAL_NUMBER, load_default=None, allow_none=True,
                                 validate=validate.Length(min=1, max=MAX_SERIALS))
    lot_number = optional(fields.String, validate=[validate.Length(min=1, max=64), IDENT])
    location_id = optional(fields.UUID, metadata={"description": "default: the PRODUCTION location"})
    work_order_quantity = optional(Quantity, metadata={
        "description": "the order's quantity: each unit of output is linked to consumed lot / this of each lot "
                       "consumed (without it, each output is linked to the whole quantity consumed)"})
    idempotency_key = fields.String(required=True, **IDEMPOTENCY_KEY)


class OutputReported(ProduceRequest):
    """`data` of mes.work_order.output.reported; its report_id is the idempotency key."""
    class Meta:
        unknown = EXCLUDE  # newer publishers may add fields

    report_id = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])
    idempotency_key = fields.String(load_default=None)


class ProduceOut(Schema):
    idempotency_key = fields.String(required=True)
    work_order_id = fields.UUID(required=True)
    part_id = fields.UUID(required=True)
    quantity = fields.Float(required=True)
    lot = fields.Nested(LotOut, allow_none=True, metadata={"description": "the output lot (not serialized)"})
    serials = fields.List(fields.Nested(SerialRef), required=True)
    transactions = fields.List(fields.Nested(InventoryTransactionOut), required=True)
    links = fields.List(fields.Nested(GenealogyLinkOut), required=True)
