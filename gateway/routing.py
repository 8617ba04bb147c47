"""Route tables: most gateway routes are data, one table per backing service.

    routes = Routes("material_service", tags=["material"], prefix="/api/v1/material")
    routes.post("/parts", "create_part", body=schemas.PartCreate, response=schemas.PartOut,
                status=201, permission="material:write", summary="Create a part")
    routes.get("/parts/<part_id>", "get_part", response=schemas.PartOut, permission="material:read",
               summary="Get a part")

A forwarding route calls one RPC of its service, by default as
`rpc(*path values, payload)`: the path values in the order of the path
(`*_id` segments checked to be UUIDs), then the JSON body when the route has
a `body` schema, else the query when it has a `query` schema; a route that
takes a document (`body_media_type="application/xml"`) passes the query and
the document's text. `args=` shapes
the arguments otherwise (from a `Call`: path, payload, the caller).

The route parses the request once: the body as a JSON object, the query as
the JSON types its schema documents (`"true"` → true, `"10"` → 10; a repeated
parameter only where the schema takes a list). The service validates the
payload with the same contract schema the OpenAPI document shows, so the
gateway does not validate it a second time.

Handlers that do more than forward (sign-in with the caller's address,
cached summaries, documents) are written by hand with `Routes.handler`.
`install(cls, tables)` puts every route of the tables on the gateway class as
an entrypoint named by its operation id.
"""
import re
from dataclasses import dataclass

from marshmallow import fields
from werkzeug.wrappers import Response

from gateway.http import JSON, document_body, json_body, path_id, route
from mes_common import errors

_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")

READ_ERRORS = (400, 404, 503)
LIST_ERRORS = (400, 503)
WRITE_ERRORS = (400, 404, 409, 422, 503)
# a route that signs a record (mes_common.signatures): wrong credentials 401, no person's session 403, throttled 429
SIGNED_ERRORS = (400, 401, 403, 404, 409, 422, 429, 503)
SIGNED = ("Signed (21 CFR 11.200): `signature` holds the credentials you type now: username, password and, with "
          "MFA, `totp` at the first signing of your session; the password alone later in the same session. ")


@dataclass(frozen=True)
class Call:
    """What an `args=` function shapes the RPC arguments from."""
    request: object
    path: dict
    payload: dict | None

    @property
    def principal(self):
        return self.request.principal

    @property
    def user_id(self):
        return self.request.principal.user_id

    @property
    def session_id(self):
        """The caller's session: signatures, logout and every change to the account's own
        credentials or sessions need a signed-in person, not a machine (an API token must
        not mint wider tokens, enrol its own authenticator or end its owner's sessions)."""
        session_id = self.request.principal.session_id
        if session_id is None:
            raise errors.Forbidden("this needs a user's session, not an API token", {"authorization": ["API token"]})
        return session_id

    def by_person(self, *args):
        """`args`, for an RPC only a person in their own session may make (403 for an API token)."""
        self.session_id  # noqa: B018  (refuses API tokens)
        return args

    def own(self, *args):
        """(the caller's user id, *args) for an RPC on the caller's own account
        that needs a person's session (403 for an API token)."""
        return self.by_person(self.user_id, *args)


@dataclass
class RouteEntry:
    method: str
    path: str
    operation_id: str
    options: dict
    handler: object = None   # hand-written: fn(gateway, request, **path values)
    service: str | None = None
    rpc: str | None = None
    args: object = None      # fn(Call) -> tuple of RPC arguments
    doc: str | None = None   # the operation's description (a forwarder has no docstring)
    calls: tuple = ()        # hand-written: the 'service.method' RPCs it makes (the broker allows no other)
    encoded: bool = False    # the RPC answers the JSON text itself: passed on as the body, not decoded again

    def rpc_targets(self):
        return (f"{self.service}.{self.rpc}",) if self.rpc else self.calls


class Routes:
    def __init__(self, service, tags, prefix=""):
        self.service, self.tags, self.prefix = service, list(tags), prefix
        self.entries = []

    def add(self, method, path, rpc, *, args=None, operation_id=None, doc=None, encoded=False, **options):
        """A route forwarding to `rpc` of this table's service (`encoded`: it answers JSON text)."""
        options.setdefault("tags", self.tags)
        options.setdefault("error_codes", _default_errors(method, path))
        self.entries.append(RouteEntry(method, self.prefix + path, operation_id or rpc, options,
                                       service=self.service, rpc=rpc, args=args, doc=doc, encoded=encoded))

    def get(self, path, rpc, **options):
        self.add("GET", path, rpc, **options)

    def post(self, path, rpc, **options):
        self.add("POST", path, rpc, **options)

    def patch(self, path, rpc, **options):
        self.add("PATCH", path, rpc, **options)

    def put(self, path, rpc, **options):
        self.add("PUT", path, rpc, **options)

    def delete(self, path, rpc, **options):
        self.add("DELETE", path, rpc, **options)

    def handler(self, method, path, *, calls, **options):
        """Decorate a hand-written handler `fn(gateway, request, **path values)`
        that makes the RPCs `calls` (a method of this table's service, or
        'service.method'): the gateway's broker login may publish no others."""
        targets = tuple(call if "." in call else f"{self.service}.{call}" for call in calls)

        def decorator(fn):
            options.setdefault("tags", self.tags)
            options.setdefault("error_codes", _default_errors(method, path))
            self.entries.append(RouteEntry(method, self.prefix + path, fn.__name__, options, handler=fn,
                                           calls=targets))
            return fn
        return decorator

    def cached_summary(self, path, operation_id, *, kind, rpc, what, **options):
        """GET the display fields of one entity from the reference-data cache
        (`kind`), loaded on a miss with the service's batch `rpc(ids)`; 404 when
        the service does not know the id."""
        service, name = self.service, _PARAM.findall(path)[-1]

        def summary(gateway, request, **values):
            entity_id = path_id(name, values[name])
            found = gateway.cache.summary(kind, entity_id, getattr(gateway.services[service], rpc))
            if found is None:
                raise errors.NotFound(f"{what} {entity_id} does not exist", {"id": entity_id})
            return found

        summary.__name__ = operation_id
        summary.__doc__ = f"Served from the reference-data cache, loaded from {service} on a miss."
        self.handler("GET", path, calls=(rpc,), **options)(summary)


def _default_errors(method, path):
    if method != "GET":
        return WRITE_ERRORS
    return READ_ERRORS if _PARAM.search(path) else LIST_ERRORS


def install(cls, tables):
    """Every route of `tables` as an entrypoint method of the gateway class `cls`."""
    for table in tables:
        for entry in table.entries:
            if hasattr(cls, entry.operation_id):
                raise ValueError(f"two gateway routes are named {entry.operation_id}")
            fn = entry.handler if entry.handler is not None else _forwarder(entry)
            setattr(cls, entry.operation_id,
                    route(entry.method, entry.path, **entry.options)(fn))


def _forwarder(entry):
    names = _PARAM.findall(entry.path)
    body, query = entry.options.get("body"), entry.options.get("query")
    status = entry.options.get("status", 200)
    takes_document = entry.options.get("body_media_type", JSON) != JSON

    def forward(gateway, request, **values):
        path = {name: path_id(name, values[name]) if name.endswith("_id") else values[name] for name in names}
        payload = json_body(request) if body is not None else query_args(request, query) if query is not None else None
        if entry.args is not None:
            args = entry.args(Call(request, path, payload))
        elif takes_document:   # (path values, the query, the document's text)
            args = (*path.values(), payload or {}, document_body(request))
        else:
            args = (*path.values(), payload) if payload is not None else tuple(path.values())
        result = getattr(gateway.services[entry.service], entry.rpc)(*args)
        if entry.encoded:
            return Response(result, status=status, mimetype=JSON)
        return (204, None) if status == 204 else result

    forward.__doc__ = entry.doc
    forward.__name__ = entry.operation_id
    return forward


# ------------------------------------------------------------ query strings

def query_args(request, schema):
    """The query string as the JSON values `schema` documents: repeated only where
    the field is a list (else 400 naming it); numbers and booleans converted
    from their text, anything unconvertible left as text for the schema to refuse
    with the field named."""
    declared = _query_fields(schema)
    out = {}
    for key, values in request.args.lists():
        field = declared.get(key)
        if isinstance(field, fields.List):
            out[key] = [_convert(field.inner, v) for v in values]
        elif len(values) > 1:
            raise errors.ValidationFailed(f"invalid input: {key}", {key: ["give this parameter once"]})
        else:
            out[key] = _convert(field, values[0])
    return out


_FIELDS_BY_SCHEMA = {}


def _query_fields(schema):
    known = _FIELDS_BY_SCHEMA.get(schema)
    if known is None:
        known = _FIELDS_BY_SCHEMA[schema] = {f.data_key or name: f for name, f in schema().fields.items()}
    return known


_TRUE, _FALSE = {"true"}, {"false"}


def _convert(field, text):
    """Text → the JSON type of `field`, as a client that reads the document sends it."""
    try:
        if isinstance(field, fields.Boolean):
            return True if text in _TRUE else False if text in _FALSE else text
        if isinstance(field, fields.Integer):
            return int(text) if text.strip().lstrip("+-").isdigit() else text
        if isinstance(field, (fields.Float, fields.Decimal)):
            value = float(text)
            return value if value == value and abs(value) != float("inf") else text
    except ValueError:
        pass
    return text

