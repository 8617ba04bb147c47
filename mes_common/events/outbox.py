"""The outbox relay: publishes a service's outbox rows with publisher
confirms and `mandatory`, right after each commit and on a sweep timer;
unroutable rows stay in the outbox, are retried with backoff and are
reported."""
import collections
import datetime as dt
import logging
import os
import signal
import time
import uuid

import eventlet
import eventlet.queue
from eventlet.event import Event
from nameko.extensions import SharedExtension
from nameko.standalone.events import get_event_exchange
from sqlalchemy import func, select, update

from mes_common import registry
from mes_common.amqp import ConfirmingPublisher, Outgoing, PublishFailed, Unroutable
from mes_common.events.topology import events_config
from mes_common.metrics import EVENTS_PUBLISHED, EVENTS_UNROUTABLE

log = logging.getLogger(__name__)

UNROUTABLE = "unroutable: "  # last_error of a row no queue took


class OutboxRelay(SharedExtension):
    """Publishes the outbox of one service process.

    Fast path: a commit hands over the envelopes it wrote, and the relay
    publishes them at once (no query on the critical path), then marks them
    published. Their rows are leased to this process for `lease`; a sweep on
    a timer publishes every due row that is left (crash, broker outage,
    unroutable, another instance), `FOR UPDATE SKIP LOCKED` so several
    instances can relay the same outbox.
    """

    batch_size = 200
    lease = dt.timedelta(seconds=10)

    def __init__(self):
        super().__init__()
        self.engine = self.Outbox = None
        self._wakeup = Event()
        self._fresh = []
        self._marks = eventlet.queue.LightQueue()
        self._running = False
        self._broker_down_since = None

    def attach(self, engine, Outbox, service_name):
        self.engine, self.Outbox, self.service_name = engine, Outbox, service_name

    def setup(self):
        config = self.container.config
        self.settings = events_config(config)
        self.exchange = get_event_exchange(self.container.service_name, config)
        self.publisher = ConfirmingPublisher(config["AMQP_URI"])
        self.awaited = registry.awaited_event_types()

    def start(self):
        if self.engine is not None and not self._running:
            self._running = True
            self.container.spawn_managed_thread(self._run, identifier="outbox_relay")
            self.container.spawn_managed_thread(self._mark_loop, identifier="outbox_marker")

    def stop(self):
        self._running = False
        self.notify()
        self._marks.put(None)  # wakes the marker, which drains what is left
        self.publisher.close()

    def kill(self):
        self._running = False
        self.publisher.close()

    def notify(self, envelopes=()):
        """Called after a commit with the envelopes it wrote."""
        self._fresh.extend(envelopes)
        if not self._wakeup.ready():
            self._wakeup.send(True)

    def _run(self):
        sweep_interval = self.settings["sweep_interval"]
        next_sweep, backoff = 0.0, sweep_interval
        while self._running:
            if not self._fresh:
                with eventlet.Timeout(max(0.0, next_sweep - time.monotonic()), False):
                    self._wakeup.wait()
            self._wakeup = Event()
            if not self._running:
                break
            try:
                if self._fresh:
                    self.publish_fresh()
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + sweep_interval
                    published, full = self.relay_once()
                    while full and self._running:
                        published, full = self.relay_once()
                backoff = sweep_interval
                continue
            except PublishFailed as exc:
                if self._broker_down_since is None:
                    self._broker_down_since = eventlet.hubs.get_hub().clock()
                    log.warning("broker unavailable, outbox events wait: %s", exc)
            except Exception:
                log.exception("outbox relay failed; retrying")
                backoff = min(backoff * 2, self.settings["publish_backoff_max"])
            # after a failure, wait (the sweep retries what is left) rather than spin
            eventlet.sleep(backoff)
            next_sweep = 0.0

    def publish_fresh(self):
        """Publish what commits just handed over; record the outcome."""
        batch, self._fresh = self._fresh[:self.batch_size], self._fresh[self.batch_size:]
        outcome = self.publisher.publish_many(
            [Outgoing(env, self.exchange, env["type"], env["id"],
                      {"nameko.correlation_id": env.get("correlationid")}) for env in batch],
            declare=[self.exchange])
        published = [uuid.UUID(i) for i, result in outcome.items() if result is None]
        types = {env["id"]: env["type"] for env in batch}
        _count(self.service_name, EVENTS_PUBLISHED, (types[str(i)] for i in published))
        unroutable = {i: (types[i], str(r)) for i, r in outcome.items() if isinstance(r, Unroutable)}
        failed = [uuid.UUID(i) for i, r in outcome.items() if isinstance(r, PublishFailed)]
        _count(self.service_name, EVENTS_UNROUTABLE, (t for t, _ in unroutable.values()))
        if published and DRILL_KILL_AFTER_PUBLISH:
            _drill_kill_after_publish()
        # recorded by the marker greenthread, so the next commit's events are
        # not held up by this batch's database round trips
        self._marks.put((published, failed, unroutable))
        if failed:
            raise next(r for r in outcome.values() if isinstance(r, PublishFailed))
        if published and self._broker_down_since is not None:
            log.warning("broker back, outbox relay resumed")
            self._broker_down_since = None

    def _mark_loop(self):
        while self._running or not self._marks.empty():
            first = self._marks.get()
            if first is None:
                continue
            batch = [first]
            while not self._marks.empty():
                item = self._marks.get_nowait()
                if item is not None:
                    batch.append(item)
            try:
                self._record(batch)
            except Exception:
                # the rows stay leased; the sweep publishes them again after the
                # lease (consumers' inboxes drop the duplicates)
                log.exception("could not record %d published batch(es) in the outbox", len(batch))

    def _record(self, batch):
        O = self.Outbox
        published = [i for p, _, _ in batch for i in p]
        failed = [i for _, f, _ in batch for i in f]
        with self.engine.begin() as conn:
            if published:
                conn.execute(update(O).where(O.event_id.in_(published)).values(
                    published_at=func.now(), last_error=None))
            if failed:  # the sweep retries them as soon as the broker is back
                conn.execute(update(O).where(O.event_id.in_(failed)).values(next_attempt_at=func.now()))
            types = [(t, 1) for _, _, unroutable in batch for t, _ in unroutable.values()]
            if types:
                _alert_unroutable(types, self.awaited)
            for _, _, unroutable in batch:
                for event_id, (_, reason) in unroutable.items():
                    conn.execute(update(O).where(O.event_id == uuid.UUID(event_id)).values(
                        attempts=O.attempts + 1, last_error=f"{UNROUTABLE}{reason}",
                        next_attempt_at=func.now() + dt.timedelta(seconds=self.settings["publish_backoff"])))

    def relay_once(self):
        """Sweep: publish one batch of due rows. Returns (published count, batch was full)."""
        O = self.Outbox
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(O.id, O.event_id, O.type, O.envelope, O.attempts)
                .where(O.published_at.is_(None), O.next_attempt_at <= func.now())
                .order_by(O.id).limit(self.batch_size)
                .with_for_update(skip_locked=True)).all()
            outcome = self.publisher.publish_many(
                [Outgoing(row.envelope, self.exchange, row.type, str(row.event_id),
                          {"nameko.correlation_id": row.envelope.get("correlationid")})
                 for row in rows],
                declare=[self.exchange]) if rows else {}
            published, unroutable, broker_error = [], [], None
            for row in rows:
                result = outcome[str(row.event_id)]
                if result is None:
                    published.append(row.id)
                elif isinstance(result, Unroutable):
                    unroutable.append((row, str(result)))
                else:
                    broker_error = result
            if published:
                conn.execute(update(O).where(O.id.in_(published)).values(
                    published_at=func.now(), last_error=None))
                _count(self.service_name, EVENTS_PUBLISHED, (row.type for row in rows
                                                             if outcome[str(row.event_id)] is None))
            if unroutable:
                _count(self.service_name, EVENTS_UNROUTABLE, (row.type for row, _ in unroutable))
                _alert_unroutable([(row.type, row.attempts + 1) for row, _ in unroutable], self.awaited)
            for row, reason in unroutable:
                attempts = row.attempts + 1
                delay = min(self.settings["publish_backoff"] * 2 ** (attempts - 1),
                            self.settings["publish_backoff_max"])
                conn.execute(update(O).where(O.id == row.id).values(
                    attempts=attempts, last_error=f"{UNROUTABLE}{reason}",
                    next_attempt_at=func.now() + dt.timedelta(seconds=delay)))
        if published and self._broker_down_since is not None:
            log.warning("broker back, outbox relay resumed")
            self._broker_down_since = None
        if broker_error is not None:
            raise broker_error
        return len(published), len(rows) == self.batch_size


def _alert_unroutable(types_and_attempts, awaited):
    """One line per pass, not one per event. An event type some service is
    declared to consume (registry.awaited_event_types) is an ERROR: its consumer
    is missing. Any other is parked: nobody subscribes to it yet (a read model
    still to come), so it waits in the outbox, counted by `mes outbox status`."""
    counts = {}
    for event_type, attempts in types_and_attempts:
        n, most = counts.get(event_type, (0, 0))
        counts[event_type] = (n + 1, max(most, attempts))
    alarms = {t: c for t, c in counts.items() if t in awaited}
    parked = {t: c for t, c in counts.items() if t not in awaited}
    if alarms:
        log.error("%d event(s) unroutable although a consumer is expected (no queue bound), kept in the outbox "
                  "and retried with backoff: %s; see `mes outbox status`", sum(n for n, _ in alarms.values()),
                  _listing(alarms), extra={"unroutable": {t: n for t, (n, _) in alarms.items()}})
    if parked:
        log.debug("%d event(s) parked in the outbox until a consumer binds: %s",
                  sum(n for n, _ in parked.values()), _listing(parked))


# The drill's fault (bench/drill.py): the process dies between publishing and marking published, once, when
# the file this names appears (whichever instance removes it first). Unset everywhere else.
DRILL_KILL_AFTER_PUBLISH = os.environ.get("MES_DRILL_KILL_AFTER_PUBLISH")


def _drill_kill_after_publish():
    try:
        os.remove(DRILL_KILL_AFTER_PUBLISH)
    except OSError:
        return
    log.error("drill: killed between publishing and marking published (MES_DRILL_KILL_AFTER_PUBLISH)")
    os.kill(os.getpid(), signal.SIGKILL)


def _count(service, counter, types):
    for type_, n in collections.Counter(types).items():
        counter.labels(service, type_).inc(n)


def _listing(counts):
    return ", ".join(f"{t} x{n} (attempt {a})" for t, (n, a) in sorted(counts.items()))


def outbox_status(engine, Outbox, awaited=frozenset()):
    """Figures for `mes outbox status`: what waits, since when, and why.
    Unpublished events of a type no service consumes yet are `parked` (no
    alarm); the rest that fail are `failing`."""
    O = Outbox
    with engine.connect() as conn:
        pending = conn.execute(
            select(func.count(), func.min(O.created_at))
            .where(O.published_at.is_(None))).one()
        by_error = conn.execute(
            select(O.type, O.last_error, func.count(), func.max(O.attempts))
            .where(O.published_at.is_(None), O.last_error.is_not(None))
            .group_by(O.type, O.last_error)).all()
        published = conn.execute(select(func.count()).where(O.published_at.is_not(None))).scalar()
    oldest = pending[1]
    age = (dt.datetime.now(dt.timezone.utc) - oldest).total_seconds() if oldest else 0.0
    rows = [{"type": t, "error": e, "count": c, "attempts": a} for t, e, c, a in by_error]
    parked = [r for r in rows if r["error"].startswith(UNROUTABLE) and r["type"] not in awaited]
    return {
        "pending": pending[0], "oldest_pending_age_s": round(age, 3), "published": published,
        "failing": [r for r in rows if r not in parked],
        "parked": [{k: r[k] for k in ("type", "count")} for r in parked],
    }


def event_log(session, Outbox, query):
    """A page of the outbox as an event log (EventLogQuery): every event the
    service recorded, published or not yet, in outbox order, from which a read
    model is rebuilt. Published rows are kept: the log is as long as the
    outbox's retention (docs/architecture.md, "Traceability")."""
    O = Outbox
    stmt = select(O.id, O.envelope).where(O.id > query["after"]).order_by(O.id).limit(query["limit"])
    if query.get("since") is not None:
        stmt = stmt.where(O.created_at >= query["since"])
    rows = session.execute(stmt).all()
    return {"events": [row.envelope for row in rows], "last": rows[-1].id if rows else query["after"],
            "more": len(rows) == query["limit"]}
