"""The traceability service's public face: the only part of it that the gateway,
other services and other packages' tests import.

It owns no business data: it is a read model (ARCHITECTURE.md §4) built from
the events of material, work order, quality, resource and auth, and rebuilt
from their event logs (`mes traceability rebuild`).

- `schemas`: RPC input and output schemas (the gateway's HTTP schemas too);
- `events`: what it publishes (nothing: a read model announces no change);
- here: its name, the vocabularies of the genealogy, and the event types it acts on.
"""
from auth_service.contract import events as auth
from material_service.contract import events as material
from quality_service.contract import events as quality
from resource_service.contract import events as resource
from work_order_service.contract import events as work_order

SERVICE = "traceability_service"

# the nodes of the genealogy, and the records others name (shown, never traced)
NODE_TYPES = ("lot", "serial", "work_order", "operation", "inspection", "ncr")
MATERIAL_TYPES = ("lot", "serial")
DIRECTORY_TYPES = ("person", "equipment", "routing")

# `from` went into, or is evidence about, `to`: a backward trace walks to → from
EDGE_KINDS = (
    "consumed_into",      # a lot or serial consumed by an operation, or into the output made from it
    "assembled_into",     # a component (serial or lot) assembled into its parent
    "split_from",         # a parent lot into a lot split from it
    "merged_into",        # a lot into the lot it was merged into
    "produced_by",        # a work order into the lots and serials it produced
    "operation_of",       # an operation into its work order
    "inspected_by",       # an inspection into what it inspected
    "nonconformance_on",  # an NCR into what it is raised on
)
DIRECTIONS = ("backward", "forward")
MAX_DEPTH = 25
MAX_NESTED_NODES = 10_000  # a nested trace (a graph drawn in one answer)
MAX_NODES = 100_000        # a trace larger than this is refused (ask for fewer levels or types)

# Streams: every event of each of these services reaches the model (no event of
# theirs is left unroutable); CONSUMES are the types it projects (the others it
# skips), named by the owners' contracts.
SOURCES = (material.SOURCE, work_order.SOURCE, quality.SOURCE, resource.SOURCE, "auth_service")

MATERIAL_EVENTS = frozenset({
    material.LOT_RECEIVED, material.LOT_STATUS_CHANGED, material.LOT_SPLIT, material.LOT_MERGED,
    material.LOT_CONSUMED, material.SERIAL_CREATED, material.SERIAL_ASSEMBLED, material.SERIAL_CONSUMED,
    material.SERIAL_SCRAPPED, material.GENEALOGY_LINKED, material.INVENTORY_TRANSACTED,
    *(f(target) for f in (material.held, material.hold_released) for target in ("lot", "serial"))})
WORK_ORDER_CHANGES = frozenset(work_order.work_order(v) for v in work_order.WORK_ORDER_VERBS
                               if v != "release_failed")   # a refused release changes no genealogy
WORK_ORDER_EVENTS = WORK_ORDER_CHANGES | {
    *(work_order.operation(v) for v in work_order.OPERATION_VERBS),
    *(work_order.rework(v) for v in work_order.REWORK_VERBS),
    work_order.OUTPUT_REPORTED, work_order.STEP_BOUGHT_OFF}
QUALITY_EVENTS = frozenset({*quality.INSPECTION.types, *quality.NCR.types, quality.SIGNATURE_RECORDED,
                            quality.SPC_VIOLATION})
EQUIPMENT_EVENTS = frozenset(resource.EVENT_TYPES)   # every level of the hierarchy: names shown
RESOURCE_EVENTS = EQUIPMENT_EVENTS | set(resource.ROUTING_EVENT_TYPES) | {
    resource.asset_event_type(v) for v in ("created", "updated", "used")}
AUTH_EVENTS = frozenset({auth.USER_CREATED, auth.USER_UPDATED})

CONSUMES = MATERIAL_EVENTS | WORK_ORDER_EVENTS | QUALITY_EVENTS | RESOURCE_EVENTS | AUTH_EVENTS
