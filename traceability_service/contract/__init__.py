"""The traceability service's public face: the only part of it that the gateway,
other services and other packages' tests import.

It owns no business data: it is a read model (ARCHITECTURE.md §4) built from
the events of material, work order, quality, resource and auth, and rebuilt
from their event logs (`mes traceability rebuild`).

- `schemas`: RPC input and output schemas (the gateway's HTTP schemas too);
- `events`: what it publishes (nothing: a read model announces no change);
- here: its name, the vocabularies of the genealogy, and the event types it acts on.
"""
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
MAX_NODES = 100_000        # a trace larger than this is refused (ask for fewer levels or types)

# Streams: every event of each of these services reaches the model (no event of
# theirs is left unroutable); these are the types it projects (the others it skips).
SOURCES = ("material_service", "work_order_service", "quality_service", "resource_service", "auth_service")

_MATERIAL = ("lot.received", "lot.status_changed", "lot.split", "lot.merged", "lot.consumed", "lot.held",
             "lot.released", "serial.created", "serial.assembled", "serial.consumed", "serial.scrapped",
             "serial.held", "serial.released", "genealogy.linked", "inventory.transacted")
_WORK_ORDER = (*(f"work_order.{v}" for v in ("created", "updated", "released", "held", "resumed", "cancelled",
                                              "completed", "closed")),
               *(f"operation.{v}" for v in ("started", "paused", "resumed", "completed")),
               "output.reported", "step.bought_off", "rework.created", "rework.started", "rework.completed")
_QUALITY = (*(f"inspection.{v}" for v in ("opened", "results_recorded", "passed", "failed", "cancelled")),
            *(f"ncr.{v}" for v in ("raised", "updated", "contained", "dispositioned", "closed", "cancelled",
                                   "hold_changed")),
            "signature.recorded", "spc.violation")
_RESOURCE_LEVELS = ("enterprise", "site", "area", "work_center", "work_unit", "equipment")
_RESOURCE = (*(f"{level}.{verb}" for level in _RESOURCE_LEVELS
               for verb in ("created", "updated", "moved", "deactivated", "reactivated")),
             *(f"routing.{v}" for v in ("created", "updated", "released", "obsoleted")),
             "asset.created", "asset.updated", "asset.used")
_AUTH = ("user.created", "user.updated")

CONSUMES = frozenset({*(f"mes.material.{t}" for t in _MATERIAL), *(f"mes.work_order.{t}" for t in _WORK_ORDER),
                      *(f"mes.quality.{t}" for t in _QUALITY), *(f"mes.resource.{t}" for t in _RESOURCE),
                      *(f"mes.auth.{t}" for t in _AUTH)})
