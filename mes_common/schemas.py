"""Contract helpers: validation with field-level errors, cursor pagination."""
import base64
import datetime as dt
import binascii
import decimal
import json
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


# PostgreSQL cannot store NUL in text or JSONB, and a lone surrogate is no
# text at all (it cannot be encoded): refuse both up front (400, not 500)
NO_NUL = Pattern(r"^[^\x00\ud800-\udfff]*$", error="must not contain NUL characters or lone surrogates")


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
        return super()._deserialize(value, attr, data, **kwargs)


MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def load(schema, data, **kwargs):
    """Validate `data` with a marshmallow schema; ValidationFailed names each
    offending field."""
    if data is None:
        data = {}
    if not isinstance(data, dict) and not kwargs.get("many"):
        raise errors.ValidationFailed("the body must be a JSON object",
                                      {"_schema": ["expected an object"]})
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        fields_ = ", ".join(sorted(map(str, exc.messages))) if isinstance(exc.messages, dict) else ""
        raise errors.ValidationFailed(f"invalid input: {fields_}" if fields_ else "invalid input",
                                      exc.messages if isinstance(exc.messages, dict)
                                      else {"_schema": exc.messages}) from None


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


class PageQuery(Schema):
    limit = fields.Integer(load_default=DEFAULT_PAGE_SIZE,
                           validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=512))


def page_schema(item_schema, name):
    """A `{items, next_cursor}` page of `item_schema`."""
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(allow_none=True, metadata={
            "description": "pass as `cursor` to get the next page; null on the last page"}),
    })


class AuditQuery(PageQuery):
    """Filters of an audit-trail query; newest entries first."""
    entity_type = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=100), NO_NUL])
    entity_id = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=200), NO_NUL])
    actor = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=200), NO_NUL])
    action = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=100), NO_NUL])
    since = UtcDateTime(load_default=None, allow_none=True, metadata={"description": "inclusive"})
    until = UtcDateTime(load_default=None, allow_none=True, metadata={"description": "exclusive"})


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
