"""The quality service's public face: the only part of it that the gateway,
other services and other packages' tests import.

- `plans`, `inspections`, `ncrs`, `capas`, `spc`: RPC input and output schemas
  (the gateway's HTTP schemas too), one module per record;
- `events`: the event types it publishes and what their `data` holds;
- here: its name, the vocabularies of its API, and the event types it consumes.
"""
SERVICE = "quality_service"

CHARACTERISTIC_KINDS = ("variable", "attribute", "visual")
CRITICALITIES = ("critical", "major", "minor", "key")
PLAN_STATUSES = ("draft", "released", "superseded")
CONTROL_POINT_KINDS = ("receiving", "in_process", "final")
INSPECTION_KINDS = CONTROL_POINT_KINDS + ("manual",)
INSPECTION_STATUSES = ("open", "passed", "failed", "cancelled")
NCR_SOURCES = ("inspection", "spc", "shop_floor", "customer", "supplier")
NCR_STATUSES = ("draft", "open", "contained", "dispositioned", "closed", "cancelled")
SEVERITIES = ("critical", "major", "minor")
DECISIONS = ("use_as_is", "rework", "repair", "scrap", "return_to_vendor", "regrade")
HOLD_STATUSES = ("pending", "held", "released")
EFFECT_STATUSES = ("proposed", "pending", "applied")
REWORK_STATUSES = ("pending", "open", "running", "completed")
CAPA_STATUSES = ("open", "effectiveness_check", "closed", "cancelled")
CAPA_ACTION_KINDS = ("containment", "corrective", "preventive")
CAPA_ACTION_STATUSES = ("open", "done", "cancelled")
ROOT_CAUSE_METHODS = ("five_why", "fishbone")
FISHBONE_CATEGORIES = ("man", "machine", "method", "material", "measurement", "environment")

# the event types this service handles (mes_common.events.handlers.event_handler);
# tests/test_architecture.py keeps this in step with the handlers
CONSUMES = frozenset({"mes.material.lot.received", "mes.material.lot.held", "mes.material.serial.held",
                      "mes.material.lot.released", "mes.material.serial.released",
                      "mes.work_order.operation.started", "mes.work_order.rework.created",
                      "mes.work_order.rework.started", "mes.work_order.rework.completed"})
