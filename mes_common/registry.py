"""The processes that make up the MES.

Adding a service is one entry here (plus its package, its database URL in
config.yml and .env.example): `mes migrate`, `mes db create`, `mes run`, the
gateway's /ready and the container stack all read this table.
"""
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str              # nameko service name, RPC target, event source
    module: str            # what `nameko run` loads
    database: str | None   # database name (and role) of the service, None if it has none
    database_env: str | None
    commands: str | None = None  # module adding the service's own `mes` commands (e.g. create-admin)


SERVICES = [
    ServiceSpec("auth_service", "auth_service.service:AuthService", "mes_auth", "AUTH_DATABASE_URL",
                commands="auth_service.commands"),
    ServiceSpec("resource_service", "resource_service.service:ResourceService", "mes_resource", "RESOURCE_DATABASE_URL"),
    ServiceSpec("material_service", "material_service.service:MaterialService", "mes_material", "MATERIAL_DATABASE_URL"),
    ServiceSpec("work_order_service", "work_order_service.service:WorkOrderService", "mes_work_order",
                "WORK_ORDER_DATABASE_URL"),
    # >>> quality_service (mes new-service)
    ServiceSpec("quality_service", "quality_service.service:QualityService", "mes_quality", "QUALITY_DATABASE_URL"),
    # <<< quality_service
    # >>> traceability_service (mes new-service)
    ServiceSpec("traceability_service", "traceability_service.service:TraceabilityService", "mes_traceability",
                "TRACEABILITY_DATABASE_URL", commands="traceability_service.commands"),
    # <<< traceability_service
    # >>> reporting_service (mes new-service)
    ServiceSpec("reporting_service", "reporting_service.service:ReportingService", "mes_reporting",
                "REPORTING_DATABASE_URL", commands="reporting_service.commands"),
    # <<< reporting_service
    # >>> integration_service (mes new-service)
    ServiceSpec("integration_service", "integration_service.service:IntegrationService", "mes_integration",
                "INTEGRATION_DATABASE_URL", commands="integration_service.commands"),
    # <<< integration_service
    # new services go above this line (mes new-service)
]

GATEWAY = ServiceSpec("gateway", "gateway.service:Gateway", None, None)


def service(name):
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown service {name!r}; known: {', '.join(s.name for s in SERVICES)}")


def processes():
    """Every process `mes run` supervises, services first."""
    return [*SERVICES, GATEWAY]


def service_class(spec):
    """The nameko service class a spec names (imported on demand: the platform
    names services in this table but imports none of them statically)."""
    module, _, cls = spec.module.partition(":")
    return getattr(importlib.import_module(module), cls)


def awaited_event_types():
    """Event types some registered service consumes (each contract's CONSUMES):
    an unroutable one of these is an alarm; any other waits quietly in its
    outbox until a consumer binds."""
    types = set()
    for spec in SERVICES:
        types |= importlib.import_module(f"{spec.name}.contract").CONSUMES
    return frozenset(types)
