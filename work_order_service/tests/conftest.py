"""The work order service in a real container with the REAL resource and
material services beside it (same vhost, databases, cache prefix).

One stack serves the whole package (starting three containers costs seconds):
every test builds a world of its own (world.py), so tests depend neither on
each other nor on their order, and look up only their own rows and events."""
from types import SimpleNamespace

import pytest
from nameko.containers import get_container_cls
from mes_common.rpc import ClusterRpcProxy

from mes_common.testing.fixtures import service_stack
from work_order_service.service import WorkOrderService
from work_order_service.testing import USER_ID
from mes_common.testing.fixtures import registered_classes

MaterialService, ResourceService = registered_classes("material_service", "resource_service")


@pytest.fixture(scope="package")
def stack(base_config, service_databases, _engines, cache_prefix):
    """The recovery timer fast; the lease as configured by default. `rpc` calls
    as alice (a user id with no auth service behind it: names fall back to the actor)."""
    with service_stack("work_order", (ResourceService, MaterialService, WorkOrderService), base_config=base_config,
                       service_databases=service_databases, engines=_engines, cache_prefix=cache_prefix,
                       configure=lambda config: config.update(SAGA_RECOVERY_INTERVAL=0.2)) as running, \
            ClusterRpcProxy(running.config, timeout=20, context_data={"actor": "alice", "user_id": USER_ID}) as proxy:
        yield SimpleNamespace(config=running.config, containers=running.containers, engines=_engines,
                              rpc=SimpleNamespace(wo=proxy.work_order_service, material=proxy.material_service,
                                                  resource=proxy.resource_service))


@pytest.fixture
def rpc(stack):
    return stack.rpc


@pytest.fixture
def engines(stack):
    return stack.engines


@pytest.fixture
def db(stack):
    """The work order service's database."""
    return stack.engines["work_order_service"]


@pytest.fixture(scope="module")
def replace_work_order_service(stack):
    """For a module whose tests kill the work order service: `start(**settings)`
    starts another on the stack's vhost with those settings, the first call
    stopping the stack's own; at the end of the module they are killed and a
    fresh one joins the stack. (Module scope: nameko's pytest plugin stops the
    consumers of every container started within a test, fixtures included.)"""
    index = next(i for i, c in enumerate(stack.containers) if c.service_name == WorkOrderService.name)
    started = []

    def start(**settings):
        if not started:
            stack.containers[index].stop()
        container = get_container_cls(stack.config)(WorkOrderService, {**stack.config, **settings})
        started.append(container)
        container.start()
        return container

    yield start
    if started:
        for container in started:
            container.kill()
        stack.containers[index] = start()
