"""A small process supervisor for `mes run` (ARCHITECTURE.md §8).

Every process (each service and the gateway) runs as
``python -m nameko run --config <config> <module>`` in its own session /
process group. The supervisor

- restarts a child that exits while it is not stopping (crash, SIGKILL, OOM):
  the first restart is immediate; a child that keeps dying before it has run
  ``stable_after`` seconds is restarted with exponential backoff
  (``backoff_initial`` doubling up to ``backoff_max``); a stable run resets it;
- forwards each output line of a child to its own stdout as ``<name> | <line>``
  (the line itself, e.g. nameko's JSON log line, is kept intact), and also
  appends the raw line to ``<log_dir>/<name>.log`` when ``log_dir`` is set;
- stops by sending SIGTERM to every child's process group, waiting up to
  ``stop_timeout`` seconds, then SIGKILLing whatever is left;
- never leaves orphans: on Linux each child asks the kernel to SIGKILL it
  when the supervisor dies (PR_SET_PDEATHSIG), so even ``kill -9`` of the
  supervisor takes the children down.

Plain threads and subprocess; no eventlet needed (it also works under eventlet's
monkey-patching, which the test process has). All children are spawned and
reaped by one long-lived monitor thread: PR_SET_PDEATHSIG fires when the
*thread* that forked the child ends, so that thread lives until every child is
gone.
"""
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1
POLL_INTERVAL = 0.05

_prctl = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        _prctl = _libc.prctl
        _prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        _prctl.restype = ctypes.c_int
    except (OSError, AttributeError):  # pragma: no cover - exotic libc
        _prctl = None


def _die_with_parent(parent_pid):
    """preexec_fn: runs in the forked child before exec (keep it minimal)."""
    def preexec():
        if _prctl is not None:
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # the supervisor may have died between fork() and prctl()
        if os.getppid() != parent_pid:
            os._exit(1)
    return preexec


def nameko_command(config_path, module):
    """The command line that runs one nameko process."""
    return [sys.executable, "-m", "mes_common.nameko_cli", "run", "--config", str(config_path), module]


def describe_exit(returncode):
    if returncode is None:
        return "running"
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"code {returncode}"


class _Child:
    def __init__(self, spec):
        self.spec = spec
        self.name = spec.name
        self.popen = None
        self.started_at = None       # monotonic time of the current start
        self.restarts = 0            # restarts since the supervisor started
        self.quick_crashes = 0       # consecutive exits before `stable_after`
        self.next_start = None       # monotonic time of a pending restart
        self.last_exit = None        # returncode of the last exit
        self.reader = None
        self.log_file = None

    @property
    def alive(self):
        return self.popen is not None and self.popen.returncode is None


@dataclass(frozen=True)
class Instance:
    """One supervised process: ``name`` (unique, the log prefix), the nameko
    ``module`` it runs and its own environment (added to the supervisor's)."""
    name: str
    module: str
    env: dict = field(default_factory=dict, hash=False)


def instances(specs, replicas=None, metrics_base_port=0):
    """The processes to start: ``replicas`` (name -> N, default 1) instances of
    each spec, named ``name`` when alone and ``name.1`` … ``name.N`` otherwise.
    Each knows its name (MES_INSTANCE) and, with a base port, gets its own
    metrics port (MES_METRICS_PORT): base, base + 1, … in this order."""
    replicas = replicas or {}
    out = []
    for spec in specs:
        count = int(replicas.get(spec.name, 1))
        for index in range(1, count + 1):
            name = spec.name if count == 1 else f"{spec.name}.{index}"
            env = {"MES_INSTANCE": name}
            if metrics_base_port:
                env["MES_METRICS_PORT"] = str(metrics_base_port + len(out))
            out.append(Instance(name, spec.module, env))
    return out


class Supervisor:
    """Run and watch one child process per spec (anything with ``name``,
    ``module`` and optionally ``env``, such as `Instance`).

    ``env`` is added to (overrides) the supervisor's own environment for the
    children. ``out`` is where prefixed lines go (default: sys.stdout).
    """

    def __init__(self, specs, config_path, env=None, log_dir=None, *, stop_timeout=10.0,
                 backoff_initial=0.5, backoff_max=10.0, stable_after=30.0, cwd=None,
                 out=None, command=nameko_command):
        specs = list(specs)
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate process names: {names}")
        self.config_path = Path(config_path).resolve()
        self.env = dict(env or {})
        self.log_dir = Path(log_dir) if log_dir else None
        self.stop_timeout = float(stop_timeout)
        self.backoff_initial = float(backoff_initial)
        self.backoff_max = float(backoff_max)
        self.stable_after = float(stable_after)
        self.cwd = cwd
        self.out = out
        self.command = command
        self._children = {s.name: _Child(s) for s in specs}
        self._lock = threading.Lock()
        self._out_lock = threading.Lock()
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._stopped = threading.Event()
        self._monitor = None
        self._start_error = None

    # -- public API --------------------------------------------------------

    def start(self):
        """Start every child; returns once each has been spawned."""
        if self._monitor is not None:
            raise RuntimeError("supervisor already started")
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self._monitor = threading.Thread(target=self._run, name="mes-supervisor", daemon=True)
        self._monitor.start()
        self._started.wait()
        if self._start_error is not None:
            self._stopped.wait()
            raise self._start_error
        return self

    def stop(self, timeout=None):
        """SIGTERM every child, SIGKILL what is left after the stop timeout; wait for it."""
        if timeout is not None:
            self.stop_timeout = float(timeout)
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join(self.stop_timeout + 10)
        self._stopped.set()

    def wait(self, timeout=None):
        """Block until the supervisor has stopped; True if it has."""
        return self._stopped.wait(timeout)

    def run_forever(self):
        """Start, run until SIGINT/SIGTERM (or Ctrl-C), stop; returns the exit status 0."""
        installed = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                installed[signum] = signal.signal(signum, self._on_signal)
        try:
            if self._monitor is None:
                self.start()
            while not self._stopping.is_set() and not self._stopped.is_set():
                self._stopping.wait(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
            for signum, handler in installed.items():
                signal.signal(signum, handler)
        return 0

    def status(self):
        """name -> {pid, alive, restarts, uptime, last_exit} (uptime in seconds, None if down)."""
        now = time.monotonic()
        with self._lock:
            return {
                name: {
                    "pid": c.popen.pid if c.popen is not None else None,
                    "alive": c.alive,
                    "restarts": c.restarts,
                    "uptime": (now - c.started_at) if c.alive and c.started_at else None,
                    "last_exit": c.last_exit,
                }
                for name, c in self._children.items()
            }

    def log(self, message):
        """Write ``supervisor | <message>`` to the supervisor's output."""
        self._write("supervisor", message)

    # -- internals ---------------------------------------------------------

    def _on_signal(self, signum, frame):
        self._log(f"received {signal.Signals(signum).name}, stopping")
        self._stopping.set()

    def _write(self, prefix, line):
        stream = self.out or sys.stdout
        with self._out_lock:
            try:
                stream.write(f"{prefix} | {line}\n")
                stream.flush()
            except (OSError, ValueError):
                pass

    def _log(self, message):
        self._write("supervisor", message)

    def _spawn(self, child):
        env = dict(os.environ)
        env.update(self.env)
        env.update(getattr(child.spec, "env", None) or {})   # the instance's own (e.g. its metrics port)
        env["PYTHONUNBUFFERED"] = "1"
        cmd = self.command(self.config_path, child.spec.module)
        popen = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, cwd=self.cwd, start_new_session=True, close_fds=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
        with self._lock:
            child.popen = popen
            child.started_at = time.monotonic()
            child.next_start = None
        if self.log_dir and child.log_file is None:
            child.log_file = open(self.log_dir / f"{child.name}.log", "a", encoding="utf-8")
        child.reader = threading.Thread(target=self._forward, args=(child, popen),
                                        name=f"mes-supervisor-{child.name}", daemon=True)
        child.reader.start()
        verb = "restarted" if child.restarts else "started"
        self._log(f"{child.name} {verb} pid={popen.pid} ({child.spec.module})")

    def _forward(self, child, popen):
        log_file = child.log_file
        try:
            for raw in iter(popen.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self._write(child.name, line)
                if log_file is not None:
                    try:
                        log_file.write(line + "\n")
                        log_file.flush()
                    except (OSError, ValueError):
                        pass
        except (OSError, ValueError):
            pass
        finally:
            try:
                popen.stdout.close()
            except OSError:
                pass

    def _backoff(self, child):
        if child.quick_crashes <= 1:
            return 0.0
        return min(self.backoff_initial * 2 ** (child.quick_crashes - 2), self.backoff_max)

    def _on_exit(self, child, now):
        code = child.popen.returncode
        ran = now - child.started_at
        with self._lock:
            child.last_exit = code
            if ran >= self.stable_after:
                child.quick_crashes = 0
            child.quick_crashes += 1
            delay = self._backoff(child)
            child.next_start = now + delay
        self._log(f"{child.name} exited pid={child.popen.pid} {describe_exit(code)} "
                  f"after {ran:.1f}s; restarting "
                  + ("now" if delay == 0 else f"in {delay:.1f}s"))

    def _run(self):
        try:
            for child in self._children.values():
                self._spawn(child)
        except BaseException as exc:  # e.g. bad executable: undo what started
            self._start_error = exc
            self._log(f"start failed: {exc!r}")
            self._started.set()
            self._shutdown()
            self._stopped.set()
            return
        self._started.set()
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                for child in self._children.values():
                    if child.popen is not None and child.popen.returncode is None:
                        if child.popen.poll() is not None:
                            self._on_exit(child, now)
                    if (not child.alive and child.next_start is not None
                            and now >= child.next_start and not self._stopping.is_set()):
                        with self._lock:
                            child.restarts += 1
                        try:
                            self._spawn(child)
                        except OSError as exc:
                            self._log(f"{child.name} could not be restarted: {exc!r}")
                            with self._lock:
                                child.quick_crashes += 1
                                child.next_start = now + max(self._backoff(child), self.backoff_initial)
                self._stopping.wait(POLL_INTERVAL)
        finally:
            self._shutdown()
            self._stopped.set()

    def _signal_group(self, child, signum):
        try:
            os.killpg(child.popen.pid, signum)
        except (ProcessLookupError, PermissionError):
            try:
                child.popen.send_signal(signum)
            except (ProcessLookupError, OSError):
                pass

    def _shutdown(self):
        running = [c for c in self._children.values() if c.popen is not None]
        for child in running:
            if child.popen.poll() is None:
                self._log(f"stopping {child.name} pid={child.popen.pid} (SIGTERM)")
                self._signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline and any(c.popen.poll() is None for c in running):
            time.sleep(POLL_INTERVAL)
        for child in running:
            if child.popen.poll() is None:
                self._log(f"{child.name} pid={child.popen.pid} still running after "
                          f"{self.stop_timeout:g}s, sending SIGKILL")
                self._signal_group(child, signal.SIGKILL)
        for child in running:
            try:
                child.popen.wait(5)
            except subprocess.TimeoutExpired:  # pragma: no cover - unkillable (D state)
                self._log(f"{child.name} pid={child.popen.pid} did not die")
            with self._lock:
                child.last_exit = child.popen.returncode
                child.next_start = None
            if child.popen.returncode is not None:
                self._log(f"{child.name} stopped pid={child.popen.pid} "
                          f"{describe_exit(child.popen.returncode)}")
        for child in running:
            if child.reader is not None:
                child.reader.join(2)
            if child.log_file is not None:
                child.log_file.close()
                child.log_file = None
