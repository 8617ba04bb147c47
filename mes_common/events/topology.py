"""Where events go: the exchanges and queues of reliable delivery.

Each handler has a durable quorum queue with a delivery limit, bound to its
source's event exchange and to the retry exchange; failures wait in delay
queues (TTL, then back through the retry exchange) and end in the handler's
dead-letter queue."""
import logging
import time

from amqp.exceptions import PreconditionFailed
from kombu import Exchange, Queue, binding

log = logging.getLogger(__name__)

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


def handler_queue(queue_name, source_exchange, event_type, delivery_limit, single_active_consumer=False):
    """`single_active_consumer`: of several instances consuming the queue, the
    broker delivers to one at a time and fails over to the next when it goes
    (a read model's stream applies its source's events in order)."""
    arguments = {**_QUORUM_DLX_ARGS, "x-delivery-limit": int(delivery_limit),
                 "x-dead-letter-exchange": DLX.name, "x-dead-letter-routing-key": queue_name}
    if single_active_consumer:
        arguments["x-single-active-consumer"] = True
    return Queue(
        queue_name, durable=True,
        bindings=[binding(source_exchange, routing_key=event_type),
                  # retries (after their delay) and DLQ replays come back this way
                  binding(RETRY_EXCHANGE, routing_key=f"*.{queue_name}")],
        queue_arguments=arguments)


def declare_handler_queue(connection, queue, wait_for_consumers=60.0):
    """Declare `queue` with its bindings. A queue of the same name declared
    before with other arguments (an older release: a stream without single
    active consumer) is moved over, messages and all: a holding queue bound
    alike takes the new events, the old queue's messages go there, the old
    queue is deleted and declared anew, and the holding queue's messages come
    back. Only once no consumer is left on the old queue (its instances of
    the older release have stopped); a duplicate this may make is dropped by
    the consumer's inbox."""
    try:
        queue(connection.channel()).declare()
        return False
    except PreconditionFailed:
        pass
    holding = Queue(f"{queue.name}.upgrade", durable=True, bindings=queue.bindings,
                    queue_arguments={"x-queue-type": "quorum"})
    channel = connection.channel()
    holding(channel).declare()
    deadline = time.monotonic() + wait_for_consumers
    while channel.queue_declare(queue.name, passive=True).consumer_count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"queue {queue.name} must be declared anew but still has consumers: "
                               "stop the instances of the older release")
        time.sleep(1.0)
    moved = _move(channel, queue.name, holding.name)
    channel.queue_delete(queue.name)
    queue(channel).declare()
    for exchange_binding in queue.bindings:   # (the new queue has them all now)
        channel.queue_unbind(holding.name, exchange_binding.exchange.name, exchange_binding.routing_key)
    _move(channel, holding.name, queue.name)
    channel.queue_delete(holding.name)
    log.warning("queue %s declared anew with %s (%d message(s) kept)", queue.name, queue.queue_arguments, moved)
    return True


def _move(channel, source, target):
    """Every ready message of `source` published to `target` (confirmed), in order."""
    channel.confirm_select()
    moved = 0
    while (message := channel.basic_get(source, no_ack=False)) is not None:
        channel.basic_publish(message, exchange="", routing_key=target)
        channel.basic_ack(message.delivery_tag)
        moved += 1
    return moved


def events_config(config):
    cfg = dict(config.get("EVENTS") or {})
    return {
        "retry_delays_ms": [int(d) for d in cfg.get("RETRY_DELAYS_MS", [1000, 5000, 30000])],
        "delivery_limit": int(cfg.get("DELIVERY_LIMIT", 10)),
        "sweep_interval": float(cfg.get("SWEEP_INTERVAL", 1.0)),
        "publish_backoff": float(cfg.get("PUBLISH_BACKOFF", 1.0)),
        "publish_backoff_max": float(cfg.get("PUBLISH_BACKOFF_MAX", 60.0)),
    }
