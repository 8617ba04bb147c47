"""The process supervisor behind `mes run`, with real nameko processes.

Stand-in services (a module with a `ping` RPC) live in a temp dir; they talk
to RabbitMQ on a vhost of their own, created with rabbitmqctl and deleted at
the end.
"""
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import yaml

from mes_common.registry import ServiceSpec
from mes_common.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[2]

ALPHA = """
from nameko.rpc import rpc


class Alpha:
    name = "sup_alpha"

    @rpc
    def ping(self):
        return {"service": self.name, "ok": True}
"""

# Ignores SIGTERM once started (nameko installs its own handler before
# starting the service; this dependency replaces it), like a nameko process
# that hangs on shutdown.
STUBBORN = """
import signal

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc


class IgnoreSigterm(DependencyProvider):
    def start(self):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


class Stubborn:
    name = "sup_stubborn"
    ignore_sigterm = IgnoreSigterm()

    @rpc
    def ping(self):
        return {"service": self.name, "ok": True}
"""

RUNNER = """
import json, sys
from mes_common.registry import ServiceSpec
from mes_common.supervisor import Supervisor

specs = [ServiceSpec(name, name, None, None) for name in sys.argv[2:]]
supervisor = Supervisor(specs, sys.argv[1], stop_timeout=2)
supervisor.start()
print("PIDS " + json.dumps({n: s["pid"] for n, s in supervisor.status().items()}), flush=True)
sys.exit(supervisor.run_forever())
"""


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def vhost():
    name = f"mes_supervisor_test_{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        rabbitmqctl("delete_vhost", name)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, vhost):
    path = tmp_path_factory.mktemp("supervisor")
    (path / "sup_alpha.py").write_text(textwrap.dedent(ALPHA))
    (path / "sup_stubborn.py").write_text(textwrap.dedent(STUBBORN))
    (path / "sup_runner.py").write_text(textwrap.dedent(RUNNER))
    config = {
        "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        "max_workers": 2,
        "LOGGING": {"version": 1, "disable_existing_loggers": False,
                    "handlers": {"console": {"class": "logging.StreamHandler"}},
                    "root": {"level": "WARNING", "handlers": ["console"]}},
    }
    (path / "config.yml").write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def config(workdir):
    return yaml.safe_load((workdir / "config.yml").read_text())


@pytest.fixture
def child_env(workdir):
    pythonpath = [str(workdir), str(ROOT)]
    if os.environ.get("PYTHONPATH"):
        pythonpath.append(os.environ["PYTHONPATH"])
    return {"PYTHONPATH": os.pathsep.join(pythonpath)}


@pytest.fixture
def make_supervisor(workdir, child_env):
    made = []

    def make(*names, **kwargs):
        specs = [ServiceSpec(name, name, None, None) for name in names]
        supervisor = Supervisor(specs, workdir / "config.yml", env=child_env,
                                out=kwargs.pop("out", io.StringIO()), **kwargs)
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        supervisor.stop()


def ping(config, name, timeout):
    from mes_common.rpc import ClusterRpcProxy

    with ClusterRpcProxy(config, timeout=timeout) as proxy:
        return getattr(proxy, name).ping()


def wait_serving(config, name, within=60):
    deadline = time.monotonic() + within
    while True:
        try:
            return ping(config, name, timeout=min(5, max(0.5, deadline - time.monotonic())))
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def gone(pid):
    """Dead, or a zombie nobody has reaped yet."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def wait_gone(pids, within):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(gone(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return all(gone(pid) for pid in pids)


def test_sigkilled_child_serves_again_within_5_seconds(make_supervisor, config):
    out = io.StringIO()
    supervisor = make_supervisor("sup_alpha", out=out).start()
    assert wait_serving(config, "sup_alpha") == {"service": "sup_alpha", "ok": True}
    old_pid = supervisor.status()["sup_alpha"]["pid"]

    killed_at = time.monotonic()
    os.kill(old_pid, signal.SIGKILL)
    # the RPC queue is durable: this call waits there until the new process consumes it
    reply = ping(config, "sup_alpha", timeout=10)
    elapsed = time.monotonic() - killed_at

    print(f"\nSIGKILLed sup_alpha pid={old_pid}: serving again after {elapsed:.2f}s")
    assert reply == {"service": "sup_alpha", "ok": True}
    assert elapsed < 5
    status = supervisor.status()["sup_alpha"]
    assert status["restarts"] == 1 and status["alive"] and status["pid"] != old_pid
    assert status["last_exit"] == -signal.SIGKILL
    log = out.getvalue()
    assert f"sup_alpha exited pid={old_pid} signal SIGKILL" in log
    assert f"sup_alpha restarted pid={status['pid']}" in log


def test_stop_sigkills_a_child_that_ignores_sigterm(make_supervisor, config):
    out = io.StringIO()
    # nameko itself needs ~2.5 s to shut down on SIGTERM
    supervisor = make_supervisor("sup_alpha", "sup_stubborn", out=out, stop_timeout=5).start()
    wait_serving(config, "sup_alpha")
    wait_serving(config, "sup_stubborn")
    pids = {name: s["pid"] for name, s in supervisor.status().items()}

    started = time.monotonic()
    supervisor.stop()
    elapsed = time.monotonic() - started
    print(f"\nstop() took {elapsed:.2f}s (stop timeout 5s)")

    assert 5 <= elapsed < 5 + 1.5
    assert all(gone(pid) for pid in pids.values())
    status = supervisor.status()
    assert status["sup_stubborn"]["last_exit"] == -signal.SIGKILL
    assert status["sup_alpha"]["last_exit"] == 0, out.getvalue()  # it honoured SIGTERM
    assert not any(s["alive"] for s in status.values())
    assert "sup_stubborn pid=%d still running after 5s, sending SIGKILL" % pids["sup_stubborn"] in out.getvalue()
    assert supervisor.wait(0)


def test_output_is_prefixed_and_logged(make_supervisor, config, workdir, tmp_path):
    out = io.StringIO()
    supervisor = make_supervisor("sup_alpha", out=out, log_dir=tmp_path / "logs",
                                 command=lambda cfg, mod: [sys.executable, "-c",
                                                           'print(\'{"msg": "hello"}\'); import time; time.sleep(30)'])
    supervisor.start()
    deadline = time.monotonic() + 10
    while 'sup_alpha | {"msg": "hello"}' not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    supervisor.stop()
    assert 'sup_alpha | {"msg": "hello"}\n' in out.getvalue()
    assert (tmp_path / "logs" / "sup_alpha.log").read_text() == '{"msg": "hello"}\n'


def test_crash_loop_backs_off(make_supervisor):
    supervisor = make_supervisor("sup_alpha", backoff_initial=0.2, backoff_max=0.8,
                                 command=lambda cfg, mod: [sys.executable, "-c", "raise SystemExit(3)"])
    supervisor.start()
    time.sleep(3)
    status = supervisor.status()["sup_alpha"]
    supervisor.stop()  # may kill a child just restarted: read the exit code before
    # immediate, then 0.2, 0.4, 0.8, 0.8 ... s: a handful in 3 s, not hundreds
    assert 3 <= status["restarts"] <= 8, status
    assert status["last_exit"] == 3


def test_supervisor_death_leaves_no_child(workdir, child_env, config, tmp_path):
    log = open(tmp_path / "supervisor.out", "w+")
    env = dict(os.environ, **child_env)
    proc = subprocess.Popen([sys.executable, str(workdir / "sup_runner.py"), str(workdir / "config.yml"),
                             "sup_alpha", "sup_stubborn"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT))
    pids = {}
    try:
        deadline = time.monotonic() + 30
        while not pids and time.monotonic() < deadline:
            for line in (tmp_path / "supervisor.out").read_text().splitlines():
                if line.startswith("PIDS "):
                    pids = json.loads(line[5:])
            time.sleep(0.1)
        assert set(pids) == {"sup_alpha", "sup_stubborn"}, (tmp_path / "supervisor.out").read_text()
        wait_serving(config, "sup_alpha")
        wait_serving(config, "sup_stubborn")  # has started ignoring SIGTERM
        assert not any(gone(pid) for pid in pids.values())

        proc.kill()
        proc.wait(10)
        killed_at = time.monotonic()
        assert wait_gone(pids.values(), within=5), {p: gone(p) for p in pids.values()}
        print(f"\nsupervisor SIGKILLed: children gone after {time.monotonic() - killed_at:.2f}s")
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in pids.values():
            if not gone(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        log.close()
