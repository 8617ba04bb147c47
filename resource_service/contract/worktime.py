"""How a shift calendar (CalendarOut) reads as working time: the resource
service's rule, which every service that counts planned time (reporting's
planned busy time) applies the same way. Instants are aware UTC datetimes;
local times are the calendar's (DST handled by zoneinfo: a shift across a
change is as long as the clocks say). Exact: whole seconds, no floating point."""
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Shift:
    weekday: int          # 0 = Monday
    starts: dt.time
    ends: dt.time         # not after `starts`: the next day
    breaks: tuple = ()    # ((start, end), ...) local times within the shift
    name: str = ""


def minute(t):
    return t.hour * 60 + t.minute


def shifts_of(calendar):
    """The Shifts of a CalendarOut (its `shifts`: one per weekday, times "HH:MM")."""
    def time(text):
        return dt.time.fromisoformat(text)
    return [Shift(s["weekday"], time(s["starts"]), time(s["ends"]),
                  tuple((time(b["starts"]), time(b["ends"])) for b in s["breaks"]), s["name"])
            for s in calendar["shifts"]]


def local(day, t, zone):
    return dt.datetime.combine(day, t, tzinfo=zone).astimezone(UTC)


def day_intervals(shifts, zone, day):
    """The working intervals of the shifts starting on local `day`, in UTC."""
    out = []
    for s in shifts:
        if s.weekday != day.weekday():
            continue
        end_day = day if minute(s.ends) > minute(s.starts) else day + dt.timedelta(days=1)
        pieces = [(local(day, s.starts, zone), local(end_day, s.ends, zone))]
        for bs, be in s.breaks:
            b_day = day if minute(bs) >= minute(s.starts) else day + dt.timedelta(days=1)
            b_end_day = b_day if minute(be) > minute(bs) else b_day + dt.timedelta(days=1)
            pieces = subtract(pieces, [(local(b_day, bs, zone), local(b_end_day, be, zone))])
        out += pieces
    return sorted(out)


def subtract(intervals, holes):
    """`intervals` minus `holes` (both [(start, end)])."""
    out = []
    for start, end in intervals:
        pieces = [(start, end)]
        for hs, he in holes:
            pieces = [p for a, b in pieces for p in ((a, min(b, hs)), (max(a, he), b)) if p[0] < p[1]]
        out += pieces
    return out


def working(shifts, timezone, exceptions, start, end):
    """Working intervals in [start, end): the shifts minus their breaks and
    minus `exceptions` ([(start, end)] UTC), clipped. `shifts` None: no
    calendar applies, all time works but the exceptions."""
    if shifts is None:
        return subtract([(start, end)], exceptions)
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date() - dt.timedelta(days=1)   # a shift of the day before may run into `start`
    last = end.astimezone(zone).date()
    out = []
    while day <= last:
        out += [(max(a, start), min(b, end)) for a, b in day_intervals(shifts, zone, day) if a < end and b > start]
        day += dt.timedelta(days=1)
    return subtract(sorted(out), exceptions)


def seconds(intervals):
    return sum(int((b - a).total_seconds()) for a, b in intervals)


def shift_instances(shifts, timezone, start, end):
    """[(label, shift start, shift end, [working intervals])] of the shifts that
    overlap [start, end): each instance of a shift is labelled by its local
    start day and name ("2026-12-07 early"), its working intervals (breaks
    left out) clipped to [start, end)."""
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date()
    out = []
    while day <= last:
        for shift in shifts:
            if shift.weekday != day.weekday():
                continue
            pieces = day_intervals([shift], zone, day)
            if not pieces or pieces[0][0] >= end or pieces[-1][1] <= start:
                continue
            end_day = day if minute(shift.ends) > minute(shift.starts) else day + dt.timedelta(days=1)
            clipped = [(max(a, start), min(b, end)) for a, b in pieces if a < end and b > start]
            out.append((f"{day.isoformat()} {shift.name}".rstrip(), local(day, shift.starts, zone),
                        local(end_day, shift.ends, zone), clipped))
        day += dt.timedelta(days=1)
    return sorted(out, key=lambda instance: instance[1])
