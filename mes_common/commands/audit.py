"""`mes audit verify`: walk each service's hash-chained audit trail."""
import json

import click

from mes_common import audit as audit_trail, registry
from mes_common.commands import main

from mes_common.config import database_url
from mes_common.db import make_engine


def audit_model(spec):
    """The service's AuditEntry model, None if it keeps no audit trail."""
    uow = getattr(registry.service_class(spec), "uow", None)
    return getattr(uow, "Audit", None)


@main.group()
def audit():
    """The 21 CFR 11.10(e) audit trail of each service."""


@audit.command("verify")
@click.argument("services", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def verify_cmd(ctx, services, as_json):
    """Check the hash chain of SERVICES' audit trails (default: every service).

    Names the first broken entry (edited, deleted or inserted out of chain);
    exits 1 if any chain is broken."""
    config = ctx.obj["config"]
    specs = [registry.service(s) for s in services] if services else registry.SERVICES
    report, broken = {}, False
    for spec in specs:
        model = audit_model(spec) if spec.database else None
        if model is None:
            if services:
                click.echo(f"{spec.name}: no audit trail", err=True)
            continue
        engine = make_engine(database_url(config, spec.name), pool_size=1)
        try:
            with engine.connect() as conn:
                result = audit_trail.verify(conn, model)
        finally:
            engine.dispose()
        report[spec.name] = result
        broken = broken or not result["ok"]
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for name, result in report.items():
            if result["ok"]:
                click.echo(f"{name}: ok, {result['entries']} entries")
            else:
                first = result["first_broken"]
                hint = f" ({first['hint']})" if first.get("hint") else ""
                click.echo(f"{name}: BROKEN at entry {first['id']}: {first['reason']}{hint}")
    if broken:
        ctx.exit(1)
