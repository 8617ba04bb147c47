"""Pure rules of shift calendars: checking a week pattern and placing work into
working time. What a calendar's working time is (intervals, planned busy time)
is the contract's (resource_service.contract.worktime), shared with reporting."""
import datetime as dt

from mes_common import errors
from resource_service.contract.worktime import minute, working

WEEK_MINUTES = 7 * 24 * 60
HORIZON_DAYS = 400   # placing work looks this far for working time


def _span(weekday, starts, ends):
    """The shift as minutes of the week [a, b) (b may pass the week's end)."""
    a = weekday * 24 * 60 + minute(starts)
    length = (minute(ends) - minute(starts)) % (24 * 60) or 24 * 60
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
            start = a + (minute(bs) - minute(shifts[i].starts)) % (24 * 60)
            end = start + ((minute(be) - minute(bs)) % (24 * 60))
            if not (a <= start < end <= b):
                problems[f"shifts.{i}.breaks.{k}"] = ["not within the shift"]
            elif any(start < e and s < end for s, e in inside):
                problems[f"shifts.{i}.breaks.{k}"] = ["overlaps another break"]
            inside.append((start, end))
    if problems:
        first = next(iter(problems))
        raise errors.RuleViolated(f"{first}: {problems[first][0]}", problems)


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
