"""`mes migrate`: Alembic upgrades (or a downgrade) of the service databases."""
import click

from mes_common import migrations, registry
from mes_common.commands import main
from mes_common.config import database_url


@main.command()
@click.argument("services", nargs=-1)
@click.option("--downgrade", "downgrade_to", metavar="REV",
              help="downgrade to REV (e.g. base, -1) instead of upgrading to head")
@click.pass_context
def migrate(ctx, services, downgrade_to):
    """Upgrade SERVICES' databases to head (default: every service)."""
    config = ctx.obj["config"]
    specs = [registry.service(name) for name in services] if services else registry.SERVICES
    for spec in specs:
        if spec.database is None:
            continue
        url = database_url(config, spec.name)
        before = migrations.current(spec.name, url)
        if downgrade_to:
            migrations.downgrade(spec.name, url, downgrade_to)
        else:
            migrations.upgrade(spec.name, url)
        after = migrations.current(spec.name, url)
        click.echo(f"{spec.name}: {before or 'base'} -> {after or 'base'}")
