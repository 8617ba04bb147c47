"""`python -m mes_common.nameko_cli run ...`: nameko's own CLI, minus the
deprecation notice eventlet prints on import (it would precede every log
stream with nine lines of noise), with each process on its own broker login."""
import mes_common  # noqa: F401  (installs the warning filter before eventlet is imported)

import eventlet

# nameko's `run` patches only once its own command starts; nameko.cli.run (imported here
# to wrap it) imports kombu, which would keep the blocking time.sleep of an unpatched module
eventlet.monkey_patch()

from nameko.cli import run as nameko_run  # noqa: E402
from nameko.cli.main import main  # noqa: E402

from mes_common import broker  # noqa: E402

_run = nameko_run.run


def run(services, config, backdoor_port=None):
    """nameko's run, connecting as the service's own broker login
    (mes_common.broker) where its password is known; a process runs one service."""
    if len(services) == 1:
        config = broker.as_process(config, services[0].name)
    return _run(services, config, backdoor_port=backdoor_port)


nameko_run.run = run

if __name__ == "__main__":
    main()
