"""The material service's public face: the only module of it that the gateway,
other services and other packages' tests import.

- `schemas`: RPC input and output schemas (the gateway's HTTP schemas too);
- `events`: the event types it publishes and what their `data` holds;
- here: its name, the reference-cache kind of its part summaries, the
  vocabularies of its API, and the event types it consumes.
"""
SERVICE = "material_service"
PART_KIND = "part"  # reference cache kind (mes_common.cache): parts' display fields, schemas.PartSummary

PART_TYPES = ("raw", "purchased", "manufactured", "assembly")
PART_STATUSES = ("active", "inactive", "obsolete")
LOT_STATUSES = ("received", "quarantine", "released", "consumed", "expired", "rejected")
# `consumed` follows from consumption reaching zero; nobody sets it by hand
MANUAL_LOT_STATUSES = tuple(s for s in LOT_STATUSES if s != "consumed")
SERIAL_STATUSES = ("available", "consumed", "assembled", "scrapped")
TARGET_TYPES = ("lot", "serial")
RELATIONS = ("split", "merge", "assembly", "produced_from")
RESERVATION_STATUSES = ("active", "released", "consumed")
HOLD_STATUSES = ("active", "released")
TRANSACTION_TYPES = ("receive", "issue", "consume", "produce", "move", "adjust", "scrap", "split", "merge")
MAX_SERIALS = 100_000  # serials in one create_serials call

# the event types this service handles (mes_common.events.event_handler); a
# test keeps this in step with the handlers
CONSUMES = frozenset({"mes.work_order.output.reported", "mes.quality.ncr.raised", "mes.quality.ncr.dispositioned",
                      "mes.quality.ncr.cancelled", "mes.quality.inspection.passed"})
