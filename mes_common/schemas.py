"""Contract helpers: validation with field-level errors, cursor pagination."""
import base64
import datetime as dt
import binascii
import decimal
import functools
import json
import re
import uuid

from marshmallow import Schema, ValidationError, fields, validate

from mes_common import errors


class Pattern(validate.Regexp):
    """A regex the whole value must match, as a JSON Schema `pattern` means
    (`re.match` lets `$` match before a trailing newline: "A\\n" passed `^A$`)."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Relation(str):
    """The message of a rule between values of a request that its OpenAPI
    schema cannot state (effective_to before effective_from, as many serials
    as good units): `raise ValidationError(Relation("..."), "field")` in a
    `validates_schema`. When every error of a load is one, the request matches
    the document and only breaks a rule: RuleViolated (422), not 400."""


class NoNul(validate.Validator):
    """PostgreSQL cannot store NUL in text or JSONB, and a lone surrogate is no
    text at all (it cannot be encoded): refuse both up front (400, not 500).

    The OpenAPI document states the NUL rule as `DOCUMENTED_PATTERN`: a JSON
    string with a lone surrogate is not valid Unicode text to begin with, and
    generators mishandle a surrogate range in a pattern (they then draw NULs)."""

    REFUSED = re.compile(r"[\x00\ud800-\udfff]")
    DOCUMENTED_PATTERN = r"^[^\x00]*$"
    error = "must not contain NUL characters or lone surrogates"

    def __call__(self, value):
        if self.REFUSED.search(value):
            raise ValidationError(self.error)
        return value


NO_NUL = NoNul()


class UtcDateTime(fields.AwareDateTime):
    """A time with its offset, given back in UTC (PostgreSQL refuses offsets
    beyond ±15:59 that ISO 8601 and Python accept)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs).astimezone(dt.timezone.utc)
        except OverflowError:  # "0001-01-01T00:00:00+01:00" is before year 1 in UTC: was a 500
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


class Boolean(fields.Boolean):
    """true or false, as the documented type says: marshmallow's own also takes
    0, 1, "yes", "on" ... (a `requires_mfa: 0` was taken as false)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Quantity(fields.Decimal):
    """A quantity: a JSON number (a string or a boolean is refused, as the
    documented type says), as a Decimal rounded to 6 places (NUMERIC(18,6)).
    Positive by default; `positive=False` takes any non-zero signed value."""

    MAX = 999_999_999_999  # an int: the bounds are also written into the OpenAPI document (JSON)

    def __init__(self, positive=True, **kwargs):
        bound = (validate.Range(min=0, min_inclusive=False, max=self.MAX) if positive
                 else validate.Range(min=-self.MAX, max=self.MAX))
        validators = [bound] if positive else [bound, validate.NoneOf([0], error="must not be 0")]
        extra = kwargs.pop("validate", None)
        super().__init__(places=6, validate=validators + ([extra] if callable(extra) else list(extra or [])),
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, (int, float, decimal.Decimal)) or isinstance(value, bool):
            raise self.make_error("invalid")
        rounded = super()._deserialize(value, attr, data, **kwargs)
        if rounded == 0 and value != 0 and self._zero_refused:
            # valid by the document (a number above 0), nothing once stored: a broken rule
            raise ValidationError(Relation("smaller than the precision of quantities (0.000001)"))
        return rounded

    @functools.cached_property
    def _zero_refused(self):
        return any(isinstance(v, validate.NoneOf) and 0 in v.iterable
                   or isinstance(v, validate.Range) and v.min == 0 and not v.min_inclusive
                   for v in self.validators)


MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def present(name):
    """JSON Schema: `name` is given and not null."""
    return {"required": [name], "properties": {name: {"not": {"enum": [None]}}}}


def absent(*names):
    """JSON Schema: none of `names` is given, or each is null."""
    return {"properties": {name: {"enum": [None], "nullable": True} for name in names}}


def exactly_one_of(*names):
    """The OpenAPI form of a `validates_schema` that takes exactly one of
    `names` (not null): put it on the schema class as `openapi_extra`, so the
    document is as strict as the server (gateway.openapi merges it)."""
    return {"oneOf": [present(name) for name in names]}


def _all_relations(messages):
    if isinstance(messages, dict):
        return all(_all_relations(m) for m in messages.values())
    if isinstance(messages, list):
        return all(_all_relations(m) for m in messages)
    return isinstance(messages, Relation)


def load(schema, data, **kwargs):
    """Validate `data` with a marshmallow schema; ValidationFailed names each
    offending field (RuleViolated when only Relation rules are broken)."""
    if data is None:
        data = {}
    if not isinstance(data, dict) and not kwargs.get("many"):
        raise errors.ValidationFailed("the body must be a JSON object",
                                      {"_schema": ["expected an object"]})
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        fields_ = ", ".join(sorted(map(str, exc.messages))) if isinstance(exc.messages, dict) else ""
        details = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        if _all_relations(details):
            raise errors.RuleViolated(f"rule broken: {fields_}" if fields_ else "rule broken", details) from None
        raise errors.ValidationFailed(f"invalid input: {fields_}" if fields_ else "invalid input", details) from None


def uuid_arg(value, field="id"):
    """An id argument of an RPC as a UUID, or ValidationFailed naming `field`."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise errors.ValidationFailed(f"{field} is not a valid id", {field: ["Not a valid UUID."]}) from None


def encode_cursor(values):
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise errors.ValidationFailed("invalid cursor", {"cursor": ["not a cursor of this list"]}) from None
    if not isinstance(values, list):
        raise errors.ValidationFailed("invalid cursor", {"cursor": ["not a cursor of this list"]})
    return values


CURSOR_FORMAT = "mes-cursor"  # OpenAPI format of page cursors: only a page's next_cursor is one


class PageQuery(Schema):
    limit = fields.Integer(load_default=DEFAULT_PAGE_SIZE,
                           validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=512), metadata={
        "format": CURSOR_FORMAT, "description": "the `next_cursor` of the previous page (opaque; any other "
                                                "value is refused)"})


def page_schema(item_schema, name):
    """A `{items, next_cursor}` page of `item_schema`."""
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(allow_none=True, metadata={
            "description": "pass as `cursor` to get the next page; null on the last page"}),
    })


class SignatureCredentials(Schema):
    """`signature` in the body of an action that signs a record (21 CFR 11.200(a)(1)):
    the first signing of a session takes username, password and (with MFA) a code;
    later ones in the same continuous session the password. Checked by the auth
    service, never stored or logged."""
    username = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=200), NO_NUL])
    password = fields.String(required=True, validate=[validate.Length(min=1, max=128), NO_NUL])
    totp = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=40), NO_NUL],
                         metadata={"description": "an authenticator or recovery code"})


class SignatureOut(Schema):
    """A signature of a record (21 CFR 11.50): who, when (UTC, the database's clock), what it
    means, which credentials were checked, and whether the record still hashes as signed."""
    id = fields.UUID(required=True)
    meaning = fields.String(required=True, metadata={"description": "11.50(a)(3)"})
    signer_id = fields.UUID(required=True)
    username = fields.String(required=True)
    printed_name = fields.String(required=True, metadata={"description": "11.50(a)(1)"})
    signed_at = fields.DateTime(required=True, metadata={"description": "UTC, 11.50(a)(2)"})
    components = fields.List(fields.String(), required=True)
    valid = Boolean(required=True, metadata={
        "description": "false when the record changed after signing: the signature no longer applies"})


class AuditQuery(PageQuery):
    """Filters of an audit-trail query; newest entries first."""
    entity_type = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=100), NO_NUL])
    entity_id = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=200), NO_NUL])
    actor = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=200), NO_NUL])
    action = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=100), NO_NUL])
    since = UtcDateTime(load_default=None, allow_none=True, metadata={"description": "inclusive"})
    until = UtcDateTime(load_default=None, allow_none=True, metadata={"description": "exclusive"})


class EventLogQuery(Schema):
    """A page of a service's event log (its outbox, published rows kept), in outbox order."""
    after = fields.Integer(load_default=0, validate=validate.Range(min=0),
                           metadata={"description": "the `last` of the previous page (0: from the start)"})
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=5000))
    since = UtcDateTime(load_default=None, allow_none=True,
                        metadata={"description": "only events recorded at or after this time"})


class AuditEntryOut(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True, metadata={"description": "UTC, from the database clock"})
    actor = fields.String(required=True)
    action = fields.String(required=True)
    entity_type = fields.String(required=True)
    entity_id = fields.String(required=True)
    old_values = fields.Raw(allow_none=True)
    new_values = fields.Raw(allow_none=True)
    reason = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    via = fields.String(allow_none=True, metadata={"description": "api_token:<id> when the actor used an API token"})
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


AuditPage = page_schema(AuditEntryOut, "AuditPage")


class AuditBreak(Schema):
    id = fields.Integer(required=True)
    reason = fields.String(required=True)
    hint = fields.String()


class AuditVerification(Schema):
    ok = fields.Boolean(required=True)
    entries = fields.Integer(required=True)
    first_broken = fields.Nested(AuditBreak, allow_none=True, required=True)
