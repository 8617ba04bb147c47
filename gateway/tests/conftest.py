import pytest

from gateway.service import Gateway
from resource_service.service import ResourceService


@pytest.fixture
def gateway(mes_config, container_factory):
    container = container_factory(Gateway, mes_config)
    container.start()
    return container


@pytest.fixture
def resource_service(mes_config, container_factory):
    container = container_factory(ResourceService, mes_config)
    container.start()
    return container


@pytest.fixture
def api(gateway, resource_service, web_session):
    """The gateway with the resource service behind it, driven over HTTP."""
    return web_session
