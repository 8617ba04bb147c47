"""Run by `mes shell` inside nameko's shell: typed MES errors (NotFound,
Conflict, ValidationFailed with .details, ...) instead of a bare RemoteError."""
import mes_common.errors  # noqa: F401  (registers the errors with nameko)

print("MES: n.rpc.<service>.<method>(...), e.g. n.rpc.resource_service.list_nodes({'level': 'site'})")
