"""Login, refresh-token rotation, sessions and their revocation.

A session is one login; its refresh tokens form one rotation family
(RFC 9700 §4.14.2): each refresh exchanges the token for a new one, and
presenting an exchanged token again ends the session, since either the
client or an attacker holds a stolen copy. Failures are audited, so the use
cases *return* the error for the caller to raise after the commit.
"""
import dataclasses
import datetime as dt
from functools import partial

from sqlalchemy import select, update

from auth_service import accounts, credentials, domain, mfa, passwords
from auth_service.contract import keys, tokens
from auth_service.models import RefreshToken, Session, User
from auth_service.sealing import Sealer
from auth_service.contract.schemas import SessionOut
from auth_service.contract import events
from mes_common import errors

SESSION = "session"
INVALID_LOGIN = "invalid username or password"

session_out = SessionOut()


@dataclasses.dataclass(frozen=True)
class Settings:
    issuer: str
    audience: str
    private_key: str
    sealer: object          # auth_service.sealing.Sealer: TOTP seeds
    access_ttl: dt.timedelta
    idle_timeout: dt.timedelta
    max_age: dt.timedelta
    temporary_password_ttl: dt.timedelta

    @classmethod
    def from_config(cls, config):
        auth = keys.settings(config)
        seconds = lambda name, default: dt.timedelta(seconds=float(auth.get(name, default)))  # noqa: E731
        return cls(issuer=auth["ISSUER"], audience=auth["AUDIENCE"], private_key=keys.private_key(config),
                   sealer=Sealer.from_config(config),
                   access_ttl=seconds("ACCESS_TTL", 900), idle_timeout=seconds("SESSION_IDLE_TIMEOUT", 1800),
                   max_age=seconds("SESSION_MAX_AGE", 43200),
                   temporary_password_ttl=seconds("TEMPORARY_PASSWORD_TTL", 86400))


def invalid_login():
    """One answer for an unknown user, a wrong password and an inactive account."""
    return errors.Unauthenticated(INVALID_LOGIN)


# ------------------------------------------------------------------ tokens

def _issue(tx, settings, user, session_row):
    """An access token for the session and a new refresh token of its family."""
    roles = accounts.roles_of(tx.session, user.id)
    # a role requiring MFA opens only to a session that showed a second factor: not to one
    # signed in with a password before the user enrolled (in another session, or before MFA
    # was required of the role)
    second_factor_pending = domain.mfa_required(roles) and not session_row.mfa
    access, _claims = tokens.issue_access_token(
        settings.private_key, issuer=settings.issuer, audience=settings.audience, subject=user.id,
        session_id=session_row.id, roles=[r.name for r in roles],
        # until a role's required MFA is enabled, the token opens only the self-service routes
        permissions=[] if second_factor_pending else domain.permissions_of(roles), ttl=settings.access_ttl,
        extra={"name": user.username, "amr": ["pwd", "otp"] if session_row.mfa else ["pwd"]})
    refresh = domain.new_token(domain.REFRESH_TOKEN_PREFIX)
    tx.session.add(RefreshToken(session_id=session_row.id, token_hash=domain.token_hash(refresh)))
    body = {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": int(settings.access_ttl.total_seconds()), "session_id": str(session_row.id)}
    if second_factor_pending and not user.mfa_enabled:
        body["mfa_enrolment_required"] = True
    return body


# ------------------------------------------------------------------- login

def login(tx, settings, throttle, data, client):
    """Tokens, or the error to raise once the attempt's audit entry is committed."""
    session, now = tx.session, accounts.now()
    name, address = data["username"].strip(), client.get("address")
    attempt = {"username": name[:200], "address": address, "user_agent": client.get("user_agent")}

    def refused(error, reason, user=None, count=True):
        if count and throttle.failed(account=name, address=address) and user is not None:
            credentials.locked(tx, user, attempt)
        tx.audit("login_failed", accounts.USER, user.id if user else name[:200],
                 new={**attempt, "reason": reason}, actor=name[:200])
        return error

    # the account's row lock first: parallel attempts on one account see each other's failures
    user = accounts.find_user(session, name, lock=True)
    try:
        throttle.check(account=name, address=address)
    except errors.Throttled as exc:
        # one audit row per throttled window, counting the refusals of the one before: an
        # anonymous flood cannot fill the append-only trail or queue writes behind its lock
        refusals = throttle.refusals(account=name, address=address, window=exc.retry_after, scope=exc.scope)
        if refusals is not None:
            tx.audit("login_throttled", accounts.USER, name[:200], actor=name[:200],
                     new={**attempt, "retry_after": exc.retry_after, "refused_in_previous_window": refusals,
                          "limit": exc.scope})
        return exc
    # an unknown user costs one argon2 verification too: same answer, same time
    password_ok = passwords.verify(user.password_hash if user else passwords.dummy_hash(), data["password"])
    if user is None or not password_ok or not user.active or accounts.password_expired(user, now):
        reason = ("unknown user" if user is None else "wrong password" if not password_ok else
                  "inactive" if not user.active else "temporary password expired")
        return refused(invalid_login(), reason, user)

    used_mfa = False
    if user.mfa_enabled:
        if not data["totp"]:
            return refused(errors.Unauthenticated("a one-time code is required", {"totp": ["required"]}),
                           "one-time code required", user, count=False)
        factor = mfa.verify_second_factor(tx, settings.sealer, user, data["totp"], now)
        if factor is None:
            return refused(errors.Unauthenticated("the one-time code is wrong or was already used",
                                                  {"totp": ["wrong or already used"]}), "wrong one-time code", user)
        used_mfa = True

    if user.must_change_password:
        if not data["new_password"]:
            return refused(errors.Forbidden("the password must be changed before signing in", {
                "reason": "password_change_required",
                "new_password": ["required: the password was set by an administrator"]}),
                "password change required", user, count=False)
        try:
            accounts.check_new_password(session, user, data["new_password"])
            if passwords.verify(user.password_hash, data["new_password"]):
                raise errors.RuleViolated("the new password must differ from the current one",
                                          {"new_password": ["same as the current password"]})
        except errors.RuleViolated as exc:
            return refused(exc, "new password refused", user, count=False)
        accounts.set_password(session, user, data["new_password"], must_change=False)
        tx.audit("change_password", accounts.USER, user.id, new={"at_login": True}, actor=user.username)
    elif passwords.needs_rehash(user.password_hash):
        accounts.bookkeep(session, user, password_hash=passwords.hash_password(data["password"]))

    throttle.clear(name, address)
    accounts.bookkeep(session, user, last_login_at=now)
    row = Session(user_id=user.id, last_seen_at=now, expires_at=now + settings.max_age,
                  client_address=address, user_agent=client.get("user_agent"), mfa=used_mfa)
    session.add(row)
    tx.flush()
    body = _issue(tx, settings, user, row)
    tx.audit("login", accounts.USER, user.id, new={**attempt, "session_id": str(row.id), "mfa": used_mfa},
             actor=user.username)
    return body


def second_factor_shown(tx, settings, user_id, session_id):
    """The user showed their second factor in this session (the code that enabled
    MFA): new tokens of the session, which now carry the user's permissions."""
    row = tx.session.execute(select(Session).where(Session.id == session_id, Session.user_id == user_id)
                             .with_for_update()).scalar_one_or_none()
    if row is None or domain.session_end_reason(row, accounts.now(), settings.idle_timeout) is not None:
        raise errors.Unauthenticated("the session has ended; sign in again", {"session_id": ["ended"]})
    row.mfa = True
    # the refresh token of the password-only sign-in is spent: presenting it again is reuse
    tx.session.execute(update(RefreshToken).where(RefreshToken.session_id == row.id,
                                                  RefreshToken.rotated_at.is_(None)).values(rotated_at=accounts.now()))
    user = accounts.get_user(tx.session, user_id)
    tx.audit("session_mfa", SESSION, row.id, new={"mfa": True, "by": "enrolment"}, actor=user.username)
    return _issue(tx, settings, user, row)


# ----------------------------------------------------------------- step-up

def step_up(tx, settings, throttle, caller_id, address, data, action):
    """An administrator's own password, and authenticator code when enrolled,
    typed for this one action (a reset or a role change): a stolen access token
    alone cannot take over accounts. None, or the error to raise after the commit."""
    admin = accounts.get_user(tx.session, caller_id, lock=True)
    if admin.mfa_enabled and not data.get("totp"):
        raise errors.RuleViolated("your authenticator code is required for this action",
                                  {"step_up": {"totp": ["required: MFA is enabled on your account"]}})

    def verify():
        return passwords.verify(admin.password_hash, data["password"]) and (
            not admin.mfa_enabled or
            mfa.verify_second_factor(tx, settings.sealer, admin, data["totp"], accounts.now()) is not None)

    return credentials.guarded(tx, throttle, admin, address, verify, failed_action="step_up_failed",
                               attempt={"for": action},
                               refused=errors.Unauthenticated("your password or authenticator code is wrong",
                                                              {"step_up": ["wrong password or code"]}))


# ----------------------------------------------------------------- refresh

def refresh(tx, settings, revocations, raw_token, client):
    """New tokens for a refresh token, or the error to raise after the commit."""
    session, now = tx.session, accounts.now()
    row = session.execute(select(RefreshToken).where(RefreshToken.token_hash == domain.token_hash(raw_token))
                          .with_for_update()).scalar_one_or_none()
    if row is None:
        return errors.Unauthenticated("the refresh token is invalid", {"refresh_token": ["invalid"]})
    login_session = session.execute(select(Session).where(Session.id == row.session_id)
                                    .with_for_update()).scalar_one()
    user = session.get(User, login_session.user_id)
    where = {"session_id": str(login_session.id), "address": client.get("address")}
    if row.rotated_at is not None:
        # reuse: a copy of a spent token is in someone's hands; end the whole family
        revoke(tx, revocations, login_session, "refresh token reuse")
        tx.audit("refresh_token_reuse", SESSION, login_session.id,
                 new={**where, "user_id": str(user.id), "token_rotated_at": row.rotated_at},
                 reason="security: an already rotated refresh token was presented", actor=user.username)
        tx.emit(events.REFRESH_TOKEN_REUSED, login_session.id,
                {"session_id": str(login_session.id), "user_id": str(user.id), "username": user.username,
                 "address": client.get("address")})
        return errors.Unauthenticated("the refresh token was already used; the session has been ended",
                                      {"refresh_token": ["reused"]})
    ended = domain.session_end_reason(login_session, now, settings.idle_timeout)
    if ended is None and not user.active:
        ended = "user inactive"
        revoke(tx, revocations, login_session, ended)
    if ended is not None:
        tx.audit("refresh_refused", SESSION, login_session.id, new={**where, "reason": ended}, actor=user.username)
        return errors.Unauthenticated(f"the session has ended ({ended})", {"refresh_token": [ended]})
    row.rotated_at = now
    login_session.last_seen_at = now
    body = _issue(tx, settings, user, login_session)
    tx.audit("refresh", SESSION, login_session.id, new=where, actor=user.username)
    return body


# ---------------------------------------------------------------- sessions

def revoke(tx, revocations, login_session, reason):
    """End one session (in this transaction); the gateway learns after the commit."""
    if login_session.revoked_at is not None:
        return False
    login_session.revoked_at = accounts.now()
    login_session.revoked_reason = reason[:100]
    tx.after_commit(partial(revocations.publish, [login_session.id]))
    tx.emit(events.SESSION_REVOKED, login_session.id,
            {"session_id": str(login_session.id), "user_id": str(login_session.user_id), "reason": reason})
    return True


def _active_sessions(session, user_id, lock=False):
    stmt = select(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None)) \
        .order_by(Session.created_at.desc())
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalars().all()


def list_sessions(session, settings, user_id, current_session_id=None):
    now = accounts.now()
    return [session_out.dump({**accounts.columns(s), "current": str(s.id) == str(current_session_id)})
            for s in _active_sessions(session, user_id)
            if domain.session_end_reason(s, now, settings.idle_timeout) is None]


def revoke_session(tx, revocations, user_id, session_id, reason):
    row = tx.session.execute(select(Session).where(Session.id == session_id, Session.user_id == user_id)
                             .with_for_update()).scalar_one_or_none()
    if row is None:
        raise errors.NotFound(f"session {session_id} does not exist", {"session_id": str(session_id)})
    if revoke(tx, revocations, row, reason):
        tx.audit("revoke_session", SESSION, row.id, new={"user_id": str(user_id), "reason": reason})
    return {"revoked": 1}


def revoke_user_sessions(tx, revocations, user_id, reason, except_session_id=None):
    count = 0
    for row in _active_sessions(tx.session, user_id, lock=True):
        if except_session_id is not None and str(row.id) == str(except_session_id):
            continue
        count += revoke(tx, revocations, row, reason)
    if count:
        tx.audit("revoke_sessions", accounts.USER, user_id, new={"sessions": count, "reason": reason})
    return {"revoked": count}


def session_active(session, settings, session_id):
    row = session.get(Session, session_id)
    return row is not None and domain.session_end_reason(row, accounts.now(), settings.idle_timeout) is None


def recently_revoked(session, settings):
    """Sessions whose access tokens may still be unexpired: the gateway must know them."""
    since = accounts.now() - settings.access_ttl - dt.timedelta(minutes=1)
    return session.execute(select(Session.id).where(Session.revoked_at >= since)).scalars().all()
