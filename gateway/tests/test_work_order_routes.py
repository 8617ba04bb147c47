"""Work orders over HTTP through the gateway, every service behind it."""
import uuid
from types import SimpleNamespace

import pytest
from mes_common.rpc import ClusterRpcProxy

from auth_service.testing import bearer, person
from work_order_service.testing import DUE, build

ORDERS = "/api/v1/work-orders"
DOWNTIME = "/api/v1/downtime"


@pytest.fixture
def world(api, mes_config):
    """Plant, parts, BOM, stock and a released routing, made over RPC."""
    with ClusterRpcProxy(mes_config, timeout=20) as proxy:
        yield build(SimpleNamespace(resource=proxy.resource_service, material=proxy.material_service,
                                    wo=proxy.work_order_service), components=2, per=2, stock=10, operations=2)


def create(api, world, **extra):
    response = api.post(ORDERS, json={"part_id": world.part["id"], "quantity": 3, "due_date": DUE,
                                      "site_id": world.site["id"], "work_center_id": world.wcs[0]["id"], **extra})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.usefixtures("other_services")
def test_plan_release_and_run_over_http(api, world, mes_config):
    wo = create(api, world)
    assert api.get(f"{ORDERS}/{wo['id']}").json()["part_number"] == f"A-100-{world.tag}"
    assert [w["id"] for w in api.get(ORDERS, params={"status": "created"}).json()["items"]] == [wo["id"]]

    released = api.post(f"{ORDERS}/{wo['id']}/release", json={})
    assert released.status_code == 200, released.text
    op10, op20 = (o["id"] for o in released.json()["operations"])
    schedule = api.post(f"{ORDERS}/{wo['id']}/schedule", json={"start_at": "2026-12-01T08:00:00Z"}).json()
    assert schedule["planned_end"] == "2026-12-01T09:12:00+00:00"  # 2 × (30 + 2 × 3) min
    dispatch = api.get(f"/api/v1/work-centers/{world.wcs[0]['id']}/dispatch-list").json()
    assert [d["id"] for d in dispatch["items"]] == [op10]

    for i, op in enumerate((op10, op20)):
        assert api.post(f"{ORDERS}/{wo['id']}/operations/{op}/start", json={}).status_code == 200
        done = api.post(f"{ORDERS}/{wo['id']}/operations/{op}/complete", json={"good": 3})
        assert done.status_code == 200 and done.json()["operations"][i]["status"] == "completed", done.text
    order = api.get(f"{ORDERS}/{wo['id']}").json()
    assert order["status"] == "completed" and order["quantity_completed"] == 3
    variance = api.get(f"{ORDERS}/{wo['id']}/variance").json()
    assert variance["order"]["planned_minutes"] == 72
    # closing is signed by a person in their session
    planner = person(mes_config, f"http://{mes_config['WEB_SERVER_ADDRESS']}", "planner")
    assert api.post(f"{ORDERS}/{wo['id']}/close", json={}).status_code == 400       # no signature
    closed = api.post(f"{ORDERS}/{wo['id']}/close", json={"signature": planner.signature},
                      headers=planner.headers).json()
    assert closed["status"] == "closed"
    assert [(s["meaning"], s["username"], s["valid"]) for s in closed["signatures"]] == [
        ("approval", planner.username, True)]


@pytest.mark.usefixtures("other_services")
def test_permissions_error_shapes_and_downtime(api, world, mes_config):
    wo = create(api, world, quantity=4)  # 8 of each component needed, 10 on hand
    short = create(api, world, quantity=6)  # 12 needed

    # 401 without credentials, 403 without the permission
    assert api.get(ORDERS, headers={"Authorization": None}).status_code == 401
    operator = {"Authorization": bearer(mes_config, permissions=["work_order:read", "work_order:execute"])}
    refused = api.post(f"{ORDERS}/{wo['id']}/release", json={}, headers=operator)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert api.post(ORDERS, json={}, headers=operator).status_code == 403
    assert api.get(f"{ORDERS}/{wo['id']}", headers=operator).status_code == 200

    bad_id = api.get(f"{ORDERS}/WO-000001")
    assert bad_id.status_code == 400 and "work_order_id" in bad_id.json()["details"]
    missing = api.get(f"{ORDERS}/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    bad_body = api.post(ORDERS, json={"part_id": world.part["id"], "quantity": "3", "due_date": "soon"})
    assert bad_body.status_code == 400
    assert {"quantity", "due_date", "site_id"} <= set(bad_body.json()["details"])
    unknown_part = api.post(ORDERS, json={"part_id": str(uuid.uuid4()), "quantity": 1, "due_date": DUE,
                                          "site_id": world.site["id"]})
    assert unknown_part.status_code == 422 and "part_id" in unknown_part.json()["details"]

    assert api.post(f"{ORDERS}/{wo['id']}/release", json={}).status_code == 200
    refused = api.post(f"{ORDERS}/{short['id']}/release", json={})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "rule_violated"
    assert body["message"] == (f"release refused: part C-001-{world.tag} is short by 10 (needs 12, 2 available); "
                               f"part C-002-{world.tag} is short by 10 (needs 12, 2 available)")
    assert [s["short"] for s in body["details"]["shortages"]] == [10, 10]
    assert api.get(f"{ORDERS}/{short['id']}").json()["release_error"] == body["message"]

    op = api.get(f"{ORDERS}/{wo['id']}").json()["operations"][1]["id"]
    not_started = api.post(f"{ORDERS}/{wo['id']}/operations/{op}/complete", json={"good": 1}, headers=operator)
    assert not_started.status_code == 422 and not_started.json()["details"] == {
        "status": ["pending operations take no report"]}
    assert api.post(f"{ORDERS}/{wo['id']}/operations/{op}/start", json={}, headers=operator).status_code == 200
    too_early = api.post(f"{ORDERS}/{wo['id']}/operations/{op}/complete", json={"good": 1}, headers=operator)
    assert too_early.status_code == 422 and "has completed only 0 good" in too_early.json()["message"]
    hold = api.post(f"{ORDERS}/{wo['id']}/hold", json={})
    assert hold.status_code == 400 and "reason" in hold.json()["details"]

    # downtime
    wc = world.wcs[0]["id"]
    down = api.post(DOWNTIME, json={"work_center_id": wc, "reason_code": "SPINDLE", "note": "bearing noise",
                                    "started_at": "2026-12-01T08:00:00Z"}, headers=operator)
    assert down.status_code == 201, down.text
    down = down.json()
    assert (down["work_center_name"], down["ended_at"], down["duration_minutes"]) == ("Cell 1", None, None)
    other = api.post(DOWNTIME, json={"work_center_id": world.wcs[1]["id"], "reason_code": "NO-OPERATOR",
                                     "started_at": "2026-12-01T09:00:00Z", "ended_at": "2026-12-01T09:30:00Z"})
    assert other.json()["duration_minutes"] == 30
    assert [d["reason_code"] for d in api.get(DOWNTIME, params={"open": "true"}).json()["items"]] == ["SPINDLE"]
    ended = api.post(f"{DOWNTIME}/{down['id']}/end", json={"ended_at": "2026-12-01T09:45:00+01:00"})
    assert ended.status_code == 200 and ended.json()["duration_minutes"] == 45
    again = api.post(f"{DOWNTIME}/{down['id']}/end", json={"ended_at": "2026-12-01T10:00:00Z"})
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert [d["reason_code"] for d in api.get(DOWNTIME).json()["items"]] == ["NO-OPERATOR", "SPINDLE"]
    assert [d["id"] for d in api.get(DOWNTIME, params={"work_center_id": wc}).json()["items"]] == [down["id"]]
    not_a_wc = api.post(DOWNTIME, json={"work_center_id": world.site["id"], "reason_code": "X",
                                        "started_at": "2026-12-01T08:00:00Z"})
    assert not_a_wc.status_code == 422 and "work_center_id" in not_a_wc.json()["details"]
    backwards = api.post(DOWNTIME, json={"work_center_id": wc, "reason_code": "X", "started_at": "2026-12-01T08:00:00Z",
                                         "ended_at": "2026-12-01T07:00:00Z"})
    # valid by the document, which cannot order two times: a broken rule
    assert backwards.status_code == 422 and backwards.json()["details"] == {"ended_at": ["must not be before started_at"]}
    before_year_1 = api.post(DOWNTIME, json={"work_center_id": wc, "reason_code": "X",
                                             "started_at": "0001-01-01T00:00:00+01:00"})  # was a 500
    assert before_year_1.status_code == 400 and "started_at" in before_year_1.json()["details"]
    assert api.post(DOWNTIME, json={}, headers={"Authorization": bearer(
        mes_config, permissions=["work_order:read"])}).status_code == 403
