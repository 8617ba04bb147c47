"""`mes <model> rebuild|status`: the operator commands of a read model
(mes_common.readmodel), added to a service's command group."""
import time

import click
from sqlalchemy.orm import sessionmaker

from mes_common.config import database_url
from mes_common.db import make_engine


def sessions_of(ctx, service):
    """(engine, sessionmaker) of the service's database, for a command."""
    engine = make_engine(database_url(ctx.obj["config"], service), pool_size=2)
    return engine, sessionmaker(engine)


def read_model_commands(group, *, service, sources, rebuild, model, describe, extra=None):
    """`rebuild(sessionmaker, owners, progress)` and `model` (a ReadModel) of `service`;
    `describe(counts)`: its size in words; `extra(session, status)`: more to say in `status`."""

    @group.command("rebuild")
    @click.option("--timeout", default=60.0, show_default=True, help="seconds to wait for each page of an event log")
    @click.pass_context
    def rebuild_cmd(ctx, timeout):
        """Rebuild the model from every source's event log; the old one answers until the new one is complete."""
        from mes_common.rpc import ClusterRpcProxy
        engine, sessions = sessions_of(ctx, service)
        started, last = time.monotonic(), [0.0]

        def progress(source, count, position):
            if time.monotonic() - last[0] >= 1.0:
                last[0] = time.monotonic()
                click.echo(f"  {source}: {count} events (log position {position}), "
                           f"{time.monotonic() - started:.0f} s")
        try:
            with ClusterRpcProxy(ctx.obj["config"], timeout=timeout) as cluster:
                owners = {source: getattr(cluster, source) for source in sources}
                click.echo(f"rebuilding the {group.name} model from {', '.join(sources)}")
                done = rebuild(sessions, owners, progress)
        finally:
            engine.dispose()
        click.echo(f"rebuilt {done['generation']} from {done['events']} events in {done['seconds']} s: "
                   f"{describe(done)}; it answers now")
        if done["skipped"]:
            click.echo(f"{len(done['skipped'])} event(s) could not be projected and were skipped (their ids above; "
                       "the live model dead-lettered them too: `mes dlq list`)", err=True)

    @group.command("status")
    @click.pass_context
    def status_cmd(ctx):
        """Which generation answers, its size, and the last rebuild."""
        engine, sessions = sessions_of(ctx, service)
        try:
            with sessions() as session:
                status = model.status(session)
                more = extra(session, status) if extra else ""
        finally:
            engine.dispose()
        click.echo(f"active: {status['active']} ({describe(status)}){more}")
        click.echo(f"rebuilding: {status['rebuilding'] or 'no'}; last rebuild: {status['rebuilt_at'] or 'never'}"
                   + (f" from {status['rebuild_events']} events" if status["rebuild_events"] is not None else ""))

    return rebuild_cmd, status_cmd
