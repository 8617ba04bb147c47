"""API tokens for machines and integrations: `mes_…` bearer secrets, shown
once, stored hashed, scoped to a subset of the owner's permissions.

A token's effective permissions are its scope intersected with what its
owner holds *now*: removing a role or deactivating the owner narrows or ends
every token at once (the gateway re-asks within API_TOKEN_CACHE_TTL).
"""
import datetime as dt

from sqlalchemy import select

from auth_service import accounts, domain
from auth_service.models import ApiToken
from auth_service.contract.schemas import ApiTokenOut
from mes_common import errors

API_TOKEN = "api_token"
TOUCH_EVERY = dt.timedelta(seconds=60)  # last_used_at resolution: not a write per request
SHOWN_PREFIX = 12

token_out = ApiTokenOut()


def create(tx, user_id, data, max_lifetime):
    """A new token; it expires when asked, and never later than `max_lifetime` from now
    (AUTH.API_TOKEN_MAX_DAYS): a forgotten token does not stay valid for good."""
    session, now = tx.session, accounts.now()
    user = accounts.get_user(session, user_id)
    held = set(domain.permissions_of(accounts.roles_of(session, user.id)))
    beyond = sorted(set(data["permissions"]) - held)
    if beyond:
        raise errors.Forbidden("a token cannot have permissions its owner lacks",
                               {"permissions": [f"you do not hold {p}" for p in beyond]})
    if data["expires_at"] is not None and data["expires_at"] <= now:
        raise errors.RuleViolated("the expiry is in the past", {"expires_at": ["must be in the future"]})
    latest = now + max_lifetime
    if data["expires_at"] is not None and data["expires_at"] > latest:
        raise errors.RuleViolated("the expiry is beyond the longest lifetime of an API token",
                                  {"expires_at": [f"at most {max_lifetime.days} days from now ({latest:%Y-%m-%d})"]})
    raw = domain.new_token(domain.API_TOKEN_PREFIX)
    row = ApiToken(user_id=user.id, name=data["name"], prefix=raw[:SHOWN_PREFIX],
                   token_hash=domain.token_hash(raw), permissions=sorted(set(data["permissions"])),
                   expires_at=data["expires_at"] or latest)
    session.add(row)
    tx.flush()
    out = token_out.dump(row)
    tx.audit("create", API_TOKEN, row.id, new={**out, "user_id": str(user.id)})
    return {**out, "token": raw}


def list_tokens(session, user_id):
    rows = session.execute(select(ApiToken).where(ApiToken.user_id == user_id)
                           .order_by(ApiToken.created_at.desc())).scalars()
    return [token_out.dump(r) for r in rows]


def revoke(tx, user_id, token_id, reason=None):
    row = tx.session.execute(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
                             .with_for_update()).scalar_one_or_none()
    if row is None:
        raise errors.NotFound(f"API token {token_id} does not exist", {"token_id": str(token_id)})
    if row.revoked_at is None:
        row.revoked_at = accounts.now()
        tx.audit("revoke", API_TOKEN, row.id, new={"revoked_at": row.revoked_at, "user_id": str(user_id)},
                 reason=reason)
    return token_out.dump(row)


def authenticate(tx, raw):
    """The principal of a presented token, or Unauthenticated."""
    session, now = tx.session, accounts.now()
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == domain.token_hash(raw))) \
        .scalar_one_or_none()
    refused = errors.Unauthenticated("the API token is invalid, expired or revoked", {"token": ["invalid"]})
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise refused
    owner = accounts.get_user(session, row.user_id)
    if not owner.active:
        raise refused
    held = set(domain.permissions_of(accounts.roles_of(session, owner.id)))
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return {"user_id": str(owner.id), "username": owner.username, "token_id": str(row.id),
            "permissions": sorted(set(row.permissions) & held),
            "expires_at": row.expires_at.isoformat() if row.expires_at else None}
