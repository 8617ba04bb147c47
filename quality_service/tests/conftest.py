"""Fixtures of the quality service tests: the service in a real container with
the REAL material and resource services beside it (PostgreSQL, RabbitMQ,
Redis), one stack for the whole package; every test makes rows of its own
(codes ending in a tag of its own)."""
import secrets
from types import SimpleNamespace

import pytest

from mes_common.rpc import ClusterRpcProxy
from mes_common.testing.fixtures import registered_classes, service_stack
from quality_service.service import QualityService

MaterialService, ResourceService = registered_classes("material_service", "resource_service")


@pytest.fixture(scope="package")
def stack(base_config, service_databases, _engines, cache_prefix):
    with service_stack("quality", (ResourceService, MaterialService, QualityService), base_config=base_config,
                       service_databases=service_databases, engines=_engines, cache_prefix=cache_prefix) as running, \
            ClusterRpcProxy(running.config, timeout=30, context_data={"actor": "alice"}) as cluster:
        yield SimpleNamespace(config=running.config, engines=_engines, db=_engines["quality_service"],
                              rpc=SimpleNamespace(quality=cluster.quality_service, material=cluster.material_service,
                                                  resource=cluster.resource_service))


@pytest.fixture
def rpc(stack):
    return stack.rpc


@pytest.fixture
def db(stack):
    return stack.db


@pytest.fixture
def tag():
    return secrets.token_hex(3).upper()
