"""The gateway over real HTTP, with the resource service behind it."""
import uuid

import pytest
from openapi_spec_validator import validate

from mes_common import registry

NODES = "/api/v1/resource/nodes"


def create(api, **body):
    response = api.post(NODES, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def plant(api):
    ent = create(api, level="enterprise", code="ACME", name="Acme Aero")
    site = create(api, level="site", code="TLS", name="Toulouse", parent_id=ent["id"])
    area = create(api, level="area", code="MACH", name="Machining", parent_id=site["id"])
    wc = create(api, level="work_center", code="WC-10", name="5-axis", parent_id=area["id"])
    return ent, site, area, wc


def test_create_browse_and_page(api):
    ent, site, area, wc = plant(api)
    assert api.get(f"{NODES}/{wc['id']}").json()["name"] == "5-axis"
    summary = api.get(f"{NODES}/{wc['id']}/summary").json()
    assert summary == {"id": wc["id"], "level": "work_center", "code": "WC-10", "name": "5-axis",
                       "parent_id": area["id"], "active": True}
    tree = api.get(f"{NODES}/{ent['id']}/tree").json()
    assert tree["children"][0]["children"][0]["children"][0]["code"] == "WC-10"
    assert [a["code"] for a in api.get(f"{NODES}/{wc['id']}/ancestors").json()] == ["ACME", "TLS", "MACH"]
    page = api.get(NODES, params={"level": "site"}).json()
    assert [n["code"] for n in page["items"]] == ["TLS"] and page["next_cursor"] is None
    for i in range(3):
        create(api, level="work_center", code=f"WC-{20 + i}", name="wc", parent_id=area["id"])
    first = api.get(NODES, params={"parent_id": area["id"], "limit": 2}).json()
    second = api.get(NODES, params={"parent_id": area["id"], "limit": 2, "cursor": first["next_cursor"]}).json()
    assert [n["code"] for n in first["items"] + second["items"]] == ["WC-10", "WC-20", "WC-21", "WC-22"]
    renamed = api.patch(f"{NODES}/{wc['id']}", json={"name": "5-axis DMU", "version": 1})
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    # the cached display entry follows the change
    assert api.get(f"{NODES}/{wc['id']}/summary").json()["name"] == "5-axis DMU"


def test_request_id_in_and_out(api):
    response = api.get(NODES, headers={"X-Request-ID": "req-123"})
    assert response.headers["X-Request-ID"] == "req-123"
    generated = api.get(NODES).headers["X-Request-ID"]
    assert uuid.UUID(generated)
    assert api.get(NODES, headers={"X-Request-ID": "bad id\x7f" * 3}).headers["X-Request-ID"] != "bad id"


@pytest.mark.parametrize("body,status,field", [
    (b"{not json", 400, "body"),
    (b"[1, 2]", 400, "body"),
    (b'{"level": "site", "code": 12, "name": "x", "parent_id": null}', 400, "code"),
    (b'{"level": "enterprise", "code": "A", "name": "x", "colour": "red"}', 400, "colour"),
    (b'{"level": "enterprise", "code": "A", "name": "' + b"x" * 201 + b'"}', 400, "name"),
    (b'{"level": "enterprise", "code": "A"}', 400, "name"),
    (b'{"level": "enterprise", "code": "A", "name": "x", "parent_id": "nope"}', 400, "parent_id"),
    (b'{"level": "site", "code": "A", "name": "x"}', 422, "parent_id"),
    (b'{"level": "enterprise", "code": "a b", "name": "x"}', 400, "code"),
])
def test_bad_input_is_a_4xx_naming_the_field(api, body, status, field):
    response = api.post(NODES, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    payload = response.json()
    assert field in payload["details"], payload
    assert payload["error"] in ("validation_failed", "rule_violated")


def test_malformed_ids_duplicates_and_unknown_routes(api):
    ent, site, area, wc = plant(api)
    bad = api.get(f"{NODES}/not-a-uuid")
    assert bad.status_code == 400 and "node_id" in bad.json()["details"]
    missing = api.get(f"{NODES}/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    dup = api.post(NODES, json={"level": "area", "code": "MACH", "name": "again", "parent_id": site["id"]})
    assert dup.status_code == 409 and dup.json()["details"] == {"code": ["already used"]}
    wrong_nesting = api.post(f"{NODES}/{wc['id']}/move", json={"parent_id": site["id"]})
    assert wrong_nesting.status_code == 422
    busy = api.post(f"{NODES}/{area['id']}/deactivate", json={})
    assert busy.status_code == 409 and busy.json()["details"] == {"active_children": 1}
    assert api.get(NODES, params={"limit": 0}).status_code == 400
    assert api.get(NODES, params={"cursor": "%%%"}).status_code == 400
    assert api.get(NODES, params={"level": "galaxy"}).json()["details"].keys() == {"level"}
    unknown = api.get("/api/v1/nope")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    assert api.delete(NODES).status_code == 405
    # a doubled slash is merged by a redirect that says where to
    redirect = api.get(f"{NODES}//tree", allow_redirects=False)
    assert redirect.status_code == 308 and redirect.headers["Location"].endswith(f"{NODES}/tree")


def test_openapi_document_validates_and_docs_are_served(api):
    document = api.get("/openapi.json").json()
    validate(document)
    assert "/api/v1/resource/nodes/{node_id}" in document["paths"]
    page = api.get("/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    asset = api.get("/docs/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    assert api.get("/docs/../../etc/passwd").status_code == 404


@pytest.mark.usefixtures("other_services")
def test_health_and_ready(api):
    assert api.get("/health").json() == {"status": "ok"}
    ready = api.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["services"] == {spec.name: "ok" for spec in registry.SERVICES}
    assert ready.json()["broker"] == "ok"


def test_a_stopped_service_makes_only_its_routes_503(gateway, resource_service, web_session):
    resource_service.stop()
    response = web_session.get(NODES)
    assert response.status_code == 503 and response.json()["error"] == "unavailable"
    assert response.elapsed.total_seconds() < 2
    assert web_session.get("/health").status_code == 200
    ready = web_session.get("/ready")
    assert ready.status_code == 503 and ready.json()["services"]["resource_service"].startswith("unavailable")


def test_a_never_started_service_is_503(gateway, web_session):
    response = web_session.post(NODES, json={"level": "enterprise", "code": "A", "name": "x"})
    assert response.status_code == 503, response.text
    assert response.elapsed.total_seconds() < 2


def test_an_oversized_body_is_refused_before_any_work(api):
    big = b'{"level": "enterprise", "code": "A", "name": "' + b"x" * (1024 * 1024) + b'"}'
    response = api.post(NODES, data=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "body" in response.json()["details"]
    assert api.get(NODES, params={"level": "enterprise"}).json()["items"] == []
