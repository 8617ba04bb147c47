"""The work order service's public face: the only part of it that the
gateway, other services and other packages' tests import.

- `schemas`: RPC input and output schemas of work orders, execution,
  planning and downtime (the gateway's HTTP schemas too);
- `instructions`: those of work instructions;
- `rework`: those of rework operations (the MRB's rework and repair lines);
- `events`: the event types it publishes and what their `data` holds;
- here: its name, the vocabularies of its API, and the event types it
  consumes (to keep its cached display fields current, and the MRB's
  dispositions to rework).
"""
SERVICE = "work_order_service"

STATUSES = ("created", "released", "in_progress", "on_hold", "completed", "closed", "cancelled")
OPERATION_STATUSES = ("pending", "ready", "running", "paused", "completed")
INSTRUCTION_STATUSES = ("draft", "released", "obsolete")
REWORK_STATUSES = ("open", "running", "completed")
FIELD_TYPES = ("number", "text", "boolean", "choice")  # data-collection fields of instruction steps

CONSUMES = frozenset({
    "mes.material.part.updated",
    "mes.resource.site.updated",
    "mes.resource.work_center.updated",
    "mes.auth.user.updated",
    "mes.quality.ncr.dispositioned",   # its rework and repair lines become rework operations
})
