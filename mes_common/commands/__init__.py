"""The `mes` command group; each module of this package adds its commands
to it (mes_common.cli imports them all)."""
import click

from mes_common import broker
from mes_common.config import load_config


@click.group()
@click.option("--config", "config_path", envvar="MES_CONFIG", type=click.Path(exists=True, dir_okay=False),
              help="config.yml to use (default: the project's, or $MES_CONFIG)")
@click.pass_context
def main(ctx, config_path):
    """Operate the MES: infrastructure, databases, processes, events, audit."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    # as written (AMQP_URI as given: the login that administers the vhost, the one processes fall back to)
    ctx.obj["installation_config"] = installation = load_config(config_path)
    # the operators' own broker login (mes_cli) where one is set up: their calls without a user are trusted
    ctx.obj["config"] = broker.as_process(installation, broker.CLI)
