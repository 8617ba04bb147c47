"""The message log: every message in and out, verbatim, with what it touched.

An inbound message is claimed under its idempotency key before it is applied (one committed row, status
`processing`): a second copy arriving meanwhile gets 409, a copy arriving later the first answer. A refused
(`rejected`) or failed (`failed`) message frees its key: once the cause is fixed the sender may send it again."""
import datetime as dt
import hashlib

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from mes_common import errors, paging
from mes_common.db import fetch, utcnow
from integration_service.contract.schemas import MessageOut, MessageSummaryOut
from integration_service.models import Message

IN, OUT = "in", "out"
PROCESSING, ACCEPTED, REJECTED, FAILED = "processing", "accepted", "rejected", "failed"
PENDING, DELIVERED, PARKED = "pending", "delivered", "parked"
HOLDING_KEY = (PROCESSING, ACCEPTED)

message_out = MessageOut()
summary_out = MessageSummaryOut()


def payload_hash(payload):
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def key_of(message, digest, header_key=None):
    """The idempotency key: the sender's Idempotency-Key header, else the document's verb, noun and ID with the
    hash of the payload (the same document sent again is the same message; a changed one is another). A key
    longer than its column is kept as its hash."""
    key = f"key:{header_key}" if header_key else \
        f"{message.verb or 'Document'}:{message.noun}:{message.sender or ''}:{message.message_id or ''}:{digest}"
    return key if len(key) <= 300 else f"sha256:{hashlib.sha256(key.encode()).hexdigest()}"


STALE_AFTER = dt.timedelta(minutes=5)   # a message `processing` this long was left by a process that stopped


def stale(row):
    return row.status == PROCESSING and row.updated_at < utcnow() - STALE_AFTER


def claim(uow, fields):
    """Record an inbound message as being processed: (row id, None), or (None, the row that holds its key).
    A copy left `processing` by a process that stopped mid-way is marked failed first: it gives its key up."""
    with uow() as tx:
        tx.session.execute(update(Message).where(
            Message.idempotency_key == fields["idempotency_key"], Message.status == PROCESSING,
            Message.updated_at < func.now() - STALE_AFTER).values(
            status=FAILED, error={"error": "interrupted", "message": "the service stopped while applying it",
                                  "details": {}}, finished_at=func.now()))
        row_id = tx.session.execute(
            insert(Message).values(**fields, direction=IN, status=PROCESSING)
            .on_conflict_do_nothing(index_elements=["idempotency_key"],
                                    index_where=Message.idempotency_key.isnot(None)
                                    & Message.status.in_(HOLDING_KEY))
            .returning(Message.id)).scalar_one_or_none()
        if row_id is not None:
            return row_id, None
        held = tx.session.execute(select(Message).where(Message.idempotency_key == fields["idempotency_key"],
                                                        Message.status.in_(HOLDING_KEY))).scalar_one_or_none()
        if held is None:   # freed between the insert and the select: a rejection just finished
            raise errors.Conflict("the same message is being processed; send it again in a moment",
                                  {"idempotency_key": ["in use"]})
        return None, held


def key_holder(session, key):
    """The message holding `key` (processing or accepted), or None."""
    if key is None:
        return None
    return session.execute(select(Message.id).where(Message.idempotency_key == key,
                                                    Message.status.in_(HOLDING_KEY))).scalar_one_or_none()


def again(held, digest):
    """What a repeated message answers: the first answer (409 while the first is still being processed, or
    when the sender's Idempotency-Key came with another document)."""
    if held.payload_hash != digest:
        raise errors.Conflict("this Idempotency-Key was used for another document",
                              {"idempotency_key": [f"used by message {held.id}"]})
    if held.status == PROCESSING:
        raise errors.Conflict("the same message is being processed; send it again in a moment",
                              {"idempotency_key": [f"message {held.id} is being processed"]})
    return held


def finish(uow, row_id, status, http_status, answer=None, error=None, touched=()):
    with uow() as tx:
        row = fetch(tx.session, Message.id, row_id, "message", lock=True)
        row.status, row.http_status, row.answer, row.error = status, http_status, answer, error
        row.touched, row.attempts, row.finished_at = list(touched), row.attempts + 1, utcnow()
        return row


def get(session, message_id):
    return message_out.dump(fetch(session, Message.id, message_id, "message"))


def get_row(session, message_id, lock=False):
    return fetch(session, Message.id, message_id, "message", lock)


def search(session, query):
    """Newest first, filtered by direction, status, noun, verb, endpoint, document id, a touched object."""
    stmt = select(Message)
    for name in ("direction", "status", "noun", "verb", "endpoint_id", "document_id", "correlation_id"):
        if query.get(name) is not None:
            stmt = stmt.where(getattr(Message, name) == query[name])
    if query.get("touched"):   # a work order number, lot number, part number... anything the message touched
        stmt = stmt.where(Message.touched.contains([{"number": query["touched"]}]))
    if query.get("since"):
        stmt = stmt.where(Message.created_at >= query["since"])
    return paging.page(session, stmt, [(Message.created_at, paging.time_key), (Message.id, paging.uuid_key)],
                       query, lambda rows: [summary_out.dump(r) for r in rows], descending=True)
