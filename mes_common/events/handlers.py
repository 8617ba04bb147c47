"""The consuming entrypoint: `event_handler`.

Its queue is a durable quorum queue with a delivery limit and a bound
dead-letter queue; a failing handler is retried through delay queues with
backoff and dead-lettered past the last delay; the handler body runs in one
transaction with its inbox row, so a redelivered event has one effect."""
import functools
import logging
import uuid

from kombu import Connection
from nameko.events import SERVICE_POOL, EventHandler
from nameko.extensions import SharedExtension
from nameko.messaging import Consumer
from nameko.standalone.events import get_event_exchange

from mes_common import errors, metrics
from mes_common.amqp import ConfirmingPublisher, PublishFailed, Unroutable
from mes_common.consumers import ResilientQueueConsumer
from mes_common.db import UnitOfWork
from mes_common.events.envelope import CloudEvent, InvalidEnvelope
from mes_common.events.topology import (ATTEMPT_HEADER, DELAY_EXCHANGE, DLX, ERROR_HEADER, RETRY_EXCHANGE,
                                        dead_letter_queue, declare_handler_queue, delay_queue, events_config,
                                        handler_queue, handler_queue_name)

log = logging.getLogger(__name__)


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
    single_active_consumer = False   # competing instances share the work; a stream takes one at a time

    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL,
                         reliable_delivery=True, requeue_on_error=False, **kwargs)

    def queue_name_for(self, service_name, method_name):
        """The queue of this handler in `service_name` (`mes dlq` names them without a container)."""
        return handler_queue_name(self.source_service, self.event_type, service_name, method_name)

    def setup(self):
        config = self.container.config
        settings = events_config(config)
        self.retry_delays_ms = settings["retry_delays_ms"]
        self.queue_name = self.queue_name_for(self.container.service_name, self.method_name)
        source_exchange = get_event_exchange(self.source_service, config)
        self.queue = handler_queue(self.queue_name, source_exchange, self.event_type,
                                   settings["delivery_limit"], self.single_active_consumer)
        with Connection(config["AMQP_URI"]) as conn:
            dead_letter_queue(self.queue_name)(conn.channel()).declare()
            declare_handler_queue(conn, self.queue)
        metrics.add_source("dlq", self.container.service_name, self)
        Consumer.setup(self)  # EventHandler.setup would declare a classic queue

    def stop(self):
        metrics.remove_source("dlq", self.container.service_name, self)
        super().stop()

    def kill(self):
        metrics.remove_source("dlq", self.container.service_name, self)
        super().kill()

    def _envelope(self, body, message):
        """The delivery's CloudEvent, or None once a malformed one is dead-lettered."""
        try:
            return CloudEvent.from_dict(body)
        except InvalidEnvelope as exc:
            log.error("poison message on %s dead-lettered: %s", self.queue_name, exc)
            self._dead_letter(message, body, f"invalid envelope: {exc}")
            return None

    def handle_message(self, body, message):
        event = self._envelope(body, message)
        if event is not None:
            self._run(event, message, (event,))

    def _run(self, event, message, args):
        """One worker on `args` for this delivery, settled by its outcome (handle_message_processed)."""
        context_data = self.unpack_message_headers(message)
        context_data["correlation_id"] = event.correlationid or event.id
        if event.actor:
            context_data.setdefault("actor", event.actor)
        try:
            self.container.spawn_worker(
                self, args, {}, context_data=context_data,
                handle_result=functools.partial(self.handle_result, message))
        except Exception:  # ContainerBeingKilled: give it back, another instance takes it
            self.queue_consumer.requeue_message(message)

    def _counted(self, counter, message, n=1):
        counter.labels(self.container.service_name, self.method_name, metrics.event_type(message)).inc(n)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            self._counted(metrics.EVENTS_CONSUMED, message)
            return
        exc = exc_info[1]
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0))
        reason = f"{type(exc).__name__}: {exc}"[:500]
        if errors.unavailable(exc) is not None:
            # the consumer's database or a service it asks is away, not the event at fault: it waits the
            # longest delay and comes back, as often as it takes, never counted towards its dead letter
            delay = self.retry_delays_ms[-1] if self.retry_delays_ms else 30000
            try:
                self._republish(message, DELAY_EXCHANGE, f"{delay}ms.{self.queue_name}", attempt, reason)
            except (PublishFailed, Unroutable):
                self.queue_consumer.requeue_message(message)
                return
            log.warning("handler %s: a dependency is unavailable, event back in %d ms: %s",
                        self.queue_name, delay, reason)
            self.queue_consumer.ack_message(message)
            self._counted(metrics.EVENTS_RETRIED, message)
            return
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
            self._counted(metrics.EVENTS_RETRIED, message)
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
            self._counted(metrics.EVENTS_DEAD_LETTERED, message)
            return
        self.queue_consumer.ack_message(message)
        self._counted(metrics.EVENTS_DEAD_LETTERED, message)


def _transaction_of(service):
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
