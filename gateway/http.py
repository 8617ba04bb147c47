"""The gateway's HTTP entrypoint: JSON in and out, typed errors mapped to one
status each, X-Request-ID in and out, and route metadata for OpenAPI.

    @route("GET", "/api/v1/resource/nodes/<node_id>", response=NodeOut,
           summary="Get one node", permission="resource:read", tags=["resource"])
    def get_node(self, request, node_id): ...

Every route declares a permission (or AUTHENTICATED) or public=True; the
caller is authenticated and authorized before the handler runs (gateway.auth),
and the handler finds it as `request.principal`.
"""
import base64
import inspect
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from functools import partial

from eventlet.event import Event
from nameko.exceptions import BadRequest
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from gateway.auth import AUTHENTICATED, Authenticator
from mes_common import errors, metrics

log = logging.getLogger(__name__)
access_log = logging.getLogger("gateway.access")

REQUEST_ID = "X-Request-ID"
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
MAX_BODY = 1024 * 1024
JSON = "application/json"


def _truthy(value):
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def json_response(payload, status=200, headers=None):
    return Response(json.dumps(payload, separators=(",", ":"), default=str), status=status,
                    headers=headers, mimetype="application/json")


def error_response(exc):
    headers = {}
    if isinstance(exc, errors.Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"  # RFC 9110: a 401 names the scheme to use
    elif isinstance(exc, errors.Throttled):
        headers["Retry-After"] = str(exc.retry_after)
    return json_response(exc.to_dict(), status=exc.http_status, headers=headers)


@dataclass
class RouteSpec:
    """What OpenAPI says about a route; also drives the handler's parsing."""
    method: str
    path: str
    summary: str
    tags: list = field(default_factory=list)
    body: type | None = None
    query: type | None = None
    response: type | None = None
    status: int = 200
    permission: str | None = None
    public: bool = False
    error_codes: tuple = (400, 404, 409, 422, 503)
    description: str | None = None
    include_in_schema: bool = True
    # error statuses whose body is not the Error schema (e.g. /ready's 503)
    error_schemas: dict = field(default_factory=dict)
    operation_id: str | None = None
    # JSON schema of a path parameter that is not an id (`*_id`: a UUID) nor free text
    path_schemas: dict = field(default_factory=dict)
    # what a success answers: JSON, or a document the RPC returns as text (image/svg+xml), or as
    # {filename, content} (or content_base64 when binary): a file to save (application/xml, .xlsx)
    media_type: str = JSON
    # what the request's body is: a JSON object, or a document (application/xml) passed on as text
    body_media_type: str = JSON
    max_body: int = MAX_BODY


ROUTES = []


def secure(response, path, tls=False):
    """Headers every answer carries: no MIME sniffing; API answers (tokens,
    secrets, recovery codes, personal and plant data) are never stored by a
    browser or a proxy; HSTS when TLS is terminated in front (GATEWAY_TLS)."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    if tls:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


class JsonApp(WsgiApp):
    """Unknown paths and wrong methods answer JSON too; every answer carries
    the headers of `secure`."""

    _static = None  # path of each rule without variables -> its methods
    _tls = None

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            rule, values = adapter.match(return_rule=True)
            if rule.arguments:
                self._refuse_other_method(request.path)
            request.path_values = values
            response = rule.endpoint.handle_request(request)
        except HTTPException as exc:
            code = "not_found" if exc.code == 404 else "method_not_allowed" if exc.code == 405 else "http_error"
            response = json_response({"error": code, "message": exc.description, "details": {}},
                                     status=exc.code)
            if exc.code == 405:
                static = self._static_methods(request.path)  # /routings/released is not /routings/<id>
                response.headers["Allow"] = ", ".join(sorted(static) if static else exc.valid_methods or [])
            elif isinstance(exc, RequestRedirect):  # e.g. `//` merged: say where to go
                response.headers["Location"] = exc.new_url
            metrics.HTTP_REQUESTS.labels("unmatched", request.method, exc.code).inc()   # (a path is unbounded)
        if self._tls is None:
            self._tls = _truthy(self.server.container.config.get("GATEWAY_TLS"))
        return secure(response, request.path, self._tls)(environ, start_response)

    def _refuse_other_method(self, path):
        """`PATCH /routings/released` is a wrong method on a path of its own,
        not a routing whose id is "released": 405, as for any other path."""
        methods = self._static_methods(path)
        if methods is not None:
            raise MethodNotAllowed(valid_methods=sorted(methods))

    def _static_methods(self, path):
        """The methods of the rule without variables whose path this is, or None."""
        if self._static is None:
            static = {}
            for rule in self.url_map.iter_rules():
                if not rule.arguments:
                    static.setdefault(rule.rule.rstrip("/"), set()).update(rule.methods or ())
            self._static = static
        return self._static.get(path.rstrip("/"))


class ApiServer(WebServer):
    def get_wsgi_app(self):
        return JsonApp(self)


def client_of(request, trusted_proxy_hops=0):
    """What the auth service records about the caller (throttling, session list).

    Behind `trusted_proxy_hops` reverse proxies the client is the address that
    many entries from the end of X-Forwarded-For (the ones our proxies added);
    without proxies the header is the client's to forge and is ignored. A NUL
    cannot be stored (PostgreSQL text): it is dropped from the user agent."""
    address = request.remote_addr
    if trusted_proxy_hops:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
        if len(forwarded) >= trusted_proxy_hops:
            address = forwarded[-trusted_proxy_hops][:64]
    user_agent = (request.user_agent.string or "").replace("\x00", "")[:300]
    return {"address": address, "user_agent": user_agent or None}


class ApiRoute(HttpRequestHandler):
    server = ApiServer()
    auth = Authenticator()

    def __init__(self, method, url, spec, **kwargs):
        self.spec = spec
        super().__init__(method, url, **kwargs)

    def setup(self):
        super().setup()
        self.trusted_proxy_hops = int(self.container.config.get("TRUSTED_PROXY_HOPS") or 0)

    def get_url_rule(self):
        return Rule(self.url, methods=self.method.split(","), strict_slashes=False)

    def handle_request(self, request):
        request.shallow = False
        started = time.perf_counter()
        supplied = request.headers.get(REQUEST_ID, "")
        request_id = supplied if _REQUEST_ID_OK.match(supplied) else str(uuid.uuid4())
        try:
            # first: who is not allowed learns nothing else, not even about the body
            request.principal = principal = self.auth.authenticate(request, self.spec, request_id)
            if request.content_length and request.content_length > self.spec.max_body:
                raise errors.TooLarge("the body is too large", {"body": [f"at most {self.spec.max_body} bytes"]})
            if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
                # the WSGI server hands no chunked body on (it would look empty): say so rather than misread it
                raise errors.ValidationFailed("send the body with a Content-Length",
                                              {"body": ["chunked transfer encoding is not read: give Content-Length"]})
            # travels to the services as message headers: who, never the credentials
            request.client = client_of(request, self.trusted_proxy_hops)
            context_data = principal.context(request_id, request.client["address"])
            args, kwargs = self.get_entrypoint_parameters(request)
            event = Event()
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=partial(self.handle_result, event))
            response = self.response_from_result(event.wait())
        except Exception as exc:
            response = self.response_from_exception(exc)
        response.headers[REQUEST_ID] = request_id
        elapsed = time.perf_counter() - started
        metrics.HTTP_REQUESTS.labels(self.url, self.method, response.status_code).inc()
        metrics.HTTP_SECONDS.labels(self.url, self.method).observe(elapsed)
        access_log.info("%s %s %d", request.method, request.path, response.status_code, extra={
            "correlation_id": request_id, "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2)})
        return response

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status = self.spec.status
        if isinstance(result, tuple):
            status, result = result
        if status == 204:
            return Response(status=204)
        if self.spec.media_type != JSON:   # a picture, a page or a file: nothing in it may run or load
            headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
            if isinstance(result, dict):   # a file: {filename, content}, or content_base64 when binary
                headers["Content-Disposition"] = _attachment(result["filename"])
                result = (base64.b64decode(result["content_base64"]) if "content_base64" in result
                          else result["content"])
            return Response(result, status=status, mimetype=self.spec.media_type, headers=headers)
        return json_response(result, status=status)

    def response_from_exception(self, exc):
        if isinstance(exc, errors.MesError):
            if exc.http_status >= 500:
                log.warning("%s %s answered %d: %s", self.method, self.url, exc.http_status, exc)
            return error_response(exc)
        if isinstance(exc, BadRequest):  # nameko: wrong arguments for the handler
            return error_response(errors.ValidationFailed(str(exc)))
        log.error("unexpected error on %s %s", self.method, self.url, exc_info=exc)
        return json_response({"error": "internal_error", "message": "an unexpected error occurred",
                              "details": {}}, status=500)


_PERMISSION = re.compile(r"[a-z][a-z_]*:[a-z][a-z_]*")


def route(method, path, *, summary, tags=(), body=None, query=None, response=None, status=200,
          permission=None, public=False, error_codes=(400, 404, 409, 422, 503), description=None,
          include_in_schema=True, error_schemas=None, path_schemas=None, media_type=JSON, body_media_type=JSON,
          max_body=MAX_BODY):
    """`permission` is a `resource:action` string or AUTHENTICATED; a route
    without one must say public=True (refused at import otherwise). A route
    whose `media_type` is not JSON answers its handler's text (or file) as
    that type; one whose `body_media_type` is not JSON takes a document of
    that type, up to `max_body` bytes (413 beyond)."""
    if public == bool(permission):
        raise ValueError(f"route {method} {path}: give either a permission or public=True")
    if permission and permission != AUTHENTICATED and not _PERMISSION.fullmatch(permission):
        raise ValueError(f"route {method} {path}: permission {permission!r} is not `resource:action`")
    spec = RouteSpec(method, path, summary, list(tags), body, query, response, status, permission,
                     public, error_codes, description, include_in_schema, dict(error_schemas or {}),
                     path_schemas=dict(path_schemas or {}), media_type=media_type,
                     body_media_type=body_media_type, max_body=max_body)
    ROUTES.append(spec)

    def decorator(fn):
        spec.operation_id = fn.__name__
        if description is None and fn.__doc__:
            spec.description = inspect.cleandoc(fn.__doc__)
        return ApiRoute.decorator(method, path, spec=spec, expected_exceptions=errors.ALL)(fn)
    return decorator


# ------------------------------------------------------------ request parsing

def json_body(request):
    """The request's JSON object (validated by the service that takes it)."""
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
        # "\ud800" parses but is no text: lone surrogates cannot be stored (UnicodeEncodeError)
        json.dumps(data, ensure_ascii=False).encode()
    except (ValueError, RecursionError) as exc:  # UnicodeError is a ValueError; deep nesting recurses
        raise errors.ValidationFailed("the body is not valid JSON", {"body": [f"invalid JSON: {exc}"]}) from None
    if not isinstance(data, dict):
        raise errors.ValidationFailed("the body must be a JSON object", {"body": ["expected an object"]})
    return data


def document_body(request):
    """The request's document as text: UTF-8, as the standards we take write it (400 otherwise)."""
    raw = request.get_data(cache=True)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.ValidationFailed("the document is not UTF-8", {"body": [f"not UTF-8: {exc.reason} at byte "
                                                                             f"{exc.start}"]}) from None


def _attachment(filename):
    """A Content-Disposition naming the file; the name reduced to what every client reads safely."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:150] or "download"
    return f'attachment; filename="{safe}"'


def path_id(name, value):
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.ValidationFailed(f"{name} is not a valid id", {name: ["Not a valid UUID."]}) from None
