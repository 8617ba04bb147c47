"""Use cases of shift calendars and equipment states on one unit of work.

A work center works by its own calendar, else by its nearest ancestor's (its
area's, its site's); exceptions (holidays, shutdowns) of the work center and
of every ancestor apply. Without any calendar all time is planned time."""
import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from mes_common import errors, paging
from mes_common.db import fetch, utcnow
from mes_common.rules import check_version
from resource_service.calendars import rules
from resource_service.contract import events, worktime
from resource_service.contract.calendars import CalendarOut, ExceptionOut, StateOut
from resource_service.models import Calendar, CalendarException, CalendarShift, EquipmentNode, EquipmentState

CALENDAR, EXCEPTION, STATE = "calendar", "calendar_exception", "equipment_state"   # audit entity types
CALENDAR_LEVELS = ("site", "area", "work_center")
STATE_LEVELS = ("work_center", "work_unit", "equipment")

calendar_out, exception_out, state_out = CalendarOut(), ExceptionOut(), StateOut()


def _node(session, node_id, levels, what):
    node = fetch(session, EquipmentNode.id, node_id, "equipment node")
    if node.level not in levels:
        raise errors.RuleViolated(f"{node.level} {node.code} has no {what}",
                                  {"node_id": [f"a {' or '.join(levels)}, not a {node.level}"]})
    return node


def _zone(name):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.RuleViolated(f"timezone: no time zone {name!r}",
                                  {"timezone": ["an IANA time zone, e.g. Europe/Paris"]}) from None


def _rule_shift(row):
    """A stored shift (breaks kept as HH:MM text) as the rules take it."""
    breaks = tuple((dt.time.fromisoformat(b["starts"]), dt.time.fromisoformat(b["ends"])) for b in row.breaks)
    return worktime.Shift(row.weekday, row.starts, row.ends, breaks)


def _shifts(calendar):
    """The rules' shifts of a calendar; None without one (all time works)."""
    return None if calendar is None else [_rule_shift(row) for row in calendar.shifts]


def dump_calendar(calendar):
    return calendar_out.dump({"node_id": calendar.node_id, "name": calendar.name, "timezone": calendar.timezone,
                              "version": calendar.version, "updated_at": calendar.updated_at,
                              "shifts": [{"weekday": s.weekday, "name": s.name, "starts": s.starts.isoformat("minutes"),
                                          "ends": s.ends.isoformat("minutes"), "breaks": s.breaks}
                                         for s in calendar.shifts]})


def set_calendar(tx, node_id, data):
    """The node's shift pattern, replaced as a whole."""
    session = tx.session
    _node(session, node_id, CALENDAR_LEVELS, "calendar")
    _zone(data["timezone"])
    rows = [CalendarShift(id=uuid.uuid4(), weekday=day, name=s["name"], starts=s["starts"], ends=s["ends"],
                          breaks=[{"starts": b["starts"].isoformat("minutes"), "ends": b["ends"].isoformat("minutes")}
                                  for b in s["breaks"]])
            for s in data["shifts"] for day in s["weekdays"]]
    rules.check_shifts([_rule_shift(row) for row in rows])
    calendar = session.execute(select(Calendar).where(Calendar.node_id == node_id)
                               .with_for_update()).scalar_one_or_none()
    old = None
    if calendar is None:
        calendar = Calendar(id=uuid.uuid4(), node_id=node_id, name=data["name"], timezone=data["timezone"])
        session.add(calendar)
    else:
        check_version(data.get("version"), calendar.version, "the calendar")
        old = dump_calendar(calendar)
        calendar.shifts.clear()
        tx.flush()   # the old shifts go first; the calendar row changes once, below (one version)
    calendar.name, calendar.timezone, calendar.updated_at = data["name"], data["timezone"], utcnow()
    calendar.shifts.extend(rows)
    tx.flush()
    out = dump_calendar(calendar)
    tx.emit(events.calendar_event_type("changed"), node_id, out)
    tx.audit("set", CALENDAR, node_id, old=old, new=out)
    return calendar


def get_calendar(session, node_id):
    calendar = session.execute(select(Calendar).where(Calendar.node_id == node_id)).scalar_one_or_none()
    if calendar is None:
        raise errors.NotFound(f"node {node_id} has no calendar of its own", {"node_id": str(node_id)})
    return calendar


def _lineage(node):
    """The node's ancestors' ids and its own, top down (its materialized path)."""
    return [uuid.UUID(part) for part in node.path.strip("/").split("/") if part]


def _nearest_calendar(session, lineage):
    """The calendar of the deepest node of `lineage` that has one, or None."""
    calendars = {c.node_id: c for c in session.execute(select(Calendar).where(Calendar.node_id.in_(lineage))).scalars()}
    return next((calendars[i] for i in reversed(lineage) if i in calendars), None)


def effective(session, work_center_id):
    """(the calendar that applies or None, the work center's lineage)."""
    lineage = _lineage(_node(session, work_center_id, ("work_center",), "calendar"))
    return _nearest_calendar(session, lineage), lineage


def _exceptions(session, lineage, start, end=None):
    """Exception intervals of the lineage's nodes overlapping [start, end) (end None: from start on)."""
    stmt = select(CalendarException).where(CalendarException.node_id.in_(lineage), CalendarException.ends_at > start)
    if end is not None:
        stmt = stmt.where(CalendarException.starts_at < end)
    return [(r.starts_at, r.ends_at) for r in session.execute(stmt).scalars()]


def add_exception(tx, caller, node_id, data):
    session = tx.session
    node = _node(session, node_id, CALENDAR_LEVELS, "calendar exceptions")
    if data["date"] is not None and data["starts_at"] is None and data["ends_at"] is None:
        calendar = _nearest_calendar(session, _lineage(node))
        zone = ZoneInfo(calendar.timezone) if calendar else dt.timezone.utc
        last = data["to_date"] or data["date"]
        if last < data["date"]:
            raise errors.RuleViolated("to_date: before date", {"to_date": ["not before date"]})
        starts = dt.datetime.combine(data["date"], dt.time(), tzinfo=zone)
        ends = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    elif data["date"] is None and data["to_date"] is None and data["starts_at"] and data["ends_at"]:
        starts, ends = data["starts_at"], data["ends_at"]
        if ends <= starts:
            raise errors.RuleViolated("ends_at: not after starts_at", {"ends_at": ["after starts_at"]})
    else:
        raise errors.RuleViolated("give either `date` (and `to_date`) or `starts_at` and `ends_at`",
                                  {"date": ["either date or starts_at and ends_at"]})
    row = CalendarException(id=uuid.uuid4(), node_id=node_id, kind=data["kind"], name=data["name"],
                            starts_at=starts, ends_at=ends, created_by=caller.actor)
    session.add(row)
    tx.flush()
    out = exception_out.dump(row)
    tx.emit(events.calendar_event_type("exception_added"), node_id, out)
    tx.audit("add_exception", EXCEPTION, row.id, new=out)
    return out


def list_exceptions(session, node_id, window):
    _check_window(window, days=3660)
    fetch(session, EquipmentNode.id, node_id, "equipment node")
    rows = session.execute(select(CalendarException).where(
        CalendarException.node_id == node_id, CalendarException.starts_at < window["end"],
        CalendarException.ends_at > window["start"]).order_by(CalendarException.starts_at)).scalars()
    return [exception_out.dump(r) for r in rows]


def _check_window(window, days=400):
    if window["end"] <= window["start"]:
        raise errors.RuleViolated("to: not after from", {"to": ["after from"]})
    if window["end"] - window["start"] > dt.timedelta(days=days):
        raise errors.RuleViolated(f"to: more than {days} days after from", {"to": [f"at most {days} days"]})


def planned_time(session, work_center_id, window):
    """Planned busy time of a work center in [from, to): exact seconds and the intervals."""
    _check_window(window)
    calendar, lineage = effective(session, work_center_id)
    start, end = window["start"].astimezone(worktime.UTC), window["end"].astimezone(worktime.UTC)
    exceptions = _exceptions(session, lineage, start, end)
    intervals = worktime.working(_shifts(calendar), calendar and calendar.timezone, exceptions, start, end)
    total = worktime.seconds(intervals)
    return {"work_center_id": work_center_id, "calendar_node_id": calendar and calendar.node_id,
            "timezone": calendar and calendar.timezone, "start": start, "end": end, "seconds": total,
            "minutes": Decimal(total) / 60, "intervals": [{"start": a, "end": b} for a, b in intervals]}


def plan(session, data):
    """[{start, end}] of operations placed one after another, each into its work
    center's working time (continuous time where no calendar applies)."""
    try:
        return _plan(session, data)
    except OverflowError:
        raise errors.RuleViolated("the schedule would end after the year 9999: check the start, the quantity and "
                                  "the standard times", {"start_at": ["schedule out of range"]}) from None


def _plan(session, data):
    at, out, places = data["start_at"].astimezone(worktime.UTC), [], {}
    for op in data["operations"]:
        wc = op["work_center_id"]
        if wc not in places:   # one read per work center: its calendar and every exception from the start on
            calendar, lineage = effective(session, wc)
            places[wc] = (_shifts(calendar), calendar and calendar.timezone, _exceptions(session, lineage, at))
        shifts, timezone, exceptions = places[wc]
        start, end = rules.place(shifts, timezone, exceptions, at, op["minutes"])
        out.append({"start": start, "end": end})
        at = end
    return out


# ------------------------------------------------------------------ equipment states

def report_state(tx, caller, node_id, data):
    """The node's new state from `at`; the open one ends then."""
    session = tx.session
    _node(session, node_id, STATE_LEVELS, "states")
    if data["state"] == "down" and not data["reason"]:
        raise errors.RuleViolated("reason: required when down", {"reason": ["say why it is down"]})
    now = utcnow()
    at = data["at"] or now
    if at > now:
        raise errors.RuleViolated("at: in the future", {"at": ["not after now"]})
    current = session.execute(select(EquipmentState).where(EquipmentState.node_id == node_id,
                                                           EquipmentState.ended_at.is_(None))
                              .with_for_update()).scalar_one_or_none()
    previous = None
    if current is not None:
        if at < current.started_at:
            raise errors.RuleViolated(f"at: before the current state began ({current.started_at.isoformat()})",
                                      {"at": [f"not before {current.started_at.isoformat()}"]})
        current.ended_at = at
        previous = state_out.dump(current)
    row = EquipmentState(id=uuid.uuid4(), node_id=node_id, state=data["state"], reason=data["reason"],
                         started_at=at, reported_by=caller.actor)
    session.add(row)
    tx.flush()
    out = state_out.dump(row)
    tx.emit(events.equipment_state_event_type("changed"), node_id, {**out, "previous": previous})
    tx.audit("report", STATE, row.id, old=previous, new=out)
    return out


def list_states(session, node_id, query):
    fetch(session, EquipmentNode.id, node_id, "equipment node")
    stmt = select(EquipmentState).where(EquipmentState.node_id == node_id)
    if query.get("start") is not None:
        stmt = stmt.where((EquipmentState.ended_at.is_(None)) | (EquipmentState.ended_at > query["start"]))
    if query.get("end") is not None:
        stmt = stmt.where(EquipmentState.started_at < query["end"])
    keys = [(EquipmentState.started_at, paging.time_key), (EquipmentState.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: [state_out.dump(r) for r in rows])
