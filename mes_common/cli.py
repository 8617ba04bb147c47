"""`mes`: the operator's command line (ARCHITECTURE.md §7).

Each group of commands lives in its own module and registers itself here.
"""
import importlib

# command modules attach their commands to `main` when imported; services
# name theirs in the registry
from mes_common import registry
from mes_common.commands import (main, infra, database, processes, events, audit, shell, new_service,  # noqa: F401
                                 deploy)

for _spec in registry.SERVICES:
    if _spec.commands:
        importlib.import_module(_spec.commands)
