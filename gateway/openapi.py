"""OpenAPI 3 document generated from the route specs and marshmallow schemas."""
import decimal
import json
import re

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields, validate

from gateway.auth import AUTHENTICATED
from gateway.http import ROUTES
from mes_common.schemas import NoNul

_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")

ERROR_TEXT = {
    400: "Invalid input; `details` names each offending field",
    401: "Missing, malformed, invalid, expired or revoked credentials",
    403: "Signed in, but without the permission this operation needs (`x-permission`)",
    404: "No such resource",
    409: "Conflicts with the current state (duplicate, stale version, active children)",
    413: "The body is larger than the operation takes (`details.body` says how large it may be)",
    422: "Well-formed but breaks a rule (e.g. level nesting)",
    429: "Too many attempts; retry after `Retry-After` seconds",
    503: "The backing service or the broker is unavailable",
}
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
}
SECURITY = [{"bearerAuth": []}, {"apiToken": []}]  # either one


class Error(Schema):
    error = fields.String(required=True, metadata={"example": "validation_failed"})
    message = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "field name -> messages, or context"})


class SchemaExtras(BasePlugin):
    """Merges a marshmallow schema's `openapi_extra` (e.g. `exactly_one_of(...)`)
    into its component: what its `validates_schema` checks, written so that the
    document is exactly as strict as the server."""

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        cls = schema if isinstance(schema, type) else type(schema)
        return dict(getattr(cls, "openapi_extra", None) or {})


def validators_apispec_leaves_out(converter, field, ret=None, **kwargs):
    """Open bounds (`Range(min=0, min_inclusive=False)` is `exclusiveMinimum`,
    the OpenAPI 3.0 flag beside `minimum`), excluded values (`NoneOf([0])` is
    `not: enum`) and the NUL rule (`NoNul`, unless a stricter pattern says it)."""
    extra = {}
    for validator in field.validators:
        if isinstance(validator, NoNul) and "pattern" not in (ret or {}):
            extra["pattern"] = NoNul.DOCUMENTED_PATTERN
        if isinstance(validator, validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                extra["exclusiveMinimum"] = True
            if validator.max is not None and not validator.max_inclusive:
                extra["exclusiveMaximum"] = True
        elif isinstance(validator, validate.NoneOf):
            extra["not"] = {"enum": list(validator.iterable)}
    return extra


def build_spec(title="MES API", version="1.0.0"):
    marshmallow = MarshmallowPlugin()
    spec = APISpec(title=title, version=version, openapi_version="3.0.3",
                   plugins=[marshmallow, SchemaExtras()],
                   info={"description": "Manufacturing Execution System gateway. Every call carries "
                                        "an `X-Request-ID` (yours or a new one) as its correlation id. "
                                        "Every /api/v1 operation needs `Authorization: Bearer <token>` "
                                        "(an access token from signing in, or an API token) and the "
                                        "permission named by its `x-permission`: 401 when the token is "
                                        "missing or not valid, 403 when it lacks the permission."})
    marshmallow.converter.add_attribute_function(validators_apispec_leaves_out)
    spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "access token from signing in (short-lived; refresh it)"})
    spec.components.security_scheme("apiToken", {
        "type": "http", "scheme": "bearer", "description": "`mes_…` API tokens, for machines and integrations"})
    spec.components.schema("Error", schema=Error)
    spec.components.response("Error", {"description": "error",
                                       "content": {"application/json": {"schema": "Error"}}})
    by_path = {}
    for route in ROUTES:
        if not route.include_in_schema:
            continue
        path = _PARAM.sub(r"{\1}", route.path)
        by_path.setdefault(path, {})[route.method.lower()] = _operation(route, marshmallow.converter)
    for path, operations in sorted(by_path.items()):
        spec.path(path=path, operations=operations)
    # Decimal bounds of quantity fields (Range validators) become JSON numbers
    return _null_means_null(json.loads(json.dumps(spec.to_dict(), default=_json_number)))


NULL_BESIDE_REF = {"type": "object", "nullable": True}


def _null_means_null(node):
    """apispec documents a nullable nested schema (OpenAPI 3.0) as `anyOf: [$ref,
    {type: object, nullable: true}]`, whose second branch takes ANY object: a
    body with unknown keys there matched the document and was refused. Say null."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "anyOf" and isinstance(value, list):
                node[key] = [{**NULL_BESIDE_REF, "enum": [None]} if branch == NULL_BESIDE_REF else
                             _null_means_null(branch) for branch in value]
            else:
                _null_means_null(value)
    elif isinstance(node, list):
        for item in node:
            _null_means_null(item)
    return node


def _json_number(value):
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _path_schema(route, name, converter):
    """A path parameter's schema: as declared (a JSON schema, or the contract's
    marshmallow field that the service validates it with), a UUID for `*_id`,
    else free text."""
    declared = route.path_schemas.get(name)
    if isinstance(declared, fields.Field):
        return converter.field2property(declared)
    return declared or ({"type": "string", "format": "uuid"} if name.endswith("id") else {"type": "string"})


def _operation(route, converter):
    op = {"summary": route.summary, "tags": route.tags, "operationId": route.operation_id}
    error_codes, description = set(route.error_codes), route.description
    if route.public:
        op["security"] = []
    else:
        needs = "any signed-in caller" if route.permission == AUTHENTICATED else \
            f"the permission `{route.permission}`"
        description = "\n\n".join(filter(None, [description, f"Requires {needs}."]))
        op.update({"security": SECURITY, "x-permission": route.permission})
        error_codes |= {401} if route.permission == AUTHENTICATED else {401, 403}
    if description:
        op["description"] = description
    params = [{"in": "path", "name": name, "required": True, "schema": _path_schema(route, name, converter)}
              for name in _PARAM.findall(route.path)]
    if route.query is not None:
        params.append({"in": "query", "schema": route.query})
    # any value is accepted: a malformed one is replaced, not refused (see gateway.http)
    params.append({"in": "header", "name": "X-Request-ID", "required": False, "schema": {"type": "string"},
                   "description": "correlation id; echoed back when it is 1-128 of `A-Za-z0-9._:-`, "
                                  "otherwise replaced by a generated one"})
    op["parameters"] = params
    if route.body is not None:
        required = any(f.required for f in route.body().fields.values())
        op["requestBody"] = {"required": required, "content": {"application/json": {"schema": route.body}}}
    elif route.body_media_type != "application/json":
        op["requestBody"] = {"required": True, "content": {route.body_media_type: {
            "schema": {"type": "string", "maxLength": route.max_body}}}}
        error_codes |= {413}
    ok = {"description": "OK"}
    if route.response is not None:
        ok["content"] = {"application/json": {"schema": route.response}}
    elif route.media_type != "application/json":
        ok["content"] = {route.media_type: {"schema": {"type": "string"}}}
    responses = {str(route.status): ok if route.status != 204 else {"description": "No content"}}
    for code in sorted(error_codes):
        responses[str(code)] = {"description": ERROR_TEXT.get(code, "error"),
                                "content": {"application/json": {
                                    "schema": route.error_schemas.get(code, "Error")}}}
        if code in ERROR_HEADERS:
            responses[str(code)]["headers"] = ERROR_HEADERS[code]
    op["responses"] = responses
    return op
