import pytest

from gateway.service import Gateway
from mes_common import registry
from auth_service.testing import bearer
from mes_common.testing.fixtures import registered_classes

AuthService, ResourceService = registered_classes("auth_service", "resource_service")


def _started(container_factory, service_cls, config):
    container = container_factory(service_cls, config)
    container.start()
    return container


@pytest.fixture
def gateway(mes_config, container_factory):
    return _started(container_factory, Gateway, mes_config)


@pytest.fixture
def resource_service(mes_config, container_factory):
    return _started(container_factory, ResourceService, mes_config)


@pytest.fixture
def auth_service(mes_config, container_factory):
    return _started(container_factory, AuthService, mes_config)


@pytest.fixture
def web_session(web_session, mes_config):
    """The platform's session on the gateway, signed in with every permission
    (`headers={"Authorization": None}` sends a request without it)."""
    web_session.headers["Authorization"] = bearer(mes_config)
    return web_session


@pytest.fixture
def other_services(mes_config, container_factory):
    """Every registered service but auth and resource (which have fixtures of their own),
    for tests that need the whole API (`@pytest.mark.usefixtures("other_services")`);
    each costs about a second to start."""
    return [_started(container_factory, registry.service_class(spec), mes_config) for spec in registry.SERVICES
            if spec.name not in ("auth_service", "resource_service")]


@pytest.fixture
def api(gateway, resource_service, auth_service, web_session):
    """The gateway with the auth and resource services behind it, driven over HTTP."""
    return web_session

