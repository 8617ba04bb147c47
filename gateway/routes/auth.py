"""/api/v1/auth: sign-in, tokens, my account, users, roles, API tokens.

Routes on "my" account act on the caller (`call.user_id`); those that change
its credentials or sessions need a person's session (`call.session_id`
refuses API tokens with 403)."""
from auth_service import contract
from auth_service.contract import schemas as s
from gateway.auth import AUTHENTICATED
from gateway.http import json_body
from gateway.routing import Routes

routes = Routes(contract.SERVICE, tags=["auth"], prefix="/api/v1/auth")
ME, USERS, ROLES = "/me", "/users", "/roles"
SIGN_IN_ERRORS = (400, 401, 403, 422, 429, 503)  # 422: a new password against the policy
BY_ADMIN = "revoked by an administrator"


# ------------------------------------------------------------ sign in
# hand-written: the auth service also gets the caller's address and user agent

@routes.handler("POST", "/login", calls=("login",), summary="Sign in", public=True, body=s.Login,
                response=s.Tokens,
                error_codes=SIGN_IN_ERRORS)
def login(gateway, request):
    """Username and password (plus `totp` when MFA is on) for an access token (15 min) and a
    refresh token. An unknown user and a wrong password get the same 401; repeated failures
    for one name from one address get 429 with Retry-After (from that address only: a lock
    there ends no session). 403 `password_change_required`: send `new_password` too (an
    administrator's password serves once, within a day). `mfa_enrolment_required`: a role
    requires MFA; the token opens the enrolment only."""
    return gateway.services[contract.SERVICE].login(json_body(request), request.client)


@routes.handler("POST", "/refresh", calls=("refresh",), summary="Exchange a refresh token", public=True,
                body=s.Refresh,
                response=s.Tokens, error_codes=(400, 401, 503))
def refresh(gateway, request):
    """Each refresh token works once and comes back replaced. Presenting a spent one ends the
    whole session (a copy is in someone else's hands)."""
    return gateway.services[contract.SERVICE].refresh(json_body(request), request.client)


routes.post("/logout", "logout", status=204, permission=AUTHENTICATED, error_codes=(403, 503),
            summary="End this session", args=lambda call: (call.user_id, call.session_id))

# -------------------------------------------------------- my account

routes.get(ME, "get_me", response=s.Me, permission=AUTHENTICATED, error_codes=(503,),
           summary="My account, roles and permissions", args=lambda call: (call.user_id,))
routes.post(ME + "/password", "change_password", body=s.PasswordChange, response=s.Me, permission=AUTHENTICATED,
            error_codes=(400, 401, 403, 422, 429, 503), summary="Change my password",
            doc="Your other sessions end; this one stays.",
            args=lambda call: (call.user_id, call.session_id, call.payload))
routes.get(ME + "/sessions", "list_sessions", operation_id="list_my_sessions", response=s.SessionOut(many=True),
           permission=AUTHENTICATED, error_codes=(503,), summary="My active sessions",
           args=lambda call: (call.user_id, call.principal.session_id))
routes.delete(ME + "/sessions/<session_id>", "revoke_session", operation_id="revoke_my_session", status=204,
              permission=AUTHENTICATED, error_codes=(400, 403, 404, 503), summary="End one of my sessions",
              args=lambda call: call.own(call.path["session_id"]))
routes.delete(ME + "/sessions", "revoke_sessions", operation_id="revoke_my_sessions", response=s.Revoked,
              permission=AUTHENTICATED, error_codes=(403, 503), summary="End all my other sessions",
              doc="Every session but this one (end this one with /logout).",
              args=lambda call: (call.user_id, call.session_id, "revoked by the user"))
routes.post(ME + "/mfa/totp", "begin_totp", response=s.TotpEnrolment, status=201, permission=AUTHENTICATED,
            error_codes=(403, 409, 503), summary="Start TOTP enrolment",
            doc="Returns the secret and an otpauth:// URI for the authenticator app; MFA is on once confirmed "
                "with a code.",
            args=lambda call: call.own())
routes.post(ME + "/mfa/totp/confirm", "confirm_totp", body=s.TotpCode, response=s.MfaEnabled,
            permission=AUTHENTICATED, error_codes=(400, 401, 403, 404, 409, 422, 503), summary="Confirm TOTP enrolment",
            doc="Turns MFA on and returns ten single-use recovery codes, shown once, and this session's new tokens "
                "(with your permissions when a role of yours required the enrolment).",
            args=lambda call: call.own(call.payload, call.session_id))
routes.post(ME + "/mfa/recovery-codes", "regenerate_recovery_codes", body=s.TotpCode, response=s.RecoveryCodes,
            permission=AUTHENTICATED, error_codes=(400, 401, 403, 409, 429, 503), summary="New recovery codes",
            args=lambda call: call.own(call.payload))
routes.post(ME + "/mfa/disable", "disable_mfa", body=s.MfaDisable, response=s.Me, permission=AUTHENTICATED,
            error_codes=(400, 401, 403, 409, 422, 429, 503), summary="Turn MFA off",
            doc="Needs the password and a code; refused while one of your roles requires MFA.",
            args=lambda call: call.own(call.payload))

# ---------------------------------------------------------- API tokens

routes.get(ME + "/api-tokens", "list_api_tokens", operation_id="list_my_api_tokens",
           response=s.ApiTokenOut(many=True), permission=AUTHENTICATED, error_codes=(503,), summary="My API tokens",
           args=lambda call: (call.user_id,))
routes.post(ME + "/api-tokens", "create_api_token", body=s.ApiTokenCreate, response=s.ApiTokenCreated, status=201,
            permission="api_token:write", error_codes=(400, 403, 422, 503), summary="Create an API token",
            doc="`mes_…`, shown once. Scoped to some of your permissions; it loses any you lose. Made by a "
                "signed-in person: an API token cannot make another.",
            args=lambda call: call.own(call.payload))
routes.delete(ME + "/api-tokens/<token_id>", "revoke_api_token", operation_id="revoke_my_api_token",
              response=s.ApiTokenOut, permission=AUTHENTICATED, error_codes=(400, 403, 404, 503),
              summary="Revoke one of my API tokens",
              doc="Takes effect within AUTH.API_TOKEN_CACHE_TTL (15 s by default) at every gateway.",
              args=lambda call: call.own(call.path["token_id"]))

# --------------------------------------------------------------- users

routes.get(USERS, "list_users", query=s.UserListQuery, response=s.UserPage, permission="user:read",
           summary="List users")
routes.post(USERS, "create_user", body=s.UserCreate, response=s.UserOut, status=201, permission="user:write",
            summary="Create a user",
            doc="The initial password must meet the policy; the user changes it at first sign-in.")
routes.get(USERS + "/<user_id>", "get_user", response=s.UserOut, permission="user:read", summary="Get a user")
routes.patch(USERS + "/<user_id>", "update_user", body=s.UserUpdate, response=s.UserOut, permission="user:write",
             summary="Change a user's name, e-mail or active flag",
             doc="Deactivating ends every session and API token of the user.")
# actions that could take over an account: a person's session, step-up credentials, another's account
TAKEOVER_ERRORS = (400, 401, 403, 404, 409, 422, 429, 503)
STEP_UP = ("Needs your own password (and authenticator code once you have MFA) in `step_up`, from a signed-in "
           "session (not an API token), on another's account. ")
routes.put(USERS + "/<user_id>/roles", "set_roles", body=s.RoleAssignment, response=s.UserOut,
           permission="user:write", summary="Set a user's roles", error_codes=TAKEOVER_ERRORS,
           doc=STEP_UP + "Access tokens carry the new permissions from the next refresh (at most 15 minutes).",
           args=lambda call: call.by_person(call.path["user_id"], call.payload))
routes.post(USERS + "/<user_id>/password-reset", "reset_password", body=s.PasswordReset, response=s.UserOut,
            permission="user:write", summary="Set a temporary password", error_codes=TAKEOVER_ERRORS,
            doc=STEP_UP + "The password serves once, within AUTH.TEMPORARY_PASSWORD_TTL, for the user to choose "
                "their own at the next sign-in (after their own second factor); their sessions end now.",
            args=lambda call: call.by_person(call.path["user_id"], call.payload))
routes.post(USERS + "/<user_id>/unlock", "unlock_user", body=s.Reason, response=s.UserOut, permission="user:write",
            summary="Lift locks after failed sign-ins", doc="Forgets the failed attempts at every address.")
routes.post(USERS + "/<user_id>/mfa-reset", "reset_mfa", body=s.SteppedUp, response=s.UserOut,
            permission="user:write", summary="Clear a user's MFA (lost authenticator)", error_codes=TAKEOVER_ERRORS,
            doc=STEP_UP, args=lambda call: call.by_person(call.path["user_id"], call.payload))
routes.get(USERS + "/<user_id>/sessions", "list_sessions", operation_id="list_user_sessions",
           response=s.SessionOut(many=True), permission="user:read", error_codes=(400, 503),
           summary="A user's active sessions")
routes.delete(USERS + "/<user_id>/sessions", "revoke_sessions", operation_id="revoke_user_sessions",
              response=s.Revoked, permission="user:write", error_codes=(400, 503),
              summary="End every session of a user", args=lambda call: (call.path["user_id"], None, BY_ADMIN))
routes.get(USERS + "/<user_id>/api-tokens", "list_api_tokens", operation_id="list_user_api_tokens",
           response=s.ApiTokenOut(many=True), permission="user:read", error_codes=(400, 503),
           summary="A user's API tokens")
routes.delete(USERS + "/<user_id>/api-tokens/<token_id>", "revoke_api_token", operation_id="revoke_user_api_token",
              response=s.ApiTokenOut, permission="user:write", error_codes=(400, 404, 503),
              summary="Revoke a user's API token",
              args=lambda call: (call.path["user_id"], call.path["token_id"], BY_ADMIN))

# --------------------------------------------------------------- roles

routes.get(ROLES, "list_roles", response=s.RoleOut(many=True), permission="role:read", error_codes=(503,),
           summary="List roles")
routes.post(ROLES, "create_role", body=s.RoleCreate, response=s.RoleOut, status=201, permission="role:write",
            summary="Create a custom role")
routes.patch(ROLES + "/<name>", "update_role", body=s.RoleUpdate, response=s.RoleOut, permission="role:write",
             summary="Change a role", doc="Built-in roles: only `requires_mfa` can change.",
             path_schemas={"name": s.RoleRef().fields["name"]})
routes.get("/permissions", "list_permissions", response=s.PermissionOut(many=True), permission="role:read",
           error_codes=(503,), summary="The permission catalogue")
