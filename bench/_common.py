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
import shutil
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

from mes_common import broker, infra, migrations  # noqa: E402
from mes_common.config import load_config  # noqa: E402


# ------------------------------------------------------------------ arguments

def parse_args(description, quick=None, **extra):
    """`--quick` for a short run, plus per-benchmark options (name=(type, default, help));
    `quick` ({name: value}): the options' values in a --quick run."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short run (smoke test of the benchmark)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (configs, process logs)")
    for name, (type_, default, help_) in extra.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type_, default=default, help=help_)
    args = parser.parse_args()
    if args.quick:
        for name, value in (quick or {}).items():
            setattr(args, name, value)
    return args


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
        self.vhost_uri = self._amqp_uri(self.vhost)   # the installation's login on the bench's vhost
        self.amqp_uri = self.vhost_uri                  # the operators' login once the logins exist
        self.databases = {}      # service name -> url
        self.processes = []
        self._vhost_created = False

    # -- setup
    def __enter__(self):
        signal.signal(signal.SIGTERM, self._on_signal)
        log(f"isolated world: vhost {self.vhost}, redis prefix {self.prefix}, temp dir {self.tmp}")
        # the tests' broker logins: each process on its own, as under `mes run`
        from mes_common.testing.fixtures import create_test_vhost
        create_test_vhost(self.vhost)
        self._vhost_created = True
        self.amqp_uri = self.config()["AMQP_URI"]   # the operators' login (mes_test_cli): trusted, may do anything
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
        from mes_common.testing.fixtures import TEST_BROKER
        config = copy.deepcopy(self.base_config)
        config["BROKER"] = dict(TEST_BROKER)
        config["AMQP_URI"] = broker.process_uri({**config, "AMQP_URI": self.vhost_uri}, broker.CLI)
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

    def start_services(self, services, label="services"):
        """Databases (built by the migrations), one config, and a `nameko run` per
        service ({name: "module:Class"}); returns once each answers over RPC."""
        for name in services:
            self.create_database(name, name)
        cfg = self.write_config(label)
        for name, target in services.items():
            self.start(name, target, cfg)
        for name in services:
            self.wait_rpc(name)
        return cfg

    def start_behind_gateway(self, services):
        """`services` and the gateway in front of them: the gateway's base URL."""
        self.start_services(services)
        port = free_port()
        self.start("gateway", "gateway.service:Gateway", self.write_config("gateway",
                                                                           WEB_SERVER_ADDRESS=f"127.0.0.1:{port}"))
        base = f"http://127.0.0.1:{port}"
        self.wait_http(f"{base}/health")
        return base

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
            from mes_common.testing.fixtures import KEY_DIR
            shutil.rmtree(KEY_DIR, ignore_errors=True)
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
            shutil.rmtree(self.tmp, ignore_errors=True)


class MachineCpu:
    """Busy share of all the machine's CPUs between start() and stop() (/proc/stat),
    to tell a slow platform from a machine that was busy with something else."""

    @staticmethod
    def _snapshot():
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields[:8]), idle

    def start(self):
        self._start = self._snapshot()
        self._pids_start = {}
        return self

    def track(self, pids):
        self._pids_start = {pid: cpu_seconds(pid) for pid in pids}
        return self

    def stop(self):
        end = self._snapshot()
        if not self._start or not end:
            return float("nan"), float("nan")
        total = end[0] - self._start[0]
        busy = total - (end[1] - self._start[1])
        tck = os.sysconf("SC_CLK_TCK")
        ours = sum(cpu_seconds(pid) - t for pid, t in self._pids_start.items()) * tck
        ncpu = os.cpu_count() or 1
        return busy / total * 100 * ncpu if total else float("nan"), ours / total * 100 * ncpu if total else float("nan")


def wait_quiet(max_wait=30.0, busy_below=50.0, sample=2.0):
    """Wait (at most `max_wait` s) until the machine is less than `busy_below` % busy
    (share of all CPUs) over `sample` s: figures taken while other work saturates the
    machine measure that work. Proceeds either way; returns the last busy figure
    (in % of one CPU, like cpu_line)."""
    deadline = time.monotonic() + max_wait
    threshold = busy_below * (os.cpu_count() or 1)
    while True:
        cpu = MachineCpu().start()
        time.sleep(sample)
        busy, _ = cpu.stop()
        if busy < threshold:
            return busy
        if time.monotonic() >= deadline:
            log(f"machine still busy ({busy:.0f}% of {(os.cpu_count() or 1) * 100}%) after {max_wait:g} s: "
                "measuring anyway (figures will be pessimistic)")
            return busy
        log(f"machine busy ({busy:.0f}% of {(os.cpu_count() or 1) * 100}%) before the measurement, waiting")


def _backing_pids():
    """{"RabbitMQ": pids, "PostgreSQL": pids, "Redis": pids} of the local servers (best effort, /proc)."""
    found = {"RabbitMQ": [], "PostgreSQL": [], "Redis": []}
    rabbit_pid = None
    for pidfile in Path("/var/lib/rabbitmq/mnesia").glob("rabbit@*.pid"):
        try:
            rabbit_pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            pass
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            comm = (proc / "comm").read_text().strip()
        except OSError:
            continue
        pid = int(proc.name)
        if comm == "postgres":
            found["PostgreSQL"].append(pid)
        elif comm.startswith("redis-server"):
            found["Redis"].append(pid)
        elif comm == "beam.smp" and pid == rabbit_pid:
            found["RabbitMQ"].append(pid)
    return found


class BackingCpu:
    """CPU used by the local RabbitMQ node, PostgreSQL (all backends) and Redis
    between start() and stop(), in % of one CPU. These servers are shared: other
    work on the machine is included."""

    def start(self):
        self._t0 = time.monotonic()
        self._start = {name: {pid: cpu_seconds(pid) for pid in pids} for name, pids in _backing_pids().items()}
        return self

    def stop(self):
        elapsed = time.monotonic() - self._t0
        result = {}
        for name, pids in self._start.items():
            used = 0.0
            for pid, before in pids.items():
                after = cpu_seconds(pid)
                if not math.isnan(after) and not math.isnan(before):
                    used += after - before
            result[name] = used / elapsed * 100 if elapsed else float("nan")
        return result


def backing_line(usage):
    return "backing servers' CPU (shared with anything else using them): " + ", ".join(
        f"{name} {pct:.0f}%" for name, pct in usage.items())


def cpu_line(busy, ours, label="measurement"):
    """'machine CPU during the measurement: 150% busy of 200% (services measured: 90%)'."""
    ncpu = os.cpu_count() or 1
    return (f"machine CPU during the {label}: {busy:.0f}% busy of {ncpu * 100}% "
            f"(the benchmark's service processes: {ours:.0f}%; the rest is the load generator, "
            f"RabbitMQ, PostgreSQL, Redis and anything else running)")


def machine_line():
    """One line describing the machine, printed in each benchmark's header."""
    try:
        load = os.getloadavg()
        load_s = f"load {load[0]:.2f}"
    except OSError:
        load_s = ""
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {load_s}"


# ------------------------------------------------------------------ HTTP load generator

# wrk's report, one line: `WRKJSON {...}` (the same fields as the Python client's)
_WRK_LUA = '''
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
'''

# argv: url connections duration ["Name: value" ...] (headers sent with every request)
_PY_CLIENT = r'''
import http.client, json, sys, threading, time
from urllib.parse import urlsplit
url, conns, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
headers = dict((part.strip() for part in h.split(":", 1)) for h in sys.argv[4:])
parts = urlsplit(url)
target = parts.path + ("?" + parts.query if parts.query else "")
lat, errors, non2xx = [], [0], [0]
lock = threading.Lock()
start = time.perf_counter(); stop_at = start + duration
def worker():
    c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    mine = []
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        try:
            c.request("GET", target, headers=headers)
            r = c.getresponse(); r.read()
            if not 200 <= r.status < 300:
                with lock: non2xx[0] += 1
        except Exception:
            with lock: errors[0] += 1
            c.close(); c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            continue
        mine.append(time.perf_counter() - t0)
    with lock: lat.extend(mine)
ts = [threading.Thread(target=worker) for _ in range(conns)]
[t.start() for t in ts]; [t.join() for t in ts]
elapsed = time.perf_counter() - start
lat.sort()
def pct(q): return lat[min(len(lat) - 1, max(0, int(round(q / 100 * len(lat))) - 1))] * 1e6 if lat else 0
print("WRKJSON " + json.dumps({"requests": len(lat), "duration_us": elapsed * 1e6, "errors": errors[0],
      "non2xx": non2xx[0], "p50_us": pct(50), "p90_us": pct(90), "p99_us": pct(99),
      "max_us": lat[-1] * 1e6 if lat else 0, "mean_us": sum(lat) / len(lat) * 1e6 if lat else 0}))
'''

_lua_path = None


def _wrk_script():
    """wrk's report script, written once per benchmark process (removed at exit)."""
    global _lua_path
    if _lua_path is None:
        import atexit
        fd, _lua_path = tempfile.mkstemp(prefix="mes_bench_wrk_", suffix=".lua")
        with os.fdopen(fd, "w") as fh:
            fh.write(_WRK_LUA)
        atexit.register(lambda: Path(_lua_path).unlink(missing_ok=True))
    return _lua_path


def load_generator(connections):
    """How http_load generates load on this machine (for the report header)."""
    import shutil
    if shutil.which("wrk"):
        return f"wrk (-t1 -c{connections}, keep-alive)"
    return f"Python client (threads + http.client keep-alive, {connections} connections, own process)"


def http_load(url, duration, connections, headers=()):
    """GET `url` for `duration` seconds over `connections` keep-alive connections,
    each request carrying `headers` ("Name: value" strings): wrk (1 thread) when
    installed, else a Python client (threads + http.client) in its own process.

    Returns {"requests", "duration_us", "errors", "non2xx", "p50_us", "p90_us",
    "p99_us", "max_us", "mean_us"} (errors: connect/read/write/timeout)."""
    import json
    import shutil
    wrk = shutil.which("wrk")
    if wrk:
        cmd = [wrk, "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "5s", "-s", _wrk_script()]
        for header in headers:
            cmd += ["-H", header]
        cmd.append(url)
    else:
        cmd = [sys.executable, "-c", _PY_CLIENT, url, str(connections), str(duration), *headers]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    line = next((l for l in out.stdout.splitlines() if l.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"load generator said:\n{out.stdout}\n{out.stderr}")
    return json.loads(line[len("WRKJSON "):])


def combine_loads(runs):
    """One path's http_load results over the rounds: requests/s over all of them,
    the median of the rounds' p50, the worst p99 and max (ms), errors + non-2xx."""
    requests = sum(x["requests"] for x in runs)
    seconds = sum(x["duration_us"] for x in runs) / 1e6
    return {
        "rps": requests / seconds if seconds else float("nan"),
        "p50": sorted(x["p50_us"] for x in runs)[len(runs) // 2] / 1000,
        "p99": max(x["p99_us"] for x in runs) / 1000,
        "max": max(x["max_us"] for x in runs) / 1000,
        "errors": sum(x["errors"] + x["non2xx"] for x in runs),
        "requests": requests,
        "rounds_rps": " ".join(f"{x['requests'] / (x['duration_us'] / 1e6):.0f}" for x in runs),
    }


def interleaved_rounds(paths, rounds, run, processes):
    """`run(path)` for each path, `rounds` times, the order rotated every round
    (drift in the machine's load falls on every path alike), adding up the CPU
    seconds that `processes(path)` ({label: pid}) use during each run.

    Returns ({path: [run's results]}, {path: {label: CPU seconds}})."""
    results = {p: [] for p in paths}
    cpu = {p: {} for p in paths}
    for r in range(rounds):
        order = paths[r % len(paths):] + paths[:r % len(paths)]
        for path in order:
            before = {label: (pid, cpu_seconds(pid)) for label, pid in processes(path).items()}
            results[path].append(run(path))
            for label, (pid, t) in before.items():
                cpu[path][label] = cpu[path].get(label, 0.0) + cpu_seconds(pid) - t
        log(f"round {r + 1}/{rounds} done ({', '.join(order)})")
    return results, cpu


def inbox_count(engine):
    from sqlalchemy import text
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM inbox")).scalar()


def drain_seconds(engine, before, count):
    """Seconds from now until the service's inbox holds `count` more events than `before`."""
    t0 = time.monotonic()
    while inbox_count(engine) - before < count:
        time.sleep(0.05)
    return time.monotonic() - t0


def publish_all(amqp_uri, events):
    """Envelopes published as their sources would (persistent, to each source's exchange)."""
    from kombu import Connection, Exchange
    with Connection(amqp_uri) as conn:
        producer = conn.Producer()
        exchanges = {}
        for envelope in events:
            source = envelope["source"]
            exchange = exchanges.setdefault(source, Exchange(f"{source}.events", type="topic", durable=True))
            producer.publish(envelope, exchange=exchange, routing_key=envelope["type"], serializer="json",
                             message_id=envelope["id"], delivery_mode=2, declare=[exchange])
