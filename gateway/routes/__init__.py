"""The gateway's route tables: `gateway/routes/<service>.py` for each service
of the registry that has routes (named without `_service`), and the audit
trail routes every service shares."""
import importlib
import importlib.util

from mes_common import registry


def route_tables():
    tables = []
    for spec in registry.SERVICES:
        module = f"{__name__}.{spec.name.removesuffix('_service')}"
        if importlib.util.find_spec(module) is not None:
            tables.append(importlib.import_module(module).routes)
    tables.append(importlib.import_module(f"{__name__}.audit").routes)
    return tables


def rpc_targets():
    """Every 'service.method' the gateway calls: its routes, its token checks and
    /ready's pings. The gateway's broker login may publish these and no other
    (mes_common.broker), so a stolen gateway login reaches no RPC that no route
    reaches, and each route keeps its permission and step-up checks."""
    from gateway.auth import AUTH_CALLS, AUTH_SERVICE
    targets = {f"{AUTH_SERVICE}.{method}" for method in AUTH_CALLS}
    targets |= {f"{spec.name}.ping" for spec in registry.SERVICES}
    for table in route_tables():
        for entry in table.entries:
            targets.update(entry.rpc_targets())
    return sorted(targets)
