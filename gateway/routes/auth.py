"""/api/v1/auth: sign-in, tokens, my account, users, roles, API tokens."""
from auth_service import schemas
from gateway.auth import AUTHENTICATED
from gateway.http import json_body, path_id, query_args, route
from mes_common import errors
from mes_common.rpc import RpcClient

TAGS = ["auth"]
ME = "/api/v1/auth/me"
USERS = "/api/v1/auth/users"
ROLES = "/api/v1/auth/roles"
SIGN_IN_ERRORS = (400, 401, 403, 429, 503)


def client_of(request, trusted_proxy_hops=0):
    """What the auth service records about the caller (throttling, session list).

    Behind `trusted_proxy_hops` reverse proxies the client is the address that
    many entries from the end of X-Forwarded-For (the ones our proxies added);
    without proxies the header is the client's to forge and is ignored. A NUL
    cannot be stored (PostgreSQL text): it is dropped from the user agent."""
    address = request.remote_addr
    if trusted_proxy_hops:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
        if len(forwarded) >= trusted_proxy_hops:
            address = forwarded[-trusted_proxy_hops][:64]
    user_agent = (request.user_agent.string or "").replace("\x00", "")[:300]
    return {"address": address, "user_agent": user_agent or None}


def _user_id(request):
    return request.principal.user_id


def _session_id(request):
    """The caller's session: signatures, logout and every change to the account's own
    credentials or sessions need a signed-in person, not a machine. (An API token must
    not mint wider tokens, enrol its own authenticator or end its owner's sessions.)"""
    if request.principal.session_id is None:
        raise errors.Forbidden("this needs a user's session, not an API token", {"authorization": ["API token"]})
    return request.principal.session_id


class AuthRoutes:
    """Mixed into the Gateway."""

    auth_service = RpcClient("auth_service")

    def _client(self, request):
        return client_of(request, int(self.config.get("TRUSTED_PROXY_HOPS") or 0))

    # ------------------------------------------------------------ sign in

    @route("POST", "/api/v1/auth/login", summary="Sign in", tags=TAGS, public=True, body=schemas.Login,
           response=schemas.Tokens, error_codes=SIGN_IN_ERRORS)
    def login(self, request):
        """Username and password (plus `totp` when MFA is on) for an access token (15 min) and a
        refresh token. An unknown user and a wrong password get the same 401; repeated failures
        get 429 with Retry-After, then a temporary lock. 403 `password_change_required`: send
        `new_password` too."""
        return self.auth_service.login(json_body(request, schemas.Login), self._client(request))

    @route("POST", "/api/v1/auth/refresh", summary="Exchange a refresh token", tags=TAGS, public=True,
           body=schemas.Refresh, response=schemas.Tokens, error_codes=(400, 401, 503))
    def refresh(self, request):
        """Each refresh token works once and comes back replaced. Presenting a spent one ends the
        whole session (a copy is in someone else's hands)."""
        body = json_body(request, schemas.Refresh)
        return self.auth_service.refresh(body["refresh_token"], self._client(request))

    @route("POST", "/api/v1/auth/logout", summary="End this session", tags=TAGS, permission=AUTHENTICATED,
           status=204, error_codes=(403, 503))
    def logout(self, request):
        self.auth_service.logout(_user_id(request), _session_id(request))
        return 204, None

    # -------------------------------------------------------- my account

    @route("GET", ME, summary="My account, roles and permissions", tags=TAGS, permission=AUTHENTICATED,
           response=schemas.Me, error_codes=(503,))
    def get_me(self, request):
        return self.auth_service.get_me(_user_id(request))

    @route("POST", ME + "/password", summary="Change my password", tags=TAGS, permission=AUTHENTICATED,
           body=schemas.PasswordChange, response=schemas.Me, error_codes=(400, 401, 403, 503))
    def change_password(self, request):
        """Your other sessions end; this one stays."""
        return self.auth_service.change_password(_user_id(request), _session_id(request),
                                                 json_body(request, schemas.PasswordChange))

    @route("GET", ME + "/sessions", summary="My active sessions", tags=TAGS, permission=AUTHENTICATED,
           response=schemas.SessionOut(many=True), error_codes=(503,))
    def list_my_sessions(self, request):
        return self.auth_service.list_sessions(_user_id(request), request.principal.session_id)

    @route("DELETE", ME + "/sessions/<session_id>", summary="End one of my sessions", tags=TAGS,
           permission=AUTHENTICATED, status=204, error_codes=(400, 403, 404, 503))
    def revoke_my_session(self, request, session_id):
        _session_id(request)
        self.auth_service.revoke_session(_user_id(request), path_id("session_id", session_id))
        return 204, None

    @route("DELETE", ME + "/sessions", summary="End all my other sessions", tags=TAGS, permission=AUTHENTICATED,
           response=schemas.Revoked, error_codes=(403, 503))
    def revoke_my_sessions(self, request):
        """Every session but this one (end this one with /logout)."""
        return self.auth_service.revoke_sessions(_user_id(request), _session_id(request),
                                                 "revoked by the user")

    @route("POST", ME + "/mfa/totp", summary="Start TOTP enrolment", tags=TAGS, permission=AUTHENTICATED,
           response=schemas.TotpEnrolment, status=201, error_codes=(403, 409, 503))
    def begin_totp(self, request):
        """Returns the secret and an otpauth:// URI for the authenticator app; MFA is on once
        confirmed with a code."""
        _session_id(request)
        return self.auth_service.begin_totp(_user_id(request))

    @route("POST", ME + "/mfa/totp/confirm", summary="Confirm TOTP enrolment", tags=TAGS,
           permission=AUTHENTICATED, body=schemas.TotpCode, response=schemas.RecoveryCodes,
           error_codes=(400, 403, 404, 409, 422, 503))
    def confirm_totp(self, request):
        """Turns MFA on and returns ten single-use recovery codes, shown once."""
        _session_id(request)
        return self.auth_service.confirm_totp(_user_id(request), json_body(request, schemas.TotpCode))

    @route("POST", ME + "/mfa/recovery-codes", summary="New recovery codes", tags=TAGS,
           permission=AUTHENTICATED, body=schemas.TotpCode, response=schemas.RecoveryCodes,
           error_codes=(400, 401, 403, 409, 503))
    def regenerate_recovery_codes(self, request):
        _session_id(request)
        return self.auth_service.regenerate_recovery_codes(_user_id(request), json_body(request, schemas.TotpCode))

    @route("POST", ME + "/mfa/disable", summary="Turn MFA off", tags=TAGS, permission=AUTHENTICATED,
           body=schemas.MfaDisable, response=schemas.Me, error_codes=(400, 401, 403, 409, 422, 503))
    def disable_mfa(self, request):
        """Needs the password and a code; refused while one of your roles requires MFA."""
        _session_id(request)
        return self.auth_service.disable_mfa(_user_id(request), json_body(request, schemas.MfaDisable))

    @route("POST", ME + "/signature-check", summary="Check e-signature credentials", tags=TAGS,
           permission=AUTHENTICATED, body=schemas.SignatureIn, response=schemas.SignatureOut,
           error_codes=(400, 401, 403, 429, 503))
    def check_signature(self, request):
        """21 CFR 11.200(a)(1): the first signing of a session needs username, password and (with
        MFA) a code; later ones in the same continuous session the password. Returns the printed
        name, UTC time and meaning to show with the signed record."""
        body = json_body(request, schemas.SignatureIn)
        return self.auth_service.verify_signature({**body, "session_id": _session_id(request),
                                                   "user_id": _user_id(request)})

    # ---------------------------------------------------------- API tokens

    @route("GET", ME + "/api-tokens", summary="My API tokens", tags=TAGS, permission=AUTHENTICATED,
           response=schemas.ApiTokenOut(many=True), error_codes=(503,))
    def list_my_api_tokens(self, request):
        return self.auth_service.list_api_tokens(_user_id(request))

    @route("POST", ME + "/api-tokens", summary="Create an API token", tags=TAGS, permission="api_token:write",
           body=schemas.ApiTokenCreate, response=schemas.ApiTokenCreated, status=201,
           error_codes=(400, 403, 503))
    def create_api_token(self, request):
        """`mes_…`, shown once. Scoped to some of your permissions; it loses any you lose.
        Made by a signed-in person: an API token cannot make another."""
        _session_id(request)
        return self.auth_service.create_api_token(_user_id(request), json_body(request, schemas.ApiTokenCreate))

    @route("DELETE", ME + "/api-tokens/<token_id>", summary="Revoke one of my API tokens", tags=TAGS,
           permission=AUTHENTICATED, response=schemas.ApiTokenOut, error_codes=(400, 403, 404, 503))
    def revoke_my_api_token(self, request, token_id):
        """Takes effect within AUTH.API_TOKEN_CACHE_TTL (15 s by default) at every gateway."""
        _session_id(request)
        return self.auth_service.revoke_api_token(_user_id(request), path_id("token_id", token_id))

    # --------------------------------------------------------------- users

    @route("GET", USERS, summary="List users", tags=TAGS, permission="user:read", query=schemas.UserListQuery,
           response=schemas.UserPage, error_codes=(400, 503))
    def list_users(self, request):
        return self.auth_service.list_users(query_args(request, schemas.UserListQuery))

    @route("POST", USERS, summary="Create a user", tags=TAGS, permission="user:write", body=schemas.UserCreate,
           response=schemas.UserOut, status=201)
    def create_user(self, request):
        """The initial password must meet the policy; the user changes it at first sign-in."""
        return self.auth_service.create_user(json_body(request, schemas.UserCreate))

    @route("GET", USERS + "/<user_id>", summary="Get a user", tags=TAGS, permission="user:read",
           response=schemas.UserOut, error_codes=(400, 404, 503))
    def get_user(self, request, user_id):
        return self.auth_service.get_user(path_id("user_id", user_id))

    @route("PATCH", USERS + "/<user_id>", summary="Change a user's name, e-mail or active flag", tags=TAGS,
           permission="user:write", body=schemas.UserUpdate, response=schemas.UserOut)
    def update_user(self, request, user_id):
        """Deactivating ends every session and API token of the user."""
        return self.auth_service.update_user(path_id("user_id", user_id), json_body(request, schemas.UserUpdate))

    @route("PUT", USERS + "/<user_id>/roles", summary="Set a user's roles", tags=TAGS, permission="user:write",
           body=schemas.RoleAssignment, response=schemas.UserOut)
    def set_roles(self, request, user_id):
        """Access tokens carry the new permissions from the next refresh (at most 15 minutes)."""
        return self.auth_service.set_roles(path_id("user_id", user_id), json_body(request, schemas.RoleAssignment))

    @route("POST", USERS + "/<user_id>/password-reset", summary="Set a temporary password", tags=TAGS,
           permission="user:write", body=schemas.PasswordReset, response=schemas.UserOut)
    def reset_password(self, request, user_id):
        """The user must change it at the next sign-in; their sessions end now."""
        return self.auth_service.reset_password(path_id("user_id", user_id),
                                                json_body(request, schemas.PasswordReset))

    @route("POST", USERS + "/<user_id>/unlock", summary="Lift a lock after failed sign-ins", tags=TAGS,
           permission="user:write", body=schemas.Reason, response=schemas.UserOut)
    def unlock_user(self, request, user_id):
        return self.auth_service.unlock_user(path_id("user_id", user_id), json_body(request, schemas.Reason))

    @route("POST", USERS + "/<user_id>/mfa-reset", summary="Clear a user's MFA (lost authenticator)",
           tags=TAGS, permission="user:write", body=schemas.Reason, response=schemas.UserOut)
    def reset_mfa(self, request, user_id):
        return self.auth_service.reset_mfa(path_id("user_id", user_id), json_body(request, schemas.Reason))

    @route("GET", USERS + "/<user_id>/sessions", summary="A user's active sessions", tags=TAGS,
           permission="user:read", response=schemas.SessionOut(many=True), error_codes=(400, 503))
    def list_user_sessions(self, request, user_id):
        return self.auth_service.list_sessions(path_id("user_id", user_id))

    @route("DELETE", USERS + "/<user_id>/sessions", summary="End every session of a user", tags=TAGS,
           permission="user:write", response=schemas.Revoked, error_codes=(400, 503))
    def revoke_user_sessions(self, request, user_id):
        return self.auth_service.revoke_sessions(path_id("user_id", user_id), None, "revoked by an administrator")

    @route("GET", USERS + "/<user_id>/api-tokens", summary="A user's API tokens", tags=TAGS,
           permission="user:read", response=schemas.ApiTokenOut(many=True), error_codes=(400, 503))
    def list_user_api_tokens(self, request, user_id):
        return self.auth_service.list_api_tokens(path_id("user_id", user_id))

    @route("DELETE", USERS + "/<user_id>/api-tokens/<token_id>", summary="Revoke a user's API token",
           tags=TAGS, permission="user:write", response=schemas.ApiTokenOut, error_codes=(400, 404, 503))
    def revoke_user_api_token(self, request, user_id, token_id):
        return self.auth_service.revoke_api_token(path_id("user_id", user_id), path_id("token_id", token_id),
                                                  "revoked by an administrator")

    # --------------------------------------------------------------- roles

    @route("GET", ROLES, summary="List roles", tags=TAGS, permission="role:read",
           response=schemas.RoleOut(many=True), error_codes=(503,))
    def list_roles(self, request):
        return self.auth_service.list_roles()

    @route("POST", ROLES, summary="Create a custom role", tags=TAGS, permission="role:write",
           body=schemas.RoleCreate, response=schemas.RoleOut, status=201)
    def create_role(self, request):
        return self.auth_service.create_role(json_body(request, schemas.RoleCreate))

    @route("PATCH", ROLES + "/<name>", summary="Change a role", tags=TAGS, permission="role:write",
           body=schemas.RoleUpdate, response=schemas.RoleOut)
    def update_role(self, request, name):
        """Built-in roles: only `requires_mfa` can change."""
        return self.auth_service.update_role(name, json_body(request, schemas.RoleUpdate))

    @route("GET", "/api/v1/auth/permissions", summary="The permission catalogue", tags=TAGS,
           permission="role:read", response=schemas.PermissionOut(many=True), error_codes=(503,))
    def list_permissions(self, request):
        return self.auth_service.list_permissions()
