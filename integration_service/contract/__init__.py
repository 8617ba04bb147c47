"""The Integration service's public face: the only part of it that the gateway,
other services and other packages' tests import.

The integration service is the MES's border with ERP, PLM and shop-floor
systems (ISA-95 / B2MML): schedules and master data in, performance
documents and webhooks out, every message in a log.

- `schemas`: RPC input and output schemas (the gateway's HTTP schemas too);
- `events`: the event types it publishes and what their `data` holds;
- `webhooks`: how a webhook is signed, for receivers too;
- here: its name and the event types it consumes.
"""
from mes_common.events.stream import of_source
from work_order_service.contract import events as work_order

SERVICE = "integration_service"

# the event types this service acts on (its streams take every event of each source: a webhook may want any);
# tests/test_architecture.py keeps this in step with the handlers
CONSUMES = frozenset({work_order.work_order("completed")})   # → OperationsPerformance to the ERPs


def consumed_from(source):
    """The types of CONSUMES that `source` publishes ("work_order_service" → mes.work_order.*)."""
    return of_source(CONSUMES, f"mes.{source.removesuffix('_service')}.")
