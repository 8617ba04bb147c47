"""A nameko timer whose interval comes from the config.

nameko's `@timer(interval=5)` fixes the interval at import; operations and
tests need to set it per deployment:

    @config_timer("SAGA_RECOVERY_INTERVAL", default=2.0)
    def recover(self): ...
"""
from nameko.timer import Timer


class ConfigTimer(Timer):
    def __init__(self, config_key, default, eager=False, **kwargs):
        super().__init__(interval=default, eager=eager, **kwargs)
        self.config_key, self.default = config_key, default

    def setup(self):
        self.interval = float(self.container.config.get(self.config_key, self.default))


config_timer = ConfigTimer.decorator
