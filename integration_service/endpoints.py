"""Endpoints: the systems messages go to. A secret (a b2mml endpoint's auth header value, a webhook's signing
key) is stored sealed (mes_common.sealing) and never answered again; a webhook's is made by the MES and shown
once, when the endpoint is made or its secret rotated."""
import fnmatch
import functools
import importlib
from pathlib import Path

from sqlalchemy import func, select

from mes_common import errors, paging, registry, sealing
from mes_common.config import ROOT
from mes_common.db import fetch
from mes_common.rules import check_version
from integration_service.contract import webhooks
from integration_service.contract.schemas import EndpointOut
from integration_service.models import Endpoint, Message

ENTITY = "endpoint"
endpoint_out = EndpointOut()


SECRETS_KEY = "INTEGRATION.SECRETS_KEY_FILE"
PRIVATE_EVENTS = "mes.auth."


def sealer(config):
    """The sealer of endpoint secrets: its key file (generated in development, INTEGRATION.GENERATE_KEYS), read
    once a process (the delivery loop asks every tick)."""
    section = config.get("INTEGRATION") or {}
    path = Path(section.get("SECRETS_KEY_FILE") or "var/integration/secrets.key")
    generate = str(section.get("GENERATE_KEYS", True)).strip().lower() in ("1", "true", "yes", "on")
    return _sealer(path if path.is_absolute() else ROOT / path, generate)


@functools.lru_cache(maxsize=4)
def _sealer(path, generate):
    return sealing.Sealer(sealing.key_file(path, generate, SECRETS_KEY), SECRETS_KEY)


def known_event_types():
    """Every event type a registered service publishes (its contract's EVENT_TYPES)."""
    return {t for spec in registry.SERVICES
            for t in importlib.import_module(f"{spec.name}.contract.events").EVENT_TYPES}


def matches(patterns, event_type):
    return any(p == event_type or (p.endswith(".*") and fnmatch.fnmatchcase(event_type, p)) for p in patterns)


def _check(kind, data):
    problems = {}
    if kind == "webhook":
        if not data.get("event_types"):
            problems["event_types"] = ["a webhook receives at least one event type"]
        known = known_event_types()
        unknown = [p for p in data.get("event_types", []) if not any(matches([p], t) for t in known)]
        if unknown:
            problems["event_types"] = [f"no MES event type is {p}" for p in unknown]
        private = [p for p in data.get("event_types", []) if p.startswith(PRIVATE_EVENTS) or p == "mes.*"]
        if private:   # accounts, sign-ins, addresses: not for a webhook and a message log others read
            problems["event_types"] = [f"{p}: auth events are not forwarded" for p in private]
        if data.get("nouns"):
            problems["nouns"] = ["a webhook receives events, not B2MML nouns"]
    elif data.get("event_types"):
        problems["event_types"] = ["a b2mml endpoint receives B2MML nouns, not events"]
    if kind == "b2mml" and bool(data.get("auth_header")) != bool(data.get("secret")):
        problems["auth_header" if not data.get("auth_header") else "secret"] = [
            "an auth header needs its secret and a secret its header"]
    if problems:   # values the schema takes, together refused: a rule (422)
        raise errors.RuleViolated("the endpoint cannot be used so", problems)


def _waiting(session, ids):
    """{(endpoint id, status): count} of the messages pending and parked of these endpoints, in one query."""
    return {(endpoint_id, status): n for endpoint_id, status, n in session.execute(
        select(Message.endpoint_id, Message.status, func.count()).where(
            Message.endpoint_id.in_(ids), Message.status.in_(("pending", "parked")))
        .group_by(Message.endpoint_id, Message.status)).all()} if ids else {}


def dump_many(session, rows):
    counts = _waiting(session, [r.id for r in rows])
    return [endpoint_out.dump({**{c.key: getattr(row, c.key) for c in Endpoint.__table__.columns},
                               "has_secret": row.secret is not None, "pending": counts.get((row.id, "pending"), 0),
                               "parked": counts.get((row.id, "parked"), 0)}) for row in rows]


def dump(session, row):
    return dump_many(session, [row])[0]


def create(tx, sealer, data):
    _check(data["kind"], data)
    session = tx.session
    if session.execute(select(Endpoint.id).where(Endpoint.name == data["name"])).first():
        raise errors.Conflict(f"an endpoint is named {data['name']} already", {"name": ["already used"]})
    secret = webhooks.new_secret() if data["kind"] == "webhook" else data.get("secret")
    data = {**data, "secret": sealer.seal(secret).encode() if secret else None,
            "b2mml_version": data["b2mml_version"] if data["kind"] == "b2mml" else None}
    row = Endpoint(**data)
    session.add(row)
    tx.flush()
    out = dump(session, row)
    tx.audit("create", ENTITY, row.id, new=out)   # the secret is in no answer and no audit entry
    return {**out, "signing_secret": secret if data["kind"] == "webhook" else None}


def update(tx, sealer, endpoint_id, changes):
    session = tx.session
    row = fetch(session, Endpoint.id, endpoint_id, "endpoint", lock=True)
    check_version(changes.pop("version", None), row.version, f"endpoint {row.name}")
    if row.kind == "webhook" and "secret" in changes:
        raise errors.RuleViolated(f"{row.name} is a webhook: its signing secret is made by the MES (rotate it)",
                                  {"secret": ["rotate-secret makes a webhook's secret"]})
    merged = {"event_types": row.event_types, "nouns": row.nouns, "auth_header": row.auth_header,
              "secret": "kept" if row.secret is not None else None, **changes}
    _check(row.kind, merged)
    old = dump(session, row)
    if "secret" in changes:
        secret = changes.pop("secret")
        row.secret = sealer.seal(secret).encode() if secret else None
    for key, value in changes.items():
        setattr(row, key, value)
    tx.flush()
    out = dump(session, row)
    tx.audit("update", ENTITY, row.id, old={k: old[k] for k in out if old[k] != out[k]},
             new={k: out[k] for k in out if old[k] != out[k]})
    return out


def rotate(tx, sealer, endpoint_id):
    """A new signing secret for a webhook (shown this once); the old one stops signing now."""
    row = fetch(tx.session, Endpoint.id, endpoint_id, "endpoint", lock=True)
    if row.kind != "webhook":
        raise errors.RuleViolated(f"{row.name} is no webhook: set its secret with an update",
                                  {"kind": [row.kind]})
    secret = webhooks.new_secret()
    row.secret = sealer.seal(secret).encode()
    row.version += 1
    tx.flush()
    tx.audit("rotate_secret", ENTITY, row.id, new={"version": row.version})
    return {**dump(tx.session, row), "signing_secret": secret}


def get(session, endpoint_id):
    return dump(session, fetch(session, Endpoint.id, endpoint_id, "endpoint"))


def list_page(session, query):
    stmt = select(Endpoint)
    for name in ("kind", "active"):
        if name in query:
            stmt = stmt.where(getattr(Endpoint, name) == query[name])
    return paging.page(session, stmt, [(Endpoint.name, paging.text_key), (Endpoint.id, paging.uuid_key)], query,
                       lambda rows: dump_many(session, rows))


def every(session):
    return session.execute(select(Endpoint)).scalars().all()
