"""`mes dlq list|replay` and `mes outbox status`."""
import json

import click

from mes_common import registry
from mes_common.commands import main
from mes_common.config import database_url
from mes_common.db import make_engine
from mes_common.events.dead_letters import dead_letter_count, list_dead_letters, replay_dead_letters
from mes_common.events.handlers import ReliableEventHandler
from mes_common.events.outbox import outbox_status


def handler_queues():
    """Every event handler queue of the installed services, derived from their
    classes (no management API needed)."""
    queues = []
    for spec in registry.SERVICES:
        cls = registry.service_class(spec)
        for attr in dir(cls):
            for entrypoint in getattr(getattr(cls, attr, None), "nameko_entrypoints", ()):
                if isinstance(entrypoint, ReliableEventHandler):
                    queues.append(entrypoint.queue_name_for(spec.name, attr))
    return sorted(queues)


def resolve_queue(name):
    queues = handler_queues()
    if name in queues:
        return name
    matches = [q for q in queues if q.endswith(name) or name in q]
    if len(matches) == 1:
        return matches[0]
    if not matches and name.startswith("evt-"):
        return name  # a handler of a service this install does not list
    raise click.UsageError(f"{name!r} matches {len(matches)} handler queues: "
                           + (", ".join(matches) or ", ".join(queues) or "none"))


@main.group()
def dlq():
    """Dead-lettered events: list and replay."""


@dlq.command("list")
@click.argument("queue", required=False)
@click.option("--limit", default=20, show_default=True, help="messages shown per queue")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def dlq_list(ctx, queue, limit, as_json):
    """Count (and show) dead letters of every handler, or of QUEUE."""
    amqp = ctx.obj["config"]["AMQP_URI"]
    queues = [resolve_queue(queue)] if queue else handler_queues()
    report = []
    for name in queues:
        count = dead_letter_count(amqp, name)
        entry = {"queue": name, "dead_letters": count}
        if count and (queue or as_json):
            entry["messages"] = list_dead_letters(amqp, name, limit)
        report.append(entry)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    for entry in report:
        count = entry["dead_letters"]
        click.echo(f"{'-' if count is None else count:>6}  {entry['queue']}.dlq")
        for message in entry.get("messages", []):
            click.echo(f"        {message['event_id']}  {message['type']}  subject={message['subject']}  "
                       f"attempts={message['attempts']}  error={message['error']}")
    if not report:
        click.echo("no event handlers are installed")


@dlq.command("replay")
@click.argument("queue")
@click.option("--id", "event_id", help="replay only this event id")
@click.option("--limit", type=int, help="replay at most this many")
@click.pass_context
def dlq_replay(ctx, queue, event_id, limit):
    """Send QUEUE's dead letters back to their handler (fix the cause first)."""
    name = resolve_queue(queue)
    amqp = ctx.obj["config"]["AMQP_URI"]
    total = dead_letter_count(amqp, name) or 0
    with click.progressbar(length=1 if event_id else (min(total, limit) if limit else total),
                           label=f"replaying {name}") as bar:
        replayed = 0
        while True:
            n = replay_dead_letters(amqp, name, event_id=event_id, limit=1 if not event_id else None)
            replayed += n
            bar.update(n)
            if not n or event_id or (limit and replayed >= limit):
                break
    click.echo(f"replayed {replayed} event(s) to {name}")
    if event_id and not replayed:
        raise click.ClickException(f"event {event_id} is not in {name}.dlq")


@main.group()
def outbox():
    """The transactional outbox of each service."""


@outbox.command("status")
@click.argument("services", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def outbox_status_cmd(ctx, services, as_json):
    """Pending, failing, parked and published events per service.

    Failing: not published although a consumer is expected (e.g. unroutable
    while its handler's queue is missing). Parked: no service consumes that type
    yet; it is published when one binds. Exits 1 when an event is failing, so
    monitoring can alert on it."""
    config = ctx.obj["config"]
    awaited = registry.awaited_event_types()
    specs = [registry.service(s) for s in services] if services else registry.SERVICES
    report, failing = {}, False
    for spec in specs:
        cls = registry.service_class(spec)
        engine = make_engine(database_url(config, spec.name), pool_size=1)
        try:
            status = outbox_status(engine, cls.uow.Outbox, awaited)
        finally:
            engine.dispose()
        report[spec.name] = status
        failing = failing or bool(status["failing"])
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        for name, s in report.items():
            click.echo(f"{name}: {s['pending']} pending (oldest {s['oldest_pending_age_s']} s), "
                       f"{s['published']} published")
            for f in s["failing"]:
                click.echo(f"  FAILING {f['count']} x {f['type']} after {f['attempts']} attempts: {f['error']}")
            if s["parked"]:
                click.echo("  parked until a consumer binds: "
                           + ", ".join(f"{p['count']} x {p['type']}" for p in s["parked"]))
    if failing:
        ctx.exit(1)
