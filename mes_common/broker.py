"""Who is who on the message broker (docs/architecture.md, "Requests").

Every MES process connects to RabbitMQ as a login of its own: `mes_<service>`
for each service (`mes_auth`, `mes_work_order`, ...), `mes_gateway` for the
gateway and `mes_cli` for the operators' `mes` command. An RPC request carries
the publisher's login as the AMQP user-id, which RabbitMQ checks against the
connection, so a service knows which process called without believing any
header (mes_common.consumers).

Trust follows from that, never from a missing header: a call without a user
is a trusted platform call only when it started at a service or at `mes_cli`
(`Caller.trusted`). The gateway's login is never trusted: whatever it asks is
asked for the user it names, and the broker lets it publish only the RPCs its
routes make (topic permissions on `nameko-rpc`), so it cannot reach an auth
administration method except through a route. Only a service's own login may
publish to its event exchange `<service>.events`.

Passwords: `<NAME>_BROKER_PASSWORD` from the environment (compose: .env), else
the local password file that `mes infra logins` writes (mode 0600).
"""
from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from mes_common.config import ROOT

CLI, GATEWAY = "cli", "gateway"
DEFAULT_PREFIX = "mes_"
DEFAULT_PASSWORDS_FILE = "var/broker/passwords.json"
RPC_EXCHANGE = "nameko-rpc"
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # a reply queue's routing key


def _settings(config):
    return config.get("BROKER") or {}


def prefix(config):
    return str(_settings(config).get("LOGIN_PREFIX") or DEFAULT_PREFIX)


def short_name(process):
    """'work_order_service' -> 'work_order'; 'gateway' and 'cli' stay."""
    return process[:-len("_service")] if process.endswith("_service") else process


def login(config, process):
    """The broker login of a process: a service's name, 'gateway' or 'cli'."""
    return prefix(config) + short_name(process)


def service_names():
    from mes_common import registry
    return [spec.name for spec in registry.SERVICES]


def service_logins(config):
    return frozenset(login(config, name) for name in service_names())


def trusted_logins(config):
    """The logins whose calls without a user are the platform's own."""
    return service_logins(config) | {login(config, CLI)}


def processes():
    """Every process that has a login: the services, the gateway, the CLI."""
    return [*service_names(), GATEWAY, CLI]


def process_of(config, user):
    """The process whose login `user` is, None for any other login."""
    return next((process for process in processes() if login(config, process) == user), None)


# --------------------------------------------------------------------------- permissions

@dataclass(frozen=True)
class Permissions:
    """RabbitMQ's three resource regexes, plus topic permissions per topic
    exchange as {exchange: (write, read)} (write: routing keys published,
    read: binding keys bound)."""
    configure: str
    write: str
    read: str
    topics: dict = field(default_factory=dict)


def _any_of(*patterns):
    return "^(" + "|".join(patterns) + ")$"


def permissions(config, process, gateway_targets=()):
    """What `process` may do on the broker. `gateway_targets`: the
    'service.method' RPCs the gateway makes (gateway.routes.rpc_targets)."""
    if process == CLI:   # the operators' tool: outboxes, dead letters, every service
        return Permissions(".*", ".*", ".*")
    if process == GATEWAY:
        own = _any_of(re.escape(RPC_EXCHANGE), r"rpc\.reply-gateway-.*")
        calls = _any_of(*sorted(re.escape(target) for target in gateway_targets)) if gateway_targets else "^$"
        return Permissions(own, own, own, {RPC_EXCHANGE: (calls, f"^{_UUID}$")})
    name = re.escape(process)
    queues = [re.escape(RPC_EXCHANGE), f"rpc-{name}", rf"rpc\.reply-{name}-.*", rf"evt-.*--{name}\..*",
              r"mes\.(dlx|delay|retry)", r"mes\.delay\..*"]
    # declaring a handler's queue declares the source's exchange (and binds to it): any
    # service's events exchange may be declared and read; only its own may be published to
    events = r"[a-z0-9_]+\.events"
    own_queue_keys = rf"[^.]+\.evt-.*--{name}\..*"   # retries and replays of its own handlers only
    return Permissions(
        _any_of(*queues, events),
        _any_of(*queues, rf"{name}\.events"),
        _any_of(*queues, events),
        {RPC_EXCHANGE: (".*", _any_of(rf"{name}\..*", _UUID)),
         "mes.delay": (f"^{own_queue_keys}$", ".*"),
         "mes.retry": (f"^{own_queue_keys}$", ".*")})


# --------------------------------------------------------------------------- passwords

def password_env(process):
    """'work_order_service' -> WORK_ORDER_BROKER_PASSWORD."""
    return f"{short_name(process).upper()}_BROKER_PASSWORD"


def passwords_file(config):
    path = Path(_settings(config).get("PASSWORDS_FILE") or DEFAULT_PASSWORDS_FILE)
    return path if path.is_absolute() else ROOT / path


def _read_passwords(path):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def password(config, process):
    """The process's broker password: its environment variable, else the local
    password file; None when neither has one (the process then connects with
    AMQP_URI as it is)."""
    return os.environ.get(password_env(process)) or _read_passwords(passwords_file(config)).get(login(config, process))


def ensure_passwords(config):
    """{process: password} for every process, generating (and storing in the
    local password file, mode 0600) those that have none yet."""
    path = passwords_file(config)
    stored = _read_passwords(path)
    found, changed = {}, False
    for process in processes():
        name = login(config, process)
        found[process] = os.environ.get(password_env(process)) or stored.get(name)
        if not found[process]:
            found[process] = stored[name] = secrets.token_urlsafe(24)   # URL-safe: it goes into AMQP_URI
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(json.dumps(stored, indent=1, sort_keys=True))
        os.replace(tmp, path)
    return found


# --------------------------------------------------------------------------- URIs

def with_login(amqp_uri, user, password):
    """The same broker and vhost, as another login."""
    parts = urlsplit(amqp_uri)
    host = parts.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def process_uri(config, process):
    """AMQP_URI for `process`: its own login where a password is known."""
    secret = password(config, process)
    return with_login(config["AMQP_URI"], login(config, process), secret) if secret else config["AMQP_URI"]


def as_process(config, process):
    """A copy of `config` whose AMQP_URI is `process`'s own login."""
    return {**config, "AMQP_URI": process_uri(config, process)}


# --------------------------------------------------------------------------- definitions

def password_hash(secret, salt=None):
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    import base64
    import hashlib
    salt = salt if salt is not None else os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + secret.encode()).digest()).decode()


def definitions(config, vhost, passwords=None, gateway_targets=(), extra_users=("guest",)):
    """A RabbitMQ definitions document (`rabbitmqctl import_definitions`, or
    POST /api/definitions of the management API) that creates `vhost` and gives
    each process's login its permissions there; with `passwords`
    ({process: password}) it creates or updates the logins themselves too.
    `extra_users` (existing ones, e.g. the installation's administrator) get
    full permissions on the vhost. Importing is additive and idempotent."""
    docs = {"vhosts": [{"name": vhost}], "permissions": [], "topic_permissions": []}
    if passwords:
        docs["users"] = [{"name": login(config, process), "password_hash": password_hash(passwords[process]),
                          "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}
                         for process in processes()]
    for user in extra_users:
        docs["permissions"].append({"user": user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"})
    for process in processes():
        user, granted = login(config, process), permissions(config, process, gateway_targets)
        docs["permissions"].append({"user": user, "vhost": vhost, "configure": granted.configure,
                                    "write": granted.write, "read": granted.read})
        docs["topic_permissions"] += [{"user": user, "vhost": vhost, "exchange": exchange,
                                       "write": write, "read": read}
                                      for exchange, (write, read) in granted.topics.items()]
    return docs


def gateway_targets():
    """The 'service.method' RPCs the gateway makes (its route tables and its own calls)."""
    import importlib
    return importlib.import_module("gateway.routes").rpc_targets()
