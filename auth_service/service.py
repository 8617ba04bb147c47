"""Auth service: users, roles, sessions, tokens, MFA and e-signature checks.

Entrypoints only: validate with the schemas, run a use case in one unit of
work, dump the answer. Use cases that refuse an attempt return the error so
that the attempt's audit entry commits before it is raised.
"""
import datetime as dt
import logging

import redis
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from auth_service import accounts, api_tokens, mfa, sessions, signatures
from auth_service.contract import keys, schemas
from auth_service.models import AuditEntry, Base, InboxEvent, OutboxEvent
from auth_service.contract.revocations import RevocationList
from auth_service.throttle import Throttle
from mes_common.cache import DEFAULT_PREFIX
from mes_common.config import database_url
from mes_common.db import StandaloneUnitOfWork, UnitOfWork, one_at_a_time
from mes_common.errors import Forbidden, MesError, NotFound, ValidationFailed
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from mes_common.service import ServiceBase

log = logging.getLogger(__name__)


class AuthRuntime(DependencyProvider):
    """Settings, the signing key, the throttle and the revocation list of one
    container; brings the built-in roles up to date at start."""

    def setup(self):
        config = self.container.config
        self.settings = sessions.Settings.from_config(config)
        prefix = config.get("CACHE_PREFIX") or DEFAULT_PREFIX
        auth = keys.settings(config)
        self.throttle = Throttle(config["REDIS_URL"], prefix, **{
            ladder: auth[f"THROTTLE_{ladder.upper()}"] for ladder in ("account", "address")
            if auth.get(f"THROTTLE_{ladder.upper()}")})
        self.api_token_max_lifetime = dt.timedelta(days=float(auth.get("API_TOKEN_MAX_DAYS", 365)))
        self.redis = redis.Redis.from_url(config["REDIS_URL"], socket_timeout=1, socket_connect_timeout=1)
        self.revocations = RevocationList(self.redis, prefix, self.settings.access_ttl.total_seconds())
        self.public_key = keys.public_key(config)

    def start(self):
        name = self.container.service_name
        uow = StandaloneUnitOfWork(database_url(self.container.config, name), name,
                                   Base, OutboxEvent, InboxEvent, AuditEntry)
        try:
            with uow.transaction("system") as tx:
                one_at_a_time(tx.session, "auth.builtin_roles")   # instances starting together
                changed = accounts.sync_builtin_roles(tx)
                sealed = mfa.seal_legacy_secrets(tx, self.settings.sealer)
            if changed:
                log.info("built-in roles brought up to date: %s", ", ".join(changed))
            if sealed:
                log.info("TOTP seeds sealed with AUTH.SECRETS_KEY_FILE: %d", sealed)
        finally:
            uow.dispose()

    def stop(self):
        self.redis.close()

    kill = stop

    def get_dependency(self, worker_ctx):
        return self


def _raise(outcome):
    """Use cases return an error they audited; raise it now that it is committed."""
    if isinstance(outcome, MesError):
        raise outcome
    return outcome


class AuthService(ServiceBase):
    name = "auth_service"

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry)
    auth = AuthRuntime()

    # ------------------------------------------------------------ sign in

    @rpc
    def login(self, credentials, client=None):
        data = load(schemas.Login(), credentials)
        with self.uow() as tx:
            outcome = sessions.login(tx, self.auth.settings, self.auth.throttle, data, load(schemas.Client(), client))
        return _raise(outcome)

    @rpc
    def refresh(self, refresh_token, client=None):
        """`refresh_token`: the token, or the HTTP body `{"refresh_token": ...}`."""
        body = refresh_token if isinstance(refresh_token, dict) else {"refresh_token": refresh_token}
        token = load(schemas.Refresh(), body)["refresh_token"]
        with self.uow() as tx:
            outcome = sessions.refresh(tx, self.auth.settings, self.auth.revocations, token,
                                       load(schemas.Client(), client))
        return _raise(outcome)

    @rpc
    def logout(self, user_id, session_id):
        """End the caller's session; a session already gone is fine (idempotent)."""
        try:
            return self._revoke_session(user_id, session_id, "logout")
        except NotFound:
            return {"revoked": 0}

    @rpc
    def public_key(self):
        """The PEM public key access tokens are verified with."""
        return self.auth.public_key

    # ----------------------------------------------------------- sessions

    @rpc
    def list_sessions(self, user_id, current_session_id=None):
        return sessions.list_sessions(self.uow.session, self.auth.settings, uuid_arg(user_id), current_session_id)

    @rpc
    def revoke_session(self, user_id, session_id):
        return self._revoke_session(user_id, session_id, "revoked by the user")

    def _revoke_session(self, user_id, session_id, reason):
        user_id, session_id = uuid_arg(user_id), uuid_arg(session_id, "session_id")
        with self.uow() as tx:
            return sessions.revoke_session(tx, self.auth.revocations, user_id, session_id, reason)

    @rpc
    def revoke_sessions(self, user_id, except_session_id=None, reason="revoked"):
        with self.uow() as tx:
            self._may_manage(tx.session, uuid_arg(user_id))
            return sessions.revoke_user_sessions(tx, self.auth.revocations, uuid_arg(user_id), reason,
                                                 except_session_id=except_session_id)

    @rpc
    def session_active(self, session_id):
        """Whether a session can still be used (the gateway asks when Redis is away)."""
        return sessions.session_active(self.uow.session, self.auth.settings, uuid_arg(session_id, "session_id"))

    @timer(interval=10)
    def reassert_revocations(self):
        """Heal the gateway's revocation list after a Redis restart or a failed write."""
        try:
            self.auth.revocations.publish(sessions.recently_revoked(self.uow.session, self.auth.settings))
        except redis.RedisError as exc:
            log.warning("revoked sessions not written to Redis: %s", exc)

    # --------------------------------------------------------- API tokens

    @rpc
    def authenticate_api_token(self, token):
        if not isinstance(token, str) or len(token) > 200 or not token.isascii():
            raise ValidationFailed("invalid token", {"token": ["invalid"]})
        with self.uow() as tx:
            return api_tokens.authenticate(tx, token)

    @rpc
    def create_api_token(self, user_id, data):
        data = load(schemas.ApiTokenCreate(), data)
        with self.uow() as tx:
            return api_tokens.create(tx, uuid_arg(user_id), data, self.auth.api_token_max_lifetime)

    @rpc
    def list_api_tokens(self, user_id):
        return api_tokens.list_tokens(self.uow.session, uuid_arg(user_id))

    @rpc
    def revoke_api_token(self, user_id, token_id, reason=None):
        with self.uow() as tx:
            self._may_manage(tx.session, uuid_arg(user_id))
            return api_tokens.revoke(tx, uuid_arg(user_id), uuid_arg(token_id, "token_id"), reason)

    # -------------------------------------------------------------- users

    def _may_grant(self, session, permissions, what):
        accounts.check_within_own_permissions(session, self._caller(), permissions, what)

    def _may_manage(self, session, user_id):
        """Nobody acts on an account more powerful than their own (user:write is not admin)."""
        self._may_grant(session, accounts.permissions_of_user(session, user_id), "manage this user")

    def _administer(self, schema, user_id, data):
        """Load the body of an action that could take over an account (a reset, a
        role change). A person does it from their own session, with step-up
        credentials, to another's account; the operators' CLI is trusted."""
        caller = self._caller()
        if caller.trusted:
            return uuid_arg(user_id), load(schema(partial=("step_up",)), data)
        if caller.user_id is None:
            raise Forbidden("this needs a person's session", {"authorization": ["no user, and not a platform call"]})
        if caller.token_id is not None:
            raise Forbidden("this needs a person's session, not an API token", {"authorization": ["API token"]})
        user_id = uuid_arg(user_id)
        if user_id == caller.user_id:
            raise Forbidden("not on your own account: another administrator does this",
                            {"user_id": ["your own account"]})
        return user_id, load(schema(), data)

    def _stepped_up(self, tx, data, action):
        """None when the caller's step-up credentials are right (or it is the CLI),
        else the error to raise after the commit."""
        caller = self._caller()
        if caller.trusted:
            return None
        return sessions.step_up(tx, self.auth.settings, self.auth.throttle, caller.user_id, caller.address,
                                data["step_up"], action)

    @rpc
    def create_user(self, data):
        data = load(schemas.UserCreate(), data)
        with self.uow() as tx:
            self._may_grant(tx.session, accounts.permissions_of_roles(tx.session, data["roles"]), "grant these roles")
            return accounts.create_user(tx, data, temporary_password_ttl=self.auth.settings.temporary_password_ttl)

    @rpc
    def get_user(self, user_id):
        session = self.uow.session
        return accounts.dump_user(session, accounts.get_user(session, uuid_arg(user_id)))

    @rpc
    def get_user_summaries(self, user_ids):
        """Display fields of many users at once (for other services' caches)."""
        ids = load(schemas.SummaryQuery(), {"ids": user_ids})["ids"]
        return accounts.summaries(self.uow.session, ids)

    @rpc
    def list_users(self, query=None):
        return accounts.list_users(self.uow.session, load(schemas.UserListQuery(), query))

    @rpc
    def update_user(self, user_id, changes):
        user_id, changes = uuid_arg(user_id), load(schemas.UserUpdate(), changes)
        with self.uow() as tx:
            self._may_manage(tx.session, user_id)
            out, deactivated = accounts.update_user(tx, user_id, changes)
            if deactivated:  # a deactivated user's sessions end with it
                sessions.revoke_user_sessions(tx, self.auth.revocations, user_id, "user deactivated")
        return out

    @rpc
    def set_roles(self, user_id, data):
        user_id, data = self._administer(schemas.RoleAssignment, user_id, data)
        with self.uow() as tx:
            self._may_manage(tx.session, user_id)
            self._may_grant(tx.session, accounts.permissions_of_roles(tx.session, data["roles"]), "grant these roles")
            outcome = self._stepped_up(tx, data, "set_roles") or \
                accounts.set_roles(tx, user_id, data["roles"], data["reason"])
        return _raise(outcome)

    @rpc
    def reset_password(self, user_id, data):
        """Temporary password set by an administrator; every session of the user ends."""
        user_id, data = self._administer(schemas.PasswordReset, user_id, data)
        with self.uow() as tx:
            self._may_manage(tx.session, user_id)
            outcome = self._stepped_up(tx, data, "reset_password")
            if outcome is None:
                user = accounts.reset_password(tx, user_id, data["password"],
                                               self.auth.settings.temporary_password_ttl, data["reason"])
                sessions.revoke_user_sessions(tx, self.auth.revocations, user_id, "password reset")
        _raise(outcome)
        return accounts.dump_user(self.uow.session, user)

    @rpc
    def unlock_user(self, user_id, data=None):
        user_id, data = uuid_arg(user_id), load(schemas.Reason(), data)
        with self.uow() as tx:
            self._may_manage(tx.session, user_id)
            user = accounts.unlock(tx, self.auth.throttle, user_id, data["reason"])
        return accounts.dump_user(self.uow.session, user)

    @rpc
    def reset_mfa(self, user_id, data=None):
        user_id, data = self._administer(schemas.SteppedUp, user_id, data)
        with self.uow() as tx:
            self._may_manage(tx.session, user_id)
            outcome = self._stepped_up(tx, data, "reset_mfa")
            if outcome is None:
                user = mfa.reset(tx, user_id, data["reason"])
        _raise(outcome)
        return accounts.dump_user(self.uow.session, user)

    # -------------------------------------------------------------- roles

    @rpc
    def list_roles(self):
        return accounts.list_roles(self.uow.session)

    @rpc
    def list_permissions(self):
        return accounts.list_permissions()

    @rpc
    def create_role(self, data):
        data = load(schemas.RoleCreate(), data)
        with self.uow() as tx:
            self._may_grant(tx.session, data["permissions"], "create a role with these permissions")
            return accounts.create_role(tx, data)

    @rpc
    def update_role(self, name, changes):
        name = load(schemas.RoleRef(), {"name": name})["name"]
        changes = load(schemas.RoleUpdate(), changes)
        with self.uow() as tx:
            self._may_grant(tx.session, accounts.get_role(tx.session, name).permissions + changes.get("permissions", []),
                            "change a role with these permissions")
            return accounts.update_role(tx, name, changes)

    # -------------------------------------------------------- self-service

    @rpc
    def get_me(self, user_id):
        session = self.uow.session
        return accounts.dump_me(session, accounts.get_user(session, uuid_arg(user_id)))

    @rpc
    def change_password(self, user_id, session_id, data):
        """The user's own change; their other sessions end (this one stays)."""
        user_id, data = uuid_arg(user_id), load(schemas.PasswordChange(), data)
        with self.uow() as tx:
            user = accounts.get_user(tx.session, user_id, lock=True)
            outcome = accounts.change_password(tx, self.auth.throttle, self._caller().address, user,
                                               data["current_password"], data["new_password"])
            if outcome is None:
                sessions.revoke_user_sessions(tx, self.auth.revocations, user_id, "password changed",
                                              except_session_id=session_id)
        _raise(outcome)
        return accounts.dump_me(self.uow.session, user)

    @rpc
    def begin_totp(self, user_id):
        with self.uow() as tx:
            return mfa.begin_totp(tx, self.auth.settings.sealer, uuid_arg(user_id))

    @rpc
    def confirm_totp(self, user_id, data, session_id=None):
        """Enable MFA; from a session (`session_id`), its tokens come back with the
        user's permissions, so the first sign-in goes on without signing in again."""
        user_id, code = uuid_arg(user_id), load(schemas.TotpCode(), data)["code"]
        with self.uow() as tx:
            outcome = mfa.confirm_totp(tx, self.auth.settings.sealer, user_id, code)
            if session_id is not None and not isinstance(outcome, MesError):
                outcome["tokens"] = sessions.second_factor_shown(tx, self.auth.settings, user_id,
                                                                 uuid_arg(session_id, "session_id"))
        return _raise(outcome)

    @rpc
    def disable_mfa(self, user_id, data):
        user_id, data = uuid_arg(user_id), load(schemas.MfaDisable(), data)
        with self.uow() as tx:
            outcome = mfa.disable(tx, self.auth.settings, self.auth.throttle, self._caller().address, user_id,
                                  data["password"], data["code"])
        _raise(outcome)
        return self.get_me(user_id)

    @rpc
    def regenerate_recovery_codes(self, user_id, data):
        user_id, code = uuid_arg(user_id), load(schemas.TotpCode(), data)["code"]
        with self.uow() as tx:
            outcome = mfa.regenerate_recovery_codes(tx, self.auth.settings, self.auth.throttle, self._caller().address,
                                                    user_id, code)
        return _raise(outcome)

    # -------------------------------------------------------- e-signatures

    @rpc
    def verify_signature(self, data):
        """Re-authenticate a signer (21 CFR 11.200(a)(1)); returns the manifest
        to store with the signed record: printed name, UTC time, meaning."""
        data = load(schemas.SignatureCheck(), data)
        with self.uow() as tx:
            outcome = signatures.verify(tx, self.auth.settings, self.auth.throttle, data, self._caller().address)
        return _raise(outcome)

