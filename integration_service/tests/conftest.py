"""Fixtures of the Integration service tests: the service in a real container with the REAL resource,
material and work order services beside it (PostgreSQL, RabbitMQ, Redis), one stack for the whole package;
every test makes rows of its own (codes ending in a tag of its own)."""
import secrets
from types import SimpleNamespace

import pytest

from mes_common.rpc import ClusterRpcProxy
from mes_common.testing.fixtures import registered_classes, service_stack
from integration_service.service import IntegrationService

ResourceService, MaterialService, QualityService, WorkOrderService = registered_classes(
    "resource_service", "material_service", "quality_service", "work_order_service")


def _fast_retries(config):
    """Outbound retries in tenths of seconds, a receiver's slowness in one second."""
    config["INTEGRATION"] = {**config["INTEGRATION"], "RETRY_BASE": 0.2, "RETRY_MAX": 1.0, "READ_TIMEOUT": 1.0,
                             "CONNECT_TIMEOUT": 1.0}
    config["INTEGRATION_DELIVERY_INTERVAL"] = 0.2


@pytest.fixture(scope="package")
def stack(base_config, service_databases, _engines, cache_prefix):
    with service_stack("integration", (ResourceService, MaterialService, QualityService, WorkOrderService,
                                       IntegrationService), base_config=base_config,
                       service_databases=service_databases, engines=_engines, cache_prefix=cache_prefix,
                       configure=_fast_retries) as running, \
            ClusterRpcProxy(running.config, timeout=60, context_data={"actor": "erp-bot"}) as cluster:
        yield SimpleNamespace(config=running.config, db=_engines["integration_service"], cluster=cluster,
                              rpc=SimpleNamespace(integration=cluster.integration_service,
                                                  resource=cluster.resource_service,
                                                  material=cluster.material_service, wo=cluster.work_order_service,
                                                  quality=cluster.quality_service))


@pytest.fixture
def rpc(stack):
    return stack.rpc.integration


@pytest.fixture
def services(stack):
    return stack.rpc


@pytest.fixture
def db(stack):
    return stack.db


@pytest.fixture
def tag():
    return secrets.token_hex(3).upper()
