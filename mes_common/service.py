"""What every MES service class has: logging context per worker and `ping`."""
import uuid

from nameko.extensions import DependencyProvider

from mes_common import logs
from mes_common.rpc import rpc


class WorkerContext(DependencyProvider):
    """Binds service, entrypoint and correlation id to the worker's log
    records, and makes sure calls it makes carry a correlation id."""

    def worker_setup(self, worker_ctx):
        data = worker_ctx.data
        if not data.get("correlation_id"):
            data["correlation_id"] = str(uuid.uuid4())
        logs.bind(service=self.container.service_name,
                  entrypoint=worker_ctx.entrypoint.method_name,
                  correlation_id=data["correlation_id"])

    def get_dependency(self, worker_ctx):
        return worker_ctx.data


class ServiceBase:
    """Base of every MES nameko service class (not of the gateway)."""

    name = None
    context = WorkerContext()

    @rpc
    def ping(self):
        """Liveness over RPC: used by the gateway's /ready and `mes health`."""
        return {"service": self.name, "ok": True}
