"""Pure rules of shift calendars: the working intervals of a week pattern in a
time zone, planned busy time over an interval, and placing work into working
time. Instants are aware UTC datetimes; local times are the calendar's (DST
handled by zoneinfo: a shift across a change is as long as the clocks say).
Exact: whole seconds, no floating point."""
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from mes_common import errors

UTC = dt.timezone.utc
WEEK_MINUTES = 7 * 24 * 60
HORIZON_DAYS = 400   # placing work looks this far for working time


@dataclass(frozen=True)
class Shift:
    weekday: int          # 0 = Monday
    starts: dt.time
    ends: dt.time         # not after `starts`: the next day
    breaks: tuple = ()    # ((start, end), ...) local times within the shift


def _minute(t):
    return t.hour * 60 + t.minute


def _span(weekday, starts, ends):
    """The shift as minutes of the week [a, b) (b may pass the week's end)."""
    a = weekday * 24 * 60 + _minute(starts)
    length = (_minute(ends) - _minute(starts)) % (24 * 60) or 24 * 60
    return a, a + length


def check_shifts(shifts):
    """No two shifts overlap (across midnight and the week's end too); each break
    lies inside its shift and breaks do not overlap (422 naming `shifts.<i>...`)."""
    problems = {}
    spans = [_span(s.weekday, s.starts, s.ends) for s in shifts]
    for i, (a, b) in enumerate(spans):
        for j in range(i):
            c, d = spans[j]
            for shift in (0, WEEK_MINUTES, -WEEK_MINUTES):
                if a < d + shift and c + shift < b:
                    problems[f"shifts.{i}"] = [f"overlaps shift {j}"]
        inside = []
        for k, (bs, be) in enumerate(shifts[i].breaks):
            start = a + (_minute(bs) - _minute(shifts[i].starts)) % (24 * 60)
            end = start + ((_minute(be) - _minute(bs)) % (24 * 60))
            if not (a <= start < end <= b):
                problems[f"shifts.{i}.breaks.{k}"] = ["not within the shift"]
            elif any(start < e and s < end for s, e in inside):
                problems[f"shifts.{i}.breaks.{k}"] = ["overlaps another break"]
            inside.append((start, end))
    if problems:
        first = next(iter(problems))
        raise errors.RuleViolated(f"{first}: {problems[first][0]}", problems)


def _local(day, t, zone):
    return dt.datetime.combine(day, t, tzinfo=zone).astimezone(UTC)


def day_intervals(shifts, zone, day):
    """The working intervals of the shifts starting on local `day`, in UTC."""
    out = []
    for s in shifts:
        if s.weekday != day.weekday():
            continue
        end_day = day if _minute(s.ends) > _minute(s.starts) else day + dt.timedelta(days=1)
        pieces = [(_local(day, s.starts, zone), _local(end_day, s.ends, zone))]
        for bs, be in s.breaks:
            b_day = day if _minute(bs) >= _minute(s.starts) else day + dt.timedelta(days=1)
            b_end_day = b_day if _minute(be) > _minute(bs) else b_day + dt.timedelta(days=1)
            pieces = subtract(pieces, [(_local(b_day, bs, zone), _local(b_end_day, be, zone))])
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


def place(shifts, timezone, exceptions, at, minutes):
    """(start, end) of `minutes` of work placed into working time from `at`:
    it starts at the first working instant at or after `at` and runs through
    working time only (`shifts` None: all time but the exceptions). Refused
    when HORIZON_DAYS pass without any working time."""
    needed = dt.timedelta(minutes=float(minutes))
    if shifts is None and not exceptions:
        return at, at + needed
    start, cursor, idle_days = None, at, 0
    while idle_days < HORIZON_DAYS:
        window_end = cursor + dt.timedelta(days=1)
        intervals = working(shifts, timezone, exceptions, cursor, window_end)
        for a, b in intervals:
            if start is None:
                start = a
            if b - a >= needed:
                return start, a + needed
            needed -= b - a
        idle_days = 0 if intervals else idle_days + 1
        cursor = window_end
    raise errors.RuleViolated(f"no working time within {HORIZON_DAYS} days after {cursor.isoformat()} for this "
                              f"work center's calendar ({timezone})", {"calendar": ["no working time"]})
