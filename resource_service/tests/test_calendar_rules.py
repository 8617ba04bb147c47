"""Pure rules of shift calendars: planned busy time against a hand computation,
placing work into working time, overlapping shifts refused."""
import datetime as dt

import pytest

from mes_common import errors
from resource_service.calendars.rules import check_shifts, place
from resource_service.contract.worktime import Shift, seconds, working

pytestmark = pytest.mark.fast

T = dt.time
UTC = dt.timezone.utc
PARIS = "Europe/Paris"
# Monday to Friday: early 06:00-14:00 (break 10:00-10:30), late 14:00-22:00 (break 18:00-18:30)
WEEK = [Shift(d, T(6), T(14), ((T(10), T(10, 30)),)) for d in range(5)] + \
       [Shift(d, T(14), T(22), ((T(18), T(18, 30)),)) for d in range(5)]


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


def test_a_week_with_breaks_a_holiday_and_a_shutdown_equals_the_hand_computation():
    # the week of Monday 2026-12-07 (Paris is UTC+1 in winter)
    start, end = utc(2026, 12, 6, 23), utc(2026, 12, 13, 23)          # local Mon 00:00 .. next Mon 00:00
    holiday = (utc(2026, 12, 8, 23), utc(2026, 12, 9, 23))             # local Wednesday, whole day
    shutdown = (utc(2026, 12, 11, 12), utc(2026, 12, 11, 14))          # Friday 13:00-15:00 local
    got = working(WEEK, PARIS, [holiday, shutdown], start, end)
    # by hand: 5 days × 2 shifts × 7.5 h = 75 h; minus Wednesday 15 h; minus the shutdown 2 h
    assert seconds(got) == (75 - 15 - 2) * 3600
    assert got[0] == (utc(2026, 12, 7, 5), utc(2026, 12, 7, 9))       # Monday 06:00-10:00 local


def test_a_night_shift_runs_into_the_next_day_and_across_a_clock_change():
    night = [Shift(5, T(22), T(6))]                                      # Saturday 22:00 to Sunday 06:00
    # 2026-03-28 is a Saturday; Paris moves to summer time at 02:00 on Sunday 29 March: 7 hours
    got = working(night, PARIS, [], utc(2026, 3, 28), utc(2026, 3, 30))
    assert seconds(got) == 7 * 3600


def test_a_window_clips_the_shifts_it_cuts():
    got = working(WEEK, PARIS, [], utc(2026, 12, 7, 8), utc(2026, 12, 7, 9, 45))   # local 09:00 .. 10:45
    assert seconds(got) == 60 * 60 + 15 * 60                                       # 09:00-10:00, 10:30-10:45


def test_work_is_placed_into_working_time_only():
    # Friday 21:00 local with 90 minutes of work: 60 today, then Monday 06:00-06:30
    start, end = place(WEEK, PARIS, [], utc(2026, 12, 11, 20), 90)
    assert (start, end) == (utc(2026, 12, 11, 20), utc(2026, 12, 14, 5, 30))
    # from a Saturday it starts on Monday's first shift; a break is skipped
    start, end = place(WEEK, PARIS, [], utc(2026, 12, 12, 9), 255)                 # 4 h 15
    assert (start, end) == (utc(2026, 12, 14, 5), utc(2026, 12, 14, 9, 45))
    assert place(None, None, [], utc(2026, 12, 12, 9), 30) == (utc(2026, 12, 12, 9), utc(2026, 12, 12, 9, 30))


def test_without_a_calendar_a_shutdown_still_stops_the_work_and_an_empty_calendar_never_works():
    shutdown = [(utc(2026, 12, 12, 9, 10), utc(2026, 12, 12, 12))]
    # all time works but the shutdown: 10 minutes before it, 20 after (planned time says the same)
    assert place(None, None, shutdown, utc(2026, 12, 12, 9), 30) == (utc(2026, 12, 12, 9), utc(2026, 12, 12, 12, 20))
    assert seconds(working(None, None, shutdown, utc(2026, 12, 12, 9), utc(2026, 12, 12, 13))) == 2 * 3600 - 50 * 60
    with pytest.raises(errors.RuleViolated) as never:
        place([], PARIS, [], utc(2026, 12, 12, 9), 30)
    assert never.value.details == {"calendar": ["no working time"]}


def test_work_longer_than_the_horizon_still_finds_its_end():
    start, end = place(WEEK, PARIS, [], utc(2026, 12, 7, 5), 600 * 60 * 15)   # 15 h a day × 5 days: 120 weeks
    assert start == utc(2026, 12, 7, 5) and end > start + dt.timedelta(days=800)


@pytest.mark.parametrize("shifts, field", [
    ([Shift(0, T(6), T(14)), Shift(0, T(13), T(20))], "shifts.1"),
    ([Shift(6, T(22), T(6)), Shift(0, T(5), T(8))], "shifts.1"),             # Sunday night into Monday morning
    ([Shift(0, T(6), T(14), ((T(15), T(15, 30)),))], "shifts.0.breaks.0"),
    ([Shift(0, T(6), T(14), ((T(9), T(10)), (T(9, 30), T(9, 45))))], "shifts.0.breaks.1"),
])
def test_overlapping_shifts_and_stray_breaks_are_refused_naming_them(shifts, field):
    with pytest.raises(errors.RuleViolated) as refused:
        check_shifts(shifts)
    assert field in refused.value.details
