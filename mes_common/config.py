"""Loading config.yml the way `nameko run` does (same ${ENV:default} rules)."""
import os
from pathlib import Path

import yaml
from nameko.cli.main import setup_yaml_parser

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = Path(os.environ.get("MES_CONFIG", ROOT / "config.yml"))

_parser_ready = False


def load_config(path=None):
    global _parser_ready
    if not _parser_ready:
        setup_yaml_parser()
        _parser_ready = True
    with open(path or DEFAULT_CONFIG) as fh:
        return yaml.safe_load(fh)


def database_url(config, service_name):
    try:
        return config["DATABASE_URLS"][service_name]
    except KeyError:
        raise KeyError(f"config has no DATABASE_URLS entry for {service_name}") from None
