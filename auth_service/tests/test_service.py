"""The auth service in a real container: PostgreSQL, RabbitMQ, Redis."""
import datetime as dt
import secrets
import time
import uuid

import pyotp
from lxml import etree
import pytest
import redis
from mes_common.rpc import ClusterRpcProxy
from sqlalchemy import text

from auth_service.contract import keys, revocations, tokens
from auth_service.service import AuthService
from mes_common import errors

PASSWORD = "correct horse battery staple 42"
OTHER_PASSWORD = "tangerine submarine orchestra 77"


@pytest.fixture
def auth_config(mes_config):
    # a short ladder so the lock is reachable in a test: 3 failures within a minute lock the account
    mes_config["AUTH"] = {**mes_config["AUTH"], "THROTTLE_ACCOUNT": "3/minute"}
    return mes_config


@pytest.fixture
def rpc(auth_config, container_factory):
    container = container_factory(AuthService, auth_config)
    container.start()
    with ClusterRpcProxy(auth_config, timeout=10) as proxy:
        yield proxy.auth_service


@pytest.fixture
def redis_client(mes_config):
    client = redis.Redis.from_url(mes_config["REDIS_URL"])
    yield client
    client.close()


def new_user(rpc, roles=("operator",), password=PASSWORD, must_change=False, db=None):
    name = f"u{secrets.token_hex(4)}"
    user = rpc.create_user({"username": name, "display_name": f"User {name}", "password": password,
                            "roles": list(roles)})
    if not must_change:  # an admin-created user must change the password first: do it
        rpc.login({"username": name, "password": password, "new_password": OTHER_PASSWORD})
        user["password"] = OTHER_PASSWORD
    else:
        user["password"] = password
    return user


def login(rpc, user, **extra):
    return rpc.login({"username": user["username"], "password": user["password"], **extra})


def claims(config, token):
    auth = keys.settings(config)
    return tokens.verify_access_token(token, keys.public_key(config), issuer=auth["ISSUER"],
                                      audience=auth["AUDIENCE"])


def test_builtin_roles_are_seeded(rpc):
    roles = {r["name"]: r for r in rpc.list_roles()}
    assert set(roles) == {"admin", "planner", "store_keeper", "operator", "quality_engineer", "inspector",
                          "mrb_member", "auditor", "integration", "monitoring"}
    assert "audit:read" in roles["auditor"]["permissions"] and "user:write" not in roles["auditor"]["permissions"]
    assert all(r["builtin"] for r in roles.values())
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.update_role("operator", {"permissions": ["user:write"]})
    assert "permissions" in exc.value.details


def test_login_issues_tokens_with_claims(rpc, auth_config):
    user = new_user(rpc, roles=("planner",))
    body = login(rpc, user, totp=None)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["refresh_token"].startswith("mesr_")
    got = claims(auth_config, body["access_token"])
    assert got["sub"] == user["id"] and got["sid"] == body["session_id"] and got["name"] == user["username"]
    assert got["roles"] == ["planner"] and "work_order:release" in got["permissions"]
    assert got["exp"] - got["iat"] == 900


def test_unknown_user_and_wrong_password_are_indistinguishable_then_throttled(rpc):
    user = new_user(rpc)
    answers = []
    for name, password in ((user["username"], "wrong password entirely"), (f"ghost{secrets.token_hex(3)}", PASSWORD)):
        with pytest.raises(errors.Unauthenticated) as exc:
            rpc.login({"username": name, "password": password})
        answers.append((type(exc.value), exc.value.message, exc.value.details))
    assert answers[0] == answers[1] == (errors.Unauthenticated, "invalid username or password", {})


HERE, THERE = {"address": "10.0.0.5"}, {"address": "10.0.0.9"}


def test_a_lock_holds_at_one_address_and_ends_no_session(rpc):
    """Attack: typing wrong passwords for a known name from one address. The account
    locks there only, its live sessions go on, and it answers like an unknown name."""
    user = new_user(rpc)
    session = login(rpc, user)
    for _ in range(3):
        with pytest.raises(errors.Unauthenticated):
            rpc.login({"username": user["username"], "password": "not the password at all"}, HERE)
    # the right password no longer helps from there ...
    with pytest.raises(errors.Throttled) as locked:
        rpc.login({"username": user["username"], "password": user["password"]}, HERE)
    assert locked.value.retry_after > 0
    # ... but the person signs in from their own terminal, and their sessions were not ended
    assert rpc.login({"username": user["username"], "password": user["password"]}, THERE)["access_token"]
    assert rpc.session_active(session["session_id"]) and rpc.refresh(session["refresh_token"])["access_token"]
    assert "account_locked" in [e["action"] for e in rpc.query_audit({"entity_id": user["id"]})["items"]]

    # an unknown name gets the very same answer
    ghost = f"ghost{secrets.token_hex(3)}"
    for _ in range(3):
        with pytest.raises(errors.Unauthenticated):
            rpc.login({"username": ghost, "password": PASSWORD}, HERE)
    with pytest.raises(errors.Throttled) as unknown:
        rpc.login({"username": ghost, "password": PASSWORD}, HERE)
    assert (unknown.value.message, set(unknown.value.details)) == (locked.value.message, set(locked.value.details))

    rpc.unlock_user(user["id"], {"reason": "verified by phone"})
    assert rpc.login({"username": user["username"], "password": user["password"]}, HERE)["access_token"]


def test_throttled_attempts_are_summarised_not_audited_one_by_one(rpc):
    """Attack: flooding sign-in for a throttled name to fill the append-only trail."""
    name = f"flood{secrets.token_hex(3)}"
    for _ in range(3):
        with pytest.raises(errors.Unauthenticated):
            rpc.login({"username": name, "password": PASSWORD}, HERE)
    for _ in range(20):
        with pytest.raises(errors.Throttled):
            rpc.login({"username": name, "password": PASSWORD}, HERE)
    actions = [e["action"] for e in rpc.query_audit({"entity_id": name, "limit": 100})["items"]]
    assert actions.count("login_failed") == 3 and actions.count("login_throttled") == 1


def test_an_expired_temporary_password_does_not_sign_in(rpc, db_engines):
    user = new_user(rpc, must_change=True)
    assert rpc.get_user(user["id"])["password_expires_at"] is not None
    with db_engines["auth_service"].begin() as conn:
        conn.execute(text("UPDATE app_user SET password_expires_at = now() - interval '1 second' WHERE id = :id"),
                     {"id": user["id"]})
    with pytest.raises(errors.Unauthenticated) as exc:
        rpc.login({"username": user["username"], "password": PASSWORD, "new_password": OTHER_PASSWORD})
    assert exc.value.message == "invalid username or password"


def test_every_login_attempt_is_audited(rpc):
    user = new_user(rpc)
    with pytest.raises(errors.Unauthenticated):
        rpc.login({"username": user["username"], "password": "definitely wrong here"}, {"address": "10.1.2.3"})
    login(rpc, user)
    entries = rpc.query_audit({"entity_id": user["id"]})["items"]
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["login", "login_failed"]
    failed = entries[1]
    assert failed["actor"] == user["username"] and failed["new_values"]["reason"] == "wrong password"
    assert failed["new_values"]["address"] == "10.1.2.3"
    assert rpc.verify_audit()["ok"]


def test_refresh_rotates_and_reuse_revokes_the_family(rpc, auth_config, redis_client):
    user = new_user(rpc)
    first = login(rpc, user)
    second = rpc.refresh(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"] and second["session_id"] == first["session_id"]
    assert rpc.session_active(first["session_id"])
    # the spent token again: reuse
    with pytest.raises(errors.Unauthenticated) as exc:
        rpc.refresh(first["refresh_token"])
    assert exc.value.details == {"refresh_token": ["reused"]}
    # ... which ended the session: the newest token fails too, and the access tokens are revoked
    with pytest.raises(errors.Unauthenticated):
        rpc.refresh(second["refresh_token"])
    assert not rpc.session_active(first["session_id"])
    assert redis_client.zscore(revocations.set_key(auth_config["CACHE_PREFIX"]), first["session_id"]) > time.time()
    actions = [e["action"] for e in rpc.query_audit({"entity_type": "session",
                                                      "entity_id": first["session_id"]})["items"]]
    assert "refresh_token_reuse" in actions


def test_sessions_listed_revoked_and_logout(rpc):
    user = new_user(rpc)
    a, b, c = (login(rpc, user) for _ in range(3))
    listed = rpc.list_sessions(user["id"], a["session_id"])
    assert {s["id"] for s in listed} >= {a["session_id"], b["session_id"], c["session_id"]}
    assert [s["current"] for s in listed if s["id"] == a["session_id"]] == [True]
    rpc.revoke_session(user["id"], b["session_id"])
    rpc.logout(user["id"], c["session_id"])
    with pytest.raises(errors.Unauthenticated):
        rpc.refresh(b["refresh_token"])
    assert rpc.revoke_sessions(user["id"], a["session_id"]) == {"revoked": 1}  # the one from new_user()
    assert [s["id"] for s in rpc.list_sessions(user["id"])] == [a["session_id"]]
    with pytest.raises(errors.NotFound):
        rpc.revoke_session(new_user(rpc)["id"], a["session_id"])  # not theirs


def test_deactivating_a_user_ends_sessions_and_tokens(rpc):
    user = new_user(rpc, roles=("integration",))
    session = login(rpc, user)
    token = rpc.create_api_token(user["id"], {"name": "erp", "permissions": ["material:read"]})
    assert rpc.authenticate_api_token(token["token"])["username"] == user["username"]
    rpc.update_user(user["id"], {"active": False, "reason": "left the company"})
    assert not rpc.session_active(session["session_id"])
    with pytest.raises(errors.Unauthenticated):
        rpc.authenticate_api_token(token["token"])
    with pytest.raises(errors.Unauthenticated) as exc:
        login(rpc, user)
    assert exc.value.message == "invalid username or password"


def test_api_tokens_are_scoped_hashed_and_revocable(rpc, db_engines):
    user = new_user(rpc, roles=("integration",))
    with pytest.raises(errors.Forbidden) as exc:
        rpc.create_api_token(user["id"], {"name": "too much", "permissions": ["user:write"]})
    assert exc.value.details == {"permissions": ["you do not hold user:write"]}
    created = rpc.create_api_token(user["id"], {"name": "erp", "permissions": ["material:read", "inventory:write"]})
    assert created["token"].startswith("mes_") and created["prefix"] == created["token"][:12]
    principal = rpc.authenticate_api_token(created["token"])
    assert principal["permissions"] == ["inventory:write", "material:read"]
    with db_engines["auth_service"].connect() as conn:
        stored = conn.execute(text("SELECT token_hash, last_used_at FROM api_token")).one()
    assert created["token"] not in stored[0] and stored[1] is not None
    # narrowing the owner narrows the token
    rpc.set_roles(user["id"], {"roles": ["operator"]})
    assert rpc.authenticate_api_token(created["token"])["permissions"] == ["material:read"]
    listed = rpc.list_api_tokens(user["id"])
    assert [t["name"] for t in listed] == ["erp"] and "token" not in listed[0]
    rpc.revoke_api_token(user["id"], created["id"])
    with pytest.raises(errors.Unauthenticated):
        rpc.authenticate_api_token(created["token"])
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.create_api_token(user["id"], {"name": "x", "permissions": ["material:read"],
                                          "expires_at": "2020-01-01T00:00:00+00:00"})
    assert "expires_at" in exc.value.details
    # no token lives for good: the default and the latest expiry is AUTH.API_TOKEN_MAX_DAYS away
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.create_api_token(user["id"], {"name": "x", "permissions": ["material:read"],
                                          "expires_at": "2099-01-01T00:00:00+00:00"})
    assert "at most 365 days" in exc.value.details["expires_at"][0]
    lasting = rpc.create_api_token(user["id"], {"name": "y", "permissions": ["material:read"]})
    days = (dt.datetime.fromisoformat(lasting["expires_at"]) - dt.datetime.now(dt.timezone.utc)).days
    assert 364 <= days <= 365


def test_admin_reset_forces_a_change_and_history_is_kept(rpc):
    user = new_user(rpc)
    rpc.reset_password(user["id"], {"password": "plum lantern gravel 2049", "reason": "forgotten"})
    with pytest.raises(errors.Forbidden) as exc:
        rpc.login({"username": user["username"], "password": "plum lantern gravel 2049"})
    assert exc.value.details["reason"] == "password_change_required"
    # one of the last five passwords: refused
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.login({"username": user["username"], "password": "plum lantern gravel 2049",
                   "new_password": OTHER_PASSWORD})
    assert "password" in exc.value.details
    body = rpc.login({"username": user["username"], "password": "plum lantern gravel 2049",
                      "new_password": "violet harbour kettle 1983"})
    assert body["access_token"]
    assert rpc.get_user(user["id"])["must_change_password"] is False
    assert rpc.get_user(user["id"])["password_expires_at"] is None
    # it served once: it is not a password any more
    with pytest.raises(errors.Unauthenticated):
        rpc.login({"username": user["username"], "password": "plum lantern gravel 2049"})


def test_change_password_keeps_this_session_and_ends_the_others(rpc):
    user = new_user(rpc)
    mine, other = login(rpc, user), login(rpc, user)
    with pytest.raises(errors.Unauthenticated) as exc:
        rpc.change_password(user["id"], mine["session_id"], {"current_password": "nope nope nope nope",
                                                             "new_password": "violet harbour kettle 1983"})
    assert "current_password" in exc.value.details
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.change_password(user["id"], mine["session_id"], {"current_password": OTHER_PASSWORD,
                                                             "new_password": "password12345"})
    assert "password" in exc.value.details
    rpc.change_password(user["id"], mine["session_id"], {"current_password": OTHER_PASSWORD,
                                                         "new_password": "violet harbour kettle 1983"})
    assert rpc.session_active(mine["session_id"]) and not rpc.session_active(other["session_id"])


def enable_mfa(rpc, user):
    enrolment = rpc.begin_totp(user["id"])
    assert enrolment["provisioning_uri"].startswith("otpauth://totp/")
    # the QR code an authenticator app scans, drawn by the server: an SVG document, no script in it
    qr = etree.fromstring(enrolment["qr_svg"].encode())
    assert qr.tag == "{http://www.w3.org/2000/svg}svg" and qr.findall(".//{http://www.w3.org/2000/svg}path")
    assert "script" not in enrolment["qr_svg"] and enrolment["secret"] not in enrolment["qr_svg"]
    totp = pyotp.TOTP(enrolment["secret"])
    codes = rpc.confirm_totp(user["id"], {"code": totp.now()})["recovery_codes"]
    return totp, codes


def test_totp_codes_work_once_and_recovery_codes_once(rpc, db_engines):
    user = new_user(rpc)
    enrolment = rpc.begin_totp(user["id"])
    with db_engines["auth_service"].connect() as conn:   # sealed: a copy of the database yields no seed
        stored = conn.execute(text("SELECT totp_secret FROM app_user WHERE id = :id"), {"id": user["id"]}).scalar()
    assert stored.startswith("f1:") and enrolment["secret"] not in stored
    with pytest.raises(errors.RuleViolated):
        rpc.confirm_totp(user["id"], {"code": "000000" if pyotp.TOTP(enrolment["secret"]).now() != "000000"
                                      else "111111"})
    totp = pyotp.TOTP(enrolment["secret"])
    codes = rpc.confirm_totp(user["id"], {"code": totp.now()})["recovery_codes"]
    assert len(codes) == 10 and all(len(c.replace("-", "")) == 26 for c in codes)   # 130 bits each
    with pytest.raises(errors.Unauthenticated) as exc:
        login(rpc, user)
    assert exc.value.details == {"totp": ["required"]}
    # the code used to confirm cannot sign in: each code is accepted once
    with pytest.raises(errors.Unauthenticated):
        login(rpc, user, totp=totp.now())
    next_code = totp.at(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30))
    body = login(rpc, user, totp=next_code)
    assert claims_amr(body) == ["pwd", "otp"]
    with pytest.raises(errors.Unauthenticated) as exc:
        login(rpc, user, totp=next_code)
    assert exc.value.details == {"totp": ["wrong or already used"]}
    # a recovery code works once, in any case and with or without dashes
    assert login(rpc, user, totp=codes[0].upper().replace("-", ""))["access_token"]
    with pytest.raises(errors.Unauthenticated):
        login(rpc, user, totp=codes[0])
    assert login(rpc, user, totp=codes[1])["access_token"]


def test_seeds_stored_in_the_clear_are_sealed_at_start(rpc, auth_config, container_factory, db_engines):
    """TOTP seeds a release before sealing stored in the clear are sealed by the next
    start of the service, and still open: the user signs in with their authenticator."""
    user = new_user(rpc)
    secret = pyotp.random_base32(32)
    with db_engines["auth_service"].begin() as conn:
        conn.execute(text("UPDATE app_user SET totp_secret = :s, mfa_enabled = true WHERE id = :id"),
                     {"s": secret, "id": user["id"]})
    container_factory(AuthService, auth_config).start()   # another instance starting
    with db_engines["auth_service"].connect() as conn:
        stored = conn.execute(text("SELECT totp_secret FROM app_user WHERE id = :id"), {"id": user["id"]}).scalar()
    assert stored.startswith("f1:") and secret not in stored
    assert login(rpc, user, totp=pyotp.TOTP(secret).now())["access_token"]


def claims_amr(body):
    import jwt
    return jwt.decode(body["access_token"], options={"verify_signature": False})["amr"]


def test_a_role_requiring_mfa_withholds_permissions_until_enrolled(rpc, auth_config):
    user = new_user(rpc, roles=("mrb_member",))
    body = login(rpc, user)
    assert body["mfa_enrolment_required"] is True
    assert claims(auth_config, body["access_token"])["permissions"] == []
    totp, _codes = enable_mfa(rpc, user)
    code = totp.at(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30))
    body = login(rpc, user, totp=code)
    assert "mfa_enrolment_required" not in body
    assert "mrb:disposition" in claims(auth_config, body["access_token"])["permissions"]
    with pytest.raises(errors.RuleViolated):
        rpc.disable_mfa(user["id"], {"password": user["password"], "code": _codes[0]})


def test_signature_needs_all_components_first_then_the_password(rpc):
    user = new_user(rpc, roles=("quality_engineer",))
    totp, _codes = enable_mfa(rpc, user)
    now = dt.datetime.now(dt.timezone.utc)
    session = login(rpc, user, totp=totp.at(now + dt.timedelta(seconds=30)))
    record = {"service": "work_order_service", "type": "work_order", "id": str(uuid.uuid4())}
    base = {"session_id": session["session_id"], "user_id": user["id"], "meaning": "approval", "record": record}
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.verify_signature({**base, "password": user["password"]})
    assert set(exc.value.details) == {"username", "totp"}
    with pytest.raises(errors.Unauthenticated):
        rpc.verify_signature({**base, "username": user["username"], "password": "wrong wrong wrong",
                              "totp": _codes[1]})
    # login took the newest code in the window; a recovery code stands in for the next one
    signed = rpc.verify_signature({**base, "username": user["username"], "password": user["password"],
                                   "totp": _codes[0]})
    assert signed["printed_name"] == user["display_name"] and signed["meaning"] == "approval"
    assert signed["components"] == ["username", "password", "totp"]
    # bound to the record, with a nonce the record's signature table takes once
    assert signed["record"] == record and uuid.UUID(signed["nonce"])
    # later in the same continuous session: the password alone
    again = rpc.verify_signature({**base, "password": user["password"], "meaning": "review"})
    assert again["nonce"] != signed["nonce"]
    assert again["components"] == ["password"] and again["signed_at"] > signed["signed_at"]
    # nobody signs in someone else's session
    other = new_user(rpc)
    with pytest.raises(errors.Unauthenticated):
        rpc.verify_signature({**base, "user_id": other["id"], "password": other["password"]})
    actions = [e["action"] for e in rpc.query_audit({"entity_id": user["id"]})["items"]]
    assert actions.count("signature_verified") == 2 and actions.count("signature_failed") == 1


def test_user_admin_and_validation(rpc):
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.create_user({"username": "x", "display_name": "", "password": "short", "roles": ["Bad Role"]})
    assert {"username", "display_name", "roles"} <= set(exc.value.details)
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.create_user({"username": "jdoe", "display_name": "John Doe", "password": "jdoe jdoe jdoe 1",
                         "roles": []})
    assert "password" in exc.value.details
    with pytest.raises(errors.RuleViolated):
        rpc.create_user({"username": "jdoe", "display_name": "John Doe", "password": PASSWORD,
                         "roles": ["wizard"]})
    user = rpc.create_user({"username": "jdoe", "display_name": "John Doe", "password": PASSWORD,
                            "roles": ["operator"]})
    with pytest.raises(errors.Conflict):
        rpc.create_user({"username": "JDoe", "display_name": "Jane", "password": PASSWORD, "roles": []})
    updated = rpc.update_user(user["id"], {"display_name": "John Q. Doe", "version": 1})
    assert updated["version"] == 2
    with pytest.raises(errors.Conflict):
        rpc.update_user(user["id"], {"display_name": "stale", "version": 1})
    page = rpc.list_users({"q": "doe", "limit": 1})
    assert [u["username"] for u in page["items"]] == ["jdoe"]
    assert rpc.get_user_summaries([user["id"]])[user["id"]]["display_name"] == "John Q. Doe"
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.get_user("not-a-uuid")
    assert "id" in exc.value.details
    with pytest.raises(errors.NotFound):
        rpc.get_user(str(uuid.uuid4()))
