"""What every MES service class has: logging context per worker and `ping`."""
import uuid

from nameko.extensions import DependencyProvider

from mes_common import audit, errors, logs
from mes_common.rpc import rpc
from mes_common.schemas import AuditQuery, load


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

    # the audit trail (mes_common.audit) of a service whose UnitOfWork has one

    def _audit_model(self):
        model = getattr(getattr(type(self), "uow", None), "Audit", None)
        if model is None:
            raise errors.NotFound(f"{self.name} keeps no audit trail", {"service": self.name})
        return model

    @rpc
    def verify_audit(self):
        """Walk the audit trail's hash chain: {ok, entries, first_broken}."""
        return audit.verify(self.uow.session, self._audit_model())

    @rpc
    def query_audit(self, filters=None):
        """A page of audit entries, newest first, filtered by entity, actor, action, time."""
        model = self._audit_model()
        return audit.query(self.uow.session, model, load(AuditQuery(), filters))
