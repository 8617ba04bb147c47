"""`mes infra check` and `mes db create`: the backing servers and the service databases."""
import os
import sys

import click

from mes_common.commands import main


@main.group()
def infra():
    """Backing servers: PostgreSQL, RabbitMQ, Redis."""


@infra.command("check")
@click.option("--start/--no-start", default=None,
              help="Start what is not answering (default: yes for servers on 127.0.0.1/localhost).")
@click.option("--wait", "wait_timeout", default=120, show_default=True,
              help="Seconds to wait for a server after starting it.")
@click.pass_context
def infra_check(ctx, start, wait_timeout):
    """Report PostgreSQL, RabbitMQ and Redis as ok/missing; start missing local ones.

    A server that is not answering is started locally (as root, with the
    distribution's tools) when installed here, else from docker-compose.yml when
    Docker works; otherwise this says what is missing and how to get it, and
    exits with status 1.
    """
    from mes_common import infra as infra_mod
    from mes_common.config import load_config

    # AMQP_URI as given (the installation's broker user): whether the broker answers does not
    # depend on the process logins, which `mes infra logins` makes afterwards
    config = ctx.obj["installation_config"]
    try:
        eps, advice = infra_mod.check(config, start=start, wait_timeout=wait_timeout,
                                      log=lambda msg: click.echo(msg, err=True))
    except Exception as exc:  # never a bare traceback
        click.echo(f"infra check failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    for ep in eps:
        status = "ok" if ep.ok else "MISSING"
        click.echo(f"{ep.title:<11} {ep.address:<21} {ep.label:<20} {status:<8} {ep.detail}")
    if advice:
        click.echo("", err=True)
        for line in advice:
            click.echo(line, err=True)
        sys.exit(1)


@infra.command("logins")
@click.option("--api", "api_url", envvar="MES_RABBITMQ_API", metavar="URL",
              help="the management API with an administrator's credentials (http://user:password@host:15672); "
                   "default: rabbitmqctl on this machine ($MES_RABBITMQ_API)")
@click.pass_context
def infra_logins(ctx, api_url):
    """Create or update each process's RabbitMQ login and its permissions on
    AMQP_URI's vhost: mes_<service> for each service, mes_gateway, mes_cli
    (docs/architecture.md, "Requests"). Passwords come from <NAME>_BROKER_PASSWORD, else from
    the local password file (made here, mode 0600). Idempotent."""
    from mes_common import broker
    from mes_common import infra as infra_mod
    from mes_common.config import load_config

    config = ctx.obj["installation_config"]   # AMQP_URI as given: its user administers the vhost
    _, _, admin, vhost = infra_mod.amqp_parts(config["AMQP_URI"])
    passwords = broker.ensure_passwords(config)
    targets = broker.gateway_targets()
    docs = broker.definitions(config, vhost, passwords, targets, extra_users=(admin,))
    try:
        if api_url:
            infra_mod.import_definitions_api(api_url, docs)
        else:
            infra_mod.import_definitions(docs)
    except (infra_mod.InfraError, OSError) as exc:
        click.echo(f"broker logins: FAILED: {exc}", err=True)
        sys.exit(1)
    for process in broker.processes():
        scope = {broker.CLI: "everything (operators)", broker.GATEWAY: f"{len(targets)} route RPCs"}.get(
            process, "any RPC")
        click.echo(f"{broker.login(config, process):<20} vhost {vhost}: {scope}")
    source = ", ".join(sorted({"environment" if os.environ.get(broker.password_env(p)) else
                               str(broker.passwords_file(config)) for p in broker.processes()}))
    click.echo(f"passwords: {source}")


@main.group()
def db():
    """Service databases and roles."""


@db.command("create")
@click.argument("services", nargs=-1)
@click.pass_context
def db_create(ctx, services):
    """Create each service's role and database if missing (default: every service).

    Connects with $MES_PG_ADMIN_URL (default
    postgresql+psycopg2://postgres@127.0.0.1:5432/postgres). The role is the user
    of the service's DATABASE_URL (LOGIN, with the URL's password if any), the
    database is owned by it. Idempotent.
    """
    from mes_common import infra as infra_mod
    from mes_common import registry
    from mes_common.config import database_url

    config = ctx.obj["config"]
    try:
        specs = [registry.service(name) for name in services] if services else list(registry.SERVICES)
    except KeyError as exc:
        raise click.BadParameter(exc.args[0], param_hint="SERVICE") from None
    admin_url = infra_mod.pg_admin_url()
    failed = False
    for spec in specs:
        if not spec.database:
            click.echo(f"{spec.name}: has no database")
            continue
        try:
            url = database_url(config, spec.name)
            result = infra_mod.ensure_service_database(admin_url, url, spec.name)
        except Exception as exc:
            click.echo(f"{spec.name}: FAILED: {type(exc).__name__}: {exc}", err=True)
            failed = True
            continue
        if result.error:
            click.echo(f"{spec.name}: FAILED: {result.error}", err=True)
            failed = True
        else:
            click.echo(f"{spec.name}: " + "; ".join(result.actions))
    if failed:
        click.echo("\nIs PostgreSQL running? `mes infra check --start` finds or starts it.", err=True)
        sys.exit(1)


@db.command("drop")
@click.argument("services", nargs=-1)
@click.option("--yes", is_flag=True, help="do not ask")
@click.pass_context
def db_drop(ctx, services, yes):
    """Drop each service's database (default: every service): for development,
    to start again from nothing (`make reset`). Its role stays."""
    from sqlalchemy.engine import make_url

    from mes_common import infra as infra_mod
    from mes_common import registry
    from mes_common.config import database_url

    config = ctx.obj["config"]
    try:
        specs = [registry.service(name) for name in services] if services else list(registry.SERVICES)
    except KeyError as exc:
        raise click.BadParameter(exc.args[0], param_hint="SERVICE") from None
    names = [make_url(database_url(config, spec.name)).database for spec in specs if spec.database]
    if not yes:
        click.confirm(f"drop {', '.join(names)} and everything in them?", abort=True)
    admin_url = infra_mod.pg_admin_url()
    for name in names:
        dropped = infra_mod.drop_database(admin_url, name)
        click.echo(f"{name}: {'dropped' if dropped else 'did not exist'}")
