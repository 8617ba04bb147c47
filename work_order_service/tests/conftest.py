"""The work order service in a real container with the REAL resource and
material services beside it (same vhost, databases, cache prefix)."""
from types import SimpleNamespace

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from material_service.service import MaterialService
from resource_service.service import ResourceService
from work_order_service.service import WorkOrderService
from work_order_service.tests.world import USER_ID


@pytest.fixture
def wo_config(mes_config):
    """The recovery timer fast; the lease as configured by default."""
    return {**mes_config, "SAGA_RECOVERY_INTERVAL": 0.2}


@pytest.fixture
def containers(wo_config, container_factory):
    started = {}
    for cls in (ResourceService, MaterialService, WorkOrderService):
        started[cls.name] = container_factory(cls, wo_config)
        started[cls.name].start()
    return started


@pytest.fixture
def rpc(containers, wo_config):
    """Calls as alice (a user id with no auth service behind it: names fall back to the actor)."""
    with ClusterRpcProxy(wo_config, timeout=20, context_data={"actor": "alice", "user_id": USER_ID}) as proxy:
        yield SimpleNamespace(wo=proxy.work_order_service, material=proxy.material_service,
                              resource=proxy.resource_service, proxy=proxy)
