"""/api/v1/audit/<service>: every service's audit trail (21 CFR 11.10(e)).

Hand-written: the service to call is named by the path."""
from gateway.routing import Routes, query_args
from mes_common import errors, registry
from mes_common.schemas import AuditPage, AuditQuery, AuditVerification

routes = Routes(None, tags=["audit"], prefix="/api/v1/audit/<service>")


def _audited_services():
    return [spec.name for spec in registry.SERVICES if spec.database]


def _audited(name):
    names = _audited_services()
    if name not in names:
        raise errors.NotFound(f"no audit trail named {name}", {"service": [f"one of {', '.join(names)}"]})
    return name


@routes.handler("GET", "/entries", calls=[f"{name}.query_audit" for name in _audited_services()],
                summary="Query a service's audit trail", permission="audit:read",
                query=AuditQuery, response=AuditPage, error_codes=(400, 404, 503))
def query_audit(gateway, request, service):
    """Newest first; filter by entity, actor, action and time; page with `cursor`."""
    filters = query_args(request, AuditQuery)
    return gateway.services[_audited(service)].query_audit(filters)


@routes.handler("GET", "/verify", calls=[f"{name}.verify_audit" for name in _audited_services()],
                summary="Verify a service's audit hash chain", permission="audit:read",
                response=AuditVerification, error_codes=(404, 503))
def verify_audit(gateway, request, service):
    """Names the first broken entry: edited (hash mismatch) or deleted (broken link)."""
    return gateway.services[_audited(service)].verify_audit()
