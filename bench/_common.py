"""Shared helpers of the benchmarks in bench/ (not a benchmark: `make bench` skips `_*.py`).

Each benchmark builds its own isolated world and removes it at the end:

- a RabbitMQ vhost (`mes_bench_<id>`, created and deleted with rabbitmqctl),
- throwaway PostgreSQL databases, built by the services' Alembic migrations,
- a Redis key prefix (`mes_bench_<id>`), its keys deleted with SCAN,
- the nameko services as real OS processes
  (`python -m nameko run --config <tmp yaml> module:Class`, PYTHONPATH = the
  repository + a temp dir holding the benchmark's stand-in services), so the
  load generator never shares an event loop with the services measured.

Figures only: a benchmark prints its table and one summary line per goal
(PASS/MISS as information) and exits 0 either way.
"""
from __future__ import annotations

import argparse
import copy
import ctypes
import ctypes.util
import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from mes_common import infra, migrations  # noqa: E402
from mes_common.config import load_config  # noqa: E402


# ------------------------------------------------------------------ arguments

def parse_args(description, **extra):
    """`--quick` for a short run, plus per-benchmark options (name=(type, default, help))."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short run (smoke test of the benchmark)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (configs, process logs)")
    for name, (type_, default, help_) in extra.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type_, default=default, help=help_)
    return parser.parse_args()


# ------------------------------------------------------------------ statistics

def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of a list of numbers."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(seconds):
    """p50/p90/p99/max/mean in milliseconds of latencies given in seconds."""
    ms = [s * 1000.0 for s in seconds]
    if not ms:
        return {"n": 0, "p50": float("nan"), "p90": float("nan"), "p99": float("nan"),
                "max": float("nan"), "mean": float("nan")}
    return {"n": len(ms), "p50": percentile(ms, 50), "p90": percentile(ms, 90), "p99": percentile(ms, 99),
            "max": max(ms), "mean": statistics.fmean(ms)}


def ratio(a, b):
    return a / b if b else float("nan")


# ------------------------------------------------------------------ output

def table(headers, rows, title=None):
    """Print a plain aligned table (numbers right-aligned)."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h))
              for i, h in enumerate(headers)]
    if title:
        print(f"\n{title}")
    line = "  ".join(str(h).ljust(w) if i == 0 else str(h).rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))
    print(line)
    print("-" * len(line))
    for row in cells:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    sys.stdout.flush()


def _fmt(value):
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def goal(name, value, op, target, unit=""):
    """One summary line: `GOAL <name>: <value> <op> <target> PASS|MISS` (information only)."""
    ok = (value <= target) if op == "<=" else (value >= target) if op == ">=" else (value == target)
    if isinstance(value, float) and math.isnan(value):
        ok = False
    shown = _fmt(value) if not isinstance(value, float) else f"{value:.3f}".rstrip("0").rstrip(".")
    print(f"GOAL {name}: {shown}{unit} (goal {op} {target}{unit}) {'PASS' if ok else 'MISS'}")
    sys.stdout.flush()
    return ok


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------ ports

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ processes

_libc = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:  # pragma: no cover
        _libc = None


def _die_with_parent():
    """preexec_fn: a service process dies with the benchmark (even on kill -9)."""
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


class Process:
    def __init__(self, name, popen, log_path):
        self.name, self.popen, self.log_path = name, popen, log_path

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def tail(self, lines=30):
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout=10.0):
        if not self.alive():
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(5)


def cpu_seconds(pid):
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


# ------------------------------------------------------------------ the isolated world

class BenchEnv:
    """Isolated vhost, databases, Redis prefix, temp dir and service processes.

        with BenchEnv("rpc_echo") as env:
            env.write_module("echo_services", SOURCE)
            cfg = env.write_config("services", max_workers=10)
            env.start("plain_echo", "echo_services:PlainEcho", cfg)
            env.wait_rpc("plain_echo")
    """

    def __init__(self, name, keep=False):
        self.name = name
        self.run_id = secrets.token_hex(3)
        self.keep = keep
        self.tmp = Path(tempfile.mkdtemp(prefix=f"mes_bench_{name}_"))
        self.vhost = f"mes_bench_{name}_{self.run_id}"
        self.prefix = f"mes_bench_{name}_{self.run_id}"
        self.pg_admin_url = infra.pg_admin_url()
        self.base_config = load_config()
        self.amqp_uri = self._amqp_uri(self.vhost)
        self.databases = {}      # service name -> url
        self.processes = []
        self._vhost_created = False

    # -- setup
    def __enter__(self):
        signal.signal(signal.SIGTERM, self._on_signal)
        log(f"isolated world: vhost {self.vhost}, redis prefix {self.prefix}, temp dir {self.tmp}")
        infra.create_vhost(self.vhost)
        self._vhost_created = True
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def _on_signal(self, signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    def _amqp_uri(self, vhost):
        base = self.base_config["AMQP_URI"]
        host, port, user, _ = infra.amqp_parts(base)
        from urllib.parse import urlsplit
        password = urlsplit(base).password or "guest"
        return f"amqp://{user}:{password}@{host}:{port}/{vhost}"

    def create_database(self, service_name, migrations_module):
        """A throwaway database for `service_name`, built by `migrations_module`'s migrations."""
        db = f"mes_bench_{service_name}_{self.run_id}"
        infra.create_database(self.pg_admin_url, db)
        url = infra.with_database(self.pg_admin_url, db)
        self.databases[service_name] = url
        migrations.upgrade(migrations_module, url)
        return url

    def config(self, **overrides):
        """config.yml as the benchmark's processes see it (isolated vhost, databases, prefix)."""
        config = copy.deepcopy(self.base_config)
        config["AMQP_URI"] = self.amqp_uri
        config["DATABASE_URLS"] = {**config.get("DATABASE_URLS", {}), **self.databases}
        config["CACHE_PREFIX"] = self.prefix
        config.update(overrides)
        return config

    def write_config(self, label, **overrides):
        path = self.tmp / f"{label}.yml"
        path.write_text(yaml.safe_dump(self.config(**overrides), sort_keys=False))
        return path

    def write_module(self, module_name, source):
        (self.tmp / f"{module_name}.py").write_text(textwrap.dedent(source).lstrip())

    def start(self, name, target, config_path, extra_env=None):
        """`python -m nameko run --config <config_path> <target>` as its own process group."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(self.tmp)] +
                                            ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env["PYTHONUNBUFFERED"] = "1"
        env.update(extra_env or {})
        log_path = self.tmp / f"{name}.log"
        out = open(log_path, "ab")
        popen = subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config", str(config_path), target],
            cwd=str(self.tmp), env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent)
        out.close()
        proc = Process(name, popen, log_path)
        self.processes.append(proc)
        return proc

    def _check_alive(self):
        for proc in self.processes:
            if not proc.alive():
                raise RuntimeError(f"process {proc.name} exited ({proc.popen.returncode}); its log:\n{proc.tail()}")

    def wait_rpc(self, service_name, timeout=60.0):
        """Until the service consumes its RPC queue."""
        from kombu import Connection
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                with Connection(self.amqp_uri, connect_timeout=2) as conn:
                    channel = conn.channel()
                    consumers = channel.queue_declare(f"rpc-{service_name}", passive=True)[2]
                    if consumers:
                        return
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service_name} did not start consuming within {timeout}s")
            time.sleep(0.2)

    def wait_queue_consumers(self, queue_name, timeout=60.0):
        from kombu import Connection
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                with Connection(self.amqp_uri, connect_timeout=2) as conn:
                    if conn.channel().queue_declare(queue_name, passive=True)[2]:
                        return
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no consumer on {queue_name} within {timeout}s")
            time.sleep(0.2)

    def wait_http(self, url, timeout=60.0):
        """Until an HTTP server answers `url` (any status)."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # the server answers (any status)
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout}s")
            time.sleep(0.2)

    # -- teardown
    def cleanup(self):
        for proc in reversed(self.processes):
            try:
                proc.stop()
            except Exception as exc:  # keep cleaning
                print(f"warning: stopping {proc.name}: {exc}", file=sys.stderr)
        self.processes.clear()
        if self._vhost_created:
            try:
                from kombu.pools import connections
                for key, pool in list(connections.items()):
                    if isinstance(key, tuple) and len(key) > 4 and key[4] == self.vhost:
                        pool.force_close_all()
            except Exception:
                pass
            try:
                infra.delete_vhost(self.vhost)
            except Exception as exc:
                print(f"warning: could not delete vhost {self.vhost}: {exc}", file=sys.stderr)
            self._vhost_created = False
        for service, url in list(self.databases.items()):
            try:
                infra.drop_database(self.pg_admin_url, url.rsplit("/", 1)[1])
            except Exception as exc:
                print(f"warning: could not drop database of {service}: {exc}", file=sys.stderr)
        self.databases.clear()
        try:
            import redis
            client = redis.Redis.from_url(self.base_config["REDIS_URL"])
            keys = list(client.scan_iter(match=f"{self.prefix}:*", count=1000))
            for i in range(0, len(keys), 500):
                client.delete(*keys[i:i + 500])
            client.close()
        except Exception as exc:
            print(f"warning: could not clear redis prefix {self.prefix}: {exc}", file=sys.stderr)
        if self.keep:
            log(f"kept {self.tmp}")
        else:
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)


def machine_line():
    """One line describing the machine, printed in each benchmark's header."""
    try:
        load = os.getloadavg()
        load_s = f"load {load[0]:.2f}"
    except OSError:
        load_s = ""
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {load_s}"
