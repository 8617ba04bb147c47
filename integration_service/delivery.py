"""Outbound messages: queued in the same transaction as what caused them (the message table is this service's
outbox), sent by a delivery loop, retried with backoff for hours, kept in order per key, parked when they keep
failing (shown, and sent again by a replay).

A message is taken by a lease, not a held lock: `claim` moves its next attempt a lease ahead and commits, the
send happens with no transaction open, and the outcome is written after. A process that dies mid-send leaves
the lease to run out and another delivery sends it again: at least once, with the same `webhook-id` /
`Idempotency-Key` on every attempt, so the receiver drops a repeat. Only the oldest unfinished message of an
(endpoint, key) may go: a later one waits behind it, a parked one included."""
import contextlib
import datetime as dt
import logging
import random
from dataclasses import dataclass

import eventlet
import eventlet.semaphore
import requests
from sqlalchemy import and_, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased

from mes_common import errors
from mes_common.db import utcnow
from integration_service import messages
from integration_service.contract import webhooks
from integration_service.contract.events import MESSAGE_PARKED
from integration_service.models import Endpoint, Message

log = logging.getLogger(__name__)

RETRYABLE = {408, 425, 429}   # and every 5xx: the receiver may take it later; another 4xx refuses this message
UNFINISHED = (messages.PENDING, messages.PARKED)
ANSWER_BYTES = 2048   # of a receiver's answer, kept as the error
SOON = 0.1   # seconds before preparing a document again whose owners are still booking it


@dataclass(frozen=True)
class Settings:
    retry_base: float = 5.0        # seconds before the second attempt; doubled each time
    retry_max: float = 900.0       # at most this between attempts (15 minutes)
    park_after: float = 86_400.0   # seconds of failing before a message is parked (a day)
    lease: float = 60.0            # a send must end within this, or it is sent again
    connect_timeout: float = 3.0
    read_timeout: float = 15.0
    batch: int = 50                # messages claimed at once
    concurrency: int = 10          # sent at once

    @classmethod
    def from_config(cls, config):
        section = config.get("INTEGRATION") or {}
        return cls(**{name: type(getattr(cls, name))(section[name.upper()])
                      for name in cls.__dataclass_fields__ if section.get(name.upper()) not in (None, "")})

    def delay(self, attempts):
        """Seconds before attempt `attempts + 1`: exponential, capped, with ±20 % jitter (receivers coming back
        are not all hit at once)."""
        return min(self.retry_base * 2 ** max(attempts - 1, 0), self.retry_max) * random.uniform(0.8, 1.2)


def queue(session, rows):
    """Insert outbound messages (dicts of Message columns); a message already queued for the same endpoint and
    event is skipped (a redelivered event queues nothing twice). The number inserted."""
    if not rows:
        return 0
    now = utcnow()
    # created_at orders the messages of a key: a batch's rows get it a microsecond apart, in event order
    rows = [{**r, "created_at": now + dt.timedelta(microseconds=i)} for i, r in enumerate(rows)]
    columns = {key for r in rows for key in r}   # one VALUES list: every row names every column
    defaults = {"version": None, "verb": None, "document_id": None, "touched": [], "correlation_id": None,
                "actor": None}
    result = session.execute(
        insert(Message).values([{**{k: defaults.get(k) for k in columns}, **r, "direction": messages.OUT,
                                 "status": messages.PENDING, "attempts": 0, "next_attempt_at": now} for r in rows])
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"], index_where=Message.event_id.isnot(None))
        .returning(Message.id))
    return len(result.all())


def claim(uow, settings, limit=None):
    """Take due messages by lease: (the ids of those this delivery sends now, the lease's end, which marks
    them as this delivery's: an outcome is written only while it still stands)."""
    earlier = aliased(Message)
    with uow() as tx:
        now = utcnow()
        blocked = exists().where(and_(
            earlier.direction == messages.OUT, earlier.endpoint_id == Message.endpoint_id,
            earlier.order_key == Message.order_key, earlier.status.in_(UNFINISHED),
            (earlier.created_at < Message.created_at)
            | ((earlier.created_at == Message.created_at) & (earlier.id < Message.id))))
        ids = tx.session.execute(
            select(Message.id).where(Message.direction == messages.OUT, Message.status == messages.PENDING,
                                     Message.next_attempt_at <= now, ~blocked,
                                     # an inactive endpoint's messages wait for it, untried
                                     Message.endpoint_id.in_(select(Endpoint.id).where(Endpoint.active.is_(True))))
            .order_by(Message.created_at, Message.id).limit(limit or settings.batch)
            .with_for_update(skip_locked=True, of=Message)).scalars().all()
        lease = now + dt.timedelta(seconds=settings.lease)
        if ids:
            tx.session.execute(update(Message).where(Message.id.in_(ids)).values(
                next_attempt_at=lease).execution_options(synchronize_session=False))
        return ids, lease


@dataclass
class Outcome:
    delivered: bool
    http_status: int | None = None
    error: str | None = None
    retry: bool = True
    soon: bool = False   # a document waiting on its owners (milliseconds behind), not a receiver that is down


def post(url, body, headers, settings):
    """Send one message: its Outcome (never raises: a network failure is an outcome)."""
    # the whole exchange is bounded, not each read (a receiver trickling an endless answer would hold the
    # delivery), and only the answer's first bytes are read
    try:
        with eventlet.Timeout(settings.connect_timeout + settings.read_timeout):
            with requests.post(url, data=body, headers=headers, allow_redirects=False, stream=True,
                               timeout=(settings.connect_timeout, settings.read_timeout)) as answer:
                status, text = answer.status_code, next(answer.iter_content(ANSWER_BYTES), b"")
    except (requests.RequestException, eventlet.Timeout) as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= status < 300:
        return Outcome(True, status)
    retry = status >= 500 or status in RETRYABLE
    return Outcome(False, status, f"HTTP {status}: {text[:300].decode('utf-8', 'replace')}", retry)


def request_of(row, endpoint, sealer):
    """(body bytes, headers) of a message to its endpoint."""
    body = row.payload.encode("utf-8")
    headers = {"Content-Type": row.content_type, "User-Agent": "MES-integration"}
    if row.correlation_id:
        headers["X-Request-ID"] = row.correlation_id
    secret = sealer.open(endpoint.secret.decode()) if endpoint.secret is not None else None
    if row.kind == "webhook":
        headers.update(webhooks.headers(secret, str(row.id), body))
    else:
        headers["Idempotency-Key"] = str(row.id)
        if endpoint.auth_header and secret:
            headers[endpoint.auth_header] = secret
    return body, headers


def record(uow, settings, message_id, lease, outcome):
    """Write a send's outcome: delivered, due again after a backoff, or parked (a refusal, or failing too long);
    nothing when the lease ran out meanwhile (another delivery took the message: its outcome counts)."""
    with uow() as tx:
        row = messages.get_row(tx.session, message_id, lock=True)
        if row.status != messages.PENDING or row.next_attempt_at != lease:
            log.warning("outbound message %s: the lease ran out during the send; its outcome is not written",
                        message_id)
            return row.status
        now = utcnow()
        row.attempts += 1
        row.http_status, row.last_error = outcome.http_status, outcome.error
        if outcome.delivered:
            row.status, row.finished_at, row.next_attempt_at = messages.DELIVERED, now, None
        elif not outcome.retry or (now - row.created_at).total_seconds() >= settings.park_after:
            row.status, row.next_attempt_at = messages.PARKED, None
            tx.emit(MESSAGE_PARKED, row.id, {"id": str(row.id), "endpoint_id": str(row.endpoint_id),
                                             "kind": row.kind, "noun": row.noun, "order_key": row.order_key,
                                             "attempts": row.attempts, "error": row.last_error})
            log.warning("outbound message %s parked after %d attempt(s): %s", row.id, row.attempts, row.last_error)
        else:
            delay = min(SOON * 2 ** (row.attempts - 1), settings.retry_base) if outcome.soon \
                else settings.delay(row.attempts)
            row.next_attempt_at = now + dt.timedelta(seconds=delay)
        return row.status


def send(uow, settings, sealer, prepare, message_id, lease):
    """Prepare (when it has no payload yet) and send one claimed message; its new status."""
    with uow() as tx:
        row = messages.get_row(tx.session, message_id)
        endpoint = tx.session.get(Endpoint, row.endpoint_id)
    if not endpoint.active:   # paused since the claim: the message waits, no attempt counted
        with uow() as tx:
            messages.get_row(tx.session, message_id, lock=True).next_attempt_at = utcnow()
        return messages.PENDING
    if not row.payload:
        try:
            row = prepare(uow, row, endpoint)
        except errors.Unavailable as exc:
            return record(uow, settings, message_id, lease,
                          Outcome(False, None, f"preparing: {exc.message}", soon=True))
        except Exception as exc:   # a document that cannot be made (invalid): parked and shown, not retried
            log.exception("outbound message %s could not be prepared", message_id)
            return record(uow, settings, message_id, lease,
                          Outcome(False, None, f"preparing: {exc}"[:500], retry=False))
    try:
        body, headers = request_of(row, endpoint, sealer)
    except Exception as exc:   # a secret that does not open (another key file): parked and shown
        log.exception("outbound message %s: its request cannot be made", message_id)
        return record(uow, settings, message_id, lease,
                      Outcome(False, None, f"the request cannot be made: {exc}"[:500], retry=False))
    return record(uow, settings, message_id, lease, post(endpoint.url, body, headers, settings))


def serialized(uow):
    """The worker's unit of work for sends running side by side: one transaction at a time on its one session
    (each is brief; the sends wait on the network outside them)."""
    lock = eventlet.semaphore.Semaphore()

    @contextlib.contextmanager
    def unit():
        with lock, uow() as tx:
            yield tx
    return unit


def run(uow, settings, sealer, prepare):
    """One round: claim what is due and send it, `concurrency` at a time. The number sent (any outcome)."""
    ids, lease = claim(uow, settings)
    if ids:
        unit, pool = serialized(uow), eventlet.GreenPool(settings.concurrency)
        for _ in pool.imap(lambda message_id: _safe_send(unit, settings, sealer, prepare, message_id, lease), ids):
            pass
    return len(ids)


def _safe_send(uow, settings, sealer, prepare, message_id, lease):
    try:
        return send(uow, settings, sealer, prepare, message_id, lease)
    except Exception:   # the lease runs out and the message is sent again
        log.exception("outbound message %s: delivery failed; retried when its lease ends", message_id)
        return None


def replay(tx, message_id):
    """Send a parked outbound message again (its successors of the same key follow it)."""
    row = messages.get_row(tx.session, message_id, lock=True)
    if row.direction != messages.OUT or row.status != messages.PARKED:
        raise errors.Conflict(f"message {message_id} is {row.direction} and {row.status}: only a parked outbound "
                              "message is sent again", {"status": [row.status]})
    row.status, row.next_attempt_at, row.last_error = messages.PENDING, utcnow(), None
    tx.audit("replay", "message", row.id, old={"status": messages.PARKED}, new={"status": messages.PENDING})
    return messages.message_out.dump(row)
