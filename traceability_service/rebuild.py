"""Rebuild the read model from the owners' event logs, while the old model answers.

1. The generation that does not answer is emptied and marked as rebuilding.
2. Every event of every source is replayed into it, page by page in the
   owner's outbox order (`replay_events`, an RPC every service offers), in
   batches of one transaction each, with progress reported.
3. Under the model's exclusive lock (event handlers wait), the events recorded
   since the rebuild began (less a margin for transactions still open then)
   are replayed again, and the new generation answers from the same commit.
   Replaying an event twice changes nothing (projections), so the overlap is
   harmless, and what the handlers applied to the old generation meanwhile is
   in the new one too. The old generation is then emptied.
"""
import datetime as dt
import logging

from mes_common.events.envelope import CloudEvent
from traceability_service import projections, store
from traceability_service.contract import SOURCES

log = logging.getLogger(__name__)
PAGE = 2000
OPEN_TRANSACTION_MARGIN = dt.timedelta(minutes=5)


def facts_of(envelopes, skipped):
    """The facts of a page; an event that cannot be projected (the one a live
    handler dead-lettered) is skipped and counted, not the end of the rebuild."""
    facts = []
    for envelope in envelopes:
        try:
            facts.append(projections.project(CloudEvent.from_dict(envelope)))
        except Exception as exc:   # noqa: BLE001 - any malformed event
            skipped.append((envelope.get("id"), envelope.get("type"), f"{type(exc).__name__}: {exc}"))
            log.warning("rebuild skips event %s (%s): %s", *skipped[-1])
    return facts


def replay(sessionmaker, generation, pages, progress=None, skipped=None):
    """Apply pages of envelopes ({events, ...}) to `generation`, one transaction each; the count."""
    count, skipped = 0, [] if skipped is None else skipped
    for page in pages:
        facts = facts_of(page["events"], skipped)
        with sessionmaker() as session, session.begin():
            store.apply(session, generation, facts)
        count += len(page["events"])
        if progress:
            progress(page, count)
    return count


def log_pages(owner, since=None, page_size=PAGE):
    """The pages of one owner's event log (its replay_events RPC)."""
    after = 0
    while True:
        page = owner.replay_events({"after": after, "limit": page_size,
                                    "since": since.isoformat() if since else None})
        yield page
        if not page["more"]:
            return
        after = page["last"]


def rebuild(sessionmaker, owners, progress=None, sources=SOURCES):
    """`owners`: {service name: RPC proxy}. Returns what it did."""
    started = dt.datetime.now(dt.timezone.utc)
    with sessionmaker() as session, session.begin():
        target = store.begin_rebuild(session, started)
    with sessionmaker() as session, session.begin():
        store.clear(session, target)
    total, skipped = 0, []
    for source in sources:
        total += replay(sessionmaker, target, log_pages(owners[source]),
                        progress and (lambda page, n, s=source: progress(s, n, page["last"])), skipped)
    since = started - OPEN_TRANSACTION_MARGIN
    with sessionmaker() as session, session.begin():
        store.state(session, lock="exclusive")
        for source in sources:
            for page in log_pages(owners[source], since=since):
                store.apply(session, target, facts_of(page["events"], []))
        store.swap(session, target, total, dt.datetime.now(dt.timezone.utc))
        counts = store.counts(session, target)
    with sessionmaker() as session, session.begin():
        store.clear(session, target.other())
    return {"generation": target.schema, "events": total, "skipped": skipped, **counts,
            "seconds": round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 1)}
