"""Events that are never lost and never applied twice (ARCHITECTURE.md §4).

- CloudEvent: the CloudEvents 1.0 structured-JSON envelope of every event.
- OutboxRelay: publishes a service's outbox rows with publisher confirms and
  `mandatory`, right after each commit and on a sweep timer; unroutable rows
  stay in the outbox, are retried with backoff and are reported.
- event_handler: the consuming entrypoint. Its queue is a durable quorum queue
  with a delivery limit and a bound dead-letter queue; a failing handler is
  retried through delay queues with backoff and dead-lettered past the last
  delay; the handler body runs in one transaction with its inbox row, so a
  redelivered event has one effect.
"""
import datetime as dt
import functools
import logging
import time
import uuid
from dataclasses import dataclass, field

import eventlet
import eventlet.queue
from eventlet.event import Event
from kombu import Connection, Exchange, Queue, binding
from nameko.events import SERVICE_POOL, EventHandler
from nameko.extensions import SharedExtension
from nameko.messaging import Consumer
from nameko.standalone.events import get_event_exchange
from sqlalchemy import func, select, update

from mes_common import errors, logs
from mes_common.amqp import ConfirmingPublisher, Outgoing, PublishFailed, Unroutable
from mes_common.consumers import ResilientQueueConsumer

log = logging.getLogger(__name__)

SPECVERSION = "1.0"
ATTEMPT_HEADER = "x-mes-attempt"
ERROR_HEADER = "x-mes-error"

DLX = Exchange("mes.dlx", type="direct", durable=True)
DELAY_EXCHANGE = Exchange("mes.delay", type="topic", durable=True)
RETRY_EXCHANGE = Exchange("mes.retry", type="topic", durable=True)


_QUORUM_DLX_ARGS = {
    "x-queue-type": "quorum",
    # dead-letter with confirms between queues, so a dead letter cannot be lost
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


# --------------------------------------------------------------------- envelope

class InvalidEnvelope(ValueError):
    pass


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    time: str
    subject: str | None = None
    data: dict = field(default_factory=dict)
    correlationid: str | None = None
    causationid: str | None = None
    actor: str | None = None
    specversion: str = SPECVERSION
    datacontenttype: str = "application/json"

    REQUIRED = ("id", "source", "type", "specversion", "time")

    @classmethod
    def new(cls, type_, source, subject, data, correlationid=None, causationid=None, actor=None):
        event_id = str(uuid.uuid4())
        return cls(id=event_id, source=source, type=type_, subject=subject, data=data,
                   time=dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
                   correlationid=correlationid or event_id, causationid=causationid, actor=actor)

    @classmethod
    def from_dict(cls, body):
        if not isinstance(body, dict):
            raise InvalidEnvelope(f"event body is {type(body).__name__}, not a CloudEvents object")
        missing = [k for k in cls.REQUIRED if not body.get(k)]
        if missing:
            raise InvalidEnvelope(f"event lacks {', '.join(missing)}")
        if body["specversion"] != SPECVERSION:
            raise InvalidEnvelope(f"unsupported specversion {body['specversion']!r}")
        try:
            uuid.UUID(str(body["id"]))
        except ValueError:
            raise InvalidEnvelope(f"event id {body['id']!r} is not a UUID") from None
        known = {k: body.get(k) for k in ("id", "source", "type", "time", "subject", "correlationid",
                                          "causationid", "actor", "datacontenttype")
                 if body.get(k) is not None}
        data = body.get("data")
        if data is not None and not isinstance(data, dict):
            raise InvalidEnvelope("event data must be an object")
        return cls(data=data or {}, **known)

    def to_dict(self):
        return {k: v for k, v in self.__dict__.items() if v is not None}


# ------------------------------------------------------------------- topology

def handler_queue_name(source_service, event_type, service_name, method_name):
    # nameko's SERVICE_POOL naming, so tooling that knows nameko reads it
    return f"evt-{source_service}-{event_type}--{service_name}.{method_name}"


def delay_queue(delay_ms):
    return Queue(f"mes.delay.{delay_ms}ms", exchange=DELAY_EXCHANGE, routing_key=f"{delay_ms}ms.#",
                 durable=True,
                 queue_arguments={**_QUORUM_DLX_ARGS, "x-message-ttl": int(delay_ms),
                                  "x-dead-letter-exchange": RETRY_EXCHANGE.name})


def dead_letter_queue(queue_name):
    return Queue(f"{queue_name}.dlq", exchange=DLX, routing_key=queue_name, durable=True,
                 queue_arguments={"x-queue-type": "quorum"})


def handler_queue(queue_name, source_exchange, event_type, delivery_limit):
    return Queue(
        queue_name, durable=True,
        bindings=[binding(source_exchange, routing_key=event_type),
                  # retries (after their delay) and DLQ replays come back this way
                  binding(RETRY_EXCHANGE, routing_key=f"*.{queue_name}")],
        queue_arguments={**_QUORUM_DLX_ARGS, "x-delivery-limit": int(delivery_limit),
                         "x-dead-letter-exchange": DLX.name,
                         "x-dead-letter-routing-key": queue_name})


def events_config(config):
    cfg = dict(config.get("EVENTS") or {})
    return {
        "retry_delays_ms": [int(d) for d in cfg.get("RETRY_DELAYS_MS", [1000, 5000, 30000])],
        "delivery_limit": int(cfg.get("DELIVERY_LIMIT", 10)),
        "sweep_interval": float(cfg.get("SWEEP_INTERVAL", 1.0)),
        "publish_backoff": float(cfg.get("PUBLISH_BACKOFF", 1.0)),
        "publish_backoff_max": float(cfg.get("PUBLISH_BACKOFF_MAX", 60.0)),
    }


# ----------------------------------------------------------------- the relay

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
        unroutable = {i: (types[i], str(r)) for i, r in outcome.items() if isinstance(r, Unroutable)}
        failed = [uuid.UUID(i) for i, r in outcome.items() if isinstance(r, PublishFailed)]
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
                _alert_unroutable(types)
            for _, _, unroutable in batch:
                for event_id, (_, reason) in unroutable.items():
                    conn.execute(update(O).where(O.event_id == uuid.UUID(event_id)).values(
                        attempts=O.attempts + 1, last_error=f"unroutable: {reason}",
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
            if unroutable:
                _alert_unroutable([(row.type, row.attempts + 1) for row, _ in unroutable])
            for row, reason in unroutable:
                attempts = row.attempts + 1
                delay = min(self.settings["publish_backoff"] * 2 ** (attempts - 1),
                            self.settings["publish_backoff_max"])
                conn.execute(update(O).where(O.id == row.id).values(
                    attempts=attempts, last_error=f"unroutable: {reason}",
                    next_attempt_at=func.now() + dt.timedelta(seconds=delay)))
        if published and self._broker_down_since is not None:
            log.warning("broker back, outbox relay resumed")
            self._broker_down_since = None
        if broker_error is not None:
            raise broker_error
        return len(published), len(rows) == self.batch_size


def _alert_unroutable(types_and_attempts):
    """One error line per pass, not one per event: an event type nobody
    subscribes to yet must alert without flooding the log."""
    counts = {}
    for event_type, attempts in types_and_attempts:
        n, most = counts.get(event_type, (0, 0))
        counts[event_type] = (n + 1, max(most, attempts))
    log.error("%d event(s) unroutable (no queue bound), kept in the outbox and retried with backoff: %s; "
              "see `mes outbox status`", len(types_and_attempts),
              ", ".join(f"{t} x{n} (attempt {a})" for t, (n, a) in sorted(counts.items())),
              extra={"unroutable": {t: n for t, (n, _) in counts.items()}})


def outbox_status(engine, Outbox):
    """Figures for `mes outbox status`: what waits, since when, and why."""
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
    return {
        "pending": pending[0], "oldest_pending_age_s": round(age, 3), "published": published,
        "failing": [{"type": t, "error": e, "count": c, "attempts": a} for t, e, c, a in by_error],
    }


# --------------------------------------------------------------- consuming

class RetryPublisher(SharedExtension):
    """One confirming publisher per container for retries and dead letters."""

    def setup(self):
        config = self.container.config
        self.settings = events_config(config)
        self.publisher = ConfirmingPublisher(config["AMQP_URI"])
        with Connection(config["AMQP_URI"]) as conn:
            channel = conn.channel()
            for entity in (DLX, DELAY_EXCHANGE, RETRY_EXCHANGE,
                           *[delay_queue(ms) for ms in self.settings["retry_delays_ms"]]):
                entity(channel).declare()  # a bound copy: module-level entities stay unbound

    def stop(self):
        self.publisher.close()

    kill = stop


class ReliableEventHandler(EventHandler):
    queue_consumer = ResilientQueueConsumer()
    retry_publisher = RetryPublisher()

    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL,
                         reliable_delivery=True, requeue_on_error=False, **kwargs)

    def setup(self):
        config = self.container.config
        settings = events_config(config)
        self.retry_delays_ms = settings["retry_delays_ms"]
        self.queue_name = handler_queue_name(self.source_service, self.event_type,
                                             self.container.service_name, self.method_name)
        source_exchange = get_event_exchange(self.source_service, config)
        self.queue = handler_queue(self.queue_name, source_exchange, self.event_type,
                                   settings["delivery_limit"])
        with Connection(config["AMQP_URI"]) as conn:
            channel = conn.channel()
            dead_letter_queue(self.queue_name)(channel).declare()
        Consumer.setup(self)  # EventHandler.setup would declare a classic queue

    def handle_message(self, body, message):
        try:
            event = CloudEvent.from_dict(body)
        except InvalidEnvelope as exc:
            log.error("poison message on %s dead-lettered: %s", self.queue_name, exc)
            self._dead_letter(message, body, f"invalid envelope: {exc}")
            return
        context_data = self.unpack_message_headers(message)
        context_data["correlation_id"] = event.correlationid or event.id
        if event.actor:
            context_data.setdefault("actor", event.actor)
        try:
            self.container.spawn_worker(
                self, (event,), {}, context_data=context_data,
                handle_result=functools.partial(self.handle_result, message))
        except Exception:  # ContainerBeingKilled: give it back, another instance takes it
            self.queue_consumer.requeue_message(message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        exc = exc_info[1]
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0))
        reason = f"{type(exc).__name__}: {exc}"[:500]
        permanent = isinstance(exc, (errors.PermanentEventError, errors.ValidationFailed,
                                     errors.RuleViolated))
        if not permanent and attempt < len(self.retry_delays_ms):
            delay = self.retry_delays_ms[attempt]
            try:
                self._republish(message, DELAY_EXCHANGE, f"{delay}ms.{self.queue_name}",
                                attempt + 1, reason)
            except (PublishFailed, Unroutable):
                # the delivery limit still bounds it
                self.queue_consumer.requeue_message(message)
                return
            log.warning("handler %s failed (attempt %d), retry in %d ms: %s",
                        self.queue_name, attempt + 1, delay, reason)
            self.queue_consumer.ack_message(message)
            return
        log.error("handler %s gave up on event %s after %d attempts: %s",
                  self.queue_name, message.properties.get("message_id"), attempt + 1, reason)
        self._dead_letter(message, message.payload, reason, attempt + 1)

    def _republish(self, message, exchange, routing_key, attempt, reason):
        headers = dict(message.headers or {})
        headers.update({ATTEMPT_HEADER: attempt, ERROR_HEADER: reason})
        self.retry_publisher.publisher.publish(
            message.payload, exchange=exchange, routing_key=routing_key,
            message_id=message.properties.get("message_id") or str(uuid.uuid4()), headers=headers)

    def _dead_letter(self, message, payload, reason, attempts=None):
        try:
            headers = dict(message.headers or {})
            headers.update({ERROR_HEADER: reason, ATTEMPT_HEADER: attempts or 0})
            self.retry_publisher.publisher.publish(
                payload, exchange=DLX, routing_key=self.queue_name,
                message_id=message.properties.get("message_id") or str(uuid.uuid4()),
                headers=headers)
        except (PublishFailed, Unroutable):
            # the broker dead-letters it itself (reason "rejected")
            self.queue_consumer.reject_message(message)
            return
        self.queue_consumer.ack_message(message)


def _transaction_of(service):
    from mes_common.db import UnitOfWork
    cls = type(service)
    name = cls.__dict__.get("_mes_uow_attr")
    if name is None:
        names = [n for k in cls.__mro__ for n, v in vars(k).items() if isinstance(v, UnitOfWork)]
        if len(names) != 1:
            raise TypeError(f"{cls.__name__} needs exactly one UnitOfWork for its event inbox")
        name = names[0]
        cls._mes_uow_attr = name
    return getattr(service, name)


def event_handler(source_service, event_type, inbox=True):
    """Decorate a service method as a reliable handler of one event type.

    The method receives a CloudEvent. With `inbox` (the default), it runs in
    the service's unit of work together with the inbox row of the event, so a
    duplicate delivery is skipped and the effect commits once; without it the
    handler must be naturally idempotent (e.g. a cache refresh).
    """
    def decorator(fn):
        target = fn
        if inbox:
            @functools.wraps(fn)
            def apply_once(service, event):
                tx = _transaction_of(service)
                consumer = f"{service.name}.{fn.__name__}"
                with tx:
                    if not tx.claim(event, consumer):
                        log.info("duplicate event %s skipped by %s", event.id, consumer)
                        return None
                    return fn(service, event)
            target = apply_once
        return ReliableEventHandler.decorator(source_service, event_type)(target)
    return decorator


# ------------------------------------------------------------ dead letters

def _dlq_channel(conn, queue_name):
    channel = conn.channel()
    dlq = dead_letter_queue(queue_name)(channel)
    return channel, dlq


def dead_letter_count(amqp_uri, queue_name):
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        try:
            _, count, _ = channel.queue_declare(f"{queue_name}.dlq", passive=True)
        except Exception:
            return None
        return count


def list_dead_letters(amqp_uri, queue_name, limit=50):
    """Peek at a handler's dead letters without removing them."""
    with Connection(amqp_uri) as conn:
        channel, dlq = _dlq_channel(conn, queue_name)
        ready = channel.queue_declare(dlq.name, passive=True)[1]
        seen = []
        for _ in range(limit):
            message = dlq.get(no_ack=False)
            if message is None:
                break
            body = message.payload
            seen.append({
                "event_id": message.properties.get("message_id") or (body or {}).get("id"),
                "type": (body or {}).get("type") if isinstance(body, dict) else None,
                "subject": (body or {}).get("subject") if isinstance(body, dict) else None,
                "attempts": (message.headers or {}).get(ATTEMPT_HEADER),
                "error": (message.headers or {}).get(ERROR_HEADER)
                or _death_reason(message.headers),
            })
        channel.close()  # unacked messages go back to the DLQ...
        # ...asynchronously: wait for them so the next command sees them all
        check = conn.channel()
        for _ in range(40):
            if check.queue_declare(dlq.name, passive=True)[1] >= ready:
                break
            time.sleep(0.05)
        check.close()
        return seen


def _death_reason(headers):
    deaths = (headers or {}).get("x-death") or []
    return f"broker: {deaths[0].get('reason')}" if deaths else None


def replay_dead_letters(amqp_uri, queue_name, event_id=None, limit=None):
    """Send dead letters back to their handler queue, attempt count reset.

    Each message is acked in the DLQ only after the broker confirmed its
    copy on the handler queue. Returns the number replayed.
    """
    publisher = ConfirmingPublisher(amqp_uri)
    replayed = 0
    try:
        with Connection(amqp_uri) as conn:
            channel, dlq = _dlq_channel(conn, queue_name)
            skipped = []
            while limit is None or replayed < limit:
                message = dlq.get(no_ack=False)
                if message is None:
                    break
                message_id = message.properties.get("message_id")
                if event_id is not None and message_id != event_id:
                    skipped.append(message)
                    continue
                headers = {k: v for k, v in (message.headers or {}).items()
                           if k not in (ATTEMPT_HEADER, ERROR_HEADER, "x-death",
                                        "x-first-death-exchange", "x-first-death-queue",
                                        "x-first-death-reason", "x-delivery-count")}
                publisher.publish(message.payload, exchange=RETRY_EXCHANGE,
                                  routing_key=f"replay.{queue_name}",
                                  message_id=message_id or str(uuid.uuid4()), headers=headers)
                message.ack()
                replayed += 1
                if event_id is not None:
                    break
            channel.close()
    finally:
        publisher.close()
    return replayed
