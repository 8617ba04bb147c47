"""RPC with a deadline.

nameko's in-service RpcProxy waits forever for a reply, and a request queued
for a stopped service runs whenever the service comes back. Here every call
gives up after RPC_TIMEOUT seconds with a typed Unavailable error, and its
request message expires at the same moment so a late service never runs it.
"""
import logging
import time
import uuid

import eventlet
import eventlet.semaphore
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Connection, Producer
from amqp.exceptions import ChannelError
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.exceptions import UnknownService
from nameko.extensions import SharedExtension
from nameko.rpc import RPC_QUEUE_TEMPLATE, MethodProxy, RpcProxy, RpcReply, ServiceProxy, get_rpc_exchange
from nameko.standalone import rpc as standalone_rpc

from mes_common import broker, errors
from mes_common.amqp import release_quietly
from mes_common.infra import amqp_parts
from mes_common.consumers import ResilientReplyListener, ResilientRpc

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0


def rpc(fn=None, **kwargs):
    """nameko's @rpc, with the typed MES errors declared as expected (they are
    answers, not failures, so they are not logged as worker errors)."""
    kwargs.setdefault("expected_exceptions", errors.ALL)
    decorator = ResilientRpc.decorator(**kwargs)
    return decorator(fn) if fn is not None else decorator


class ConsumerProbe(SharedExtension):
    """Whether a service has any instance consuming its RPC queue, checked at
    most once a second per service (a passive queue declare), so calls to a
    stopped service fail at once instead of after the whole timeout.

    A "down" answer is kept only `down_ttl`: a restarted service must get its
    calls as soon as it consumes again, not be refused for another second."""

    ttl = 1.0
    down_ttl = 0.1

    def setup(self):
        self.amqp_uri = self.container.config["AMQP_URI"]
        self._known = {}
        self._conn = None
        self._lock = eventlet.semaphore.Semaphore()

    def stop(self):
        self._close()

    kill = stop

    def is_down(self, service_name):
        checked = self._known.get(service_name)
        if self._stale(checked):
            with self._lock:  # one AMQP connection: one check at a time
                # callers that queued behind a refresh reuse its answer instead
                # of each repeating the declare (bench/rpc_echo.py, gateway_get.py)
                checked = self._known.get(service_name)
                if self._stale(checked):
                    now = time.monotonic()
                    checked = self._known[service_name] = (now, self._consumers(service_name))
        return checked[1] == 0

    def _stale(self, checked):
        return checked is None or \
            time.monotonic() - checked[0] > (self.down_ttl if checked[1] == 0 else self.ttl)

    def _consumers(self, service_name):
        """Consumer count of the service's RPC queue: 0 when it has no queue
        (never started), None when unknown (the caller holds self._lock)."""
        try:
            if self._conn is None:
                self._conn = Connection(self.amqp_uri, connect_timeout=1)
            channel = self._conn.channel()
            try:
                return channel.queue_declare(RPC_QUEUE_TEMPLATE.format(service_name), passive=True)[2]
            finally:
                if channel.is_open:
                    channel.close()
        except ChannelError as exc:
            if getattr(exc, "code", None) == 404:
                return 0
            self._close()
            return None
        except Exception:  # no broker: unknown, let the call itself find out
            self._close()
            return None

    def _close(self):
        conn, self._conn = self._conn, None
        release_quietly(conn)


class RequestPublisher(SharedExtension):
    """Publishes the RPC requests of one process on one long-lived channel.

    nameko acquires a pooled producer per call, wraps each publish in kombu's
    retry machinery and waits for a publisher confirm; a third of a call's
    CPU went there. Requests here are transient and unconfirmed: the caller's
    deadline is the guarantee (a lost request is an Unavailable, like a slow
    one), and the ConsumerProbe reports a service without a queue at once.
    """

    def setup(self):
        config = self.container.config
        self.amqp_uri = config["AMQP_URI"]
        self.exchange = get_rpc_exchange(config)
        self._conn = self._producer = None
        self._lock = eventlet.semaphore.Semaphore()  # a message's frames must not interleave

    def stop(self):
        self._close()

    kill = stop

    def publish(self, body, routing_key, reply_to, correlation_id, headers, expiration):
        with self._lock:
            for attempt in (1, 2):  # a connection that died since the last call: one reconnect
                try:
                    if self._producer is None:
                        conn = Connection(self.amqp_uri, connect_timeout=2)
                        conn.ensure_connection(max_retries=1)
                        channel = conn.channel()
                        self.exchange(channel).declare()
                        self._conn, self._producer = conn, Producer(channel, exchange=self.exchange)
                    # user_id: RabbitMQ checks it is this connection's login, so the receiver
                    # knows which process called (mes_common.consumers.ResilientRpc)
                    self._producer.publish(
                        body, routing_key=routing_key, reply_to=reply_to, correlation_id=correlation_id,
                        headers=headers, expiration=expiration, serializer="json", delivery_mode=1,
                        user_id=self._conn.userid)
                    return
                except Exception as exc:
                    self._close()
                    if attempt == 2:
                        log.warning("RPC request to %s not sent: %s", routing_key, exc)
                        raise errors.Unavailable("the message broker is unavailable",
                                                 {"service": routing_key.split(".")[0]}) from None

    def _close(self):
        conn, self._conn, self._producer = self._conn, None, None
        release_quietly(conn)


class DeadlineMethodProxy(MethodProxy):
    def __init__(self, worker_ctx, service_name, method_name, reply_listener, timeout, probe,
                 request_publisher):
        # not MethodProxy.__init__: it builds a nameko Publisher per call, unused here
        self.worker_ctx, self.service_name, self.method_name = worker_ctx, service_name, method_name
        self.reply_listener = reply_listener
        self.timeout, self.probe, self.request_publisher = timeout, probe, request_publisher

    def _call(self, *args, **kwargs):
        correlation_id = str(uuid.uuid4())
        reply_event = self.reply_listener.get_reply_event(correlation_id)
        self.request_publisher.publish(
            {"args": args, "kwargs": kwargs}, routing_key=f"{self.service_name}.{self.method_name}",
            reply_to=self.reply_listener.routing_key, correlation_id=correlation_id,
            headers=self.get_message_headers(self.worker_ctx), expiration=self.timeout)
        return RpcReply(reply_event)

    def __call__(self, *args, **kwargs):
        target = f"{self.service_name}.{self.method_name}"
        if self.probe is not None and self.probe.is_down(self.service_name):
            raise errors.Unavailable(f"{self.service_name} is not running", {"service": self.service_name})
        timer = eventlet.Timeout(self.timeout)
        reply = None
        try:
            reply = self._call(*args, **kwargs)
            return reply.result()
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise
            if reply is not None:  # the reply will never be awaited: forget it
                self.reply_listener._reply_events = {
                    k: v for k, v in self.reply_listener._reply_events.items() if v is not reply.reply_event}
            raise errors.Unavailable(f"{self.service_name} did not answer within {self.timeout:g} s",
                                     {"service": self.service_name, "method": self.method_name}) from None
        except UnknownService:
            raise errors.Unavailable(f"{self.service_name} is not running",
                                     {"service": self.service_name}) from None
        except (ConnectionError, OSError, KombuOperationalError, AmqpConnectionError) as exc:
            # kombu re-raises a refused or lost connection as its own OperationalError
            log.warning("RPC %s failed: %s", target, exc)
            raise errors.Unavailable("the message broker is unavailable",
                                     {"service": self.service_name}) from None
        finally:
            timer.cancel()


class DeadlineServiceProxy(ServiceProxy):
    def __init__(self, worker_ctx, service_name, reply_listener, timeout, probe, request_publisher):
        super().__init__(worker_ctx, service_name, reply_listener)
        self.timeout, self.probe, self.request_publisher = timeout, probe, request_publisher

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return DeadlineMethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener,
                                   self.timeout, self.probe, self.request_publisher)


class RpcClient(RpcProxy):
    """`billing = RpcClient("billing_service")`; calls raise Unavailable after
    `timeout` seconds (default: config RPC_TIMEOUT)."""

    rpc_reply_listener = ResilientReplyListener()
    consumer_probe = ConsumerProbe()
    request_publisher = RequestPublisher()

    def __init__(self, target_service, timeout=None):
        super().__init__(target_service)
        self.timeout = timeout

    def setup(self):
        self._timeout = float(self.timeout or self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))

    def get_dependency(self, worker_ctx):
        return DeadlineServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                                    self._timeout, self.consumer_probe, self.request_publisher)


class ServiceClients(RpcProxy):
    """Calls to any service by name (`self.services["resource_service"].ping()`),
    for fan-out such as the gateway's /ready: `self.services.get(name, timeout=1)`."""

    rpc_reply_listener = ResilientReplyListener()
    consumer_probe = ConsumerProbe()
    request_publisher = RequestPublisher()

    def __init__(self, timeout=None):
        super().__init__("*")
        self.timeout = timeout

    def setup(self):
        self._timeout = float(self.timeout or self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))

    def get_dependency(self, worker_ctx):
        return _Services(worker_ctx, self.rpc_reply_listener, self.consumer_probe, self.request_publisher,
                         self._timeout)


class _Services:
    """`self.services` in a worker (one module-level class: defining a class per
    worker cost the gateway ~1% of its CPU, bench/gateway_get.py)."""

    __slots__ = ("_worker_ctx", "_listener", "_probe", "_publisher", "_default")

    def __init__(self, worker_ctx, listener, probe, publisher, default):
        self._worker_ctx, self._listener, self._probe = worker_ctx, listener, probe
        self._publisher, self._default = publisher, default

    def get(self, service_name, timeout=None):
        return DeadlineServiceProxy(self._worker_ctx, service_name, self._listener, timeout or self._default,
                                    self._probe, self._publisher)

    def __getitem__(self, service_name):  # `self.services["resource_service"]`, as documented above
        return self.get(service_name)


class _IdentifiedClusterProxy(standalone_rpc.ClusterProxy):
    def __init__(self, worker_ctx, reply_listener, user_id):
        super().__init__(worker_ctx, reply_listener)
        self._user_id = user_id

    def __getattr__(self, name):
        if name not in self._proxies:
            self._proxies[name] = ServiceProxy(self._worker_ctx, name, self._reply_listener, user_id=self._user_id)
        return self._proxies[name]


class ClusterRpcProxy(standalone_rpc.ClusterRpcProxy):
    """nameko's standalone proxy (`mes shell`, `mes health`, tests) whose requests
    carry its broker login as the AMQP user-id, as the services' own do
    (RequestPublisher): the services then know the caller by the broker's
    word, and a call from `mes_cli` without a user is trusted. On a service's
    or the gateway's login (`mes health` in a container) its reply queue is
    named as that process's, the only ones the login may declare."""

    def __init__(self, config, *args, **kwargs):
        user = amqp_parts(config["AMQP_URI"])[2]
        process = broker.process_of(config, user)
        if process not in (None, broker.CLI):
            self.ServiceContainer = type("ServiceContainer", (self.ServiceContainer,), {"service_name": process})
        super().__init__(config, *args, **kwargs)
        self._proxy = _IdentifiedClusterProxy(self._worker_ctx, self._reply_listener, user)
