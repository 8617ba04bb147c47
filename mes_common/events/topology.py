"""Where events go: the exchanges and queues of reliable delivery.

Each handler has a durable quorum queue with a delivery limit, bound to its
source's event exchange and to the retry exchange; failures wait in delay
queues (TTL, then back through the retry exchange) and end in the handler's
dead-letter queue."""
from kombu import Exchange, Queue, binding

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
