"""`make demo` on a running system, as a newcomer runs it: a populated plant
through the gateway; loading again changes nothing; and what it leaves is quiet:
no ERROR line in any process's log, `mes outbox status` exits 0 with every
outbox published (the traceability streams take every event)."""
import json
import os
import subprocess
import sys
import uuid

import pytest

from mes_common import infra
from mes_common.testing.fixtures import RUN_ID, create_test_vhost, wait_until
from tests.harness import ROOT, MesSystem, empty_databases, system_config


@pytest.fixture(scope="module")
def system(base_config, service_databases, cache_prefix, tmp_path_factory):
    vhost = f"mes_demo_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    create_test_vhost(vhost)
    running = None
    try:
        empty_databases(service_databases)
        config = system_config(base_config, f"amqp://guest:guest@127.0.0.1:5672/{vhost}", service_databases,
                               cache_prefix)
        running = MesSystem(config, tmp_path_factory.mktemp("demo")).start()
        yield running
    finally:
        if running is not None:
            running.stop()
        infra.delete_vhost(vhost)


def run(system, *command):
    env = {**os.environ, "MES_CONFIG": str(system.config_path), "MES_URL": system.base,
           "MES_ADMIN_PASSWORD": "harbour lantern quartz 1969",
           "MES_DEMO_STATE": str(system.config_path.parent / "demo")}   # the demo admin's authenticator
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    return result.returncode, result.stdout + result.stderr


def test_the_demo_loads_a_populated_plant_once_and_leaves_no_alarm(system):
    code, output = run(system, sys.executable, "tools/demo.py")
    assert code == 0, output
    assert "demo loaded" in output and "in progress" in output, output
    orders = system.get("/api/v1/work-orders").json()["items"]
    assert sorted(o["status"] for o in orders) == ["created", "in_progress"]
    holds = system.get("/api/v1/material/holds").json()["items"]
    assert [h["reason"] for h in holds] == ["supplier certificate under review"]

    code, output = run(system, sys.executable, "tools/demo.py")
    assert code == 0 and "nothing to do" in output, output
    assert len(system.get("/api/v1/work-orders").json()["items"]) == 2

    mes = str(ROOT / ".venv" / "bin" / "mes") if (ROOT / ".venv" / "bin" / "mes").exists() else "mes"

    def quiet():
        code, output = run(system, mes, "outbox", "status", "--json")
        assert code == 0, output  # nothing failing
        status = json.loads(output)
        return status if all(not s["pending"] for s in status.values()) else None
    # the traceability streams take every event of every source: nothing waits, failing or parked
    status = wait_until(quiet, timeout=15, interval=0.5, message="every outbox published")
    assert all(not s["failing"] and not s["parked"] for s in status.values()), status
    errors = [line for path in system.log_dir.glob("*.log") for line in path.read_text().splitlines()
              if '"level": "ERROR"' in line]
    assert not errors, "\n".join(errors[:5])
