"""Routings and work instructions over real HTTP: the gateway with the
resource and work order services behind it, called with the permissions of a
planner and of an operator.

One stack serves the module (starting one costs seconds); the plant is built
once and each test works on parts and codes of its own. Material is left out
on purpose: a routing's part is then accepted unchecked
(resource_service/routings.py, check_part), so the parts here are random ids.
"""
import uuid

import pytest
import requests
from mes_common.rpc import ClusterRpcProxy

from auth_service.contract.permissions import BUILTIN_ROLES
from gateway.service import Gateway
from auth_service.testing import bearer, person
from mes_common.testing.fixtures import service_stack
from mes_common.testing.fixtures import registered_classes

AuthService, ResourceService, WorkOrderService = registered_classes("auth_service", "resource_service", "work_order_service")

NODES = "/api/v1/resource/nodes"
ROUTINGS = "/api/v1/resource/routings"
INSTRUCTIONS = "/api/v1/work-instructions"


def role(config, name):
    return {"Authorization": bearer(config, permissions=sorted(BUILTIN_ROLES[name][1]), roles=(name,), name=name)}


class Http(requests.Session):
    """requests on the gateway, with every permission unless the headers say
    otherwise (`as_planner`, `as_operator`: the headers of those roles)."""

    def __init__(self, config):
        super().__init__()
        self.base = f"http://{config['WEB_SERVER_ADDRESS']}"
        self.headers["Authorization"] = bearer(config)
        self.as_planner, self.as_operator = role(config, "planner"), role(config, "operator")

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 15)
        return super().request(method, self.base + url, *args, **kwargs)


@pytest.fixture(scope="module")
def http(base_config, service_databases, _engines, cache_prefix):
    with service_stack("routes", (AuthService, ResourceService, WorkOrderService, Gateway), base_config=base_config,
                       service_databases=service_databases, engines=_engines, cache_prefix=cache_prefix) as running, \
            Http(running.config) as session:
        # releases are signed: by a real person, signed in through the gateway
        session.planner = person(running.config, session.base, "planner")
        session.config = running.config
        yield session


@pytest.fixture(scope="module")
def plant(http):
    """(area, work center, work center) ids."""
    def create(level, code, parent_id=None):
        return ok(http.post(NODES, json={"level": level, "code": code, "name": f"{code} name",
                                         "parent_id": parent_id}), 201)["id"]
    area = create("area", "MACH", create("site", "TLS", create("enterprise", "ACME")))
    return area, create("work_center", "WC-10", area), create("work_center", "WC-20", area)


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def routing_body(part_id, *work_center_ids):
    return {"part_id": part_id, "part_revision": "A", "operations": [
        {"sequence": 10 * (i + 1), "name": f"Op {10 * (i + 1)}", "work_center_id": wc, "setup_time": 15,
         "run_time": 2.5, "work_instruction_code": "WI-10" if i == 0 else None}
        for i, wc in enumerate(work_center_ids)]}


def test_routings_with_planner_and_operator_permissions(http, plant):
    area, wc10, wc20 = plant
    part_id = str(uuid.uuid4())
    refused = http.post(ROUTINGS, json=routing_body(part_id, wc10), headers=http.as_operator)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    routing = ok(http.post(ROUTINGS, json=routing_body(part_id, wc10, wc20), headers=http.as_planner), 201)
    assert (routing["version"], routing["status"]) == (1, "draft")
    assert [(o["work_center_code"], o["setup_time"], o["run_time"]) for o in routing["operations"]] == [
        ("WC-10", 15.0, 2.5), ("WC-20", 15.0, 2.5)]
    # an operator reads routings (routing:read) but changes nothing
    assert ok(http.get(f"{ROUTINGS}/{routing['id']}", headers=http.as_operator)) == {**routing, "signatures": []}
    assert http.post(f"{ROUTINGS}/{routing['id']}/release", headers=http.as_operator,
                     json={"signature": {"password": "x"}}).status_code == 403
    assert http.patch(f"{ROUTINGS}/{routing['id']}", json={"description": "x"},
                      headers=http.as_operator).status_code == 403

    changed = ok(http.patch(f"{ROUTINGS}/{routing['id']}", json={"description": "two ops", "version": 1},
                            headers=http.as_planner))
    assert changed["row_version"] == 2
    stale = http.patch(f"{ROUTINGS}/{routing['id']}", json={"description": "stale", "version": 1},
                       headers=http.as_planner)
    assert stale.status_code == 409
    missing = http.get(f"{ROUTINGS}/released", params={"part_id": part_id, "part_revision": "A"})
    assert missing.status_code == 404 and "no released routing" in missing.json()["message"]
    # the release is signed (21 CFR 11.200): no credentials, no release; a token without a session cannot sign
    unsigned = http.post(f"{ROUTINGS}/{routing['id']}/release", json={"version": 2}, headers=http.planner.headers)
    assert unsigned.status_code == 400 and "signature" in unsigned.json()["details"]
    wrong_password = {**http.planner.signature, "password": "not my password at all"}
    wrong = http.post(f"{ROUTINGS}/{routing['id']}/release", headers=http.planner.headers,
                      json={"version": 2, "signature": wrong_password})
    assert wrong.status_code == 401, wrong.text
    # the signer names the version they reviewed: a draft changed since is refused, unsigned
    stale = http.post(f"{ROUTINGS}/{routing['id']}/release", headers=http.planner.headers,
                      json={"version": 1, "signature": http.planner.signature})
    assert stale.status_code == 409 and ok(http.get(f"{ROUTINGS}/{routing['id']}"))["signatures"] == []
    released = ok(http.post(f"{ROUTINGS}/{routing['id']}/release", headers=http.planner.headers,
                            json={"version": 2, "signature": http.planner.signature}))
    assert released["status"] == "released"
    [signature] = released["signatures"]
    assert (signature["meaning"], signature["username"], signature["valid"]) == (
        "approval", http.planner.username, True)
    assert signature["components"] == ["username", "password"] and signature["signed_at"].endswith("+00:00")
    assert ok(http.get(f"{ROUTINGS}/{routing['id']}"))["signatures"] == [signature]
    assert ok(http.get(f"{ROUTINGS}/released", params={"part_id": part_id, "part_revision": "A"},
                       headers=http.as_operator))["id"] == routing["id"]
    again = http.patch(f"{ROUTINGS}/{routing['id']}", json={"description": "late"}, headers=http.as_planner)
    assert again.status_code == 422 and "status" in again.json()["details"]
    page = ok(http.get(ROUTINGS, params={"part_id": part_id, "status": "released"}))
    assert [r["id"] for r in page["items"]] == [routing["id"]] and page["next_cursor"] is None


def test_a_release_is_signed_by_a_person_in_their_session(http, plant):
    """21 CFR 11.200(a)(1) through the routes: every component at the first signing of a
    session, the password alone later in it; a machine's token cannot sign."""
    area, wc10, wc20 = plant
    signer = person(http.config, http.base, "planner")
    first, second = (ok(http.post(ROUTINGS, json=routing_body(str(uuid.uuid4()), wc10), headers=signer.headers), 201)
                     for _ in range(2))
    release = f"{ROUTINGS}/{{}}/release"
    password_only = {"version": 1, "signature": {"password": signer.password}}
    body = http.post(release.format(first["id"]), json=password_only, headers=signer.headers)
    assert body.status_code == 422 and set(body.json()["details"]) == {"username"}, body.text
    signed = ok(http.post(release.format(first["id"]), json={"version": 1, "signature": signer.signature},
                          headers=signer.headers))
    assert signed["signatures"][0]["components"] == ["username", "password"]
    later = ok(http.post(release.format(second["id"]), json=password_only, headers=signer.headers))
    assert later["signatures"][0]["components"] == ["password"]

    with ClusterRpcProxy(http.config, timeout=10) as rpc:
        token = rpc.auth_service.create_api_token(signer.id, {"name": "bot", "permissions": ["routing:write"]})
    third = ok(http.post(ROUTINGS, json=routing_body(str(uuid.uuid4()), wc10), headers=signer.headers), 201)
    machine = http.post(release.format(third["id"]), json={"version": 1, "signature": signer.signature},
                        headers={"Authorization": f"Bearer {token['token']}"})
    assert machine.status_code == 403 and machine.json()["details"] == {"authorization": ["API token"]}


def test_bad_routing_input_names_the_field(http, plant):
    area, wc10, wc20 = plant
    cases = [
        (lambda b: b["operations"][0].update(sequence="10"), 400, "operations"),
        (lambda b: b["operations"][0].update(setup_time=-1), 400, "operations"),
        (lambda b: b["operations"][0].update(run_time="2.5"), 400, "operations"),
        # valid by the document, which cannot say "unique within the list": a broken rule
        (lambda b: b["operations"][1].update(sequence=10), 422, "operations.1.sequence"),
        (lambda b: b.update(operations=[]), 400, "operations"),
        (lambda b: b.update(part_id="P-100"), 400, "part_id"),
        (lambda b: b.update(colour="red"), 400, "colour"),
        (lambda b: b.pop("part_revision"), 400, "part_revision"),
        (lambda b: b["operations"][0].update(work_center_id=area), 422, "operations.0.work_center_id"),
        (lambda b: b["operations"][1].update(work_center_id=str(uuid.uuid4())), 422, "operations.1.work_center_id"),
    ]
    for mutate, status, field in cases:
        body = routing_body(str(uuid.uuid4()), wc10, wc20)
        mutate(body)
        response = http.post(ROUTINGS, json=body, headers=http.as_planner)
        assert response.status_code == status, (body, response.text)
        assert field in response.json()["details"], (body, response.json())
    nested = http.post(ROUTINGS, json={**routing_body(str(uuid.uuid4()), wc10), "operations": [
        {"sequence": 0, "name": "x", "work_center_id": wc10, "setup_time": 1, "run_time": 1}]})
    assert nested.json()["details"] == {"operations": {"0": {"sequence": [
        "Must be greater than or equal to 1 and less than or equal to 1000000."]}}}
    # ids and queries
    bad = http.get(f"{ROUTINGS}/not-a-uuid")
    assert bad.status_code == 400 and "routing_id" in bad.json()["details"]
    assert http.get(f"{ROUTINGS}/{uuid.uuid4()}").status_code == 404
    incomplete = http.get(f"{ROUTINGS}/released", params={"part_id": str(uuid.uuid4())})
    assert incomplete.status_code == 400 and "part_revision" in incomplete.json()["details"]
    forged = http.get(ROUTINGS, params={"cursor": "bm90IGEgY3Vyc29y"})
    assert forged.status_code == 400 and "cursor" in forged.json()["details"]


def test_work_instructions_over_http(http):
    body = {"code": "WI-10", "title": "Deburr", "steps": [{"title": "Deburr edges", "fields": [
        {"name": "radius", "type": "number", "unit": "mm", "min": 0.2, "max": 0.5, "required": True}]}]}
    assert http.post(INSTRUCTIONS, json=body, headers=http.as_operator).status_code == 403
    v1 = ok(http.post(INSTRUCTIONS, json=body, headers=http.as_planner), 201)
    assert (v1["code"], v1["version"], v1["status"], v1["created_by"]) == ("WI-10", 1, "draft", "planner")
    bad = http.post(INSTRUCTIONS + "/WI-10/revisions", headers=http.as_planner, json={
        "title": "Deburr", "steps": [{"title": "s", "fields": [{"name": "r", "type": "number", "min": 2, "max": 1}]}]})
    # valid by the document (it cannot relate two fields): a broken rule, not invalid input
    assert bad.status_code == 422
    assert bad.json()["details"] == {"steps.0.fields.0.max": ["must not be less than min (2)"]}
    v2 = ok(http.post(INSTRUCTIONS + "/WI-10/revisions", json={"title": "Deburr v2", "steps": body["steps"]},
                      headers=http.as_planner), 201)
    assert v2["version"] == 2
    signed = {"signature": http.planner.signature}
    released = ok(http.post(INSTRUCTIONS + "/WI-10/versions/1/release", headers=http.planner.headers, json=signed))
    assert (released["status"], released["released_by"]) == ("released", http.planner.username)
    assert [(s["meaning"], s["valid"]) for s in released["signatures"]] == [("approval", True)]
    assert http.post(INSTRUCTIONS + "/WI-10/versions/1/release", headers=http.planner.headers,
                     json=signed).status_code == 422
    not_a_version = http.post(INSTRUCTIONS + "/WI-10/versions/one/release", headers=http.planner.headers, json=signed)
    assert not_a_version.status_code == 400 and "version" in not_a_version.json()["details"]
    # an operator reads them (work_order:read)
    assert ok(http.get(INSTRUCTIONS + "/WI-10", params={"version": 1}, headers=http.as_operator))["status"] == \
        "released"
    assert ok(http.get(INSTRUCTIONS + "/WI-10", headers=http.as_operator))["version"] == 2
    assert http.get(INSTRUCTIONS + "/WI-99").status_code == 404
    page = ok(http.get(INSTRUCTIONS, params={"code": "WI-", "status": "draft"}, headers=http.as_operator))
    assert [(i["code"], i["version"]) for i in page["items"]] == [("WI-10", 2)]
