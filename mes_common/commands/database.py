"""`mes migrate`: Alembic upgrades (or a downgrade) of the service databases."""
import click
from sqlalchemy.engine import make_url

from mes_common import migrations, registry
from mes_common.commands import main
from mes_common.config import database_url


@main.command()
@click.argument("services", nargs=-1)
@click.option("--downgrade", "downgrade_to", metavar="REV",
              help="downgrade to REV (e.g. base, -1) instead of upgrading to head")
@click.pass_context
def migrate(ctx, services, downgrade_to):
    """Upgrade SERVICES' databases to head (default: every service).

    As the database's owner role, through $MES_PG_ADMIN_URL (a superuser of each
    server), then granting the service's role what it may do: its tables, but
    INSERT and SELECT only on the audit trail. Without an admin login, as the
    service's own role (a database made before owner roles existed)."""
    from mes_common import infra

    config = ctx.obj["config"]
    specs = [registry.service(name) for name in services] if services else registry.SERVICES
    unsafe = False
    for spec in specs:
        if spec.database is None:
            continue
        url = database_url(config, spec.name)
        admin_url = infra.admin_url_for(url)
        before = migrations.current(spec.name, url)
        if downgrade_to:
            migrations.downgrade(spec.name, url, downgrade_to, admin_url=admin_url)
        else:
            migrations.upgrade(spec.name, url, admin_url=admin_url)
        after = migrations.current(spec.name, url)
        how = f"as {infra.owner_role(make_url(url).username)}" if admin_url else "as the service role: no admin login"
        click.echo(f"{spec.name}: {before or 'base'} -> {after or 'base'} ({how})")
        for problem in migrations.service_role_problems(url):
            click.echo(f"{spec.name}: UNSAFE: {problem}", err=True)
            unsafe = True
    if unsafe:
        ctx.exit(1)
