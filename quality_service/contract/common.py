"""Fields the quality contract states the same way everywhere."""
import decimal

from marshmallow import Schema, fields, validate

from mes_common.schemas import NO_NUL, Pattern

CODE = [validate.Length(min=1, max=64),
        Pattern(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$",
                error="use letters, digits, '.', '_' or '-', starting with a letter or digit")]
TITLE = [validate.Length(min=1, max=200), NO_NUL]
REASON = [validate.Length(min=1, max=500), NO_NUL]
# a unit as pint reads it (mm, in, N*m, N·m, degC, µm, m/s^2, %): letters first, no brackets
UNIT = [validate.Length(min=1, max=40),
        Pattern(r"^[A-Za-z%°µΩ][A-Za-z0-9%°µΩ·*/^ ._\-]*$",
                error="a unit such as mm, in, N*m, degC, µm or m/s^2")]
VERSION_DOC = "refuse the change unless the record is at this version (409)"


def text(max_length=2000, **kwargs):
    return fields.String(validate=[validate.Length(max=max_length), NO_NUL], **kwargs)


def optional_text(max_length=2000, **kwargs):
    return text(max_length, load_default=None, allow_none=True, **kwargs)


def version():
    return fields.Integer(strict=True, validate=validate.Range(min=1), metadata={"description": VERSION_DOC})


class Measure(fields.Decimal):
    """A measured or specified value: a JSON number, kept exactly as given (a
    Decimal, no rounding: the database stores it as typed)."""

    MAX = 10 ** 12

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, validate=validate.Range(min=-self.MAX, max=self.MAX), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, (int, float, decimal.Decimal)) or isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(str(value) if isinstance(value, float) else value, attr, data, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else float(value)


class Quantity(fields.Float):
    """A quantity in an answer: a JSON number."""


class RecordLifeOut(Schema):
    """Who made a quality record and when, how it ended, and its version (NCR, CAPA)."""
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    status_reason = fields.String(required=True, allow_none=True)
    version = fields.Integer(required=True)
