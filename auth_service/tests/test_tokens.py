"""Forged, expired and misdirected tokens are refused (issue 3, 'Forged tokens get 401')."""
import base64
import datetime as dt
import hashlib
import hmac
import json

import jwt
import pytest

from auth_service.contract import tokens
from mes_common import errors

pytestmark = pytest.mark.fast  # no servers: `make test-fast`

ISS, AUD = "mes-auth", "mes"


@pytest.fixture(scope="module")
def keys():
    return tokens.generate_keypair()


def issue(keys, **kwargs):
    token, _ = tokens.issue_access_token(keys[0], issuer=ISS, audience=AUD, subject="u1",
                                         session_id="s1", roles=["operator"],
                                         permissions=["resource:read"], **kwargs)
    return token


def verify(keys, token):
    return tokens.verify_access_token(token, keys[1], issuer=ISS, audience=AUD)


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_token_carries_its_claims(keys):
    claims = verify(keys, issue(keys))
    assert claims["sub"] == "u1" and claims["sid"] == "s1" and claims["roles"] == ["operator"]
    assert claims["permissions"] == ["resource:read"] and claims["jti"]
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_alg_none_is_refused(keys):
    payload = jwt.decode(issue(keys), options={"verify_signature": False})
    forged = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."
    with pytest.raises(errors.Unauthenticated):
        verify(keys, forged)


def test_hs256_signed_with_the_public_key_is_refused(keys):
    payload = jwt.decode(issue(keys), options={"verify_signature": False})
    header = b64({"alg": "HS256", "typ": "JWT"})
    body = b64(payload)
    sig = hmac.new(keys[1].encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{body}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"
    with pytest.raises(errors.Unauthenticated):
        verify(keys, forged)


def test_a_token_signed_by_another_key_is_refused(keys):
    other = tokens.generate_keypair()
    with pytest.raises(errors.Unauthenticated):
        verify(keys, issue(other))


def test_expired_and_not_yet_valid(keys):
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    with pytest.raises(errors.Unauthenticated) as exc:
        verify(keys, issue(keys, now=past))
    assert exc.value.details == {"token": ["expired"]}
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    with pytest.raises(errors.Unauthenticated) as exc:
        verify(keys, issue(keys, now=future))
    assert exc.value.details == {"token": ["not yet valid"]}


def test_wrong_audience_or_issuer(keys):
    token = issue(keys)
    with pytest.raises(errors.Unauthenticated):
        tokens.verify_access_token(token, keys[1], issuer=ISS, audience="other")
    with pytest.raises(errors.Unauthenticated):
        tokens.verify_access_token(token, keys[1], issuer="someone-else", audience=AUD)


def test_tampered_payload_is_refused(keys):
    header, body, sig = issue(keys).split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["permissions"] = ["*:*"]
    with pytest.raises(errors.Unauthenticated):
        verify(keys, f"{header}.{b64(payload)}.{sig}")


def test_missing_jti_is_refused(keys):
    payload = jwt.decode(issue(keys), options={"verify_signature": False})
    del payload["jti"]
    forged = jwt.encode(payload, keys[0], algorithm="EdDSA")   # properly signed, incomplete
    with pytest.raises(errors.Unauthenticated) as exc:
        verify(keys, forged)
    assert exc.value.details == {"token": ["missing claim jti"]}


def test_garbage_is_refused(keys):
    for junk in ("", "abc", "a.b.c", "Bearer x"):
        with pytest.raises(errors.Unauthenticated):
            verify(keys, junk)


def test_a_public_key_in_a_directory_of_its_own_is_derived_from_the_private_one(tmp_path):
    """The gateway's volume holds the public key only. Losing it must not make
    the auth service generate a new pair (every issued token would die)."""
    from auth_service.contract import keys as key_files
    config = {"AUTH": {"PRIVATE_KEY_FILE": str(tmp_path / "private" / "k.pem"),
                       "PUBLIC_KEY_FILE": str(tmp_path / "public" / "k.pub.pem"), "GENERATE_KEYS": True}}
    private, public = key_files.private_key(config), key_files.public_key(config)
    (tmp_path / "public" / "k.pub.pem").unlink()
    assert key_files.private_key(config) == private and key_files.public_key(config) == public
    assert not list((tmp_path / "public").glob(".keys.lock"))  # the lock lives beside the private key
