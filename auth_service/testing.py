"""Access tokens for tests and benchmarks, signed with the run's private key
(the gateway under test verifies them with the matching public key).

    session.headers["Authorization"] = bearer(mes_config)                  # every permission
    bearer(mes_config, permissions=["resource:read"], session_id=sid)      # exactly these
"""
import datetime as dt
import uuid
from types import SimpleNamespace

from auth_service import accounts
from auth_service.contract import keys, tokens
from auth_service.models import AuditEntry, Base, InboxEvent, OutboxEvent
from auth_service.contract.permissions import PERMISSIONS
from mes_common.config import database_url
from mes_common.db import StandaloneUnitOfWork

TEST_TTL = dt.timedelta(hours=2)  # outlives the longest system test


def access_token(config, permissions=None, *, roles=("admin",), name="tester", subject=None,
                 session_id=None, ttl=TEST_TTL, **overrides):
    """A signed access token; permissions None means the whole catalogue.
    `overrides` (issuer=, audience=, now=) forge tokens the gateway must refuse."""
    auth = keys.settings(config)
    token, _ = tokens.issue_access_token(
        keys.private_key(config), **{"issuer": auth["ISSUER"], "audience": auth["AUDIENCE"], **overrides},
        subject=subject or str(uuid.uuid4()), session_id=session_id or str(uuid.uuid4()), roles=roles,
        permissions=PERMISSIONS if permissions is None else permissions, ttl=ttl,
        extra={"name": name} if name else None)
    return token


def bearer(config, permissions=None, **kwargs):
    """The `Authorization` header value of `access_token(config, permissions, **kwargs)`."""
    return f"Bearer {access_token(config, permissions, **kwargs)}"


def create_admin(config, username="admin", password="harbour lantern quartz 1969"):
    """A real administrator in the auth database (as `mes create-admin` makes
    one), for routes that look the caller up: sign its tokens with
    `bearer(config, subject=user["id"], name=user["username"])`."""
    uow = StandaloneUnitOfWork(database_url(config, "auth_service"), "auth_service",
                               Base, OutboxEvent, InboxEvent, AuditEntry)
    try:
        with uow.transaction("test") as tx:
            return accounts.create_admin(tx, username, password)
    finally:
        uow.dispose()


def sign_in(post, username, password, **extra):
    """Sign in through the gateway as a UI does, enrolling an authenticator when
    a role of the user requires MFA (the first sign-in then opens the enrolment
    only). `post(path, json=..., headers=...)` is a requests-like call on the
    gateway. Returns (tokens, pyotp.TOTP or None, recovery codes)."""
    login = post("/api/v1/auth/login", json={"username": username, "password": password, **extra})
    assert login.status_code == 200, login.text
    tokens = login.json()
    if not tokens.get("mfa_enrolment_required"):
        return tokens, None, []
    return enrol(post, tokens)


def enrol(post, tokens):
    """Enrol an authenticator with the enrolment-only tokens of a first sign-in:
    (the session's new tokens, with the user's permissions; the pyotp.TOTP; the
    recovery codes)."""
    import pyotp

    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    enrolment = post("/api/v1/auth/me/mfa/totp", headers=me)
    assert enrolment.status_code == 201, enrolment.text
    totp = pyotp.TOTP(enrolment.json()["secret"])
    confirmed = post("/api/v1/auth/me/mfa/totp/confirm", headers=me, json={"code": totp.now()})
    assert confirmed.status_code == 200, confirmed.text
    return confirmed.json()["tokens"], totp, confirmed.json()["recovery_codes"]


PERSON_PASSWORD = "juniper caravel lantern 4417"


def person(config, base_url, role, password=PERSON_PASSWORD):
    """A real person with `role`, for routes that sign records: created in the auth
    database, signed in through the gateway at `base_url` (enrolled when the role
    requires MFA). `.headers` carry their access token, `.signature` the
    credentials they type to sign (username, password and, with MFA, a recovery code)."""
    import requests

    username = f"{role.replace('_', '')}{uuid.uuid4().hex[:6]}"
    uow = StandaloneUnitOfWork(database_url(config, "auth_service"), "auth_service",
                               Base, OutboxEvent, InboxEvent, AuditEntry)
    try:
        with uow.transaction("test") as tx:
            user = accounts.create_user(tx, {"username": username, "display_name": f"{role.title()} {username}",
                                             "password": password, "email": None, "roles": [role]})
    finally:
        uow.dispose()
    tokens, _totp, codes = sign_in(lambda path, **kwargs: requests.post(base_url + path, timeout=15, **kwargs),
                                   username, password)
    return SimpleNamespace(id=user["id"], username=username, password=password, recovery=codes,
                           headers={"Authorization": f"Bearer {tokens['access_token']}"},
                           signature={"username": username, "password": password,
                                      **({"totp": codes.pop()} if codes else {})})
