import copy

import pytest

from mes_common import infra, migrations
from mes_common.db import make_engine
from mes_common.testing.fixtures import RUN_ID

PROBE = "mes_common.tests.probe"


@pytest.fixture(scope="session")
def probe_database_urls(pg_admin_url):
    """Two databases with the probe schema: the emitter's and the consumer's."""
    urls = {}
    try:
        for service in ("probe_emitter", "probe_consumer"):
            name = f"mes_{service}_test_{RUN_ID}"
            infra.create_database(pg_admin_url, name)
            urls[service] = infra.with_database(pg_admin_url, name)
            migrations.upgrade(PROBE, urls[service])
        yield urls
    finally:
        for url in urls.values():
            infra.drop_database(pg_admin_url, url.rsplit("/", 1)[1])


@pytest.fixture
def probe_engines(probe_database_urls):
    engines = {name: make_engine(url, pool_size=2) for name, url in probe_database_urls.items()}
    from sqlalchemy import text
    for engine in engines.values():
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE outbox, inbox, effect RESTART IDENTITY"))
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def probe_config(mes_config, probe_database_urls, probe_engines):
    config = copy.deepcopy(mes_config)
    config["DATABASE_URLS"].update(probe_database_urls)
    return config


@pytest.fixture
def probe_behaviour():
    from mes_common.tests.probe import services
    for key in ("fail_subjects", "permanent_subjects", "unavailable"):
        services.behaviour[key].clear()
    yield services.behaviour
    for key in ("fail_subjects", "permanent_subjects", "unavailable"):
        services.behaviour[key].clear()
