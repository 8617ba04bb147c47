"""The whole MES as real processes for system tests: every process of
registry.processes() under the `mes run` supervisor, an HTTP client on the
gateway, process logs in a temp dir (their tails are printed by
tests/conftest.py when a test fails)."""
import contextlib
import uuid
from pathlib import Path
from types import SimpleNamespace

import requests
import yaml

from auth_service import testing
from auth_service.testing import bearer, create_admin
from mes_common import infra, registry
from mes_common.db import make_engine
from mes_common.supervisor import Supervisor
from mes_common.testing.fixtures import (RUN_ID, admin_url, create_test_vhost, empty_database, isolated_config,
                                         wait_until)

ROOT = Path(__file__).resolve().parents[1]
API = "/api/v1"
NODES = "/api/v1/resource/nodes"

live_systems = []


# ------------------------------------------------------------------ the system

def system_config(base_config, amqp_uri, service_databases, cache_prefix):
    """What the `mes_config` fixture builds, for a class-scoped system; logging
    as in config.yml (JSON lines) at WARNING."""
    return isolated_config(base_config, amqp_uri, service_databases, cache_prefix, log_level="WARNING")


class MesSystem:
    """registry.processes() under a Supervisor, plus an HTTP client on the gateway."""

    def __init__(self, config, workdir):
        self.config = config
        self.base = f"http://{config['WEB_SERVER_ADDRESS']}"
        self.log_dir = Path(workdir) / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.config_path = Path(workdir) / "config.yml"
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        self._out = open(self.log_dir / "supervisor.out", "a", encoding="utf-8")
        self.supervisor = Supervisor(registry.processes(), self.config_path, log_dir=self.log_dir,
                                     stop_timeout=5, cwd=str(ROOT), out=self._out)
        self.http = requests.Session()
        self.http.headers["Authorization"] = bearer(config)  # an administrator's access token
        self.state = {}

    def start(self, timeout=60):
        live_systems.append(self)
        self.supervisor.start()
        try:
            wait_until(lambda: self._ready(), timeout=timeout, interval=0.2, message="/ready 200")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log_tail()}") from None
        return self

    def _ready(self):
        try:
            return self.get("/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self):
        try:
            self.supervisor.stop()
        finally:
            self.http.close()
            self._out.close()
            if self in live_systems:
                live_systems.remove(self)

    # HTTP, as a UI would
    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 15)
        return self.http.request(method, self.base + path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def create(self, **body):
        response = self.post(NODES, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    # supervisor
    def status(self):
        return self.supervisor.status()

    def restarts(self):
        return {name: s["restarts"] for name, s in self.status().items()}

    def log_tail(self, lines=30):
        out = []
        for path in sorted(self.log_dir.glob("*")):
            text_lines = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"----- {path.name} (last {len(text_lines)} lines)\n" + "\n".join(text_lines))
        return "\n".join(out)


# ------------------------------------------------------------------- helpers

def empty_databases(service_databases):
    for url in service_databases.values():
        engine = make_engine(admin_url(url), pool_size=1)
        try:
            empty_database(engine)
        finally:
            engine.dispose()


# ------------------------------------------------------------ people at the gateway

INITIAL_PASSWORD = "correct horse battery staple 42"
PASSWORD = "tangerine submarine orchestra 77"


class Person:
    """Someone signed in at the gateway: requests carry their access token."""

    def __init__(self, system, token, user_id, name, signature=None):
        self.system, self.token, self.id, self.name = system, token, user_id, name
        self.signature = signature   # the credentials they type to sign a record

    def request(self, method, path, expect=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        response = self.system.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 500, f"{method} {path}: {response.status_code} {response.text[:500]}"
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text[:800]}"
            return response.json() if response.content else None
        return response

    def get(self, path, expect=200, **kwargs):
        return self.request("GET", path, expect, **kwargs)

    def post(self, path, expect=200, **kwargs):
        return self.request("POST", path, expect, **kwargs)

    def put(self, path, expect=200, **kwargs):
        return self.request("PUT", path, expect, **kwargs)

    def patch(self, path, expect=200, **kwargs):
        return self.request("PATCH", path, expect, **kwargs)


def sign_in(system, username, password, **extra):
    tokens, _totp, codes = testing.sign_in(system.post, username, password, **extra)
    token = tokens["access_token"]
    me = system.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    password = extra.get("new_password") or password
    return Person(system, token, me["id"], me["display_name"],
                  {"username": username, "password": password, **({"totp": codes[0]} if codes else {})})


def hire(system, admin, role, display_name):
    username = f"{role.replace('_', '')}{uuid.uuid4().hex[:6]}"
    admin.post(f"{API}/auth/users", 201, json={"username": username, "display_name": display_name,
                                                "password": INITIAL_PASSWORD, "roles": [role]})
    return sign_in(system, username, INITIAL_PASSWORD, new_password=PASSWORD)


ADMIN_PASSWORD = "granite lighthouse marmalade 913"


@contextlib.contextmanager
def running_system(label, base_config, service_databases, cache_prefix, tmp_path_factory, configure=None):
    """Every process on a vhost of its own over emptied databases, an administrator signed in:
    SimpleNamespace(system, engines, admin, amqp_uri); all stopped and removed at the end."""
    vhost = f"mes_{label}_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    create_test_vhost(vhost)
    amqp_uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    system, engines = None, {}
    try:
        empty_databases(service_databases)
        config = system_config(base_config, amqp_uri, service_databases, cache_prefix)
        if configure is not None:
            configure(config)
        system = MesSystem(config, tmp_path_factory.mktemp(label)).start()
        system.http.headers.pop("Authorization", None)  # people sign in
        system.amqp_uri = amqp_uri
        engines = {name: make_engine(url, pool_size=1) for name, url in service_databases.items()}
        admin_user = create_admin(config, username="chief", password=ADMIN_PASSWORD)
        admin = sign_in(system, admin_user["username"], ADMIN_PASSWORD)
        yield SimpleNamespace(system=system, engines=engines, admin=admin, amqp_uri=amqp_uri)
    finally:
        if system is not None:
            system.stop()
        for engine in engines.values():
            engine.dispose()
        infra.delete_vhost(vhost)
