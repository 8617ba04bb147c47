"""A private RabbitMQ node for fault tests (broker restart, broker crash).

The shared broker of the machine is never stopped or restarted by a test
(SERVICES.md). A fault test starts its own node on free ports instead:

    node = ThrowawayRabbit()
    node.start()            # ~5 s; node.amqp_uri -> amqp://guest:guest@127.0.0.1:<port>/
    ...
    node.stop()             # clean shutdown (rabbitmqctl stop)
    node.start()            # same node, same data dir: durable queues and
                            # persistent messages are still there
    node.kill()             # SIGKILL: a hard crash
    node.cleanup()          # stop if needed and remove its directory

or `with ThrowawayRabbit() as node: ...` (start, then stop + cleanup).

As root the node runs as the `rabbitmq` user (the distribution's
rabbitmq-server/rabbitmqctl wrappers switch to it, sharing its Erlang
cookie); as another user the node runs under that user with the cookie in its
own directory.
"""
from __future__ import annotations

import atexit
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
import weakref
from pathlib import Path

SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"
RABBIT_LIBEXEC = Path("/usr/lib/rabbitmq/bin")
AVOID_PORTS = {5672, 25672, 15672, 4369}
PORT_RANGE = (20000, 35000)     # AMQP port; the distribution port is port + 20000
DIST_OFFSET = 20000

_live = weakref.WeakSet()


class BrokerError(RuntimeError):
    """The throwaway node could not be started or controlled."""


def _which(cmd):
    return shutil.which(cmd, path=os.environ.get("PATH", "") + ":" + SBIN_PATH)


def _is_root():
    return os.geteuid() == 0


def rabbitmq_available():
    """(True, "") when a throwaway node can be started here, else (False, reason)."""
    if not _which("rabbitmq-server") or not _which("rabbitmqctl"):
        return False, "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
    if _is_root():
        try:
            pwd.getpwnam("rabbitmq")
        except KeyError:
            return False, "there is no rabbitmq user"
    elif not (RABBIT_LIBEXEC / "rabbitmq-server").exists():
        return False, "not root and /usr/lib/rabbitmq/bin/rabbitmq-server is missing"
    return True, ""


def _port_free(port):
    """Nobody listens on it (TIME_WAIT leftovers don't count: Erlang binds with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        except OSError:
            return False
    with socket.socket() as sock:  # nothing listening on another address either
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _port_open(port):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pick_ports(attempts=200):
    """A free AMQP port whose distribution port (port + 20000) is free too."""
    for _ in range(attempts):
        port = random.randint(*PORT_RANGE)
        if port in AVOID_PORTS or port + DIST_OFFSET in AVOID_PORTS:
            continue
        if _port_free(port) and _port_free(port + DIST_OFFSET):
            return port
    raise BrokerError("no free pair of ports for a throwaway RabbitMQ node")


class ThrowawayRabbit:
    """A private RabbitMQ node on its own ports and data directory."""

    def __init__(self, port=None, boot_timeout=90.0, user="guest", password="guest"):
        self.port = port
        self.boot_timeout = boot_timeout
        self.user = user
        self.password = password
        self.nodename = f"mes_fault_{uuid.uuid4().hex[:10]}@localhost"
        self.data_dir: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._console = None

    # ------------------------------------------------------------------ public

    @property
    def dist_port(self):
        return self.port + DIST_OFFSET if self.port else None

    @property
    def amqp_uri(self):
        if not self.port:
            raise BrokerError("node not started yet")
        return f"amqp://{self.user}:{self.password}@127.0.0.1:{self.port}/"

    @property
    def running(self):
        return self._proc is not None and self._proc.poll() is None

    def start(self):
        """Boot the node (first time: new data dir; later: the same one) and wait until it is up."""
        if self.running:
            return self
        ok, reason = rabbitmq_available()
        if not ok:
            raise BrokerError(reason)
        if self.data_dir is None:
            self._prepare()
        else:
            self._wait_ports_free(30)
        (self.data_dir / "rabbit.pid").unlink(missing_ok=True)
        env = dict(os.environ)
        env.update(self._node_env())
        if _is_root():
            cmd = [_which("rabbitmq-server")]   # the wrapper switches to the rabbitmq user
        else:
            cmd = [str(RABBIT_LIBEXEC / "rabbitmq-server")]
            env["HOME"] = str(self.data_dir)    # Erlang cookie of this node and its CLI calls
        self._console = open(self.data_dir / "console.log", "ab")
        self._proc = subprocess.Popen(cmd, env=env, cwd=self.data_dir, stdin=subprocess.DEVNULL,
                                      stdout=self._console, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        _live.add(self)
        try:
            self._await_startup()
        except BaseException:
            self.kill()
            raise
        return self

    def stop(self, timeout=60):
        """Clean shutdown: `rabbitmqctl stop`, then kill whatever is left."""
        if not self.running:
            self._reap()
            return
        try:
            self._ctl("stop", str(self.data_dir / "rabbit.pid"), timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            pass
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def kill(self):
        """SIGKILL the node (a hard crash: nothing flushed, no goodbye to clients)."""
        pid = self._beam_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._reap()
        if self.port:
            self._wait_closed(10)

    def cleanup(self):
        """Kill the node if still running and remove its directory."""
        if self.running:
            self.kill()
        self._reap()
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        _live.discard(self)

    def log_tail(self, lines=40):
        """The end of the node's log files (for assertion messages)."""
        out = []
        for name in ("console.log", "log/rabbit.log"):
            path = self.data_dir / name if self.data_dir else None
            if path and path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {name}\n" + "\n".join(text))
        return "\n".join(out)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self.cleanup()

    def __repr__(self):
        return f"<ThrowawayRabbit {self.nodename} port={self.port} running={self.running}>"

    # ------------------------------------------------------------------ internals

    def _prepare(self):
        self.data_dir = Path(tempfile.mkdtemp(prefix="mes_fault_rabbit_"))
        if self.port is None:
            self.port = pick_ports()
        for sub in ("mnesia", "log"):
            (self.data_dir / sub).mkdir()
        (self.data_dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"
            f"default_user = {self.user}\ndefault_pass = {self.password}\n")
        (self.data_dir / "enabled_plugins").write_text("[].\n")
        if _is_root():
            rabbit = pwd.getpwnam("rabbitmq")
            for path in [self.data_dir, *self.data_dir.rglob("*")]:
                os.chown(path, rabbit.pw_uid, rabbit.pw_gid)

    def _node_env(self):
        d = self.data_dir
        return {
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_LOGS": str(d / "log" / "rabbit.log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(d / "rabbit.pid"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
        }

    def _ctl(self, *args, timeout=90, check=True):
        env = dict(os.environ)
        if _is_root():
            cmd = [_which("rabbitmqctl")]
        else:
            cmd = [str(RABBIT_LIBEXEC / "rabbitmqctl")]
            env["HOME"] = str(self.data_dir)
        proc = subprocess.run(cmd + ["-n", self.nodename, *args], env=env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise BrokerError(f"rabbitmqctl {' '.join(args)}: {(proc.stderr or proc.stdout).strip()}")
        return proc

    def import_definitions(self, docs):
        """Users, vhosts and permissions from a definitions document (mes_common.broker)."""
        path = self.data_dir / "definitions.json"
        path.write_text(json.dumps(docs))
        try:
            self._ctl("import_definitions", str(path))
        finally:
            path.unlink(missing_ok=True)

    def _await_startup(self):
        deadline = time.monotonic() + self.boot_timeout
        last = ""
        while True:
            if self._proc.poll() is not None:
                raise BrokerError(f"throwaway RabbitMQ {self.nodename} exited with "
                                  f"{self._proc.returncode} while booting\n{self.log_tail()}")
            left = max(1, int(deadline - time.monotonic()))
            try:  # fails at once until the node has registered with epmd: retry
                proc = self._ctl("await_startup", "--timeout", str(min(60, left)),
                                 timeout=min(60, left) + 30, check=False)
                if proc.returncode == 0 and _port_open(self.port):
                    return
                last = (proc.stderr or proc.stdout).strip()
            except subprocess.TimeoutExpired:
                last = "rabbitmqctl await_startup timed out"
            if time.monotonic() > deadline:
                raise BrokerError(f"throwaway RabbitMQ {self.nodename} not up after {self.boot_timeout} s: "
                                  f"{last}\n{self.log_tail()}")
            time.sleep(0.5)

    def _beam_pid(self):
        if self.data_dir is None:
            return None
        try:
            pid = int((self.data_dir / "rabbit.pid").read_text().strip())
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except (OSError, ValueError):
            return None
        return pid if "beam" in comm else None   # never a recycled pid of something else

    def _reap(self):
        if self._proc is not None:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            if self._proc.poll() is not None:
                self._proc = None
        if self._console is not None and self._proc is None:
            self._console.close()
            self._console = None

    def _wait_closed(self, timeout):
        deadline = time.monotonic() + timeout
        while _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def _wait_ports_free(self, timeout):
        deadline = time.monotonic() + timeout
        while not (_port_free(self.port) and _port_free(self.dist_port)):
            if time.monotonic() > deadline:
                raise BrokerError(f"ports {self.port}/{self.dist_port} of {self.nodename} are taken")
            time.sleep(0.2)


@atexit.register
def _kill_leftovers():
    """A test run that dies half-way must not leave private nodes behind."""
    for node in list(_live):
        try:
            node.cleanup()
        except Exception:
            pass
