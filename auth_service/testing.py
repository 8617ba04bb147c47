"""Access tokens for tests and benchmarks, signed with the run's private key
(the gateway under test verifies them with the matching public key).

    session.headers["Authorization"] = bearer(mes_config)                  # every permission
    bearer(mes_config, permissions=["resource:read"], session_id=sid)      # exactly these
"""
import datetime as dt
import uuid

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
