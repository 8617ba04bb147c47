"""Dead letters of the event handlers: count, list and replay them
(`mes dlq list|replay`)."""
import time
import uuid

from kombu import Connection

from mes_common.amqp import ConfirmingPublisher
from mes_common.events.topology import ATTEMPT_HEADER, ERROR_HEADER, RETRY_EXCHANGE, dead_letter_queue


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
