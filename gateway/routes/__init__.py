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
