"""`mes`: the operator's command line (ARCHITECTURE.md §7).

Each group of commands lives in its own module and registers itself here.
"""
import importlib

import click

from mes_common.config import load_config


@click.group()
@click.option("--config", "config_path", envvar="MES_CONFIG", type=click.Path(exists=True, dir_okay=False),
              help="config.yml to use (default: the project's, or $MES_CONFIG)")
@click.pass_context
def main(ctx, config_path):
    """Operate the MES: infrastructure, databases, processes, events, audit."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["config"] = load_config(config_path)


# Command modules attach their commands to `main` when imported; services
# name theirs in the registry.
from mes_common.commands import infra, database, processes, events, audit  # noqa: E402,F401
from mes_common import registry  # noqa: E402

for _spec in registry.SERVICES:
    if _spec.commands:
        importlib.import_module(_spec.commands)
