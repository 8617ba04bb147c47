"""Authentication and authorization at the gateway: forged and malformed
credentials, the permission of every documented operation, revoked sessions
and the auth service's answers over RPC (a stand-in service), over real HTTP;
the verified-token and API-token caches on their own."""
import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import time
import uuid
from types import SimpleNamespace

import jwt
import pytest
import redis
from cryptography.hazmat.primitives import serialization
from openapi_spec_validator import validate
from sqlalchemy import text

from auth_service.contract import keys, tokens
from auth_service.contract.permissions import PERMISSIONS
from auth_service.contract.revocations import RevocationList
from gateway.auth import AUTHENTICATED, ApiTokens, Authenticator, TtlCache
from gateway.http import ROUTES, error_response, route
from gateway.openapi import build_spec
from gateway.service import Gateway
from mes_common import errors
from mes_common.audit import TABLE as AUDIT_TABLE
from mes_common.rpc import rpc
from mes_common.service import WorkerContext
from auth_service.testing import access_token, bearer
from mes_common.testing.fixtures import free_port, wait_until

NODES = "/api/v1/resource/nodes"
NO_TOKEN = {"Authorization": None}  # drops the session's header for one request


# ------------------------------------------------------------ forged tokens

def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj):
    return _b64(json.dumps(obj).encode())


def _claims(config, **changes):
    """Claims the gateway would accept; a None value leaves that claim out."""
    auth, now = keys.settings(config), int(time.time())
    claims = {"iss": auth["ISSUER"], "aud": auth["AUDIENCE"], "sub": str(uuid.uuid4()), "sid": str(uuid.uuid4()),
              "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 600, "roles": ["admin"],
              "permissions": sorted(PERMISSIONS), **changes}
    return {name: value for name, value in claims.items() if value is not None}


def forgeries(config):
    """name -> a token the gateway must refuse (each would grant everything if accepted)."""
    now = dt.datetime.now(dt.timezone.utc)
    other_private = serialization.load_pem_private_key(tokens.generate_keypair()[0].encode(), None)
    other_jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64(other_private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw))}
    hs256_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(_claims(config))}"
    hs256_mac = hmac.new(keys.public_key(config).encode(), hs256_input.encode(), hashlib.sha256).digest()
    header, _, signature = access_token(config, permissions=[]).split(".")
    return {
        "alg none": f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(_claims(config))}.",
        "HS256 keyed with the public key": f"{hs256_input}.{_b64(hs256_mac)}",
        "expired": access_token(config, now=now - dt.timedelta(hours=1), ttl=dt.timedelta(minutes=15)),
        "not valid yet": access_token(config, now=now + dt.timedelta(minutes=10)),
        "wrong audience": access_token(config, audience="another-api"),
        "wrong issuer": access_token(config, issuer="someone-else"),
        "payload tampered, signature kept": f"{header}.{_segment(_claims(config))}.{signature}",
        "signature stripped": f"{header}.{_segment(_claims(config))}.",
        "no jti": jwt.encode(_claims(config, jti=None), keys.private_key(config), algorithm="EdDSA"),
        "no sid": jwt.encode(_claims(config, sid=None), keys.private_key(config), algorithm="EdDSA"),
        "another Ed25519 key": jwt.encode(_claims(config), other_private, algorithm="EdDSA"),
        "another key, named by kid/jku/jwk": jwt.encode(
            _claims(config), other_private, algorithm="EdDSA",
            headers={"kid": "../../../dev/null", "jku": "http://attacker.example/jwks.json", "jwk": other_jwk}),
        "garbage": "garbage",
        "three garbage segments": "a.b.c",
        "refresh-token shaped": "mesr_" + "x" * 43,
        "unknown API token": "mes_" + "x" * 43,       # asks the auth service
        "overlong API token": "mes_" + "x" * 300,     # the auth service says 400: still a 401
    }


MALFORMED = {
    "missing": None,
    "empty": "",
    "basic": "Basic dXNlcjpwYXNzd29yZA==",
    "scheme only": "Bearer",
    "two tokens": "Bearer abc def",
    "no scheme": "eyJhbGciOiJFZERTQSJ9.e30.sig",
    "not base64url": "Bearer abc$def",
    "huge": "Bearer " + "a" * 5000,  # under the HTTP server's own line limit (8 KB)
}


def assert_unauthenticated(response, label=""):
    assert response.status_code == 401, f"{label}: {response.status_code} {response.text[:200]}"
    assert response.headers["WWW-Authenticate"] == "Bearer", label
    body = response.json()
    assert body["error"] == "unauthenticated" and body["message"] and body["details"], (label, body)


def test_forged_tokens_are_refused(api, mes_config):
    for name, token in forgeries(mes_config).items():
        assert_unauthenticated(api.get(NODES, headers={"Authorization": f"Bearer {token}"}), name)


def test_malformed_authorization_is_refused(api):
    for name, value in MALFORMED.items():
        assert_unauthenticated(api.get(NODES, headers={"Authorization": value}), name)


def test_header_fields_do_not_choose_the_key(api, mes_config):
    """kid/jku/jwk on a token signed with the real key change nothing either way."""
    signed = jwt.encode(_claims(mes_config), keys.private_key(mes_config), algorithm="EdDSA",
                        headers={"kid": "elsewhere", "jku": "http://attacker.example/jwks.json"})
    assert api.get(NODES, headers={"Authorization": f"Bearer {signed}"}).status_code == 200
    assert api.get(NODES, headers={"Authorization": f"bearer  {signed}"}).status_code == 200  # scheme: any case


# ------------------------------------------------------------ permissions

def documented_operations(api):
    document = api.get("/openapi.json").json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), re.sub(r"{[^}]+}", str(uuid.uuid4()), path), operation


def test_every_operation_needs_a_token_and_its_permission(gateway, resource_service, web_session, mes_config):
    """No token: 401. A token without permissions: 403 naming the permission
    (authenticated-only operations run). Exactly the permission: not refused.
    The auth service is not running, so every 401/403 here is the gateway's."""
    api = web_session
    wrong, checked = [], 0
    nothing = bearer(mes_config, permissions=[], roles=())
    for method, url, operation in documented_operations(api):
        label = f"{method} {url}"
        body = {} if "requestBody" in operation else None
        if operation["security"] == []:
            if api.request(method, url, json=body, headers=NO_TOKEN).status_code in (401, 403):
                wrong.append(f"{label}: public, yet refused without a token")
            continue
        checked += 1
        permission = operation["x-permission"]
        anonymous = api.request(method, url, json=body, headers=NO_TOKEN)
        if anonymous.status_code != 401 or anonymous.json()["error"] != "unauthenticated":
            wrong.append(f"{label} without a token: {anonymous.status_code} {anonymous.text[:100]}")
        bare = api.request(method, url, json=body, headers={"Authorization": nothing})
        if permission == AUTHENTICATED:
            if bare.status_code in (401, 403):
                wrong.append(f"{label} signed in: {bare.status_code}")
        elif bare.status_code != 403 or bare.json()["details"] != {"permission": permission}:
            wrong.append(f"{label} without {permission}: {bare.status_code} {bare.text[:100]}")
        exact = bearer(mes_config, permissions=[] if permission == AUTHENTICATED else [permission], roles=())
        allowed = api.request(method, url, json=body, headers={"Authorization": exact})
        if allowed.status_code in (401, 403):
            wrong.append(f"{label} with {permission}: {allowed.status_code} {allowed.text[:100]}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 10


def test_every_route_declares_a_known_permission():
    declared = {spec.permission for spec in ROUTES if not spec.public}
    assert declared and declared - {AUTHENTICATED} <= set(PERMISSIONS)


@pytest.mark.parametrize("kwargs", [{}, {"public": True, "permission": "resource:read"},
                                    {"permission": "resource-read"}, {"permission": "Resource:Read"}])
def test_a_route_without_a_valid_permission_is_refused_at_import(kwargs):
    before = len(ROUTES)
    with pytest.raises(ValueError, match="permission"):
        route("GET", "/api/v1/nowhere", summary="nothing", **kwargs)
    assert len(ROUTES) == before


def test_openapi_names_the_security_of_each_operation():
    document = build_spec()
    validate(document)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                     "description": schemes["bearerAuth"]["description"]}
    assert schemes["apiToken"]["scheme"] == "bearer" and "mes_" in schemes["apiToken"]["description"]
    public = set()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if operation["security"] == []:
                public.add(operation["operationId"])
                assert "x-permission" not in operation, (method, path)
                continue
            permission = operation["x-permission"]
            assert operation["security"] == [{"bearerAuth": []}, {"apiToken": []}], (method, path)
            assert f"`{permission}`" in operation["description"] or permission == AUTHENTICATED
            assert "401" in operation["responses"], (method, path)
            assert "403" in operation["responses"] or permission == AUTHENTICATED, (method, path)
    assert public == {spec.operation_id for spec in ROUTES if spec.public and spec.include_in_schema}
    assert {"health", "ready"} <= public


# ------------------------------------------------------------ sessions, actor

def test_a_revoked_session_is_refused(api, mes_config):
    session_id = str(uuid.uuid4())
    mine, other = bearer(mes_config, session_id=session_id), bearer(mes_config)
    assert api.get(NODES, headers={"Authorization": mine}).status_code == 200  # verified, now remembered
    client = redis.Redis.from_url(mes_config["REDIS_URL"])
    try:  # as the auth service does when a session ends
        RevocationList(client, mes_config["CACHE_PREFIX"], 900).publish([session_id])
        wait_until(lambda: api.get(NODES, headers={"Authorization": mine}).status_code == 401,
                   timeout=2, interval=0.02, message="the revocation to reach the gateway")
        refused = api.get(NODES, headers={"Authorization": mine})
        assert_unauthenticated(refused)
        assert refused.json()["details"] == {"token": ["revoked"]}
        assert api.get(NODES, headers={"Authorization": other}).status_code == 200
    finally:
        client.close()


def test_the_actor_reaches_the_audit_trail(api, mes_config, db_engines):
    user_id = str(uuid.uuid4())
    for code, name in (("ADA", "ada"), ("ANON", None)):  # the username; the user id without one
        created = api.post(NODES, json={"level": "enterprise", "code": code, "name": code},
                           headers={"Authorization": bearer(mes_config, name=name, subject=user_id)})
        assert created.status_code == 201, created.text
    with db_engines["resource_service"].connect() as conn:
        actors = conn.execute(text(f"SELECT actor FROM {AUDIT_TABLE} ORDER BY at")).scalars().all()
    assert actors == ["ada", user_id]


# ------------------------------------------------------------ the auth service over RPC

class FakeAuthService:
    """Stands in for the two auth_service RPCs the gateway calls."""
    name = "auth_service"
    context = WorkerContext()
    calls, revoked, api_tokens = [], set(), {}

    @rpc
    def session_active(self, session_id):
        self.calls.append(("session_active", session_id, self.context["correlation_id"]))
        return session_id not in self.revoked

    @rpc
    def authenticate_api_token(self, token):
        self.calls.append(("authenticate_api_token", token, self.context["correlation_id"]))
        if token not in self.api_tokens:
            raise errors.Unauthenticated("the API token is invalid, expired or revoked", {"token": ["invalid"]})
        return self.api_tokens[token]


@pytest.fixture
def fake_auth(mes_config, container_factory):
    FakeAuthService.calls, FakeAuthService.revoked, FakeAuthService.api_tokens = [], set(), {}
    container = container_factory(FakeAuthService, mes_config)
    container.start()
    return container


def test_api_tokens_are_resolved_by_the_auth_service_and_remembered(gateway, resource_service, fake_auth,
                                                                   web_session, db_engines):
    api = web_session
    FakeAuthService.api_tokens["mes_erp"] = {
        "user_id": str(uuid.uuid4()), "username": "erp-link", "token_id": str(uuid.uuid4()),
        "permissions": ["resource:read", "resource:write"], "expires_at": None}
    FakeAuthService.api_tokens["mes_reader"] = {**FakeAuthService.api_tokens["mes_erp"],
                                                "permissions": ["resource:read"]}
    erp = {"Authorization": "Bearer mes_erp", "X-Request-ID": "erp-1"}
    created = api.post(NODES, json={"level": "enterprise", "code": "ACME", "name": "Acme"}, headers=erp)
    assert created.status_code == 201, created.text
    assert api.get(NODES, headers=erp).status_code == 200
    assert FakeAuthService.calls == [("authenticate_api_token", "mes_erp", "erp-1")]  # once, remembered
    with db_engines["resource_service"].connect() as conn:
        assert conn.execute(text(f"SELECT actor FROM {AUDIT_TABLE}")).scalars().all() == ["erp-link"]

    reader = {"Authorization": "Bearer mes_reader"}
    forbidden = api.post(NODES, json={"level": "enterprise", "code": "B", "name": "B"}, headers=reader)
    assert forbidden.status_code == 403 and forbidden.json()["details"] == {"permission": "resource:write"}

    for _ in range(3):
        assert_unauthenticated(api.get(NODES, headers={"Authorization": "Bearer mes_unknown"}))
    assert [call[1] for call in FakeAuthService.calls].count("mes_unknown") == 1  # refusal remembered briefly


def test_without_redis_the_auth_service_says_whether_a_session_is_active(
        mes_config, container_factory, resource_service, fake_auth, web_session):
    container_factory(Gateway, {**mes_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}).start()
    active, revoked = str(uuid.uuid4()), str(uuid.uuid4())
    FakeAuthService.revoked.add(revoked)
    signed_in = {"Authorization": bearer(mes_config, session_id=active), "X-Request-ID": "no-redis"}
    assert web_session.get(NODES, headers=signed_in).status_code == 200
    assert web_session.get(NODES, headers=signed_in).status_code == 200
    assert FakeAuthService.calls == [("session_active", active, "no-redis")]  # answer remembered
    assert_unauthenticated(web_session.get(NODES, headers={"Authorization": bearer(mes_config, session_id=revoked)}))

    fake_auth.stop()  # neither Redis nor the auth service: fail closed
    closed = web_session.get(NODES)
    assert closed.status_code == 503 and closed.json()["error"] == "unavailable", closed.text


def test_an_api_token_with_the_auth_service_down_is_503(gateway, resource_service, web_session):
    response = web_session.get(NODES, headers={"Authorization": "Bearer mes_whatever"})
    assert response.status_code == 503 and response.json()["details"] == {"service": "auth_service"}


# ------------------------------------------------------------ the caches on their own

class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Lookup:
    """A fake auth service: token -> answer (or the error to raise)."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, token, correlation_id):
        self.calls.append(token)
        answer = self.answers[token]
        if isinstance(answer, Exception):
            raise answer
        return answer


def answer(**changes):
    return {"user_id": "u-1", "username": "erp-link", "token_id": "t-1", "permissions": ["resource:read"],
            "expires_at": None, **changes}


def test_an_accepted_api_token_is_remembered_for_the_ttl():
    clock, lookup = Clock(), Lookup({"mes_a": answer()})
    cache = ApiTokens(lookup, ttl=15, clock=clock)
    principal = cache.principal("mes_a")
    assert (principal.actor, principal.user_id, principal.session_id, principal.kind, principal.token_id,
            principal.permissions) == ("erp-link", "u-1", None, "api_token", "t-1", {"resource:read"})
    clock.now = 14.9
    assert cache.principal("mes_a") is principal and lookup.calls == ["mes_a"]
    clock.now = 15.1  # a revocation shows after the ttl
    cache.principal("mes_a")
    assert lookup.calls == ["mes_a", "mes_a"]


def test_an_api_token_is_not_remembered_past_its_expiry():
    soon = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)).isoformat()
    gone = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)).isoformat()
    clock, lookup = Clock(), Lookup({"mes_soon": answer(expires_at=soon), "mes_gone": answer(expires_at=gone)})
    cache = ApiTokens(lookup, ttl=15, clock=clock)
    cache.principal("mes_soon")
    clock.now = 4
    cache.principal("mes_soon")
    clock.now = 6
    cache.principal("mes_soon")
    cache.principal("mes_gone")
    cache.principal("mes_gone")
    assert lookup.calls == ["mes_soon", "mes_soon", "mes_gone", "mes_gone"]


def test_a_refused_api_token_is_remembered_briefly_and_no_answer_not_at_all():
    refused = errors.Unauthenticated("the API token is invalid", {"token": ["invalid"]})
    clock = Clock()
    lookup = Lookup({"mes_bad": refused, "mes_long": errors.ValidationFailed("invalid token", {"token": ["long"]}),
                     "mes_down": errors.Unavailable("auth_service is not running")})
    cache = ApiTokens(lookup, ttl=15, refused_ttl=2, clock=clock)
    for now in (0, 1, 1.9, 2.1):
        clock.now = now
        for token in ("mes_bad", "mes_long"):  # malformed is refused as unknown: 401, not 400
            with pytest.raises(errors.Unauthenticated) as raised:
                cache.principal(token)
            assert raised.value.details["token"] in (["invalid"], ["long"])
    for _ in range(2):
        with pytest.raises(errors.Unavailable):
            cache.principal("mes_down")
    assert lookup.calls == ["mes_bad", "mes_long"] * 2 + ["mes_down"] * 2


def test_the_ttl_cache_is_bounded_and_forgets_the_oldest_first():
    cache = TtlCache(max_entries=3, clock=Clock())
    for key in "abcd":
        cache.put(key, key.upper(), ttl=10)
    assert [cache.get(key) for key in "abcd"] == [None, "B", "C", "D"]
    cache.put("e", "E", ttl=0)  # nothing to keep
    assert cache.get("e") is None and cache.get("b") == "B"


@pytest.fixture
def authenticator(mes_config):
    """The gateway's Authenticator outside a container, no session revoked."""
    auth = Authenticator()
    auth.container = SimpleNamespace(config=mes_config)
    auth.setup()
    auth.revocations = SimpleNamespace(revoked=lambda session_id: False)
    return auth


def test_a_verified_access_token_is_verified_again_only_once_expired(authenticator, mes_config, monkeypatch):
    verified = []
    verify = tokens.verify_access_token
    monkeypatch.setattr(tokens, "verify_access_token", lambda *a, **kw: verified.append(1) or verify(*a, **kw))
    authenticator._verified.clock = clock = Clock()
    request = SimpleNamespace(headers={"Authorization": bearer(mes_config, ttl=dt.timedelta(seconds=60))})
    spec = SimpleNamespace(public=False, permission="resource:read")
    principal = authenticator.authenticate(request, spec)
    assert principal.kind == "user" and "resource:write" in principal.permissions
    clock.now = 60  # within exp + leeway
    assert authenticator.authenticate(request, spec) is principal and len(verified) == 1
    clock.now = 66
    authenticator.authenticate(request, spec)
    assert len(verified) == 2
    with pytest.raises(errors.Forbidden):
        authenticator.authenticate(request, SimpleNamespace(public=False, permission="no:such"))


def test_error_statuses_carry_their_headers():
    throttled = error_response(errors.Throttled("too many failed attempts", {"retry_after": 7}))
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    assert json.loads(throttled.get_data()) == {"error": "too_many_requests", "message": "too many failed attempts",
                                                "details": {"retry_after": 7}}
    assert error_response(errors.Unauthenticated("who?")).headers["WWW-Authenticate"] == "Bearer"
    assert "WWW-Authenticate" not in error_response(errors.Forbidden("no")).headers
