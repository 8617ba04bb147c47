"""`python -m mes_common.nameko_cli run ...`: nameko's own CLI, minus the
deprecation notice eventlet prints on import (it would precede every log
stream with nine lines of noise)."""
import mes_common  # noqa: F401  (installs the warning filter before eventlet is imported)
from nameko.cli.main import main

if __name__ == "__main__":
    main()
