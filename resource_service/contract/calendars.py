"""The resource service's contract for shift calendars and equipment states:
RPC input and output schemas, also the gateway's."""
import datetime as dt

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from mes_common.schemas import NO_NUL, PageQuery, Pattern, UtcDateTime, page_schema
from resource_service.contract.schemas import Minutes

STATES = ("running", "idle", "setup", "down", "planned_maintenance")
EXCEPTION_KINDS = ("holiday", "shutdown")
NAME = [validate.Length(min=1, max=200), NO_NUL]


HH_MM = Pattern(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="a local time HH:MM (00:00 to 23:59)")


def clock(example, description=None):
    """A local time of day, HH:MM (loaded as a datetime.time)."""
    return fields.String(required=True, validate=HH_MM,
                         metadata={"example": example, **({"description": description} if description else {})})


class _Times(Schema):
    @post_load
    def _times(self, data, **kwargs):
        return {**data, "starts": dt.time.fromisoformat(data["starts"]), "ends": dt.time.fromisoformat(data["ends"])}


class BreakIn(_Times):
    starts = clock("10:00")
    ends = clock("10:15")


class ShiftIn(_Times):
    weekdays = fields.List(fields.Integer(strict=True, validate=validate.Range(min=0, max=6)), required=True,
                           validate=validate.Length(min=1, max=7), metadata={
                               "description": "0 = Monday … 6 = Sunday: the days the shift starts on",
                               "example": [0, 1, 2, 3, 4], "uniqueItems": True})
    name = fields.String(required=True, validate=[validate.Length(min=1, max=60), NO_NUL],
                         metadata={"example": "early"})
    starts = clock("06:00")
    ends = clock("14:00", "local time; not after `starts`: the next day")
    breaks = fields.List(fields.Nested(BreakIn), load_default=list, validate=validate.Length(max=10),
                         metadata={"description": "unpaid: not planned time"})

    @validates("weekdays")
    def _distinct(self, weekdays, **kwargs):
        if len(set(weekdays)) != len(weekdays):
            raise ValidationError("each weekday once")


class CalendarSet(Schema):
    name = fields.String(required=True, validate=NAME, metadata={"example": "Toulouse two shifts"})
    timezone = fields.String(required=True, validate=[validate.Length(min=1, max=64), NO_NUL], metadata={
        "description": "IANA time zone of the local times (422 for an unknown one)", "example": "Europe/Paris"})
    shifts = fields.List(fields.Nested(ShiftIn), required=True, validate=validate.Length(max=50))
    version = fields.Integer(strict=True, validate=validate.Range(min=1),
                             metadata={"description": "refuse the change unless the calendar is at this version"})


class BreakOut(Schema):
    starts = fields.String(required=True, metadata={"description": "HH:MM"})
    ends = fields.String(required=True, metadata={"description": "HH:MM"})


class ShiftOut(Schema):
    weekday = fields.Integer(required=True)
    name = fields.String(required=True)
    starts = fields.String(required=True, metadata={"description": "HH:MM"})
    ends = fields.String(required=True, metadata={"description": "HH:MM"})
    breaks = fields.List(fields.Nested(BreakOut), required=True)


class CalendarOut(Schema):
    node_id = fields.UUID(required=True)
    name = fields.String(required=True)
    timezone = fields.String(required=True)
    shifts = fields.List(fields.Nested(ShiftOut), required=True)
    version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)


class ExceptionCreate(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(EXCEPTION_KINDS))
    name = fields.String(required=True, validate=NAME, metadata={"example": "Christmas"})
    date = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "whole local days from this one (with `to_date`: through that one)"})
    to_date = fields.Date(load_default=None, allow_none=True)
    starts_at = UtcDateTime(load_default=None, allow_none=True,
                                     metadata={"description": "or an interval: from this instant"})
    ends_at = UtcDateTime(load_default=None, allow_none=True)


class ExceptionOut(Schema):
    id = fields.UUID(required=True)
    node_id = fields.UUID(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)


class Window(Schema):
    start = UtcDateTime(required=True, data_key="from", metadata={"example": "2026-12-07T00:00:00Z"})
    end = UtcDateTime(required=True, data_key="to", metadata={"example": "2026-12-14T00:00:00Z"})


class ExceptionQuery(Window):
    pass


class Interval(Schema):
    start = fields.DateTime(required=True)
    end = fields.DateTime(required=True)


class PlannedTimeOut(Schema):
    work_center_id = fields.UUID(required=True)
    calendar_node_id = fields.UUID(required=True, allow_none=True,
                                   metadata={"description": "whose calendar applies (null: none: all time is planned)"})
    timezone = fields.String(required=True, allow_none=True)
    start = fields.DateTime(required=True, data_key="from")
    end = fields.DateTime(required=True, data_key="to")
    seconds = fields.Integer(required=True, metadata={"description": "planned busy time, exact"})
    minutes = fields.Float(required=True, metadata={"description": "seconds / 60, for display"})
    intervals = fields.List(fields.Nested(Interval), required=True)


class PlanStep(Schema):
    work_center_id = fields.UUID(required=True)
    minutes = Minutes(required=True, metadata={"description": "minutes of work (0 allowed)"})


class PlanRequest(Schema):
    """Operations placed one after another into their work centers' working time."""
    start_at = UtcDateTime(required=True)
    operations = fields.List(fields.Nested(PlanStep), required=True, validate=validate.Length(max=500))


class StateReport(Schema):
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    reason = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=500), NO_NUL],
                           metadata={"description": "required when down"})
    at = UtcDateTime(load_default=None, allow_none=True,
                              metadata={"description": "when it changed (default: now; not in the future)"})


class StateOut(Schema):
    id = fields.UUID(required=True)
    node_id = fields.UUID(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    reason = fields.String(required=True, allow_none=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(required=True, allow_none=True)
    reported_by = fields.String(required=True)


class StateQuery(PageQuery):
    start = UtcDateTime(data_key="from", metadata={"description": "states that ended after this"})
    end = UtcDateTime(data_key="to", metadata={"description": "states that began before this"})


StatePage = page_schema(StateOut, "StatePage")
