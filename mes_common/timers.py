"""A nameko timer whose interval comes from the config.

nameko's `@timer(interval=5)` fixes the interval at import; operations and
tests need to set it per deployment:

    @config_timer("SAGA_RECOVERY_INTERVAL", default=2.0)
    def recover(self): ...
"""
from eventlet import Timeout
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from nameko.timer import Timer


class ConfigTimer(Timer):
    def __init__(self, config_key, default, eager=False, **kwargs):
        super().__init__(interval=default, eager=eager, **kwargs)
        self.config_key, self.default = config_key, default

    def setup(self):
        self.interval = float(self.container.config.get(self.config_key, self.default))


config_timer = ConfigTimer.decorator


class KickableTimer(ConfigTimer):
    """A config timer that a worker can also fire at once (`Kick`): work queued now is taken now, not at the
    next tick (outbound deliveries). Ticks never overlap: a kick during a tick fires one more right after."""

    def start(self):
        self._stopping = False
        self.wake = Event()
        super().start()

    def stop(self):
        self._stopping = True
        self.kick()
        self.gt.wait()

    def kick(self):
        if not self.wake.ready():
            self.wake.send(True)

    def _run(self):
        if self.eager:
            self.kick()
        while not self._stopping:
            with Timeout(self.interval, exception=False):
                self.wake.wait()
            if self._stopping:
                break
            if self.wake.ready():
                self.wake.reset()
            self.handle_timer_tick()
            self.worker_complete.wait()
            self.worker_complete.reset()


class Kick(DependencyProvider):
    """`self.kick()` in a worker: fire the service's kickable timers now (call it after the commit)."""

    def get_dependency(self, worker_ctx):
        timers = [e for e in self.container.entrypoints if isinstance(e, KickableTimer)]
        return lambda: [timer.kick() for timer in timers]


kickable_timer = KickableTimer.decorator
