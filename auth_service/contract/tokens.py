"""Access tokens: EdDSA-signed JWTs issued by auth, verified anywhere with the
public key (RFC 8725 practices). Pure: keys are passed in, nothing is read here.

Verification trusts nothing in the token's header to choose a key or an
algorithm: one algorithm is allowed (EdDSA) and one public key is used;
`exp`, `nbf`, `iat`, `iss`, `aud`, `sub`, `sid` and `jti` are required.
"""
import datetime as dt
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mes_common import errors

ALGORITHM = "EdDSA"
ACCESS_TTL = dt.timedelta(minutes=15)
REQUIRED = ["exp", "nbf", "iat", "iss", "aud", "sub", "sid", "jti"]


def generate_keypair():
    """(private PEM, public PEM) of a new Ed25519 key, for development set-ups;
    production keys come from configuration."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode(), public.decode()


def public_of(private_key_pem):
    """The public PEM of a private key PEM."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def issue_access_token(private_key_pem, *, issuer, audience, subject, session_id, roles=(),
                       permissions=(), ttl=ACCESS_TTL, now=None, extra=None):
    """Sign an access token; returns (token, claims). `extra` adds claims
    (e.g. `name`, the username the gateway audits as)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    claims = {
        "iss": issuer, "aud": audience, "sub": str(subject), "sid": str(session_id),
        "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + ttl,
        "roles": sorted(roles), "permissions": sorted(permissions), **(extra or {}),
    }
    return jwt.encode(claims, private_key_pem, algorithm=ALGORITHM), claims


def verify_access_token(token, public_key_pem, *, issuer, audience, leeway=0):
    """The token's claims, or Unauthenticated saying why (never which secret failed)."""
    try:
        return jwt.decode(token, public_key_pem, algorithms=[ALGORITHM], audience=audience,
                          issuer=issuer, leeway=leeway,
                          options={"require": REQUIRED, "verify_signature": True})
    except jwt.ExpiredSignatureError:
        raise errors.Unauthenticated("the access token has expired", {"token": ["expired"]}) from None
    except jwt.ImmatureSignatureError:
        raise errors.Unauthenticated("the access token is not valid yet", {"token": ["not yet valid"]}) from None
    except jwt.MissingRequiredClaimError as exc:
        raise errors.Unauthenticated("the access token is incomplete",
                                     {"token": [f"missing claim {exc.claim}"]}) from None
    except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
        raise errors.Unauthenticated("the access token is not for this service",
                                     {"token": ["wrong issuer or audience"]}) from None
    except jwt.PyJWTError:
        raise errors.Unauthenticated("the access token is invalid", {"token": ["invalid"]}) from None
