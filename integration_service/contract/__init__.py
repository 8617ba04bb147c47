"""The Integration service's public face: the only part of it that the gateway,
other services and other packages' tests import.

The integration service is the MES's border with ERP, PLM and shop-floor
systems (ISA-95 / B2MML). Built so far: the B2MML reader and answers
(integration_service.b2mml); the imports, the message log, endpoints and
webhooks come next (issue 16).

- `schemas`: RPC input and output schemas (the gateway's HTTP schemas too);
- `events`: the event types it publishes and what their `data` holds;
- here: its name and the event types it consumes.
"""
SERVICE = "integration_service"

# the event types this service handles (mes_common.events.handlers.event_handler);
# tests/test_architecture.py keeps this in step with the handlers
CONSUMES = frozenset()
