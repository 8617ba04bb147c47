"""The work order service in a real container with the REAL resource and
material services beside it (same vhost, databases, cache prefix).

One stack serves the whole package (starting three containers costs seconds):
every test builds a world of its own (world.py), so tests depend neither on
each other nor on their order, and look up only their own rows and events."""
from types import SimpleNamespace

import pytest
from nameko.containers import get_container_cls
from mes_common.rpc import ClusterRpcProxy

from mes_common import broker
from mes_common.testing.fixtures import service_stack
from work_order_service.service import WorkOrderService
from work_order_service.testing import USER_ID
from mes_common.testing.fixtures import registered_classes

MaterialService, ResourceService, QualityService = registered_classes("material_service", "resource_service",
                                                                      "quality_service")


@pytest.fixture(scope="package")
def stack(base_config, service_databases, _engines, cache_prefix):
    """The recovery timer fast; the lease as configured by default. `rpc` calls
    as alice (a user id with no auth service behind it: names fall back to the actor)."""
    with service_stack("work_order", (ResourceService, MaterialService, QualityService, WorkOrderService),
                       base_config=base_config,
                       service_databases=service_databases, engines=_engines, cache_prefix=cache_prefix,
                       configure=lambda config: config.update(SAGA_RECOVERY_INTERVAL=0.2)) as running, \
            ClusterRpcProxy(running.config, timeout=20, context_data={"actor": "alice", "user_id": USER_ID}) as proxy:
        yield SimpleNamespace(config=running.config, containers=running.containers, engines=_engines,
                              rpc=SimpleNamespace(wo=proxy.work_order_service, material=proxy.material_service,
                                                  resource=proxy.resource_service, quality=proxy.quality_service))


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
def replace_service(stack):
    """For a module whose tests stop a service of the stack: `start(name,
    **settings)` starts another `name` on the stack's vhost with those settings,
    the first call for a name stopping the stack's own; `stop(name)` stops the
    stack's own. At the end of the module the replacements are killed and a
    fresh one of each joins the stack. (Module scope: nameko's pytest plugin
    stops the consumers of every container started within a test, fixtures included.)"""
    started, stopped = {}, set()

    def index(name):
        return next(i for i, c in enumerate(stack.containers) if c.service_name == name)

    def stop(name):
        if name not in stopped:
            stack.containers[index(name)].stop()
            stopped.add(name)

    def start(name, **settings):
        stop(name)
        cls = stack.containers[index(name)].service_cls
        container = get_container_cls(stack.config)(cls, {**broker.as_process(stack.config, name), **settings})
        started.setdefault(name, []).append(container)
        container.start()
        return container

    yield SimpleNamespace(start=start, stop=stop)
    for name in stopped:
        for container in started.get(name, []):
            container.kill()
        cls = stack.containers[index(name)].service_cls
        fresh = get_container_cls(stack.config)(cls, broker.as_process(stack.config, name))
        fresh.start()
        stack.containers[index(name)] = fresh


@pytest.fixture(scope="module")
def replace_work_order_service(replace_service):
    """`start(**settings)`: another work order service (see replace_service)."""
    return lambda **settings: replace_service.start(WorkOrderService.name, **settings)
