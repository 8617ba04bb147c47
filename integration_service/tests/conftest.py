"""Fixtures of the Integration service tests: the service in a real container
(PostgreSQL, RabbitMQ, Redis), one stack for the whole package; every test
makes rows of its own (codes ending in a tag of its own)."""
import secrets
from types import SimpleNamespace

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from mes_common.testing.fixtures import service_stack
from integration_service.service import IntegrationService


@pytest.fixture(scope="package")
def stack(base_config, service_databases, _engines, cache_prefix):
    with service_stack("integration", (IntegrationService,), base_config=base_config,
                       service_databases=service_databases, engines=_engines, cache_prefix=cache_prefix) as running, \
            ClusterRpcProxy(running.config, timeout=30, context_data={"actor": "alice"}) as cluster:
        yield SimpleNamespace(config=running.config, db=_engines["integration_service"], cluster=cluster)


@pytest.fixture
def rpc(stack):
    return stack.cluster.integration_service


@pytest.fixture
def db(stack):
    return stack.db


@pytest.fixture
def tag():
    return secrets.token_hex(3).upper()
