"""The gateway over real HTTP, with the resource service behind it.

Most tests share one module stack (`http`) and make equipment of their own
(the enterprise code, unique among roots, carries a tag); those that stop a
service, start none or need the whole API start their own containers
(conftest.py's per-test fixtures)."""
import secrets
import uuid

import pytest
import requests
from openapi_spec_validator import validate

from gateway.service import Gateway
from mes_common import registry
from auth_service.testing import bearer
from mes_common.testing.fixtures import service_stack, wait_until
from mes_common.testing.fixtures import registered_classes

AuthService, ResourceService = registered_classes("auth_service", "resource_service")

NODES = "/api/v1/resource/nodes"


class Http(requests.Session):
    """requests on the gateway at `config`'s address, with every permission."""

    def __init__(self, config):
        super().__init__()
        self.base, self.config = f"http://{config['WEB_SERVER_ADDRESS']}", config
        self.headers["Authorization"] = bearer(config)

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 15)
        return super().request(method, self.base + url, *args, **kwargs)


@pytest.fixture(scope="module")
def http(base_config, service_databases, _engines, cache_prefix):
    """The gateway with the auth and resource services behind it, shared by the module."""
    with service_stack("gateway", (AuthService, ResourceService, Gateway), base_config=base_config,
                       service_databases=service_databases, engines=_engines, cache_prefix=cache_prefix) as running, \
            Http(running.config) as session:
        # until the gateway's copy of the revoked sessions is in sync, it asks the auth
        # service, which knows none of these test tokens' sessions
        wait_until(lambda: session.get(NODES).status_code == 200,
                   message="the gateway in sync with the revoked sessions")
        yield session


def create(api, **body):
    response = api.post(NODES, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def enterprise_code():
    return f"ACME-{secrets.token_hex(3).upper()}"


def plant(api):
    ent = create(api, level="enterprise", code=enterprise_code(), name="Acme Aero")
    site = create(api, level="site", code="TLS", name="Toulouse", parent_id=ent["id"])
    area = create(api, level="area", code="MACH", name="Machining", parent_id=site["id"])
    wc = create(api, level="work_center", code="WC-10", name="5-axis", parent_id=area["id"])
    return ent, site, area, wc


def test_create_browse_and_page(http):
    ent, site, area, wc = plant(http)
    assert http.get(f"{NODES}/{wc['id']}").json()["name"] == "5-axis"
    summary = http.get(f"{NODES}/{wc['id']}/summary").json()
    assert summary == {"id": wc["id"], "level": "work_center", "code": "WC-10", "name": "5-axis",
                       "parent_id": area["id"], "active": True}
    tree = http.get(f"{NODES}/{ent['id']}/tree").json()
    assert tree["children"][0]["children"][0]["children"][0]["code"] == "WC-10"
    assert [a["code"] for a in http.get(f"{NODES}/{wc['id']}/ancestors").json()] == [ent["code"], "TLS", "MACH"]
    page = http.get(NODES, params={"level": "site", "parent_id": ent["id"]}).json()
    assert [n["code"] for n in page["items"]] == ["TLS"] and page["next_cursor"] is None
    for i in range(3):
        create(http, level="work_center", code=f"WC-{20 + i}", name="wc", parent_id=area["id"])
    first = http.get(NODES, params={"parent_id": area["id"], "limit": 2}).json()
    second = http.get(NODES, params={"parent_id": area["id"], "limit": 2, "cursor": first["next_cursor"]}).json()
    assert [n["code"] for n in first["items"] + second["items"]] == ["WC-10", "WC-20", "WC-21", "WC-22"]
    renamed = http.patch(f"{NODES}/{wc['id']}", json={"name": "5-axis DMU", "version": 1})
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    # the cached display entry follows the change
    assert http.get(f"{NODES}/{wc['id']}/summary").json()["name"] == "5-axis DMU"


def test_request_id_in_and_out(http):
    response = http.get(NODES, headers={"X-Request-ID": "req-123"})
    assert response.headers["X-Request-ID"] == "req-123"
    generated = http.get(NODES).headers["X-Request-ID"]
    assert uuid.UUID(generated)
    assert http.get(NODES, headers={"X-Request-ID": "bad id\x7f" * 3}).headers["X-Request-ID"] != "bad id"


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
def test_bad_input_is_a_4xx_naming_the_field(http, body, status, field):
    response = http.post(NODES, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    payload = response.json()
    assert field in payload["details"], payload
    assert payload["error"] in ("validation_failed", "rule_violated")


def test_malformed_ids_duplicates_and_unknown_routes(http):
    ent, site, area, wc = plant(http)
    bad = http.get(f"{NODES}/not-a-uuid")
    assert bad.status_code == 400 and "node_id" in bad.json()["details"]
    missing = http.get(f"{NODES}/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    dup = http.post(NODES, json={"level": "area", "code": "MACH", "name": "again", "parent_id": site["id"]})
    assert dup.status_code == 409 and dup.json()["details"] == {"code": ["already used"]}
    wrong_nesting = http.post(f"{NODES}/{wc['id']}/move", json={"parent_id": site["id"]})
    assert wrong_nesting.status_code == 422
    busy = http.post(f"{NODES}/{area['id']}/deactivate", json={})
    assert busy.status_code == 409 and busy.json()["details"] == {"active_children": 1}
    assert http.get(NODES, params={"limit": 0}).status_code == 400
    assert http.get(NODES, params={"cursor": "%%%"}).status_code == 400
    assert http.get(NODES, params={"level": "galaxy"}).json()["details"].keys() == {"level"}
    unknown = http.get("/api/v1/nope")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    assert http.delete(NODES).status_code == 405
    # a wrong method on a path of its own is a 405, not a routing whose id is "released"
    wrong = http.patch("/api/v1/resource/routings/released", json={})
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]
    # a scalar query parameter given twice is refused, naming it (it was reduced to the last one)
    twice = http.get(NODES, params=[("level", "site"), ("level", "area")])
    assert twice.status_code == 400 and twice.json()["details"] == {"level": ["give this parameter once"]}
    # a doubled slash is merged by a redirect that says where to
    redirect = http.get(f"{NODES}//tree", allow_redirects=False)
    assert redirect.status_code == 308 and redirect.headers["Location"].endswith(f"{NODES}/tree")


def test_openapi_document_validates_and_docs_are_served(http):
    document = http.get("/openapi.json").json()
    validate(document)
    assert "/api/v1/resource/nodes/{node_id}" in document["paths"]
    page = http.get("/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    asset = http.get("/docs/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    assert http.get("/docs/../../etc/passwd").status_code == 404


def test_metrics_need_metrics_read_and_count_each_route(http):
    """A monitoring system's API token scrapes the gateway's own metrics; nobody else may."""
    base, auth = http.base, http.headers["Authorization"]
    assert requests.get(base + "/metrics", timeout=10).status_code == 401
    operator = {"Authorization": bearer(http.config, permissions=["resource:read"])}
    assert requests.get(base + "/metrics", headers=operator, timeout=10).status_code == 403
    http.get(NODES)
    scraped = requests.get(base + "/metrics", headers={"Authorization": auth}, timeout=10)
    assert scraped.status_code == 200 and scraped.headers["Content-Type"].startswith("text/plain")
    route = 'mes_http_requests_total{method="GET",route="/api/v1/resource/nodes",status="200"}'
    assert any(line.startswith(route) and float(line.split()[-1]) >= 1 for line in scraped.text.splitlines())
    assert 'mes_http_requests_total{method="GET",route="/metrics",status="401"}' in scraped.text


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


def test_an_oversized_body_is_refused_before_any_work(http):
    code = enterprise_code()
    big = b'{"level": "enterprise", "code": "%s", "name": "%s"}' % (code.encode(), b"x" * (1024 * 1024))
    response = http.post(NODES, data=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["details"] == {"body": ["at most 1048576 bytes"]}
    # sent without a length (chunked): the server hands no such body on; refused for what it is, not misread
    chunked = http.post(NODES, data=(big[i:i + 65536] for i in range(0, len(big), 65536)),
                        headers={"Content-Type": "application/json"})
    assert chunked.status_code == 400 and "Content-Length" in chunked.json()["details"]["body"][0]
    create(http, level="enterprise", code=code, name="x")  # the code is free (a root's is unique): nothing was made


# ------------------------------------------------------------ response headers (security)

def test_answers_are_never_cached_nor_sniffed(http):
    """A token, a recovery code or plant data must not stay in a browser's or a
    proxy's cache, and no answer may be sniffed into another content type."""
    for response in (http.get(NODES), http.get("/api/v1/nope"),
                     http.post("/api/v1/auth/login", json={"username": "nobody", "password": "x" * 12},
                               headers={"Authorization": None})):
        assert response.headers["Cache-Control"] == "no-store", response.request.url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    health = http.get("/health")
    assert health.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in health.headers  # plain HTTP here: GATEWAY_TLS is off


def test_the_docs_page_runs_no_inline_script(http):
    """Its Content-Security-Policy allows scripts from the gateway only, so an
    injected <script> in the page would not run; the page's own setup is a file."""
    page = http.get("/docs")
    csp = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    assert "<script>" not in page.text and 'src="/docs/mes-init.js"' in page.text
    init = http.get("/docs/mes-init.js")
    assert init.status_code == 200 and "SwaggerUIBundle" in init.text


def test_hsts_when_tls_is_terminated_in_front(mes_config, container_factory):
    gateway = container_factory(Gateway, {**mes_config, "GATEWAY_TLS": "true"})
    gateway.start()
    health = requests.get(f"http://{mes_config['WEB_SERVER_ADDRESS']}/health", timeout=10)
    assert health.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_ready_names_no_exception_and_is_kept_a_second(gateway, web_session, monkeypatch):
    """/ready is public: its reasons must not leak connection strings or
    exception text, and a flood of probes must not fan out to every service."""
    import gateway.service as gateway_module
    calls = []

    def broker_down(uri, timeout):
        calls.append(uri)
        return "unavailable: OperationalError: [Errno 111] Connection refused to amqp://guest:secret@10.0.0.5"

    monkeypatch.setattr(gateway_module, "broker_status", broker_down)
    first = web_session.get("/ready")
    assert first.status_code == 503 and first.json()["broker"] == "unavailable"
    assert "secret" not in first.text and "Errno" not in first.text
    for _ in range(5):
        assert web_session.get("/ready").json() == first.json()
    assert len(calls) == 1, "kept for a second: one broker check for six probes"
