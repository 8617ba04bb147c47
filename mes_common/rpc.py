"""RPC with a deadline.

nameko's in-service RpcProxy waits forever for a reply, and a request queued
for a stopped service runs whenever the service comes back. Here every call
gives up after RPC_TIMEOUT seconds with a typed Unavailable error, and its
request message expires at the same moment so a late service never runs it.
"""
import logging
import time
import warnings

import eventlet
import eventlet.semaphore
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Connection
from amqp.exceptions import ChannelError
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.exceptions import UnknownService
from nameko.extensions import SharedExtension
from nameko.rpc import RPC_QUEUE_TEMPLATE, MethodProxy, RpcProxy, ServiceProxy

from mes_common import errors
from mes_common.consumers import ResilientReplyListener, ResilientRpc

# nameko warns on every unconfirmed `mandatory` publish; ours are deliberate (above)
warnings.filterwarnings("ignore", message="Mandatory delivery was requested")

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
        if conn is not None:
            try:
                conn.release()
            except Exception:  # already dead
                pass


class DeadlineMethodProxy(MethodProxy):
    def __init__(self, worker_ctx, service_name, method_name, reply_listener, timeout, probe=None,
                 **options):
        self.timeout = timeout
        self.probe = probe
        # No publisher confirm on a request: the deadline is the guarantee (a
        # lost request is an Unavailable, like a slow one), and the probe finds
        # a service without a queue. It saves a broker round trip per call.
        super().__init__(worker_ctx, service_name, method_name, reply_listener,
                         expiration=timeout, use_confirms=False, **options)

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
    def __init__(self, worker_ctx, service_name, reply_listener, timeout, probe=None, **options):
        super().__init__(worker_ctx, service_name, reply_listener, **options)
        self.timeout = timeout
        self.probe = probe

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return DeadlineMethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener,
                                   self.timeout, self.probe, **self.options)


class RpcClient(RpcProxy):
    """`billing = RpcClient("billing_service")`; calls raise Unavailable after
    `timeout` seconds (default: config RPC_TIMEOUT)."""

    rpc_reply_listener = ResilientReplyListener()
    consumer_probe = ConsumerProbe()

    def __init__(self, target_service, timeout=None, **options):
        super().__init__(target_service, **options)
        self.timeout = timeout

    def setup(self):
        self._timeout = float(self.timeout or self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))

    def get_dependency(self, worker_ctx):
        return DeadlineServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                                    self._timeout, self.consumer_probe, **self.options)


class ServiceClients(RpcProxy):
    """Calls to any service by name (`self.services["resource_service"].ping()`),
    for fan-out such as the gateway's /ready: `self.services.get(name, timeout=1)`."""

    rpc_reply_listener = ResilientReplyListener()
    consumer_probe = ConsumerProbe()

    def __init__(self, timeout=None):
        super().__init__("*")
        self.timeout = timeout

    def setup(self):
        self._timeout = float(self.timeout or self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))

    def get_dependency(self, worker_ctx):
        return _Services(worker_ctx, self.rpc_reply_listener, self.consumer_probe, self._timeout)


class _Services:
    """`self.services` in a worker (one module-level class: defining a class per
    worker cost the gateway ~1% of its CPU, bench/gateway_get.py)."""

    __slots__ = ("_worker_ctx", "_listener", "_probe", "_default")

    def __init__(self, worker_ctx, listener, probe, default):
        self._worker_ctx, self._listener, self._probe, self._default = worker_ctx, listener, probe, default

    def get(self, service_name, timeout=None):
        return DeadlineServiceProxy(self._worker_ctx, service_name, self._listener, timeout or self._default,
                                    self._probe)

    def __getitem__(self, service_name):  # `self.services["resource_service"]`, as documented above
        return self.get(service_name)
