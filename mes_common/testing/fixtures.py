"""pytest fixtures for MES tests against the real servers, isolated per run.

Each test session gets its own PostgreSQL databases (built by the services'
migrations), each test its own RabbitMQ vhost, and the session its own Redis
key prefix; all are removed at the end. Replaces nameko's fixtures that need
the management plugin (rabbit_config) or old Werkzeug (web_session).
"""
import contextlib
import copy
import tempfile
from pathlib import Path
import secrets
import shutil
import socket
import time
from types import SimpleNamespace

import pytest
import redis
import requests
from nameko.containers import get_container_cls
from sqlalchemy import text
from sqlalchemy.engine import make_url

from mes_common import broker, infra, migrations, registry
from mes_common.config import load_config
from mes_common.db import make_engine

RUN_ID = secrets.token_hex(4)
# the access-token key pair of this test run (generated on first use, see auth_service.contract.keys)
KEY_DIR = Path(tempfile.gettempdir()) / f"mes-test-keys-{RUN_ID}"
# this run's broker logins (mes_test_<process>, passwords made for the run): every test
# process connects as a login of its own, with the permissions `mes infra logins` gives
TEST_BROKER = {"LOGIN_PREFIX": "mes_test_", "PASSWORDS_FILE": str(KEY_DIR / "broker-passwords.json")}
_logins_made_on = set()   # brokers (None: the local one) where this run's logins exist


@pytest.fixture(scope="session", autouse=True)
def _remove_key_dir():
    yield
    shutil.rmtree(KEY_DIR, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def base_config():
    return load_config()


@pytest.fixture(scope="session")
def pg_admin_url():
    return infra.pg_admin_url()


@pytest.fixture(scope="session")
def service_databases(pg_admin_url):
    """{service name: URL} of migrated throwaway databases, one per service, as
    `mes db create` and `mes migrate` make them: the services connect as their
    own role (this run's), which owns nothing and may only INSERT and SELECT
    the audit trail; `admin_url()` gives the superuser's URL of the same database."""
    urls, roles = {}, []
    try:
        for spec in registry.SERVICES:
            if spec.database is None:
                continue
            name = role = f"{spec.database}_test_{RUN_ID}"
            url = make_url(pg_admin_url).set(username=role, password=f"test-{RUN_ID}", database=name) \
                .render_as_string(hide_password=False)
            roles.append(role)
            result = infra.ensure_service_database(pg_admin_url, url, spec.name)
            assert result.error is None, result.error
            migrations.upgrade(spec.name, url, admin_url=infra.with_database(pg_admin_url, name))
            urls[spec.name] = url
        yield urls
    finally:
        for url in urls.values():
            infra.drop_database(pg_admin_url, url.rsplit("/", 1)[1])
        for role in roles:
            infra.drop_role(pg_admin_url, infra.owner_role(role))
            infra.drop_role(pg_admin_url, role)


def admin_url(url):
    """The superuser's URL of the database of `url` (to empty it, or tamper with it in a test)."""
    return infra.with_database(infra.pg_admin_url(), url.rsplit("/", 1)[1])


@pytest.fixture(scope="session")
def _engines(service_databases):
    """Superuser engines on the service databases (emptying, tampering, asserting)."""
    engines = {name: make_engine(admin_url(url), pool_size=2) for name, url in service_databases.items()}
    yield engines
    for engine in engines.values():
        engine.dispose()


def empty_database(engine):
    """Empty every table but alembic_version. The audit trail refuses
    TRUNCATE (trigger); as the superuser, this transaction alone runs with
    triggers off (session_replication_role)."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        tables = conn.execute(text(   # public, and a read model's generations (schemas of their own)
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
            "AND tablename <> 'alembic_version'")).scalars().all()
        if tables:
            conn.execute(text("TRUNCATE {} RESTART IDENTITY CASCADE".format(", ".join(tables))))


@pytest.fixture
def clean_databases(_engines):
    """Every service database emptied (migrations stay): each test starts from nothing."""
    for engine in _engines.values():
        empty_database(engine)
    return _engines


@pytest.fixture
def db_engines(clean_databases):
    return clean_databases


def create_test_vhost(vhost, node=None):
    """`vhost` on the local broker (or on a ThrowawayRabbit `node`), with this
    run's logins (made on first use) and their permissions there, as `mes
    infra logins` makes them for a deployment, and full rights for guest (the
    tests' administrator): one rabbitmqctl call."""
    config = {"BROKER": TEST_BROKER}
    where = node.nodename if node is not None else None
    passwords = None if where in _logins_made_on else broker.ensure_passwords(config)
    docs = broker.definitions(config, vhost, passwords, broker.gateway_targets())
    if node is not None:
        node.import_definitions(docs)
    else:
        infra.import_definitions(docs)
    _logins_made_on.add(where)


@pytest.fixture
def rabbit_vhost():
    vhost = f"mes_test_{RUN_ID}_{secrets.token_hex(3)}"
    create_test_vhost(vhost)
    yield vhost
    _close_pooled_connections(vhost)
    infra.delete_vhost(vhost)


def _close_pooled_connections(vhost):
    from kombu.pools import connections
    for key, pool in list(connections.items()):
        if isinstance(key, tuple) and len(key) > 4 and key[4] == vhost:
            pool.force_close_all()


@pytest.fixture
def rabbit_config(rabbit_vhost):
    """Overrides nameko's fixture (which needs the management API)."""
    return {"AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{rabbit_vhost}", "vhost": rabbit_vhost}


@pytest.fixture(scope="session")
def cache_prefix(base_config):
    prefix = f"mes_test_{RUN_ID}"
    yield prefix
    _delete_keys(base_config["REDIS_URL"], prefix)


def _delete_keys(redis_url, prefix):
    client = redis.Redis.from_url(redis_url)
    try:
        batch = []
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
    finally:
        client.close()


def isolated_config(base_config, amqp_uri, service_databases, cache_prefix, log_level=None):
    """config.yml as a test process sees it: own broker or vhost (`amqp_uri`,
    made by `create_test_vhost`) on this run's `mes_test_cli` login (each process
    `mes run` starts takes its own), databases and cache prefix, short retry
    delays and timeouts, a free gateway port. Logging is left out, or kept
    (JSON lines) at `log_level` for real processes."""
    config = copy.deepcopy(base_config)
    config["AMQP_URI"] = amqp_uri
    config["BROKER"] = dict(TEST_BROKER)
    if broker.password(config, broker.CLI) is None:
        raise RuntimeError("this run's broker logins are not made yet: create the vhost with create_test_vhost")
    config["AMQP_URI"] = broker.process_uri(config, broker.CLI)
    config["DATABASE_URLS"] = {**config["DATABASE_URLS"], **service_databases}
    config["CACHE_PREFIX"] = cache_prefix
    config["RPC_TIMEOUT"] = 5
    config["READY_TIMEOUT"] = 0.5
    config["EVENTS"] = {**config.get("EVENTS", {}), "RETRY_DELAYS_MS": [100, 200],
                        "SWEEP_INTERVAL": 0.2, "PUBLISH_BACKOFF": 0.2, "PUBLISH_BACKOFF_MAX": 1.0}
    config["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{free_port()}"
    config["INTEGRATION"] = {**config.get("INTEGRATION", {}), "SECRETS_KEY_FILE": str(KEY_DIR / "integration.key")}
    config["AUTH"] = {**config.get("AUTH", {}), "PRIVATE_KEY_FILE": str(KEY_DIR / "signing_key.pem"),
                      "PUBLIC_KEY_FILE": str(KEY_DIR / "signing_key.pub.pem"), "GENERATE_KEYS": True}
    if log_level is None or not config.get("LOGGING"):
        config.pop("LOGGING", None)
    else:
        config["LOGGING"].setdefault("root", {})["level"] = log_level
    return config


@contextlib.contextmanager
def service_stack(label, service_classes, *, base_config, service_databases, engines, cache_prefix,
                  empty=None, configure=None, own_cache_prefix=False):
    """Nameko containers of `service_classes` on a vhost of their own, for a
    module- or package-scoped fixture: a vhost, emptied databases and started
    containers cost seconds, so the tests of a module share one stack (and
    each makes data of its own).

    Empties the databases named in `empty` (default: those of the services),
    builds the config with `isolated_config`, lets `configure(config)` change
    it, then starts the containers in order. With `own_cache_prefix`, the Redis
    prefix is the stack's own (other modules' counters and revocations stay
    apart) and its keys are deleted at the end. Yields
    SimpleNamespace(config, vhost, amqp_uri, containers); at the end kills the
    containers in reverse order and deletes the vhost."""
    vhost = f"mes_test_{RUN_ID}_{label}_{secrets.token_hex(3)}"
    amqp_uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    prefix = f"{cache_prefix}_{label}{secrets.token_hex(2)}" if own_cache_prefix else cache_prefix
    create_test_vhost(vhost)
    containers = []
    try:
        for name in (empty if empty is not None else [c.name for c in service_classes if c.name in engines]):
            empty_database(engines[name])
        config = isolated_config(base_config, amqp_uri, service_databases, prefix)
        if configure is not None:
            configure(config)
        for cls in service_classes:   # each on its own broker login, as under `mes run`
            containers.append(get_container_cls(config)(cls, broker.as_process(config, cls.name)))
            containers[-1].start()
        yield SimpleNamespace(config=config, vhost=vhost, amqp_uri=amqp_uri, containers=containers)
    finally:
        for container in reversed(containers):
            try:
                container.kill()
            except Exception:  # pragma: no cover - one container's failure must not leak the rest
                pass
        _close_pooled_connections(vhost)
        infra.delete_vhost(vhost)
        if own_cache_prefix:
            _delete_keys(base_config["REDIS_URL"], prefix)


@pytest.fixture
def mes_config(base_config, rabbit_config, service_databases, db_engines, cache_prefix):
    return isolated_config(base_config, rabbit_config["AMQP_URI"], service_databases, cache_prefix)


@pytest.fixture
def web_session(mes_config):
    """requests session on the gateway under test (nameko's needs Werkzeug < 3)."""
    base = f"http://{mes_config['WEB_SERVER_ADDRESS']}"

    class Session(requests.Session):
        def request(self, method, url, *args, **kwargs):
            kwargs.setdefault("timeout", 15)
            return super().request(method, base + url, *args, **kwargs)

    with Session() as session:
        yield session


def wait_until(predicate, timeout=10.0, interval=0.05, message="condition"):
    """Poll `predicate` until truthy; return its value or fail with `message`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def registered_classes(*names):
    """The nameko service classes of registered services, by name (tests outside
    a service start it through the registry, not by importing its module)."""
    return tuple(registry.service_class(registry.service(name)) for name in names)
