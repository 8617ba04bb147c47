"""Reporting rules alone: the time model, ISO 22400 KPIs exactly, periods,
Paretos and the alert hysteresis."""
import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from reporting_service import domain
from reporting_service.contract import KPIS
from resource_service.contract import worktime

UTC = dt.timezone.utc
DAY = dt.date(2026, 12, 1)   # a Tuesday


def t(hh_mm, day=DAY):
    h, m = (int(x) for x in hh_mm.split(":"))
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=UTC)


def shift_facts():
    shifts = worktime.shifts_of({"shifts": [{"weekday": d, "name": "early", "starts": "06:00", "ends": "14:00",
                                             "breaks": [{"starts": "10:00", "ends": "10:30"}]} for d in range(5)]})
    return domain.WorkCenterFacts(
        created_at=t("00:00", dt.date(2026, 11, 1)),
        calendars=[domain.CalendarVersion(t("00:00", dt.date(2026, 11, 30)), "UTC", shifts)],
        runs=[(t("06:00"), t("10:00")), (t("10:30"), t("14:00"))], spans=[(t("06:00"), t("14:00"))],
        downtimes=[(t("07:00"), t("07:30")), (t("12:00"), t("12:15"))], setups=[(t("05:45"), t("06:00"))],
        reports=[(t("09:00"), Decimal(120), Decimal(5), Decimal(1), Decimal(54)),
                 (t("11:45"), Decimal(120), Decimal(6), Decimal(2), Decimal(54)),
                 (t("13:59"), Decimal(121), Decimal(4), Decimal(1), Decimal(54))])


def day_total(facts):
    hours = domain.hours_between(t("00:00"), t("00:00", DAY + dt.timedelta(days=1)))
    total = {}
    for row in domain.buckets(facts, hours, t("00:00", DAY + dt.timedelta(days=7))).values():
        for key, value in row.items():
            total[key] = total.get(key, 0) + value
    return total


def test_the_hand_worked_shift_gives_the_iso_kpis_exactly():
    """480 min shift, 30 min break, 45 min downtime in two reasons, 380 made at
    0.9 min a unit, 361 good: every KPI from the ISO formulas, exactly."""
    c = day_total(shift_facts())
    pbt, apt = Fraction(480 - 30) * 60, Fraction(480 - 30 - 45) * 60
    pq, gq, sq, rq = 380, 361, 15, 4
    pri = Fraction(9, 10) * 60
    assert (c["PBT"], c["APT"], c["ADET"], c["AUBT"], c["AUST"]) == (pbt, apt, 45 * 60, 480 * 60, 15 * 60)
    assert (c["PQ"], c["GQ"], c["SQ"], c["RQ"], c["PRI_PQ"]) == (pq, gq, sq, rq, pri * pq)
    availability, effectiveness, quality = apt / pbt, pri * pq / apt, Fraction(gq, pq)
    expected = {"availability": availability, "effectiveness": effectiveness, "quality_ratio": quality,
                "oee_index": availability * effectiveness * quality, "scrap_ratio": Fraction(sq, pq),
                "rework_ratio": Fraction(rq, pq), "throughput_rate": Fraction(pq) / (480 * 60) * 3600,
                "setup_rate": Fraction(15, 405 + 15), "allocation_efficiency": Fraction(480, 450)}
    for formula, value in expected.items():
        assert domain.kpi_fraction(formula, c) == value, formula
    assert availability == Fraction(9, 10) and quality == Fraction(19, 20)
    assert effectiveness == Fraction(38, 45) and expected["oee_index"] == Fraction(361, 500)
    shown = domain.kpi_value({"formula": "oee_index", "decimals": 1, "bands": [
        {"colour": "red", "below": "0.65"}, {"colour": "green", "from": "0.85"}]}, c)
    assert shown == {"value": "0.7220000000", "exact": "361/500", "display": "72.2 %", "band": "amber"}
    effective = domain.kpi_value({"formula": "effectiveness", "decimals": 2, "bands": []}, c)
    assert (effective["exact"], effective["value"], effective["display"]) == ("38/45", "0.8444444444", "84.44 %")


def test_the_shift_pieces_of_an_hour_and_the_time_outside_shifts():
    rows = domain.buckets(shift_facts(), domain.hours_between(t("05:00"), t("15:00")),
                          t("00:00", DAY + dt.timedelta(days=1)))
    assert rows[(t("05:00"), "")]["AUST"] == 15 * 60 and rows[(t("05:00"), "")]["PBT"] == 0
    assert rows[(t("10:00"), "2026-12-01 early")]["PBT"] == 30 * 60
    assert (t("14:00"), "") not in rows   # nothing happened after the shift


def test_a_bucket_does_not_depend_on_the_order_of_its_facts():
    facts, rng = shift_facts(), random.Random(7)
    hours = domain.hours_between(t("05:00"), t("15:00"))
    now = t("00:00", DAY + dt.timedelta(days=1))
    expected = domain.buckets(facts, hours, now)
    for _ in range(5):
        for name in ("runs", "spans", "downtimes", "setups", "reports"):
            rng.shuffle(getattr(facts, name))
        assert domain.buckets(facts, rng.sample(hours, len(hours)), now) == expected


def test_an_operations_clock_from_its_marks_in_any_order():
    marks = [(t("06:00"), "start"), (t("10:00"), "stop"), (t("10:30"), "start"), (t("14:00"), "stop")]
    expected = ([(t("06:00"), t("10:00")), (t("10:30"), t("14:00"))], [(t("06:00"), t("14:00"))])
    for _ in range(10):
        random.shuffle(marks)
        assert domain.operation_intervals(marks + marks[:1]) == expected   # a duplicated mark too
    assert domain.operation_intervals([(t("06:00"), "start")]) == ([(t("06:00"), None)], [(t("06:00"), None)])
    # a stop before any start (a pause whose start is not here yet) ends nothing
    assert domain.operation_intervals([(t("05:00"), "stop"), (t("06:00"), "start"), (t("07:00"), "stop")]) == (
        [(t("06:00"), t("07:00"))], [(t("06:00"), t("07:00"))])


def test_a_calendar_counts_from_when_it_was_set_and_the_deepest_node_wins():
    early = domain.CalendarVersion(t("00:00", dt.date(2026, 11, 1)), "UTC", worktime.shifts_of({"shifts": []}))
    site, wc = "site", "wc"
    later = domain.CalendarVersion(t("12:00"), "Europe/Paris", [])
    own = domain.CalendarVersion(t("13:00"), "UTC", [])
    chosen = domain.effective_calendars([site, wc], {site: [early, later], wc: [own]})
    assert [(c.valid_from, c.timezone) for c in chosen] == [(early.valid_from, "UTC"), (t("12:00"), "Europe/Paris"),
                                                           (t("13:00"), "UTC")]


def test_periods_are_local_days_weeks_and_months():
    paris = ZoneInfo("Europe/Paris")
    start, end = dt.datetime(2026, 10, 24, 22, tzinfo=UTC), dt.datetime(2026, 11, 2, 23, tzinfo=UTC)
    days = domain.periods(start, end, "day", paris)
    assert days[0][2] == "2026-10-25" and days[1][0] - days[0][0] == dt.timedelta(hours=25)   # the clocks went back
    weeks = domain.periods(start, end, "week", paris)
    assert [w[2] for w in weeks] == ["2026-W43", "2026-W44", "2026-W45"]
    months = domain.periods(start, end, "month", paris)
    assert [(m[2], m[0]) for m in months] == [("2026-10", start), ("2026-11", dt.datetime(2026, 10, 31, 23,
                                                                                          tzinfo=UTC))]


def test_a_pareto_sorts_and_accumulates():
    answer = domain.pareto({"JAM": Decimal(30), "TOOL": Decimal(15), "AIR": Decimal(5)}, "Downtime", "min")
    assert [(i["key"], i["value"], i["cumulative"]) for i in answer["items"]] == [
        ("JAM", "30", "0.6000000000"), ("TOOL", "15", "0.9000000000"), ("AIR", "5", "1.0000000000")]
    assert answer["total"] == "50"


def test_an_alert_raises_once_and_clears_once_with_hysteresis():
    series = [0.70, 0.62, 0.59, 0.61, 0.595, 0.605, 0.58, 0.63, 0.64, 0.66, 0.64, 0.59]
    raised, moves = False, []
    for value in series:
        move = domain.alert_transition(raised, Fraction(str(value)), "below", Decimal("0.60"), Decimal("0.05"))
        if move:
            moves.append((move, value))
            raised = move == "raise"
    assert moves == [("raise", 0.59), ("clear", 0.66), ("raise", 0.59)]
    flapping = [domain.alert_transition(False, Fraction(str(v)), "below", Decimal("0.60"), Decimal("0"))
                for v in (0.61, 0.60)]
    assert flapping == [None, None]
    assert domain.alert_transition(True, None, "below", Decimal("0.6"), Decimal(0)) is None


def test_every_kpi_has_its_components_in_the_catalogue():
    from reporting_service.contract import COMPONENTS
    for key, kpi in KPIS.items():
        assert set(kpi.numerator + kpi.denominator) <= set(COMPONENTS), key


def test_every_consumed_type_has_its_projection():
    from reporting_service import projections
    from reporting_service.contract import CONSUMES
    assert set(projections.projects.by_type) == set(CONSUMES)
