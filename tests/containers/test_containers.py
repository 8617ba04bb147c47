"""The MES image, for real: `make container-test` (not part of `make test`).

Every service and the gateway run as podman containers of the image the
Dockerfile builds, against this machine's PostgreSQL, RabbitMQ and Redis (a
vhost, databases and a cache prefix of their own), with the commands, settings
and security the Kubernetes manifests give them (mes_common.deploy): the
migration Jobs' and the broker Job's commands first, then each Deployment's init
container and server. The README's first session and shop-floor flow run
through the containerized gateway, with `mes` itself run in the image. One
service container is killed and its restart policy brings it back. Everything
started is removed at the end. (../shared/containers/README.md: what podman
needs on this machine.)
"""
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mes_common import broker, deploy, infra, registry
from mes_common.config import ROOT
from mes_common.testing.fixtures import free_port, wait_until

IMAGE = os.environ.get("MES_IMAGE", "localhost/mes-platform:dev")
PODMAN = ["podman"]
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
RUN_ID = secrets.token_hex(3)
PREFIX = f"mes-ct-{RUN_ID}"
STANDARDS = Path(os.environ.get("STANDARDS_DIR") or ROOT.parent / "shared" / "standards").resolve()

pytestmark = pytest.mark.skipif(os.environ.get("MES_CONTAINER_TEST") != "1",
                                reason="run by `make container-test` (builds the image, needs podman)")


def podman(*args, check=True, timeout=300):
    done = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args[:3])} …: {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


class Stack:
    """The containers of one run and what they share: env file, keys, config."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.gateway_port = free_port()
        self.vhost = f"mes_ct_{RUN_ID}"
        self.passwords = {p: secrets.token_urlsafe(12) for p in broker.processes()}
        self.databases = {spec.name: (f"mes_ct_{RUN_ID}_{broker.short_name(spec.name)}", secrets.token_urlsafe(12))
                          for spec in registry.SERVICES if spec.database}
        self.containers = []
        self.metrics_ports = {}

    def env(self):
        """What the ConfigMap and the Secrets give a pod, pointed at this machine's servers."""
        env = dict(deploy.SETTINGS)
        env.update({
            "AMQP_URI": f"amqp://127.0.0.1:5672/{self.vhost}",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "CACHE_PREFIX": f"mes_ct_{RUN_ID}",
            "GATEWAY_PORT": str(self.gateway_port),
            "GATEWAY_TLS": "false",
            "GATEWAY_TRUSTED_PROXY_HOPS": "0",
        })
        for process, password in self.passwords.items():
            env[broker.password_env(process)] = password
        for spec in registry.SERVICES:
            if spec.database:
                name, password = self.databases[spec.name]
                env[spec.database_env] = f"postgresql+psycopg2://{name}:{password}@127.0.0.1:5432/{name}"
        return env

    def write_env_file(self, extra=None):
        path = self.workdir / f"env-{secrets.token_hex(3)}"
        path.write_text("".join(f"{k}={v}\n" for k, v in {**self.env(), **(extra or {})}.items()))
        return path

    def mounts(self, process):
        """The volumes the pod of `process` mounts, from this machine's files."""
        keys = self.workdir / "keys"
        mounts = ["-v", f"{ROOT / 'config.yml'}:{deploy.CONFIG_PATH}:ro"]
        if process == "auth_service":
            mounts += ["-v", f"{keys / 'auth'}:{deploy.KEYS_DIR}:ro"]
        if process in ("auth_service", registry.GATEWAY.name):
            mounts += ["-v", f"{keys / 'public'}:{deploy.PUBLIC_KEY_DIR}:ro"]
        if process == "integration_service":
            mounts += ["-v", f"{keys / 'integration'}:{deploy.INTEGRATION_KEY_DIR}:ro"]
        if process in deploy.NEEDS_STANDARDS:
            mounts += ["-v", f"{STANDARDS}:{deploy.STANDARDS_DIR}:ro"]
        return mounts

    def security(self):
        return ["--read-only", "--tmpfs", "/tmp:rw,size=64m", "--user", "10001:10001", "--cap-drop", "ALL",
                "--security-opt", "no-new-privileges", "--network", "host", *LIMITS]

    def run_once(self, process, args, extra_env=None):
        """A Job's command: runs to completion, its output returned."""
        env_file = self.write_env_file(extra_env)
        done = podman("run", "--rm", *self.security(), "--env-file", str(env_file), *self.mounts(process),
                      IMAGE, *args, check=False, timeout=600)
        assert done.returncode == 0, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    def start(self, process, args):
        name = f"{PREFIX}-{process.replace('_', '-')}"
        self.metrics_ports[process] = port = free_port()
        env_file = self.write_env_file({"MES_METRICS_PORT": str(port), "MES_INSTANCE": name})
        podman("run", "-d", "--name", name, "--restart", "on-failure", *self.security(),
               "--env-file", str(env_file), *self.mounts(process), IMAGE, *args)
        self.containers.append(name)
        return name

    def remove(self):
        for name in self.containers:
            podman("rm", "-f", "-t", "5", name, check=False)


def container_of(stack, process):
    return f"{PREFIX}-{process.replace('_', '-')}"


def healthy(name):
    """The image's HEALTHCHECK, run by podman (no systemd timer here runs it on its own)."""
    return podman("healthcheck", "run", name, check=False, timeout=60).returncode == 0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("containers")
    os.chmod(workdir, 0o755)
    stack = Stack(workdir)
    keys = workdir / "keys"
    subprocess.run([str(Path(sys.executable).parent / "mes"), "generate-keys", "--out", str(keys / "auth")],
                   check=True, capture_output=True)
    (keys / "public").mkdir()
    (keys / "public" / "signing_key.pub.pem").write_bytes((keys / "auth" / "signing_key.pub.pem").read_bytes())
    (keys / "integration").mkdir()
    (keys / "integration" / "secrets.key").write_text(
        subprocess.run([sys.executable, "-c", "from cryptography.fernet import Fernet; "
                        "print(Fernet.generate_key().decode())"], capture_output=True, text=True).stdout)
    for path in keys.rglob("*"):   # the container user (10001) reads them, as from a mounted Secret
        os.chmod(path, 0o755 if path.is_dir() else 0o444)
    infra.create_vhost(stack.vhost)
    try:
        # what Kubernetes runs first: the broker's Job and each database's migration Job
        [logins] = [deploy.broker_logins_job()]
        admin_api = "http://guest:guest@127.0.0.1:15672"
        stack.run_once("broker", logins["spec"]["template"]["spec"]["containers"][0]["args"],
                       {"MES_RABBITMQ_API": admin_api,
                        "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{stack.vhost}"})
        for spec in registry.SERVICES:
            if spec.database:
                job = deploy.migration_job(spec)
                stack.run_once(spec.name, job["spec"]["template"]["spec"]["containers"][0]["args"],
                               {"MES_PG_ADMIN_URL": infra.pg_admin_url()})
        for spec in registry.processes():
            pod = deploy.deployment(spec)["spec"]["template"]["spec"]
            for init in pod.get("initContainers", []):
                stack.run_once(spec.name, init["args"])
            stack.start(spec.name, pod["containers"][0]["args"])
        wait_until(lambda: all(healthy(name) for name in stack.containers), timeout=180, interval=2,
                   message="every container healthy")
        wait_until(lambda: requests.get(f"http://127.0.0.1:{stack.gateway_port}/ready", timeout=5).status_code == 200,
                   timeout=60, interval=1, message="/ready")
        yield stack
    finally:
        for name in stack.containers:   # what happened, for the test's report
            logs = podman("logs", "--tail", "15", name, check=False)
            print(f"--- {name}\n{logs.stdout[-2000:]}{logs.stderr[-2000:]}")
        stack.remove()
        infra.delete_vhost(stack.vhost)
        for name, _ in stack.databases.values():
            infra.drop_database(infra.pg_admin_url(), name)


def test_the_image_is_small_runs_as_a_user_and_carries_no_compiler():
    [image] = json.loads(podman("image", "inspect", IMAGE).stdout)
    assert image["Config"]["User"] == "mes"
    assert image["Healthcheck"]["Test"][-1] == "health"   # built with --format docker
    size_mb = image["Size"] / 1e6
    print(f"image {IMAGE}: {size_mb:.0f} MB")
    assert size_mb < 600
    probe = podman("run", "--rm", *LIMITS, "--entrypoint", "sh", IMAGE, "-c",
                   "command -v gcc cc g++ make || echo none", check=False)
    assert probe.stdout.strip() == "none", probe.stdout


def readme_flow(stack, first, last):
    """The README's ```bash blocks from section `first` to `last`, as a new user would paste them,
    pointed at the containerized gateway, with `mes` run in the image."""
    text = (ROOT / "README.md").read_text()
    part = text[text.index(first):text.index(last)]
    script = "\n".join(re.findall(r"```bash\n(.*?)```", part, re.S))
    mes = stack.workdir / "mes"
    env_file = stack.write_env_file()
    mes.write_text("#!/bin/sh\n" + shlex.join([*PODMAN, "run", "--rm", "-i", *stack.security(), "--env-file",
                                               str(env_file), "-e", "MES_ADMIN_PASSWORD", *stack.mounts("cli"),
                                               IMAGE, "mes"]) + ' "$@"\n')
    mes.chmod(0o755)
    script = (script.replace("127.0.0.1:8000", f"127.0.0.1:{stack.gateway_port}")
              .replace(".venv/bin/mes ", f"{mes} ").replace(".venv/bin/python ", f"{sys.executable} "))
    return subprocess.run(["bash", "-c", "set -u\n" + script], capture_output=True, text=True, timeout=600,
                          cwd=stack.workdir)


def test_the_readme_first_session_and_shop_floor_run_through_the_containers(stack):
    done = readme_flow(stack, "## A first session (curl)", "## People, gauges and shifts")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    # the work order ran from release to output and was closed; material made its serials
    assert '"status":"closed"' in output and "WO-000001-0005" in output, output[-3000:]


def test_a_killed_service_container_is_restarted_by_its_policy(stack):
    name = container_of(stack, "material_service")
    [state] = json.loads(podman("inspect", name).stdout)
    before = state["RestartCount"]
    # its process dies as in a crash or the OOM killer (`podman kill` would be a stop asked for: no restart)
    os.kill(state["State"]["Pid"], signal.SIGKILL)
    wait_until(lambda: json.loads(podman("inspect", name).stdout)[0]["RestartCount"] > before, timeout=60,
               interval=1, message="restarted")
    wait_until(lambda: healthy(name), timeout=120, interval=2, message="healthy again")
    wait_until(lambda: requests.get(f"http://127.0.0.1:{stack.gateway_port}/ready", timeout=5).status_code == 200,
               timeout=60, interval=1, message="/ready again")


def test_every_container_answers_metrics(stack):
    for process, port in stack.metrics_ports.items():
        response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert response.status_code == 200 and "process_cpu_seconds_total" in response.text, process
