"""The resource service's public face: the only module of it that the gateway,
other services and other packages' tests import.

- `schemas`: RPC input and output schemas (the gateway's HTTP schemas too);
- `events`: the event types it publishes and what their `data` holds;
- here: its name, the reference-cache kind of its equipment summaries, the
  vocabularies of its API, and the event types it consumes.
"""
SERVICE = "resource_service"
EQUIPMENT_KIND = "equipment"  # reference cache kind (mes_common.cache): nodes' display fields, schemas.NodeSummary

# ISA-95 role-based equipment hierarchy levels, top down
LEVELS = ("enterprise", "site", "area", "work_center", "work_unit", "equipment")
ROUTING_STATUSES = ("draft", "released", "obsolete")

CONSUMES = frozenset({"mes.auth.user.updated"})   # people's display names on their qualifications
