"""Pure rules of authentication: secrets, sessions, second factors, signatures,
permissions. No I/O; times are passed in."""
import base64
import hashlib
import hmac
import io
import re
import secrets

import pyotp
import segno

API_TOKEN_PREFIX = "mes_"
REFRESH_TOKEN_PREFIX = "mesr_"
RECOVERY_CODES = 10
TOTP_WINDOW = 1          # accept the previous and the next 30 s step (clock drift)
TOTP_ISSUER = "MES"

_recovery_clean = re.compile(r"[\s\-]")
_totp_shape = re.compile(r"^\d{6}$")


# ------------------------------------------------------------------ secrets

def new_token(prefix):
    """An opaque bearer secret: 256 random bits, URL-safe, recognisable by its prefix."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token):
    """Stored instead of the token. High-entropy secrets need no slow hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_recovery_codes(count=RECOVERY_CODES):
    """Codes shown once, as `abcde-fghij-klmno-pqrst-uvwxyz` (130 random bits each:
    beyond brute force even from a stolen copy of their SHA-256 hashes)."""
    codes = []
    for _ in range(count):
        raw = base64.b32encode(secrets.token_bytes(17)).decode().lower()[:26]
        codes.append("-".join(raw[i:i + 5] for i in range(0, 26, 5)))
    return codes


def recovery_code_hash(code):
    return token_hash(_recovery_clean.sub("", code).lower())


def looks_like_totp(code):
    return bool(_totp_shape.match(code or ""))


# --------------------------------------------------------------------- TOTP

def new_totp_secret():
    return pyotp.random_base32(32)


def provisioning_uri(secret, username):
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def qr_svg(uri):
    """The URI as a QR code (an SVG document) for an authenticator app to scan;
    drawn here so that a browser needs no QR library and the secret goes nowhere else."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=6, border=4, xmldecl=False, svgns=True,
                                    title="authenticator QR code")
    return out.getvalue().decode()


def totp_step(secret, code, now, last_step=None, window=TOTP_WINDOW):
    """The time step `code` belongs to, or None. A step at or before `last_step`
    is refused: each code is accepted once, and never an older one after it."""
    if not looks_like_totp(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - window, current + window + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


# ----------------------------------------------------------------- sessions

def session_end_reason(session, now, idle_timeout):
    """Why a session can no longer be used, or None while it is alive."""
    if session.revoked_at is not None:
        return session.revoked_reason or "revoked"
    if now >= session.expires_at:
        return "expired"
    if now - session.last_seen_at >= idle_timeout:
        return "idle timeout"
    return None


def signature_needs_all_components(session, now, idle_timeout):
    """21 CFR 11.200(a)(1): the first signing of a continuous session uses every
    component; later ones in the same session at least one. A session idle
    longer than the timeout is no longer continuous."""
    return session.last_signed_at is None or now - session.last_signed_at >= idle_timeout


# -------------------------------------------------------------- permissions

def permissions_of(roles):
    """Union of the permissions of `roles` (Role rows), sorted."""
    return sorted({p for role in roles for p in role.permissions})


# ASVS L2: whoever administers people, roles or reads the audit trails signs in with MFA
PRIVILEGED = frozenset({"user:write", "role:write", "audit:read"})


def mfa_required(roles):
    """A role marked so, or any role holding a privileged permission, requires MFA."""
    return any(role.requires_mfa or PRIVILEGED & set(role.permissions) for role in roles)
