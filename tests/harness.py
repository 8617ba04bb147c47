"""The whole MES as real processes for system tests: every process of
registry.processes() under the `mes run` supervisor, an HTTP client on the
gateway, process logs in a temp dir (their tails are printed by
tests/conftest.py when a test fails)."""
from pathlib import Path

import requests
import yaml

from mes_common import registry
from mes_common.db import make_engine
from mes_common.supervisor import Supervisor
from auth_service.testing import bearer
from mes_common.testing.fixtures import admin_url, empty_database, isolated_config, wait_until

ROOT = Path(__file__).resolve().parents[1]
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
