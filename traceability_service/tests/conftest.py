"""Fixtures of the traceability service tests: the service in a real container
(PostgreSQL, RabbitMQ, Redis), one stack for the whole package; every test
sends a story of its own (numbers ending in a tag of its own)."""
import secrets
from types import SimpleNamespace

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from mes_common.testing.fixtures import service_stack
from traceability_service.service import TraceabilityService


@pytest.fixture(scope="package")
def stack(base_config, service_databases, _engines, cache_prefix):
    with service_stack("traceability", (TraceabilityService,), base_config=base_config,
                       service_databases=service_databases, engines=_engines, cache_prefix=cache_prefix) as running, \
            ClusterRpcProxy(running.config, timeout=30, context_data={"actor": "alice"}) as cluster:
        yield SimpleNamespace(config=running.config, db=_engines["traceability_service"], cluster=cluster)


@pytest.fixture
def rpc(stack):
    return stack.cluster.traceability_service


@pytest.fixture
def db(stack):
    return stack.db


@pytest.fixture
def tag():
    return secrets.token_hex(3).upper()
