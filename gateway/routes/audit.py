"""/api/v1/audit/<service>: every service's audit trail (21 CFR 11.10(e))."""
from gateway.http import query_args, route
from mes_common import errors, registry
from mes_common.schemas import AuditPage, AuditQuery, AuditVerification

TAGS = ["audit"]
AUDIT = "/api/v1/audit/<service>"


def _audited(name):
    names = [spec.name for spec in registry.SERVICES if spec.database]
    if name not in names:
        raise errors.NotFound(f"no audit trail named {name}", {"service": [f"one of {', '.join(names)}"]})
    return name


class AuditRoutes:
    """Mixed into the Gateway, which provides `self.services` (ServiceClients)."""

    @route("GET", AUDIT + "/entries", summary="Query a service's audit trail", tags=TAGS, permission="audit:read",
           query=AuditQuery, response=AuditPage, error_codes=(400, 404, 503))
    def query_audit(self, request, service):
        """Newest first; filter by entity, actor, action and time; page with `cursor`."""
        filters = query_args(request, AuditQuery)
        return self.services[_audited(service)].query_audit(filters)

    @route("GET", AUDIT + "/verify", summary="Verify a service's audit hash chain", tags=TAGS,
           permission="audit:read", response=AuditVerification, error_codes=(404, 503))
    def verify_audit(self, request, service):
        """Names the first broken entry: edited (hash mismatch) or deleted (broken link)."""
        return self.services[_audited(service)].verify_audit()
