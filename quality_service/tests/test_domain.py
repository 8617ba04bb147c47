"""Quality rules without infrastructure: Z1.4 sampling and switching, units, verdicts."""
from decimal import Decimal

import pytest

from mes_common import errors
from quality_service.inspections import rules, sampling

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("lot_size, level, letter", [
    (8, "II", "A"), (9, "II", "B"), (1000, "II", "J"), (1200, "II", "J"), (1201, "II", "K"), (2400, "II", "K"),
    (5000, "II", "L"), (1000, "I", "G"), (1000, "III", "K"), (1000, "S-1", "C"), (600_000, "III", "R")])
def test_code_letters_follow_table_i(lot_size, level, letter):
    assert sampling.code_letter(lot_size, level) == letter


@pytest.mark.parametrize("lot_size, aql, plan", [
    # published cells of Table II-A (normal): lot 1000 -> J (80); 2400 -> K (125); 5000 -> L (200)
    (1000, "0.65", (80, 1, 2)), (1000, "1.0", (80, 2, 3)), (1000, "2.5", (80, 5, 6)), (1000, "4.0", (80, 7, 8)),
    (1000, "6.5", (80, 10, 11)), (2400, "2.5", (125, 7, 8)), (5000, "2.5", (200, 10, 11)),
    (5000, "1.0", (200, 5, 6)), (5000, "4.0", (200, 14, 15)),
    # arrows: J at 0.40 points down to K's 1/2 (125 samples); J at 0.25 up to H's 0/1 (50)
    (1000, "0.40", (125, 1, 2)), (1000, "0.25", (50, 0, 1)), (1000, "0.15", (80, 0, 1)),
])
def test_normal_plans(lot_size, aql, plan):
    found = sampling.aql_plan(lot_size, aql)
    assert (found.sample_size, found.accept, found.reject) == plan and found.severity == "normal"


def test_tightened_and_reduced_plans():
    assert sampling.aql_plan(1000, "2.5", severity="tightened")[:3] == (80, 3, 4)
    assert sampling.aql_plan(1000, "6.5", severity="tightened")[:3] == (80, 8, 9)
    assert sampling.aql_plan(1000, "2.5", severity="reduced")[:3] == (32, 2, 3)   # G's normal plan, 2 letters up
    # AQL 0.010 tightened needs the letter S (3150) that only Table II-B has
    assert sampling.aql_plan(100_000, "0.010", severity="tightened")[:3] == (3150, 0, 1)


def test_a_sample_as_large_as_the_lot_is_every_unit():
    plan = sampling.aql_plan(5, "6.5", severity="tightened")
    assert plan.sample_size == 5 and plan.accept == 0


def test_other_methods():
    assert sampling.plan_for({"method": "all"}, 40)[:3] == (40, 0, 1)
    assert sampling.plan_for({"method": "first_piece"}, 40)[:3] == (1, 0, 1)
    assert sampling.plan_for({"method": "every_nth", "n": 10}, 45)[:3] == (5, 0, 1)
    with pytest.raises(errors.ValidationFailed) as exc:
        sampling.aql_plan(100, "3.0")
    assert "aql" in exc.value.details


def test_switching_normal_to_tightened_and_back():
    plan = sampling.Plan(80, 5, 6)
    state = sampling.SwitchingState()
    for accepted in (True, False, True):
        state = sampling.switch(state, accepted, plan)
    assert state.severity == "normal"
    state = sampling.switch(state, False, plan)   # 2 of the last 5 not accepted
    assert state.severity == "tightened" and state.recent == []
    for _ in range(4):
        state = sampling.switch(state, True, plan)
    assert state.severity == "tightened"
    assert sampling.switch(state, True, plan).severity == "normal"   # 5 accepted in a row


def test_five_lots_rejected_on_tightened_discontinue():
    state, plan = sampling.SwitchingState("tightened"), sampling.Plan(80, 3, 4)
    for _ in range(5):
        state = sampling.switch(state, False, plan)
    assert state.discontinued and state.rejected_on_tightened == 5


def test_switching_score_reaches_reduced_only_when_allowed():
    plan, state = sampling.Plan(80, 5, 6), sampling.SwitchingState()
    for _ in range(10):   # Ac >= 2: +3 each lot that would have passed one AQL step tighter
        state = sampling.switch(state, True, plan, tighter_accept=True)
    assert state.severity == "normal" and state.score == 30
    assert sampling.switch(state, True, plan, tighter_accept=True, reduced_allowed=True).severity == "reduced"
    assert sampling.switch(state, True, plan, tighter_accept=False).score == 0   # accepted, not at the tighter AQL
    reduced = sampling.SwitchingState("reduced")
    assert sampling.switch(reduced, False, plan).severity == "normal"


def test_values_convert_exactly_or_are_refused_naming_the_field():
    assert rules.convert(Decimal("1.0000"), "inch", "mm") == Decimal("25.4")
    assert rules.convert(Decimal("68"), "degF", "degC") == Decimal("20")
    with pytest.raises(errors.RuleViolated) as exc:
        rules.convert(Decimal("1"), "kg", "mm", "results.0.unit")
    assert exc.value.details == {"results.0.unit": ["kg does not convert to mm"]}
    with pytest.raises(errors.RuleViolated) as exc:
        rules.check_unit("furlongz", "characteristics.0.unit")
    assert "characteristics.0.unit" in exc.value.details


def test_limits_are_inclusive_and_one_sided_limits_work():
    lower, upper = rules.limits(Decimal("10"), Decimal("-0.05"), Decimal("0.05"))
    assert (lower, upper) == (Decimal("9.95"), Decimal("10.05"))
    assert rules.in_tolerance(Decimal("10.05"), lower, upper) and not rules.in_tolerance(Decimal("10.0501"), lower,
                                                                                          upper)
    assert rules.in_tolerance(Decimal("99"), *rules.limits(Decimal("10"), Decimal("-1"), None))


def test_verdicts_are_computed():
    assert rules.verdict(5, 3, 0, 0, 1) is None
    assert rules.verdict(5, 3, 1, 0, 1) == "fail"          # reached the reject number before the end
    assert rules.verdict(80, 80, 5, 5, 6) == "pass"
    assert rules.outcome(["pass", None]) is None
    assert rules.outcome(["pass", "fail"]) == "failed" and rules.outcome(["pass"]) == "passed"
    assert rules.gauge_fits("Micrometer", "micrometer 0-25 mm") and not rules.gauge_fits("caliper", "micrometer")
