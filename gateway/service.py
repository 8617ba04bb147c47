"""The HTTP gateway: /api/v1 routes (one route table per backing service),
OpenAPI, Swagger UI, /health and /ready."""
import json
import logging
import time
from pathlib import Path

import eventlet
import swagger_ui_bundle
from marshmallow import Schema, fields
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from gateway.http import route
from gateway.openapi import build_spec
from gateway.routes import route_tables
from gateway.routing import install
from gateway.static import StaticFiles
from mes_common import metrics, registry
from mes_common.amqp import broker_status
from mes_common.cache import ReferenceDataCache
from mes_common.errors import Unavailable
from mes_common.rpc import ServiceClients
from mes_common.service import WorkerContext

log = logging.getLogger(__name__)

SWAGGER = StaticFiles(swagger_ui_bundle.swagger_ui_path, cache_control="public, max-age=86400")
# the shop-floor console (docs/console.md): static files that talk to /api/v1 only
CONSOLE = StaticFiles(Path(__file__).parent / "console")
CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>MES API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/mes-init.js"></script>
</body></html>"""
# no inline script: the page's CSP allows scripts from this origin only
DOCS_INIT = """SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  displayRequestDuration: true});
"""
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
READY_CACHE_SECONDS = 1.0  # /ready is public: a flood of probes costs one fan-out per second


class Health(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class Readiness(Schema):
    status = fields.String(required=True, metadata={"description": "ready or not_ready"})
    broker = fields.String(required=True, metadata={"description": "ok, or why not"})
    services = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                           metadata={"description": "service name -> ok, or why not"})
    cache = fields.String(required=True, metadata={"description": "ok, or why not (not required to be ready)"})


class ContainerState(DependencyProvider):
    """A dict shared by the workers of one container (not by every gateway in
    the process, as a class attribute would be)."""

    def setup(self):
        self.state = {}

    def get_dependency(self, worker_ctx):
        return self.state


class Gateway:
    """The gateway's own routes; every /api/v1 route comes from the route tables
    (gateway.routes), installed on this class below."""

    name = "gateway"

    context = WorkerContext()
    config = Config()
    cache = ReferenceDataCache()
    services = ServiceClients()
    ready_answer = ContainerState()  # {"last": (monotonic time, answer)} of /ready
    worker_metrics = metrics.Metrics()   # this process's /metrics listener (METRICS.PORT)

    _openapi = None

    @route("GET", "/health", summary="The gateway process is up", tags=["system"], public=True,
           response=Health, error_codes=())
    def health(self, request):
        return {"status": "ok"}

    @route("GET", "/ready", summary="Broker reachable and every service answering", tags=["system"],
           public=True, response=Readiness, error_codes=(503,), error_schemas={503: Readiness})
    def ready(self, request):
        """200 when every MES service answers a ping within READY_TIMEOUT; 503 naming the ones that don't.
        The answer is kept for a second and a half; reasons never carry exception text."""
        cached = self.ready_answer.get("last")
        if cached is not None and time.monotonic() - cached[0] < READY_CACHE_SECONDS:
            return cached[1]
        answer = self._readiness()
        self.ready_answer["last"] = (time.monotonic(), answer)
        return answer

    def _readiness(self):
        timeout = float(self.config.get("READY_TIMEOUT", 1.0))
        names = [spec.name for spec in registry.SERVICES]
        pool = eventlet.GreenPool()
        broker = pool.spawn(broker_status, self.config["AMQP_URI"], timeout)
        answers = dict(zip(names, pool.imap(lambda name: self._ping(name, timeout), names)))
        cache = self.cache.health()
        broker_state = broker.wait()
        if broker_state != "ok":
            log.warning("/ready: broker %s", broker_state)  # the detail is for the log, not the public answer
        if not cache["ok"]:
            log.warning("/ready: cache unavailable: %s", cache["error"])
        ready = broker_state == "ok" and all(state == "ok" for state in answers.values())
        body = {"status": "ready" if ready else "not_ready", "broker": "ok" if broker_state == "ok" else "unavailable",
                "services": answers, "cache": "ok" if cache["ok"] else "unavailable"}
        return (200 if ready else 503), body

    def _ping(self, name, timeout):
        try:
            self.services.get(name, timeout=timeout).ping()
            return "ok"
        except Unavailable as exc:
            return f"unavailable: {exc.message}"

    @route("GET", "/metrics", summary="This gateway process's Prometheus metrics", tags=["system"],
           permission="metrics:read", media_type="text/plain", error_codes=(),
           description="The text exposition format. Behind a load balancer each request reaches one gateway "
                       "instance: scrape each instance (its METRICS.PORT, or its own address) to see them all.")
    def metrics(self, request):
        return Response(metrics.exposition(), content_type=metrics.CONTENT_TYPE)

    @route("GET", "/openapi.json", summary="This document", tags=["system"], public=True, error_codes=(),
           include_in_schema=False)
    def openapi(self, request):
        if Gateway._openapi is None:
            Gateway._openapi = json.dumps(build_spec())
        return Response(Gateway._openapi, mimetype="application/json")

    @route("GET", "/docs", summary="Swagger UI", tags=["system"], public=True, error_codes=(),
           include_in_schema=False)
    def docs(self, request):
        return Response(DOCS_PAGE, mimetype="text/html", headers={"Content-Security-Policy": DOCS_CSP})

    @route("GET", "/docs/<path:asset>", summary="Swagger UI assets", tags=["system"], public=True,
           error_codes=(404,), include_in_schema=False)
    def docs_asset(self, request, asset):
        if asset == "mes-init.js":
            return Response(DOCS_INIT, mimetype="text/javascript")
        return SWAGGER.answer(request, asset)

    @route("GET", "/", summary="To the console", tags=["system"], public=True, error_codes=(),
           include_in_schema=False)
    def home(self, request):
        return Response(status=302, headers={"Location": "/console"})

    @route("GET", "/console", summary="The shop-floor console", tags=["system"], public=True, error_codes=(),
           include_in_schema=False)
    def console(self, request):
        return CONSOLE.answer(request, "index.html", headers={"Content-Security-Policy": CONSOLE_CSP})

    @route("GET", "/console/<path:asset>", summary="The console's files", tags=["system"], public=True,
           error_codes=(404,), include_in_schema=False)
    def console_asset(self, request, asset):
        return CONSOLE.answer(request, asset, headers={"Content-Security-Policy": CONSOLE_CSP})


install(Gateway, route_tables())
