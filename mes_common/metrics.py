"""Prometheus metrics of every MES process (prometheus-client; docs/operations.md, "Metrics").

Each process answers GET /metrics on its own port (config METRICS.PORT, the
environment's MES_METRICS_PORT; `mes run` gives each of its processes one),
a listener apart from the API, for the monitoring network only; the gateway
also answers /metrics on its API port to a caller holding `metrics:read`.

What is counted where it happens (labels are bounded: services, methods,
route templates, event types, never ids):
- every worker of a service (`Metrics`, on ServiceBase): RPC calls and their
  latency per method and outcome, timer runs;
- the gateway's routes (gateway.http): requests and latency per route and status;
- events (mes_common.events): published by the outbox relay, consumed, retried
  and dead-lettered by the handlers and streams, per type;
and what is read when Prometheus scrapes (`_ScrapeCollector`): the outbox's
pending events and the age of the oldest, the database pool in use, the
reference cache's hits and misses, and a service's own gauges (`DatabaseGauge`:
the release sagas by state).
"""
import logging
import threading

import eventlet
import time
import weakref

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.timer import Timer
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST   # of the exposition text

# seconds: a fast RPC is a millisecond, a release or a KPI month a second or more
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

RPC_REQUESTS = Counter("mes_rpc_requests", "RPC calls served, by service, method and outcome (ok, error)",
                       ["service", "method", "outcome"])
RPC_SECONDS = Histogram("mes_rpc_request_duration_seconds", "Time to serve an RPC call, by service and method",
                        ["service", "method"], buckets=LATENCY_BUCKETS)
TIMER_RUNS = Counter("mes_timer_runs", "Runs of a service's timers, by outcome (ok, error)",
                     ["service", "timer", "outcome"])
HTTP_REQUESTS = Counter("mes_http_requests", "Gateway requests answered, by route template, method and status",
                        ["route", "method", "status"])
HTTP_SECONDS = Histogram("mes_http_request_duration_seconds", "Time to answer a gateway request, by route template",
                         ["route", "method"], buckets=LATENCY_BUCKETS)
EVENTS_PUBLISHED = Counter("mes_events_published", "Events the outbox relay published (confirmed by the broker)",
                           ["service", "type"])
EVENTS_UNROUTABLE = Counter("mes_events_unroutable", "Publishes returned unroutable (the event stays in the outbox)",
                            ["service", "type"])
EVENTS_CONSUMED = Counter("mes_events_consumed", "Events a handler or stream applied (or skipped as a duplicate)",
                          ["service", "handler", "type"])
EVENTS_RETRIED = Counter("mes_events_retried", "Events sent back for a later retry after a handler failed",
                         ["service", "handler", "type"])
EVENTS_DEAD_LETTERED = Counter("mes_events_dead_lettered", "Events sent to a dead-letter queue",
                               ["service", "handler", "type"])

_sources = {}            # (kind, service) -> weak reference to what is read at scrape time
_sources_lock = threading.Lock()
_listener = None         # (port, server) of this process's /metrics listener


def event_type(message):
    """The event type of a delivery (its routing key; the body may be malformed)."""
    return str((getattr(message, "delivery_info", None) or {}).get("routing_key") or "unknown")


def add_source(kind, service, obj):
    """Read `obj` at each scrape: kind "uow" (engine + Outbox), "cache" (CacheStats),
    "dlq" (an event handler) or "gauge" (a DatabaseGauge). Weakly held: a stopped
    container's go away."""
    with _sources_lock:
        _sources[(kind, service, id(obj))] = weakref.ref(obj)


def remove_source(kind, service, obj):
    """A stopped container's source: no longer read (its engine is disposed, its broker connection gone)."""
    with _sources_lock:
        _sources.pop((kind, service, id(obj)), None)


def _live(kind):
    with _sources_lock:
        items = list(_sources.items())
    for (k, service, key), ref in items:
        obj = ref()
        if obj is None or not _container_alive(obj):
            with _sources_lock:
                _sources.pop((k, service, key), None)
        elif k == kind:
            yield service, obj


def _container_alive(obj):
    """An extension's container is held weakly (nameko): one gone means a source to forget."""
    try:
        container = getattr(obj, "container", None)
        return container is None or container.service_name is not None
    except ReferenceError:
        return False


class _ScrapeCollector:
    """What is read when Prometheus scrapes; a source that fails is skipped
    (and logged), the rest are answered."""

    def collect(self):
        pending = GaugeMetricFamily("mes_outbox_pending", "Events committed and not yet published", labels=["service"])
        oldest = GaugeMetricFamily("mes_outbox_oldest_age_seconds", "Age of the oldest unpublished event",
                                   labels=["service"])
        in_use = GaugeMetricFamily("mes_db_pool_connections_in_use", "Database connections checked out",
                                   labels=["service"])
        size = GaugeMetricFamily("mes_db_pool_size", "Database pool size (connections kept open, beyond them overflow)",
                                 labels=["service"])
        for service, uow in _live("uow"):
            engine = getattr(uow, "engine", None)
            if engine is None:
                continue
            in_use.add_metric([service], engine.pool.checkedout())
            size.add_metric([service], engine.pool.size())
            try:
                count, age = _bounded(lambda: outbox_backlog(engine, uow.Outbox))
            except Exception as exc:  # the database away or slow: no figure, not a failed scrape
                log.warning("metrics: outbox of %s not read: %s", service, exc)
                continue
            pending.add_metric([service], count)
            oldest.add_metric([service], age)
        yield from (pending, oldest, in_use, size)

        hits = CounterMetricFamily("mes_cache_hits", "Reference cache hits", labels=["service"])
        misses = CounterMetricFamily("mes_cache_misses", "Reference cache misses", labels=["service"])
        errors = CounterMetricFamily("mes_cache_errors", "Reference cache operations Redis failed", labels=["service"])
        for service, stats in _live("cache"):
            snapshot = stats.snapshot()
            hits.add_metric([service], snapshot["hits"])
            misses.add_metric([service], snapshot["misses"])
            errors.add_metric([service], snapshot["errors"])
        yield from (hits, misses, errors)

        yield _dead_letter_depths()

        for service, gauge in _live("gauge"):
            try:
                yield _bounded(lambda: gauge.family(service))
            except Exception as exc:
                log.warning("metrics: %s of %s not read: %s", gauge.metric, service, exc)


DLQ_READ_EVERY = 10.0   # seconds: a scrape burst (two Prometheus replicas) costs one broker round trip
_dlq_cache = {}         # AMQP URI -> (monotonic time read, {(service, queue): messages})


def _dead_letter_depths():
    """mes_dead_letter_queue_messages: the messages waiting in each handler's
    dead-letter queue (what `mes dlq list` shows), read with passive declares."""
    family = GaugeMetricFamily("mes_dead_letter_queue_messages", "Messages in a handler's dead-letter queue",
                               labels=["service", "queue"])
    handlers = {}
    for service, handler in _live("dlq"):
        try:
            uri = handler.container.config["AMQP_URI"]
        except ReferenceError:   # its container is gone
            continue
        handlers.setdefault(uri, []).append((service, handler.queue_name))
    for uri, queues in handlers.items():
        read_at, depths = _dlq_cache.get(uri, (0.0, None))
        if depths is None or time.monotonic() - read_at > DLQ_READ_EVERY:
            try:
                depths = _bounded(lambda: _read_depths(uri, queues))
            except Exception as exc:   # the broker away: no figure (its own alert says so), and not asked again
                log.warning("metrics: dead-letter queues not read: %s", exc)   # before the next interval
                depths = {}
            _dlq_cache[uri] = (time.monotonic(), depths)
        for (service, queue), count in depths.items():
            family.add_metric([service, f"{queue}.dlq"], count)
    return family


def _read_depths(uri, queues):
    from kombu import Connection
    depths = {}
    with Connection(uri, connect_timeout=2) as conn:
        for service, queue in queues:
            try:
                depths[(service, queue)] = conn.channel().queue_declare(f"{queue}.dlq", passive=True).message_count
            except Exception:  # not declared (yet): nothing in it
                depths[(service, queue)] = 0
    return depths


REGISTRY.register(_ScrapeCollector())


READ_TIMEOUT = 2.0   # seconds a scrape waits for one source: a database or broker away never hangs it


def _bounded(read):
    """`read()`, or TimeoutError after READ_TIMEOUT (the processes run on eventlet: a green timeout)."""
    with eventlet.Timeout(READ_TIMEOUT, TimeoutError(f"no answer within {READ_TIMEOUT:g} s")):
        return read()


def outbox_backlog(engine, Outbox):
    """(events not yet published, age in seconds of the oldest): one indexed query."""
    with engine.connect() as conn:
        count, age = conn.execute(
            select(func.count(), func.extract("epoch", func.now() - func.min(Outbox.created_at)))
            .where(Outbox.published_at.is_(None))).one()
    return count, float(age or 0.0)


def exposition():
    """The text Prometheus reads: every metric of this process."""
    return generate_latest(REGISTRY)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):   # a scrape every 15 s is not news
        pass


def _listener_app(metrics_app):
    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":   # liveness: the process's event loop answers
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        return metrics_app(environ, start_response)
    return app


def serve(port, address="127.0.0.1"):
    """Start this process's listener once (a second container in the same
    process shares it): GET /metrics, and GET /healthz for a liveness probe.
    A port in use is logged, not fatal."""
    global _listener
    if not port or _listener is not None:
        return
    try:
        server = make_server(address, int(port), _listener_app(make_wsgi_app(REGISTRY)), ThreadingWSGIServer,
                             handler_class=_QuietHandler)
    except OSError as exc:
        log.warning("metrics listener not started on port %s: %s", port, exc)
        return
    threading.Thread(target=server.serve_forever, name="mes-metrics", daemon=True).start()
    _listener = (int(port), server)
    log.info("metrics on http://%s:%s/metrics", address, port)


def metrics_port(config):
    return int((config.get("METRICS") or {}).get("PORT") or 0)


def metrics_address(config):
    return str((config.get("METRICS") or {}).get("ADDRESS") or "127.0.0.1")


class Metrics(DependencyProvider):
    """Times every worker of a service; starts the process's /metrics listener."""

    def setup(self):
        self.service = self.container.service_name
        self._started = {}

    def start(self):
        serve(metrics_port(self.container.config), metrics_address(self.container.config))

    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        if started is None:
            return
        entrypoint = worker_ctx.entrypoint
        outcome = "ok" if exc_info is None else "error"
        if isinstance(entrypoint, Timer):
            TIMER_RUNS.labels(self.service, entrypoint.method_name, outcome).inc()
        elif isinstance(entrypoint, Rpc):
            RPC_REQUESTS.labels(self.service, entrypoint.method_name, outcome).inc()
            RPC_SECONDS.labels(self.service, entrypoint.method_name).observe(time.perf_counter() - started)

    def worker_teardown(self, worker_ctx):
        self._started.pop(worker_ctx, None)   # a worker that ended without a result (killed)


class DatabaseGauge(DependencyProvider):
    """A gauge of the service's own database, read at each scrape:
    ``query(session)`` returns (label values, value) pairs.

        sagas = DatabaseGauge("mes_release_sagas", "Release sagas by state", ["state"], release.saga_counts)
    """

    def __init__(self, metric, documentation, labels, query):
        self.metric, self.documentation, self.labels, self.query = metric, documentation, list(labels), query
        self.uow = None

    def setup(self):
        self.uow = next(d for d in self.container.dependencies if hasattr(d, "sessionmaker") and hasattr(d, "Outbox"))
        add_source("gauge", self.container.service_name, self)

    def stop(self):
        remove_source("gauge", self.container.service_name, self)

    kill = stop

    def family(self, service):
        family = GaugeMetricFamily(self.metric, self.documentation, labels=["service", *self.labels])
        with self.uow.sessionmaker() as session:
            for label_values, value in self.query(session):
                family.add_metric([service, *map(str, label_values)], value)
        return family
