"""`mes traceability rebuild|status`: the read model's operator commands."""
import time

import click
from sqlalchemy.orm import sessionmaker

from mes_common.commands import main
from mes_common.config import database_url
from mes_common.db import make_engine
from traceability_service import rebuild as rebuilding, store
from traceability_service.contract import SERVICE, SOURCES


def _sessions(ctx):
    engine = make_engine(database_url(ctx.obj["config"], SERVICE), pool_size=2)
    return engine, sessionmaker(engine)


@main.group()
def traceability():
    """The genealogy read model: rebuild it from the event logs, see its state."""


@traceability.command("rebuild")
@click.option("--timeout", default=60.0, show_default=True, help="seconds to wait for each page of an event log")
@click.pass_context
def rebuild_cmd(ctx, timeout):
    """Rebuild the model from every source's event log; the old one answers until the new one is complete."""
    from mes_common.rpc import ClusterRpcProxy
    engine, sessions = _sessions(ctx)
    started, last = time.monotonic(), [0.0]

    def progress(source, count, position):
        if time.monotonic() - last[0] >= 1.0:
            last[0] = time.monotonic()
            click.echo(f"  {source}: {count} events (log position {position}), {time.monotonic() - started:.0f} s")
    try:
        with ClusterRpcProxy(ctx.obj["config"], timeout=timeout) as cluster:
            owners = {source: getattr(cluster, source) for source in SOURCES}
            click.echo(f"rebuilding the traceability model from {', '.join(SOURCES)}")
            done = rebuilding.rebuild(sessions, owners, progress)
    finally:
        engine.dispose()
    click.echo(f"rebuilt {done['generation']} from {done['events']} events in {done['seconds']} s: "
               f"{done['nodes']} nodes, {done['edges']} edges, {done['timeline']} timeline entries; it answers now")
    if done["skipped"]:
        click.echo(f"{len(done['skipped'])} event(s) could not be projected and were skipped (their ids above; "
                   "the live model dead-lettered them too: `mes dlq list`)", err=True)


@traceability.command("status")
@click.pass_context
def status_cmd(ctx):
    """Which generation answers, its size, and the last rebuild."""
    engine, sessions = _sessions(ctx)
    try:
        with sessions() as session:
            row = store.state(session)
            counts = store.counts(session, store.Generation(row.active))
    finally:
        engine.dispose()
    click.echo(f"active: {row.active} ({counts['nodes']} nodes, {counts['edges']} edges, "
               f"{counts['timeline']} timeline entries)")
    click.echo(f"rebuilding: {row.rebuilding or 'no'}; last rebuild: {row.rebuilt_at or 'never'}"
               + (f" from {row.rebuild_events} events" if row.rebuild_events is not None else ""))
