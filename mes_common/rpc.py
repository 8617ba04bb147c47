"""RPC with a deadline.

nameko's in-service RpcProxy waits forever for a reply, and a request queued
for a stopped service runs whenever the service comes back. Here every call
gives up after RPC_TIMEOUT seconds with a typed Unavailable error, and its
request message expires at the same moment so a late service never runs it.
"""
import logging

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import MethodProxy, RpcProxy, ServiceProxy
from nameko.rpc import rpc as nameko_rpc

from mes_common import errors

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0


def rpc(fn=None, **kwargs):
    """nameko's @rpc, with the typed MES errors declared as expected (they are
    answers, not failures, so they are not logged as worker errors)."""
    kwargs.setdefault("expected_exceptions", errors.ALL)
    decorator = nameko_rpc(**kwargs)
    return decorator(fn) if fn is not None else decorator


class DeadlineMethodProxy(MethodProxy):
    def __init__(self, worker_ctx, service_name, method_name, reply_listener, timeout, **options):
        self.timeout = timeout
        super().__init__(worker_ctx, service_name, method_name, reply_listener,
                         expiration=timeout, **options)

    def __call__(self, *args, **kwargs):
        target = f"{self.service_name}.{self.method_name}"
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
        except (ConnectionError, OSError) as exc:
            log.warning("RPC %s failed: %s", target, exc)
            raise errors.Unavailable("the message broker is unavailable",
                                     {"service": self.service_name}) from None
        finally:
            timer.cancel()


class DeadlineServiceProxy(ServiceProxy):
    def __init__(self, worker_ctx, service_name, reply_listener, timeout, **options):
        super().__init__(worker_ctx, service_name, reply_listener, **options)
        self.timeout = timeout

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return DeadlineMethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener,
                                   self.timeout, **self.options)


class RpcClient(RpcProxy):
    """`billing = RpcClient("billing_service")`; calls raise Unavailable after
    `timeout` seconds (default: config RPC_TIMEOUT)."""

    def __init__(self, target_service, timeout=None, **options):
        super().__init__(target_service, **options)
        self.timeout = timeout

    def setup(self):
        self._timeout = float(self.timeout or self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))

    def get_dependency(self, worker_ctx):
        return DeadlineServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                                    self._timeout, **self.options)


class ServiceClients(RpcProxy):
    """Calls to any service by name (`self.services["resource_service"].ping()`),
    for fan-out such as the gateway's /ready: `self.services.get(name, timeout=1)`."""

    def __init__(self, timeout=None):
        super().__init__("*")
        self.timeout = timeout

    def setup(self):
        self._timeout = float(self.timeout or self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))

    def get_dependency(self, worker_ctx):
        listener = self.rpc_reply_listener

        class Services:
            def get(self, service_name, timeout=None):
                return DeadlineServiceProxy(worker_ctx, service_name, listener, timeout or default)

        default = self._timeout
        return Services()
