"""The batching consumer of a read model: `event_stream`.

A read model (traceability, reporting) takes every event of a source service,
thousands a second during a rebuild or a busy shift. One worker and one
transaction per event would spend its time on round trips, so a stream is one
durable quorum queue per source, bound to every event type of it ("#": no
event of that source is left unroutable), consumed with a large prefetch and
handed over in batches: one worker, one transaction, one inbox statement per
batch. Only one batch of a stream runs at a time, so a stream never deadlocks
on itself and the next batch gathers while one commits.

A batch that fails is not retried as a batch: each of its events runs again
alone, with the retries, backoff and dead-letter queue of `event_handler`, so
a poison event goes to its dead-letter queue and the others commit.
"""
import collections
import functools
import logging

import eventlet

from mes_common import metrics
from mes_common.consumers import ResilientQueueConsumer
from mes_common.events.envelope import CloudEvent, InvalidEnvelope
from mes_common.events.handlers import ReliableEventHandler, _transaction_of
from mes_common.events.topology import ATTEMPT_HEADER

log = logging.getLogger(__name__)

STREAM_PREFETCH = 5000   # deliveries a stream may hold unacknowledged: one batch running, the next gathering


class StreamQueueConsumer(ResilientQueueConsumer):
    """The queue consumer of streams: its own connection, with a prefetch that
    lets a batch fill (the services' shared consumer prefetches max_workers)."""

    @property
    def prefetch_count(self):
        return int(self.container.config.get("STREAM_PREFETCH", STREAM_PREFETCH))

    def handle_message(self, provider, body, message):
        # a first delivery is filed for the next batch inline: a greenthread a delivery (nameko's way)
        # costs a tenth of the intake at thousands a second. Anything that may wait (a worker slot, a
        # confirmed publish) gets a thread, so this greenthread only ever reads the socket.
        if not provider.file(body, message):
            super().handle_message(provider, body, message)


def stream_queue_name(source_service, service_name, method_name):
    return f"evt-{source_service}-stream--{service_name}.{method_name}"


class StreamHandler(ReliableEventHandler):
    queue_consumer = StreamQueueConsumer()
    # a read model applies its source's events in the order they come: of several
    # instances one consumes, the others stand by (docs/architecture.md, "Replicas")
    single_active_consumer = True

    def __init__(self, source_service, event_types, batch_size=2000, max_wait=0.02, **kwargs):
        super().__init__(source_service, "#", **kwargs)
        self.event_types = frozenset(event_types)   # what the stream's projections handle (contract.CONSUMES)
        self.batch_size, self.max_wait = batch_size, max_wait
        self._pending = []
        self._in_flight = False
        self._timer = None

    def queue_name_for(self, service_name, method_name):   # its event type is "#": every event of the source
        return stream_queue_name(self.source_service, service_name, method_name)

    def file(self, body, message):
        """File a first delivery with a valid envelope for the next batch, without waiting on anything: True.
        False for the rest (a redelivery runs alone, a malformed one is dead-lettered: handle_message)."""
        try:
            if int((message.headers or {}).get(ATTEMPT_HEADER, 0)):
                return False
            event = CloudEvent.from_dict(body)
        except (InvalidEnvelope, TypeError, ValueError):
            return False
        self._pending.append((event, message))
        if self._timer is None and not self._in_flight:   # (a batch in flight flushes the next when done)
            delay = 0 if len(self._pending) >= self.batch_size else self.max_wait
            self._timer = self.container.spawn_managed_thread(functools.partial(self._flush_later, delay),
                                                              identifier="stream_flush")
        return True

    def handle_message(self, body, message):
        event = self._envelope(body, message)
        if event is None:
            return
        if int((message.headers or {}).get(ATTEMPT_HEADER, 0)):
            self._run_alone(event, message)   # it failed before: no batch waits on it again
            return
        self._pending.append((event, message))
        self._flush()

    def _flush_later(self, delay):
        eventlet.sleep(delay)
        self._timer = None
        self._flush()

    def _flush(self):
        if self._in_flight or not self._pending:
            return
        batch, self._pending = self._pending[:self.batch_size], self._pending[self.batch_size:]
        self._in_flight = True
        try:
            self.container.spawn_worker(self, ([event for event, _ in batch],), {},
                                        handle_result=functools.partial(self._batch_done, batch))
        except Exception:  # ContainerBeingKilled: give them back, another instance takes them
            self._in_flight = False
            for _, message in batch:
                self.queue_consumer.requeue_message(message)

    def _batch_done(self, batch, worker_ctx, result, exc_info):
        self._in_flight = False
        if exc_info is None:
            for _, message in batch:
                self.queue_consumer.ack_message(message)
            for type_, n in collections.Counter(event.type for event, _ in batch).items():
                metrics.EVENTS_CONSUMED.labels(self.container.service_name, self.method_name, type_).inc(n)
        else:
            log.warning("stream %s: a batch of %d failed (%s: %s); its events run one by one",
                        self.queue_name, len(batch), type(exc_info[1]).__name__, exc_info[1])
            for event, message in batch:
                self._run_alone(event, message)
        if self._pending:
            self._flush()
        return result, exc_info

    def _run_alone(self, event, message):
        """The event in a batch of its own, with the retries and dead-letter queue of a handler."""
        self._run(event, message, ([event],))


def event_stream(source_service, event_types, batch_size=2000, inbox=True):
    """Decorate a service method as the batch handler of every event of
    `source_service`. It receives the events not applied before (a list of
    CloudEvents, maybe empty), in one transaction with their inbox rows;
    `event_types` are the types it acts on (the contract's CONSUMES), the rest
    it may ignore. With `inbox=False` it receives every delivery, in one
    transaction, and must be idempotent itself (e.g. by a unique event id in
    what it writes): for a stream that keeps few of the events it sees, an
    inbox row for each would be most of its work and its table."""
    def decorator(fn):
        @functools.wraps(fn)
        def apply_once(service, events):
            tx = _transaction_of(service)
            with tx:
                return fn(service, tx.claim_many(events, f"{service.name}.{fn.__name__}") if inbox else events)
        return StreamHandler.decorator(source_service, event_types, batch_size=batch_size)(apply_once)
    return decorator


def of_source(event_types, prefix):
    """The types of `event_types` one source publishes ("mes.material."): a stream's list."""
    return frozenset(t for t in event_types if t.startswith(prefix))


def project_batch(events, project, slice_size=50):
    """The facts of a batch of events: projecting is pure Python, so other
    workers (queries) run between slices of a large batch."""
    facts = []
    for index, event in enumerate(events):
        if index % slice_size == slice_size - 1:
            eventlet.sleep(0)
        facts.append(project(event))
    return facts
