"""The auth flows over real HTTP, as a UI drives them: the gateway, the auth
service and the resource service in containers on real PostgreSQL, RabbitMQ
and Redis, with the first administrator created by `mes create-admin`.

One stack serves the whole module (starting one costs seconds: a vhost, empty
databases, three containers); each test makes its own users, so the tests do
not depend on each other or on their order.
"""
import datetime as dt
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pyotp
import pytest
import requests
import yaml
from click.testing import CliRunner

from auth_service import testing
from gateway.service import Gateway
from mes_common.cli import main
from mes_common.testing.fixtures import service_stack, wait_until
from mes_common.testing.fixtures import registered_classes

AuthService, ResourceService = registered_classes("auth_service", "resource_service")

API = "/api/v1"
LOGIN, REFRESH, LOGOUT = f"{API}/auth/login", f"{API}/auth/refresh", f"{API}/auth/logout"
ME, USERS = f"{API}/auth/me", f"{API}/auth/users"
NODES = f"{API}/resource/nodes"
AUDIT = f"{API}/audit"

INITIAL_PASSWORD = "correct horse battery staple 42"   # set by the administrator
PASSWORD = "tangerine submarine orchestra 77"           # chosen at the first sign-in
ADMIN_PASSWORD = "granite lighthouse marmalade 913"


# ------------------------------------------------------------------ the stack

@pytest.fixture(scope="module")
def stack(base_config, service_databases, _engines, cache_prefix, tmp_path_factory):
    """Gateway + auth + resource services on their own vhost and Redis prefix
    (other modules' throttle counters and revocations stay apart), over
    emptied databases, for this module."""
    def configure(config):
        config["AUTH"]["API_TOKEN_CACHE_TTL"] = 1  # a revoked API token stops within 1 s
        config["TRUSTED_PROXY_HOPS"] = 1           # tests sign in "from" addresses with X-Forwarded-For

    with service_stack("flows", (AuthService, ResourceService, Gateway), base_config=base_config,
                       service_databases=service_databases, engines=_engines, cache_prefix=cache_prefix,
                       configure=configure, own_cache_prefix=True) as running, requests.Session() as session:
        config_file = tmp_path_factory.mktemp("flows") / "config.yml"
        config_file.write_text(yaml.safe_dump(running.config))
        yield SimpleNamespace(config=running.config, config_file=config_file, http=Http(session, running.config))


class Http:
    """requests on the gateway; `token=` sends it as the bearer."""

    def __init__(self, session, config):
        self.session, self.base = session, f"http://{config['WEB_SERVER_ADDRESS']}"

    def request(self, method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 15)
        response = self.session.request(method, self.base + path, headers=headers, **kwargs)
        assert response.status_code < 500, f"{method} {path}: {response.status_code} {response.text[:300]}"
        return response

    def get(self, path, token=None, **kwargs):
        return self.request("GET", path, token, **kwargs)

    def post(self, path, token=None, **kwargs):
        return self.request("POST", path, token, **kwargs)

    def delete(self, path, token=None, **kwargs):
        return self.request("DELETE", path, token, **kwargs)

    def patch(self, path, token=None, **kwargs):
        return self.request("PATCH", path, token, **kwargs)


@pytest.fixture(scope="module")
def http(stack):
    return stack.http


def ok(response, status=200):
    assert response.status_code == status, f"{response.status_code}: {response.text[:300]}"
    return response.json() if status != 204 else None


def refused(response, status, error):
    """An error answer: the status, a JSON body naming the error, no stack trace."""
    assert response.status_code == status, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error and body["message"] and isinstance(body["details"], dict), body
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    return body


def unique(prefix):
    return f"{prefix}{secrets.token_hex(4)}"


def later_code(totp):
    """The next time step's code: the step a code was just accepted at cannot be used again."""
    return totp.at(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30))


# ------------------------------------------------------------------ people

def create_admin(stack, username):
    result = CliRunner().invoke(main, ["--config", str(stack.config_file), "create-admin", "--username", username,
                                       "--display-name", "First Admin"],
                                env={"MES_ADMIN_PASSWORD": ADMIN_PASSWORD}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def enrol(http, tokens):
    """Enrol an authenticator with the enrolment-only token of a first sign-in: the
    confirmation hands back the session's tokens with the user's permissions.
    (those tokens, the TOTP, the recovery codes)."""
    enrolled = testing.enrol(lambda path, **kwargs: http.session.post(http.base + path, timeout=15, **kwargs), tokens)
    assert "mfa_enrolment_required" not in enrolled[0]
    return enrolled


@pytest.fixture(scope="module")
def admin(stack, http):
    """The module's administrator, bootstrapped by the CLI, enrolled in MFA at the first
    sign-in (the admin role requires it) and signed in; `.recovery` holds unused recovery
    codes for step-ups (each TOTP step is accepted once)."""
    username = unique("admin")
    create_admin(stack, username)
    credentials = {"username": username, "password": ADMIN_PASSWORD}
    tokens, totp, codes = enrol(http, ok(http.post(LOGIN, json=credentials)))
    me = ok(http.get(f"{ME}", tokens["access_token"]))
    return SimpleNamespace(id=me["id"], username=username, password=ADMIN_PASSWORD, token=tokens["access_token"],
                           totp=totp, recovery=codes)


def step_up(person):
    """The step-up credentials of an enrolled person for one action."""
    return {"password": person.password, "totp": person.recovery.pop()}


@pytest.fixture(scope="module")
def make_user(http, admin):
    """A user created by the administrator who has signed in once (choosing
    PASSWORD) and, when a role requires MFA, enrolled (unless `enrol=False`);
    the answer of the last sign-in is `.tokens`."""
    def make(*roles, enrol_mfa=True):
        username = unique("u")
        created = ok(http.post(USERS, admin.token, json={
            "username": username, "display_name": f"User {username}", "password": INITIAL_PASSWORD,
            "roles": list(roles)}), 201)
        tokens = ok(http.post(LOGIN, json={"username": username, "password": INITIAL_PASSWORD,
                                           "new_password": PASSWORD}))
        totp, codes = None, []
        if tokens.get("mfa_enrolment_required") and enrol_mfa:
            tokens, totp, codes = enrol(http, tokens)
        return SimpleNamespace(id=created["id"], username=username, display_name=created["display_name"],
                               password=PASSWORD, tokens=tokens, token=tokens["access_token"], totp=totp,
                               recovery=codes)
    return make


def sign_in(http, user, **extra):
    return ok(http.post(LOGIN, json={"username": user.username, "password": user.password, **extra}))


# ------------------------------------------------------------------ 0. operators

def mes(stack, *args, stdin=None, **env):
    """`mes --config <the stack's> ARGS` as an operator runs it: (exit code, output)."""
    result = subprocess.run([str(Path(sys.executable).with_name("mes")), "--config", str(stack.config_file), *args],
                            input=stdin, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "MES_PASSWORD": "", **env})
    return result.returncode, result.stdout + result.stderr


def test_the_shell_signs_in_and_changes_are_audited_as_that_user(stack):
    """`mes shell --as USER`: the typed errors are at hand, and what the operator
    changes is audited as them, not as `system`."""
    username = unique("ops")
    create_admin(stack, username)
    credentials = {"username": username, "password": ADMIN_PASSWORD}
    _tokens, _totp, codes = enrol(stack.http, ok(stack.http.post(LOGIN, json=credentials)))
    code = unique("SHELL").upper()
    script = (f"node = n.rpc.resource_service.create_node({{'level': 'enterprise', 'code': '{code}', 'name': 'x'}})\n"
              "try:\n    n.rpc.resource_service.get_node('00000000-0000-0000-0000-000000000000')\n"
              "except NotFound as exc:\n    print('typed:', type(exc).__name__)\n\n"
              "entries = n.rpc.resource_service.query_audit({'entity_id': node['id']})['items']\n"
              "print('actors:', sorted({e['actor'] for e in entries}))\n")
    status, output = mes(stack, "shell", "--as", username, stdin=script, MES_PASSWORD=ADMIN_PASSWORD,
                         MES_TOTP=codes[0])
    assert status == 0, output
    assert f"signed in as {username}" in output and "typed: NotFound" in output
    assert f"actors: ['{username}']" in output
    status, output = mes(stack, "shell", "--as", username, stdin="print('never')\n", MES_PASSWORD="wrong " * 3)
    assert status == 1 and "sign-in refused" in output and "never" not in output
    # an administrator who has not enrolled an authenticator gets no shell without a terminal to enrol in
    fresh = unique("ops")
    create_admin(stack, fresh)
    status, output = mes(stack, "shell", "--as", fresh, stdin="print('never')\n", MES_PASSWORD=ADMIN_PASSWORD)
    assert status == 1 and "requires MFA" in output and "never" not in output


def test_health_without_a_name_pings_every_process(stack):
    status, output = mes(stack, "health")
    lines = output.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["auth_service", "resource_service"], output
    # material and work order are registered but not started in this stack: exit 1, each named
    assert status == 1 and "material_service: unknown service" in output, output


# ------------------------------------------------------------------ 1. bootstrap

def test_the_first_admin_comes_from_the_cli_then_signs_in(stack, http):
    username = unique("root")
    output = create_admin(stack, username)
    assert f"created administrator {username}" in output and "with role admin" in output
    again = CliRunner().invoke(main, ["--config", str(stack.config_file), "create-admin", "--username",
                                      username.upper()], env={"MES_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert again.exit_code == 1 and "already used" in again.output
    weak = CliRunner().invoke(main, ["--config", str(stack.config_file), "create-admin", "--username",
                                     unique("root")], env={"MES_ADMIN_PASSWORD": "password1234"})
    assert weak.exit_code == 1 and "password" in weak.output

    tokens = ok(http.post(LOGIN, json={"username": username, "password": ADMIN_PASSWORD}))
    assert set(tokens) >= {"access_token", "refresh_token", "token_type", "expires_in", "session_id"}
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert tokens["refresh_token"].startswith("mesr_") and tokens["access_token"].count(".") == 2
    # the admin role requires MFA: the first sign-in of a fresh install opens the enrolment only
    assert tokens["mfa_enrolment_required"] is True
    assert refused(http.get(USERS, tokens["access_token"]), 403, "forbidden")["details"] == {"permission": "user:read"}
    tokens, _totp, _codes = enrol(http, tokens)
    assert "mfa_enrolment_required" not in tokens
    me = ok(http.get(ME, tokens["access_token"]))
    assert me["username"] == username and me["display_name"] == "First Admin" and me["roles"] == ["admin"]
    assert me["must_change_password"] is False  # the CLI's admin chose their own password
    assert {"user:write", "resource:write", "audit:read"} <= set(me["permissions"])
    assert username in [u["username"] for u in ok(http.get(USERS, tokens["access_token"]))["items"]]
    assert "items" in ok(http.get(NODES, tokens["access_token"]))


# ------------------------------------------------------------------ 2. 401 / 403

def test_no_token_is_401_and_an_operator_is_held_to_the_operator_role(http, admin):
    body = refused(http.get(NODES), 401, "unauthenticated")
    assert body["details"] == {"authorization": ["missing"]}
    refused(http.get(USERS, headers={"Authorization": "Basic YWRtaW46YWRtaW4="}), 401, "unauthenticated")

    username = unique("op")
    created = ok(http.post(USERS, admin.token, json={"username": username, "display_name": "Olga Operator",
                                                      "password": INITIAL_PASSWORD, "roles": ["operator"]}), 201)
    assert created["roles"] == ["operator"] and created["must_change_password"] is True
    first = refused(http.post(LOGIN, json={"username": username, "password": INITIAL_PASSWORD}), 403, "forbidden")
    assert first["details"]["reason"] == "password_change_required" and "new_password" in first["details"]
    tokens = ok(http.post(LOGIN, json={"username": username, "password": INITIAL_PASSWORD,
                                       "new_password": PASSWORD}))
    assert "mfa_enrolment_required" not in tokens
    # the new password is the one from now on
    refused(http.post(LOGIN, json={"username": username, "password": INITIAL_PASSWORD}), 401, "unauthenticated")
    token = tokens["access_token"]

    me = ok(http.get(ME, token))
    assert me["must_change_password"] is False and "resource:read" in me["permissions"]
    for method, path in (("GET", USERS), ("POST", USERS), ("GET", f"{API}/auth/roles")):
        body = refused(http.request(method, path, token, json={}), 403, "forbidden")
        assert body["details"]["permission"] in body["message"] and body["details"]["permission"].startswith(
            ("user:", "role:"))
    assert refused(http.get(USERS, token), 403, "forbidden")["details"] == {"permission": "user:read"}
    assert "items" in ok(http.get(NODES, token))
    body = refused(http.post(NODES, token, json={"level": "enterprise", "code": "OPS", "name": "x"}), 403,
                   "forbidden")
    assert body["details"] == {"permission": "resource:write"}


# ------------------------------------------------------------------ 3. refresh rotation

def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(http, make_user):
    user = make_user("operator")
    auditor = make_user("auditor")
    first = user.tokens
    second = ok(http.post(REFRESH, json={"refresh_token": first["refresh_token"]}))
    assert second["session_id"] == first["session_id"]
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert ok(http.get(ME, second["access_token"]))["id"] == user.id

    # the spent token again: someone holds a copy; the whole session ends
    body = refused(http.post(REFRESH, json={"refresh_token": first["refresh_token"]}), 401, "unauthenticated")
    assert body["details"] == {"refresh_token": ["reused"]}
    body = refused(http.post(REFRESH, json={"refresh_token": second["refresh_token"]}), 401, "unauthenticated")
    assert "refresh_token" in body["details"]
    for access in (second["access_token"], first["access_token"]):
        assert refused(http.get(ME, access), 401, "unauthenticated")["details"] == {"token": ["revoked"]}

    entries = ok(http.get(f"{AUDIT}/auth_service/entries", auditor.token,
                          params={"action": "refresh_token_reuse", "entity_id": first["session_id"]}))["items"]
    assert len(entries) == 1
    assert entries[0]["actor"] == user.username and entries[0]["entity_type"] == "session"
    assert entries[0]["new_values"]["user_id"] == user.id and entries[0]["reason"].startswith("security")

    refused(http.post(REFRESH, json={"refresh_token": "mesr_" + secrets.token_urlsafe(32)}), 401,
            "unauthenticated")


# ------------------------------------------------------------------ 4. failed sign-ins

def test_unknown_user_and_wrong_password_are_the_same_answer_then_429(http, make_user):
    user = make_user("operator")
    ghost = unique("ghost")
    wrong = http.post(LOGIN, json={"username": user.username, "password": "not the password at all"})
    unknown = http.post(LOGIN, json={"username": ghost, "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "unauthenticated", "message": "invalid username or password",
                                              "details": {}}
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"] == "Bearer"

    # the account ladder: 3 failures a minute, by the name typed (known or not)
    for name in (user.username, user.username, ghost, ghost):
        refused(http.post(LOGIN, json={"username": name, "password": "still not the password"}), 401,
                "unauthenticated")
    for name, password in ((user.username, user.password), (ghost, PASSWORD)):  # even the right password
        response = http.post(LOGIN, json={"username": name, "password": password})
        body = refused(response, 429, "too_many_requests")
        retry_after = int(response.headers["Retry-After"])
        assert 1 <= retry_after <= 60 and body["details"]["retry_after"] == retry_after
    # another account from the same address is not affected
    assert sign_in(http, make_user("operator"))["access_token"]


# ------------------------------------------------------------------ 5. sessions

def test_sessions_are_listed_ended_one_by_one_and_by_logout(http, make_user):
    user = make_user("operator")
    a = user.tokens
    # the session list shows where each one signed in (a NUL in a header cannot be stored: dropped)
    b = ok(http.post(LOGIN, json={"username": user.username, "password": user.password},
                     headers={"User-Agent": "Kiosk\x00 WC-10"}))
    listed = ok(http.get(f"{ME}/sessions", a["access_token"]))
    current = {s["id"]: s["current"] for s in listed}
    assert current == {a["session_id"]: True, b["session_id"]: False}
    assert all(s["client_address"] == "127.0.0.1" for s in listed)
    assert [s["user_agent"] for s in listed if s["id"] == b["session_id"]] == ["Kiosk WC-10"]
    assert [s["current"] for s in ok(http.get(f"{ME}/sessions", b["access_token"]))
            if s["id"] == b["session_id"]] == [True]

    # end the other one
    ok(http.delete(f"{ME}/sessions/{b['session_id']}", a["access_token"]), 204)
    refused(http.get(ME, b["access_token"]), 401, "unauthenticated")
    refused(http.post(REFRESH, json={"refresh_token": b["refresh_token"]}), 401, "unauthenticated")
    assert [s["id"] for s in ok(http.get(f"{ME}/sessions", a["access_token"]))] == [a["session_id"]]
    refused(http.delete(f"{ME}/sessions/{uuid.uuid4()}", a["access_token"]), 404, "not_found")
    assert "session_id" in refused(http.delete(f"{ME}/sessions/not-a-uuid", a["access_token"]), 400,
                                   "validation_failed")["details"]
    # someone else's session is not mine to end
    other = make_user("operator")
    refused(http.delete(f"{ME}/sessions/{other.tokens['session_id']}", a["access_token"]), 404, "not_found")
    assert ok(http.get(ME, other.token))["id"] == other.id

    # logout ends this session: its access and refresh tokens stop working
    ok(http.post(LOGOUT, a["access_token"]), 204)
    assert refused(http.get(ME, a["access_token"]), 401, "unauthenticated")["details"] == {"token": ["revoked"]}
    refused(http.post(REFRESH, json={"refresh_token": a["refresh_token"]}), 401, "unauthenticated")


# ------------------------------------------------------------------ 6. API tokens

def test_api_token_is_scoped_and_stops_soon_after_revocation(http, make_user):
    owner = make_user("integration", "auditor")   # holds resource:read and audit:read
    created = ok(http.post(f"{ME}/api-tokens", owner.token, json={
        "name": "erp link", "permissions": ["resource:read", "api_token:write"]}), 201)
    token = created["token"]
    assert token.startswith("mes_") and created["prefix"] == token[:12]
    assert created["permissions"] == ["api_token:write", "resource:read"]
    listed = ok(http.get(f"{ME}/api-tokens", owner.token))
    assert [t["id"] for t in listed] == [created["id"]] and "token" not in listed[0]

    assert "items" in ok(http.get(NODES, token))
    # outside the token's scope, although its owner holds it
    assert ok(http.get(f"{AUDIT}/resource_service/verify", owner.token))["ok"] is True
    assert refused(http.get(f"{AUDIT}/resource_service/verify", token), 403, "forbidden")["details"] == \
        {"permission": "audit:read"}
    refused(http.post(NODES, token, json={"level": "enterprise", "code": "ERP", "name": "x"}), 403, "forbidden")
    # a machine cannot make tokens (not even with api_token:write: it would mint a wider one), touch its
    # owner's second factor or sessions, or revoke tokens: those need a signed-in person
    for method, path, payload in (("POST", f"{ME}/api-tokens", {"name": "wider", "permissions": ["audit:read"]}),
                                  ("POST", f"{ME}/mfa/totp", None),
                                  ("POST", f"{ME}/mfa/totp/confirm", {"code": "123456"}),
                                  ("DELETE", f"{ME}/sessions", None),
                                  ("DELETE", f"{ME}/sessions/{owner.tokens['session_id']}", None),
                                  ("DELETE", f"{ME}/api-tokens/{created['id']}", None),
                                  ("POST", LOGOUT, None)):
        body = refused(http.request(method, path, token, json=payload), 403, "forbidden")
        assert body["details"] == {"authorization": ["API token"]}, (method, path)
    assert ok(http.get(ME, token))["username"] == owner.username  # reading is fine
    assert ok(http.get(ME, owner.token))["username"] == owner.username  # the owner's session survived
    # a token cannot carry more than its owner holds; a role without api_token:write makes none
    body = refused(http.post(f"{ME}/api-tokens", owner.token, json={"name": "x", "permissions": ["user:write"]}),
                   403, "forbidden")
    assert body["details"] == {"permissions": ["you do not hold user:write"]}
    operator = make_user("operator")
    refused(http.post(f"{ME}/api-tokens", operator.token, json={"name": "x", "permissions": ["resource:read"]}),
            403, "forbidden")

    revoked = ok(http.delete(f"{ME}/api-tokens/{created['id']}", owner.token))
    assert revoked["revoked_at"] is not None
    # the gateway remembers an accepted token for API_TOKEN_CACHE_TTL (1 s here)
    wait_until(lambda: http.get(NODES, token).status_code == 401, timeout=5, interval=0.2,
               message="the revoked API token to be refused")
    body = refused(http.get(NODES, token), 401, "unauthenticated")
    assert body["details"] == {"token": ["invalid"]}
    refused(http.delete(f"{ME}/api-tokens/{uuid.uuid4()}", owner.token), 404, "not_found")


# ------------------------------------------------------------------ 7. MFA

def test_totp_enrolment_then_codes_and_recovery_codes_work_once(http, make_user):
    user = make_user("mrb_member", enrol_mfa=False)  # a role that requires MFA
    # until enrolled, the token opens the self-service routes only
    assert user.tokens["mfa_enrolment_required"] is True
    assert ok(http.get(ME, user.token))["mfa_required"] is True
    assert refused(http.get(NODES, user.token), 403, "forbidden")["details"] == {"permission": "resource:read"}
    enrolment = ok(http.post(f"{ME}/mfa/totp", user.token), 201)
    totp = pyotp.TOTP(enrolment["secret"])
    wrong = "000000" if totp.now() != "000000" else "111111"
    assert "code" in refused(http.post(f"{ME}/mfa/totp/confirm", user.token, json={"code": wrong}), 422,
                             "rule_violated")["details"]
    codes = ok(http.post(f"{ME}/mfa/totp/confirm", user.token, json={"code": totp.now()}))["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert ok(http.get(ME, user.token))["mfa_enabled"] is True
    refused(http.post(f"{ME}/mfa/totp", user.token), 409, "conflict")

    body = refused(http.post(LOGIN, json={"username": user.username, "password": user.password}), 401,
                   "unauthenticated")
    assert body["details"] == {"totp": ["required"]}
    code = later_code(totp)
    tokens = sign_in(http, user, totp=code)
    assert "mfa_enrolment_required" not in tokens and "items" in ok(http.get(NODES, tokens["access_token"]))
    sessions = ok(http.get(f"{ME}/sessions", tokens["access_token"]))
    assert [s["mfa"] for s in sessions if s["current"]] == [True]
    body = refused(http.post(LOGIN, json={"username": user.username, "password": user.password, "totp": code}),
                   401, "unauthenticated")
    assert body["details"] == {"totp": ["wrong or already used"]}

    assert sign_in(http, user, totp=codes[0])["access_token"]
    refused(http.post(LOGIN, json={"username": user.username, "password": user.password, "totp": codes[0]}), 401,
            "unauthenticated")
    assert sign_in(http, user, totp=codes[1].upper().replace("-", ""))["access_token"]


# ------------------------------------------------------------------ 9. audit

def test_audit_trails_verify_over_http_for_auditors_only(http, admin, make_user):
    auditor, operator = make_user("auditor"), make_user("operator")
    node = ok(http.post(NODES, admin.token, json={"level": "enterprise", "code": unique("E").upper(),
                                                  "name": "Acme Aero"}), 201)
    for service in ("auth_service", "resource_service"):
        verified = ok(http.get(f"{AUDIT}/{service}/verify", auditor.token))
        assert verified["ok"] is True and verified["entries"] > 0 and verified["first_broken"] is None
        assert refused(http.get(f"{AUDIT}/{service}/verify", operator.token), 403, "forbidden")["details"] == \
            {"permission": "audit:read"}
        refused(http.get(f"{AUDIT}/{service}/entries", operator.token), 403, "forbidden")
    # the actor of a change made through the gateway is the signed-in user
    entries = ok(http.get(f"{AUDIT}/resource_service/entries", auditor.token, params={"entity_id": node["id"]}))
    assert [(e["action"], e["actor"]) for e in entries["items"]] == [("create", admin.username)]
    assert "service" in refused(http.get(f"{AUDIT}/billing_service/verify", auditor.token), 404,
                                "not_found")["details"]
    refused(http.get(f"{AUDIT}/auth_service/verify"), 401, "unauthenticated")


# ------------------------------------------------------------------ 10. bad input

VALID_USER = {"display_name": "Val Id", "password": INITIAL_PASSWORD, "roles": ["operator"]}


@pytest.mark.parametrize("path,body,field", [
    (LOGIN, b'{"username": "someone", "password": ', "body"),
    (LOGIN, b'["someone", "secret"]', "body"),
    (LOGIN, {"username": "someone", "password": "x", "remember_me": True}, "remember_me"),
    (LOGIN, {"username": 42, "password": "x"}, "username"),
    (LOGIN, {"username": "someone", "password": ["x"]}, "password"),
    (LOGIN, {"username": "someone", "password": "x", "totp": 123456}, "totp"),
    (LOGIN, {"username": "someone"}, "password"),
    (LOGIN, {"username": "some\u0000one", "password": "x"}, "username"),
    (LOGIN, {"username": "someone", "password": "x" * 1000}, "password"),
    (REFRESH, {"refresh_token": 1}, "refresh_token"),
    (REFRESH, {}, "refresh_token"),
    (USERS, b"{'username': 'single quotes'}", "body"),
    (USERS, {**VALID_USER, "username": "newbie", "is_superuser": True}, "is_superuser"),
    (USERS, {**VALID_USER, "username": ["newbie"]}, "username"),
    (USERS, {**VALID_USER, "username": "newbie", "roles": "operator"}, "roles"),
    (USERS, {**VALID_USER, "username": "newbie", "roles": [7]}, "roles"),
    (USERS, {**VALID_USER, "username": "newbie", "email": 12}, "email"),
    (USERS, {**VALID_USER, "username": "newbie", "display_name": None}, "display_name"),
    (USERS, {**VALID_USER, "username": "new bie"}, "username"),
    (f"{USERS}/not-a-uuid/unlock", {}, "user_id"),
], ids=lambda value: value if isinstance(value, str) and not value.startswith("/") else None)
def test_bad_input_is_400_naming_the_field(http, admin, path, body, field):
    kwargs = {"data": body, "headers": {"Content-Type": "application/json"}} if isinstance(body, bytes) \
        else {"json": body}
    response = http.post(path, None if path in (LOGIN, REFRESH) else admin.token, **kwargs)
    details = refused(response, 400, "validation_failed")["details"]
    assert field in details, details


def test_a_password_against_the_policy_is_a_broken_rule_naming_the_field(http, admin):
    """Valid by the document (a string), refused by the policy: 422, not 400."""
    response = http.post(USERS, admin.token, json={**VALID_USER, "username": "newbie", "password": "password123"})
    assert "password" in refused(response, 422, "rule_violated")["details"]


def test_bad_query_and_path_values_are_400_naming_the_field(http, admin):
    for path, field in ((f"{USERS}?limit=abc", "limit"), (f"{USERS}?active=maybe", "active"),
                        (f"{USERS}?cursor=zzz", "cursor"), (f"{USERS}?role=Not%20A%20Role", "role"),
                        (f"{USERS}/not-a-uuid", "user_id"), (f"{AUDIT}/auth_service/entries?since=yesterday", "since"),
                        (f"{AUDIT}/auth_service/entries?limit=0", "limit")):
        details = refused(http.get(path, admin.token), 400, "validation_failed")["details"]
        assert field in details, (path, details)


# ------------------------------------------------------------------ administration limits

def test_a_sign_in_does_not_make_an_administrators_edit_stale(http, admin, make_user):
    user = make_user("operator")
    version = ok(http.get(f"{USERS}/{user.id}", admin.token))["version"]
    sign_in(http, user)
    ok(http.patch(f"{USERS}/{user.id}", admin.token, json={"display_name": "Olga Q. Operator", "version": version}))


def test_user_write_cannot_grant_permissions_the_caller_lacks(http, admin, make_user):
    name = unique("helpdesk")
    ok(http.post(f"{API}/auth/roles", admin.token, json={"name": name, "permissions": ["user:read", "user:write"]}),
       201)
    helpdesk = make_user(name)
    refused(http.request("PUT", f"{USERS}/{helpdesk.id}/roles", helpdesk.token,
                         json={"roles": [name, "admin"], "step_up": step_up(helpdesk)}), 403, "forbidden")
    # nor take over a more powerful account, nor mint a more powerful role
    refused(http.post(f"{USERS}/{admin.id}/password-reset", helpdesk.token,
                      json={"password": "velvet otter crossing 51", "step_up": step_up(helpdesk)}),
            403, "forbidden")
    refused(http.post(f"{API}/auth/roles", helpdesk.token,
                      json={"name": unique("sneaky"), "permissions": ["user:write", "role:write"]}), 403, "forbidden")



# ------------------------------------------------------------------ security review (issue 10)

def from_address(address):
    return {"headers": {"X-Forwarded-For": address}}


def test_takeover_resets_need_step_up_a_person_and_another_account(http, admin, make_user):
    """Attack 1: a stolen admin access token (or an API token with user:write) resetting
    an administrator's MFA and password to own the account."""
    other_admin, victim = make_user("admin"), make_user("operator")
    temporary = "velvet otter crossing 51"
    reset_mfa, reset_password = f"{USERS}/{other_admin.id}/mfa-reset", f"{USERS}/{victim.id}/password-reset"
    # no step-up: the request does not match the document
    assert "step_up" in refused(http.post(reset_mfa, admin.token, json={}), 400, "validation_failed")["details"]
    # the token alone is not enough: the administrator's own password and code are checked, and audited
    wrong = {"password": "not my password at all", "totp": admin.recovery.pop()}
    refused(http.post(reset_mfa, admin.token, json={"step_up": wrong}), 401, "unauthenticated")
    body = refused(http.post(reset_mfa, admin.token, json={"step_up": {"password": admin.password}}), 422,
                   "rule_violated")
    assert body["details"] == {"step_up": {"totp": ["required: MFA is enabled on your account"]}}
    assert ok(http.get(f"{USERS}/{other_admin.id}", admin.token))["mfa_enabled"] is True
    # never on one's own account
    refused(http.post(f"{USERS}/{admin.id}/mfa-reset", admin.token, json={"step_up": step_up(admin)}), 403,
            "forbidden")
    refused(http.request("PUT", f"{USERS}/{admin.id}/roles", admin.token,
                         json={"roles": ["admin", "auditor"], "step_up": step_up(admin)}), 403, "forbidden")
    # never with an API token, even one holding user:write
    machine = ok(http.post(f"{ME}/api-tokens", admin.token, json={"name": "helpdesk bot",
                                                                   "permissions": ["user:read", "user:write"]}),
                 201)["token"]
    body = refused(http.post(reset_password, machine, json={"password": temporary, "step_up": step_up(admin)}),
                   403, "forbidden")
    assert body["details"] == {"authorization": ["API token"]}
    # with the administrator's fresh credentials, from a session, on another's account: done
    ok(http.post(reset_mfa, admin.token, json={"step_up": step_up(admin), "reason": "lost phone"}))
    reset = ok(http.post(reset_password, admin.token, json={"password": temporary, "step_up": step_up(admin)}))
    assert reset["must_change_password"] is True and reset["password_expires_at"] is not None
    actions = [e["action"] for e in ok(http.get(f"{AUDIT}/auth_service/entries", admin.token,
                                                params={"entity_id": admin.id, "limit": 50}))["items"]]
    assert "step_up_failed" in actions
    # the temporary password serves once: the user chooses their own, then it is gone
    first = {"username": victim.username, "password": temporary}
    ok(http.post(LOGIN, json={**first, "new_password": "marble kestrel winter 808"}))
    refused(http.post(LOGIN, json={**first, "new_password": "another fresh phrase 77"}), 401, "unauthenticated")


def test_a_scoped_api_token_cannot_create_an_administrator(http, admin):
    """Attack 2: an admin's API token scoped to user:write creating a full admin; what it
    does create is audited with the token's id next to its owner."""
    created = ok(http.post(f"{ME}/api-tokens", admin.token, json={"name": "onboarding",
                                                                   "permissions": ["user:write"]}), 201)
    new_user = {"display_name": "Token Made", "password": INITIAL_PASSWORD}
    body = refused(http.post(USERS, created["token"], json={**new_user, "username": unique("t"), "roles": ["admin"]}),
                   403, "forbidden")
    assert "you do not hold user:read" in body["details"]["permissions"]
    made = ok(http.post(USERS, created["token"], json={**new_user, "username": unique("t"), "roles": []}), 201)
    entry = ok(http.get(f"{AUDIT}/auth_service/entries", admin.token,
                        params={"entity_id": made["id"], "action": "create"}))["items"][0]
    assert entry["actor"] == admin.username and entry["via"] == f"api_token:{created['id']}"
    assert ok(http.get(f"{AUDIT}/auth_service/verify", admin.token))["ok"] is True


def test_secrets_typed_with_a_stolen_token_are_throttled(http, make_user):
    """Attack 4: unlimited guesses of the current password or TOTP with a stolen access token."""
    user = make_user("mrb_member")
    answers = [http.post(f"{ME}/mfa/recovery-codes", user.token, json={"code": f"{n:06d}"}).status_code
               for n in range(20)]
    assert answers[:3] == [401, 401, 401] and set(answers[3:]) == {429}, answers
    victim = make_user("operator")
    answers = [http.post(f"{ME}/password", victim.token, **from_address("10.20.0.1"), json={
        "current_password": f"guess number {n} here", "new_password": "marble kestrel winter 808"}).status_code
        for n in range(5)]
    assert answers == [401, 401, 401, 429, 429], answers
    # the guesses count towards the sign-in lock at that address, and only there
    refused(http.post(LOGIN, json={"username": victim.username, "password": victim.password},
                      **from_address("10.20.0.1")), 429, "too_many_requests")
    assert ok(http.post(LOGIN, json={"username": victim.username, "password": victim.password},
                        **from_address("10.20.0.2")))["access_token"]


def test_a_lock_at_one_address_locks_nobody_out_elsewhere(http, make_user):
    """Attack 5: locking a known person out by typing wrong passwords for their name."""
    user = make_user("operator")
    attacker, terminal, shop_nat = "10.30.0.66", "10.30.0.7", "10.30.0.1"
    for _ in range(3):
        refused(http.post(LOGIN, json={"username": user.username, "password": "wrong wrong wrong"},
                          **from_address(attacker)), 401, "unauthenticated")
    locked = refused(http.post(LOGIN, json={"username": user.username, "password": user.password},
                               **from_address(attacker)), 429, "too_many_requests")
    assert ok(http.post(LOGIN, json={"username": user.username, "password": user.password},
                        **from_address(terminal)))["access_token"]
    assert ok(http.get(ME, user.token))["id"] == user.id   # no session was ended by the lock
    ghost = unique("ghost")
    for _ in range(3):
        http.post(LOGIN, json={"username": ghost, "password": "wrong wrong wrong"}, **from_address(attacker))
    unknown = refused(http.post(LOGIN, json={"username": ghost, "password": "wrong wrong wrong"},
                                **from_address(attacker)), 429, "too_many_requests")
    assert (unknown["message"], set(unknown["details"])) == (locked["message"], set(locked["details"]))
    # a shop floor behind one NAT: a shift's worth of typos does not lock everyone out
    for n in range(25):
        http.post(LOGIN, json={"username": f"typo{n}{user.username}", "password": "oops"}, **from_address(shop_nat))
    assert ok(http.post(LOGIN, json={"username": user.username, "password": user.password},
                        **from_address(shop_nat)))["access_token"]


def test_privileged_roles_need_mfa(http, make_user):
    """Attack 6: a password alone opening user administration or the audit trails."""
    for role in ("auditor", "admin"):
        user = make_user(role, enrol_mfa=False)
        assert user.tokens["mfa_enrolment_required"] is True
        refused(http.get(USERS if role == "admin" else f"{AUDIT}/auth_service/verify", user.token), 403, "forbidden")


def test_a_password_only_session_stays_closed_after_the_user_enrols_elsewhere(http, make_user):
    """Attack 6: a stolen password of a privileged user who has not enrolled yet. The
    attacker's session opens the enrolment only, and stays so once the real user enrols."""
    user = make_user("auditor", enrol_mfa=False)
    stolen = user.tokens["refresh_token"]                     # the attacker's password-only session
    own = sign_in(http, user)                                 # the real user, then their enrolment
    enrolled, _totp, _codes = enrol(http, own)
    assert ok(http.get(f"{AUDIT}/auth_service/verify", enrolled["access_token"]))["ok"] is True
    refreshed = ok(http.post(REFRESH, json={"refresh_token": stolen}))
    refused(http.get(f"{AUDIT}/auth_service/verify", refreshed["access_token"]), 403, "forbidden")
    # the enrolment session's password-only refresh token is spent: presenting it ends that session
    body = refused(http.post(REFRESH, json={"refresh_token": own["refresh_token"]}), 401, "unauthenticated")
    assert body["details"] == {"refresh_token": ["reused"]}


def test_api_tokens_expire_within_the_configured_lifetime(http, admin):
    """Item 7: no API token lives for good."""
    body = refused(http.post(f"{ME}/api-tokens", admin.token, json={
        "name": "forever", "permissions": ["resource:read"], "expires_at": "2999-01-01T00:00:00Z"}), 422,
        "rule_violated")
    assert "expires_at" in body["details"]
    created = ok(http.post(f"{ME}/api-tokens", admin.token, json={"name": "a year", "permissions": ["resource:read"]}),
                 201)
    assert created["expires_at"] is not None


def test_the_client_address_behind_trusted_proxies():
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from gateway.http import client_of

    request = Request(EnvironBuilder(headers={"X-Forwarded-For": "6.6.6.6, 10.0.0.7",
                                              "User-Agent": "lathe\x00-terminal"},
                                     environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_environ())
    assert client_of(request) == {"address": "10.0.0.1", "user_agent": "lathe-terminal"}  # forgeable header ignored
    assert client_of(request, 1)["address"] == "10.0.0.7"   # what our one proxy saw
    assert client_of(request, 3)["address"] == "10.0.0.1"   # fewer entries than proxies: the socket's address
