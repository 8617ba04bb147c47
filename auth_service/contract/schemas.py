"""The auth service's RPC contract (also the gateway's HTTP contract)."""
from marshmallow import Schema, fields, validate

from auth_service.contract import MAX_PASSWORD_LENGTH as MAX_LENGTH
from auth_service.contract.permissions import PERMISSIONS
from mes_common.schemas import Boolean, NO_NUL, PageQuery, Pattern, UtcDateTime, page_schema
from mes_common.signatures import MEANINGS

USERNAME = Pattern(r"^[A-Za-z0-9][A-Za-z0-9._@\-]{1,63}$",
                   error="2 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
ROLE_NAME = Pattern(r"^[a-z][a-z0-9_]{1,63}$", error="2 to 64 lower-case letters, digits or '_'")
PERMISSION = validate.OneOf(sorted(PERMISSIONS), error="unknown permission")
# bounded so a megabyte "password" cannot make argon2 or the estimator work for it
SECRET = [validate.Length(min=1, max=4 * MAX_LENGTH), NO_NUL]


def _password(**kw):
    return fields.String(validate=SECRET, metadata={"format": "password", **kw.pop("metadata", {})}, **kw)


class Client(Schema):
    """Who is calling, as the gateway saw it (for throttling and the session list)."""
    address = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=64), NO_NUL])
    user_agent = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=300), NO_NUL])


# ------------------------------------------------------------------ login

class Login(Schema):
    # NUL: PostgreSQL refuses it in a text parameter (a 500), and no username contains one
    username = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])
    password = _password(required=True)
    totp = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=40), NO_NUL],
                         metadata={"description": "a 6-digit authenticator code, or a recovery code, "
                                                  "when MFA is enabled"})
    new_password = _password(load_default=None, allow_none=True, metadata={
        "description": "required when an administrator reset the password (403 password_change_required)"})


class Refresh(Schema):
    refresh_token = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])


class Tokens(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds the access token is valid"})
    session_id = fields.UUID(required=True)
    mfa_enrolment_required = Boolean(metadata={
        "description": "a role of the user requires MFA: the token carries no permissions until TOTP is "
                       "enabled"})


# ------------------------------------------------------------------ users

class UserCreate(Schema):
    username = fields.String(required=True, validate=USERNAME)
    display_name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL],
                                 metadata={"description": "the printed name of the user's e-signatures"})
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    password = _password(required=True, metadata={
        "description": "initial password; the user must change it at first login"})
    roles = fields.List(fields.String(validate=ROLE_NAME), load_default=list, validate=validate.Length(max=50))


class UserUpdate(Schema):
    display_name = fields.String(validate=[validate.Length(min=1, max=200), NO_NUL])
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    active = Boolean(metadata={"description": "false ends every session and API token of the user"})
    version = fields.Integer(strict=True, validate=validate.Range(min=1))
    reason = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=500), NO_NUL])


class StepUp(Schema):
    """The administrator's own credentials, typed again for an action that could take over an account."""
    password = _password(required=True, metadata={"description": "your password"})
    totp = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=6, max=40), NO_NUL],
                         metadata={"description": "your authenticator (or recovery) code: required once you "
                                                  "have MFA"})


class Reason(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=500), NO_NUL])


class SteppedUp(Reason):
    step_up = fields.Nested(StepUp, required=True)


class RoleAssignment(SteppedUp):
    roles = fields.List(fields.String(validate=ROLE_NAME), required=True, validate=validate.Length(max=50))


class PasswordReset(SteppedUp):
    password = _password(required=True, metadata={
        "description": "temporary password: it serves once, within AUTH.TEMPORARY_PASSWORD_TTL, to choose a new "
                       "one at the next sign-in (after the user's own second factor)"})


class UserListQuery(PageQuery):
    active = Boolean(load_default=None, allow_none=True)
    role = fields.String(load_default=None, allow_none=True, validate=ROLE_NAME)
    q = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=100), NO_NUL],
                      metadata={"description": "part of the username or display name"})


class UserOut(Schema):
    id = fields.UUID(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    email = fields.String(allow_none=True)
    active = Boolean(required=True)
    must_change_password = Boolean(required=True)
    password_expires_at = fields.DateTime(allow_none=True, metadata={
        "description": "when the temporary password an administrator set stops working"})
    mfa_enabled = Boolean(required=True)
    roles = fields.List(fields.String(), required=True)
    last_login_at = fields.DateTime(allow_none=True)
    password_changed_at = fields.DateTime(required=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


UserPage = page_schema(UserOut, "UserPage")


class Me(UserOut):
    permissions = fields.List(fields.String(), required=True)
    mfa_required = Boolean(required=True, metadata={"description": "a role of yours requires MFA"})


class UserSummary(Schema):
    """Display fields other services cache."""
    id = fields.UUID(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    active = Boolean(required=True)


class SummaryQuery(Schema):
    ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=1000))


# ------------------------------------------------------------------ roles

class RoleCreate(Schema):
    name = fields.String(required=True, validate=ROLE_NAME)
    description = fields.String(load_default="", validate=[validate.Length(max=500), NO_NUL])
    permissions = fields.List(fields.String(validate=PERMISSION), required=True, validate=validate.Length(max=200))
    requires_mfa = Boolean(load_default=False)


class RoleRef(Schema):
    name = fields.String(required=True, validate=ROLE_NAME)


class RoleUpdate(Schema):
    description = fields.String(validate=[validate.Length(max=500), NO_NUL])
    permissions = fields.List(fields.String(validate=PERMISSION), validate=validate.Length(max=200))
    requires_mfa = Boolean()


class RoleOut(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    permissions = fields.List(fields.String(), required=True)
    requires_mfa = Boolean(required=True)
    builtin = Boolean(required=True, metadata={"description": "defined by the MES; only requires_mfa "
                                                                     "can be changed"})


class PermissionOut(Schema):
    name = fields.String(required=True, metadata={"example": "resource:write"})
    description = fields.String(required=True)


# ------------------------------------------------------------- self-service

class PasswordChange(Schema):
    current_password = _password(required=True)
    new_password = _password(required=True)


class SessionOut(Schema):
    id = fields.UUID(required=True)
    created_at = fields.DateTime(required=True)
    last_seen_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    client_address = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    mfa = Boolean(required=True, metadata={"description": "signed in with a second factor"})
    current = Boolean(required=True, metadata={"description": "the session of this request"})


class Revoked(Schema):
    revoked = fields.Integer(required=True, metadata={"description": "sessions ended"})


class TotpEnrolment(Schema):
    secret = fields.String(required=True, metadata={"description": "base32, for manual entry"})
    provisioning_uri = fields.String(required=True, metadata={"description": "otpauth:// URI for a QR code"})
    qr_svg = fields.String(required=True, metadata={"description": "the URI as a QR code: an SVG document"})


class TotpCode(Schema):
    code = fields.String(required=True, validate=Pattern(r"^\d{6}$", error="a 6-digit code"))


class MfaDisable(Schema):
    password = _password(required=True)
    code = fields.String(required=True, validate=[validate.Length(min=6, max=40), NO_NUL],
                         metadata={"description": "an authenticator or recovery code"})


class RecoveryCodes(Schema):
    recovery_codes = fields.List(fields.String(), required=True, metadata={
        "description": "shown once: each works once in place of an authenticator code"})


class MfaEnabled(RecoveryCodes):
    tokens = fields.Nested(Tokens, metadata={
        "description": "when MFA was enabled from the session of a first sign-in: its tokens, now with the "
                       "user's permissions (the code confirming the enrolment was the second factor)"})


# --------------------------------------------------------------- API tokens

class ApiTokenCreate(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), NO_NUL])
    permissions = fields.List(fields.String(validate=PERMISSION), required=True,
                              validate=validate.Length(min=1, max=200),
                              metadata={"description": "a subset of your own permissions"})
    expires_at = UtcDateTime(load_default=None, allow_none=True, metadata={
        "description": "default and latest: AUTH.API_TOKEN_MAX_DAYS (365) from now"})


class ApiTokenOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True, metadata={"description": "the token's first characters"})
    permissions = fields.List(fields.String(), required=True)
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class ApiTokenCreated(ApiTokenOut):
    token = fields.String(required=True, metadata={"description": "shown once; store it now"})


class ApiTokenPrincipal(Schema):
    user_id = fields.UUID(required=True)
    username = fields.String(required=True)
    token_id = fields.UUID(required=True)
    permissions = fields.List(fields.String(), required=True)
    expires_at = fields.DateTime(allow_none=True)


# ---------------------------------------------------------- e-signatures

class SignedRecord(Schema):
    """The record a signature is for: the manifest is bound to it (and usable once)."""
    service = fields.String(required=True, validate=[validate.Length(min=1, max=100), NO_NUL])
    type = fields.String(required=True, validate=[validate.Length(min=1, max=100), NO_NUL])
    id = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])


class SignatureCheck(Schema):
    """21 CFR 11.200(a)(1): the signer re-enters credentials to sign a record. The
    service that owns the record asks (mes_common.signatures.check)."""
    session_id = fields.UUID(required=True)
    user_id = fields.UUID(required=True, metadata={"description": "the session's user (the signer)"})
    username = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=200), NO_NUL])
    password = _password(load_default=None, allow_none=True)
    totp = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=40), NO_NUL])
    meaning = fields.String(required=True, validate=validate.OneOf(MEANINGS),
                            metadata={"description": "what the signature means (11.50(a)(3))"})
    record = fields.Nested(SignedRecord, required=True)


class SignatureManifest(Schema):
    """What `verify_signature` answers the service that owns the record
    (mes_common.signatures.record stores it)."""
    signer_id = fields.UUID(required=True)
    username = fields.String(required=True)
    printed_name = fields.String(required=True, metadata={"description": "11.50(a)(1)"})
    signed_at = fields.DateTime(required=True, metadata={"description": "UTC, 11.50(a)(2)"})
    meaning = fields.String(required=True, metadata={"description": "11.50(a)(3)"})
    components = fields.List(fields.String(), required=True, metadata={
        "description": "credentials checked: username, password, totp"})
    record = fields.Nested(SignedRecord, required=True)
    nonce = fields.UUID(required=True, metadata={"description": "the signature table takes it once"})
