"""The Integration service's RPC and HTTP schemas: B2MML in, the message log."""
from marshmallow import Schema, fields, validate

from mes_common.schemas import NO_NUL, PageQuery, Pattern, UtcDateTime, page_schema

DIRECTIONS = ("in", "out")
MESSAGE_STATUSES = ("processing", "accepted", "rejected", "failed", "pending", "delivered", "parked")
PART_TYPES = ("raw", "purchased", "manufactured", "assembly")


class ReceiveQuery(Schema):
    site = fields.String(load_default=None, validate=[validate.Length(min=1, max=64), NO_NUL], metadata={
        "description": "the code of the site the orders are for (default: the site of their work centers, or the "
                       "only site)"})
    part_type = fields.String(load_default=None, validate=validate.OneOf(PART_TYPES), metadata={
        "description": "the type of parts a MaterialDefinition creates (default: manufactured)"})
    idempotency_key = fields.String(load_default=None, validate=[validate.Length(min=1, max=255), NO_NUL],
                                    metadata={"description": "the Idempotency-Key header (the gateway passes it)"})


class Touched(Schema):
    type = fields.String(required=True, metadata={"description": "work_order, part, lot, equipment"})
    id = fields.String(required=True)
    number = fields.String(required=True)
    action = fields.String(required=True, metadata={"description": "created, changed, unchanged, kept, cancelled, "
                                                                   "shown"})
    reason = fields.String()


class MessageSummaryOut(Schema):
    id = fields.UUID(required=True)
    direction = fields.String(required=True, metadata={"enum": list(DIRECTIONS)})
    endpoint_id = fields.UUID(allow_none=True)
    kind = fields.String(required=True)
    version = fields.String(allow_none=True)
    noun = fields.String(allow_none=True)
    verb = fields.String(allow_none=True)
    document_id = fields.String(allow_none=True, metadata={"description": "BODID, else the noun's ID"})
    sender = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(MESSAGE_STATUSES)})
    http_status = fields.Integer(allow_none=True)
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    touched = fields.List(fields.Nested(Touched), required=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)


class MessageOut(MessageSummaryOut):
    content_type = fields.String(required=True)
    payload = fields.String(required=True, metadata={"description": "verbatim"})
    answer = fields.String(allow_none=True, metadata={"description": "what the MES answered (B2MML)"})
    error = fields.Dict(allow_none=True, metadata={"description": "the refusal: {error, message, details}"})
    idempotency_key = fields.String(allow_none=True)


class MessageListQuery(PageQuery):
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    status = fields.String(validate=validate.OneOf(MESSAGE_STATUSES))
    noun = fields.String(validate=validate.Length(min=1, max=64))
    verb = fields.String(validate=validate.Length(min=1, max=20))
    endpoint_id = fields.UUID()
    document_id = fields.String(validate=validate.Length(min=1, max=200))
    correlation_id = fields.String(validate=validate.Length(min=1, max=100))
    touched = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "the number of an object the message touched (a work order, part, lot, equipment code)"})
    since = UtcDateTime()


MessagePage = page_schema(MessageSummaryOut, "MessagePage")


# ------------------------------------------------------------------ endpoints and webhooks

ENDPOINT_KINDS = ("b2mml", "webhook")
B2MML_VERSIONS = ("V0700", "V0600")
OUTBOUND_NOUNS = ("OperationsPerformance",)   # what the MES sends an ERP: a completed work order's performance
# an http(s) URL of a host name or IPv4 address: the documented pattern is the whole check, so the OpenAPI
# document and the service agree on what a valid URL is
# (the path in printable ASCII, as RFC 3986 writes it: [!-~] reads the same in Python and in JSON Schema's
# ECMA regexes, where \s does not)
URL_PATTERN = r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][!-~]*)?$"


def url(**kwargs):
    return fields.String(validate=[validate.Length(max=2000), Pattern(
        URL_PATTERN, error="an http:// or https:// URL of a host (name or IPv4 address)")], **kwargs)
EVENT_TYPE = fields.String(validate=[validate.Length(min=3, max=200), Pattern(
    r"^mes(\.[a-z0-9_]+)+(\.\*)?$", error="an event type (mes.work_order.work_order.completed) or a prefix with .*")])


class EndpointCreate(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), NO_NUL],
                         metadata={"example": "SAP-ERP-PRD"})
    kind = fields.String(required=True, validate=validate.OneOf(ENDPOINT_KINDS), metadata={
        "description": "b2mml: an ERP or PLM taking B2MML documents; webhook: a URL taking MES events "
                       "(CloudEvents JSON, signed)"})
    url = url(required=True, metadata={"example": "https://erp.example.com/b2mml"})
    b2mml_version = fields.String(load_default="V0700", validate=validate.OneOf(B2MML_VERSIONS))
    nouns = fields.List(fields.String(validate=validate.OneOf(OUTBOUND_NOUNS)), load_default=list,
                        metadata={"description": "b2mml: the documents it receives"})
    event_types = fields.List(EVENT_TYPE, load_default=list, validate=validate.Length(max=100),
                              metadata={"description": "webhook: the event types it receives ('mes.quality.*': all "
                                                       "of a prefix)"})
    auth_header = fields.String(load_default=None, allow_none=True, validate=[
        validate.Length(min=1, max=100), Pattern(r"^[A-Za-z0-9-]+$", error="a header name")],
        metadata={"description": "b2mml: the header carrying the secret (e.g. Authorization)"})
    secret = fields.String(load_default=None, allow_none=True, load_only=True,
                           validate=[validate.Length(min=1, max=4000), NO_NUL], metadata={
        "description": "b2mml: the auth header's value (e.g. 'Bearer …'), stored encrypted and never shown again; "
                       "a webhook's signing secret is made by the MES and shown once in the answer"})
    active = fields.Boolean(load_default=True, metadata={
        "description": "false pauses it: its messages are kept and wait until it is active again"})


class EndpointUpdate(Schema):
    url = url()
    b2mml_version = fields.String(validate=validate.OneOf(B2MML_VERSIONS))
    nouns = fields.List(fields.String(validate=validate.OneOf(OUTBOUND_NOUNS)))
    event_types = fields.List(EVENT_TYPE, validate=validate.Length(max=100))
    auth_header = fields.String(allow_none=True, validate=[validate.Length(min=1, max=100),
                                                           Pattern(r"^[A-Za-z0-9-]+$", error="a header name")])
    secret = fields.String(allow_none=True, load_only=True, validate=[validate.Length(min=1, max=4000), NO_NUL])
    active = fields.Boolean()
    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class EndpointOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    url = fields.String(required=True)
    b2mml_version = fields.String(allow_none=True)
    nouns = fields.List(fields.String(), required=True)
    event_types = fields.List(fields.String(), required=True)
    auth_header = fields.String(allow_none=True)
    has_secret = fields.Boolean(required=True)
    active = fields.Boolean(required=True)
    pending = fields.Integer(metadata={"description": "messages waiting to go"})
    parked = fields.Integer(metadata={"description": "messages that kept failing (replay them)"})
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class EndpointCreated(EndpointOut):
    signing_secret = fields.String(allow_none=True, metadata={
        "description": "webhook: the signing secret (whsec_…), shown this once"})


class EndpointListQuery(PageQuery):
    kind = fields.String(validate=validate.OneOf(ENDPOINT_KINDS))
    active = fields.Boolean()


EndpointPage = page_schema(EndpointOut, "EndpointPage")
