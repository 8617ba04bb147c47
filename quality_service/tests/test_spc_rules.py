"""SPC without infrastructure: chart factors, limits, run rules, capability."""
import math
import statistics

import pytest

from quality_service.contract import plans as plan_contract
from quality_service.spc import capability, charts, factors, run_rules

pytestmark = pytest.mark.fast

# Montgomery, Introduction to Statistical Quality Control, appendix VI (rounded as printed)
TABLE = {  # n: d2, d3, c4, A2, D4, A3, B4
    2: (1.128, 0.853, 0.7979, 1.880, 3.267, 2.659, 3.267),
    3: (1.693, 0.888, 0.8862, 1.023, 2.574, 1.954, 2.568),
    4: (2.059, 0.880, 0.9213, 0.729, 2.282, 1.628, 2.266),
    5: (2.326, 0.864, 0.9400, 0.577, 2.114, 1.427, 2.089),
    6: (2.534, 0.848, 0.9515, 0.483, 2.004, 1.287, 1.970),
    7: (2.704, 0.833, 0.9594, 0.419, 1.924, 1.182, 1.882),
    8: (2.847, 0.820, 0.9650, 0.373, 1.864, 1.099, 1.815),
    9: (2.970, 0.808, 0.9693, 0.337, 1.816, 1.032, 1.761),
    10: (3.078, 0.797, 0.9727, 0.308, 1.777, 0.975, 1.716),
    25: (3.931, 0.708, 0.9896, 0.153, 1.541, 0.606, 1.435),
}


@pytest.mark.parametrize("n", sorted(TABLE))
def test_computed_factors_round_to_the_printed_table(n):
    d2, d3, c4, a2, d4, a3, b4 = TABLE[n]
    assert round(factors.d2(n), 3) == d2 and round(factors.d3(n), 3) == d3 and round(factors.c4(n), 4) == c4
    # the printed A2, D4, A3, B4 come from the rounded d2, d3, c4: a unit of their last place apart at most
    last_place = 1.01e-3
    assert 3 / (factors.d2(n) * math.sqrt(n)) == pytest.approx(a2, abs=last_place)
    assert 1 + 3 * factors.d3(n) / factors.d2(n) == pytest.approx(d4, abs=last_place)
    assert 3 / (factors.c4(n) * math.sqrt(n)) == pytest.approx(a3, abs=last_place)
    assert 1 + 3 * math.sqrt(1 - factors.c4(n) ** 2) / factors.c4(n) == pytest.approx(b4, abs=last_place)


def test_the_rule_sets_are_the_contracts():
    assert set(run_rules.RULE_SETS) == set(plan_contract.RULE_SETS)


# A background that breaks no rule of either set; each pattern is put in the middle of it.
CALM = [-0.3, 0.5, 1.2, -1.1, 0.2, 0.8, -1.3, 0.4, -0.6] * 3
PATTERNS = {
    "nelson_1": [3.5],
    "nelson_2": [0.5, 0.3, 0.7, 1.1, 0.2, 0.6, 0.4, 0.9, 0.3],
    "nelson_3": [-0.9, -0.6, -0.2, 0.1, 0.5, 0.9],
    "nelson_4": [0.6, -0.5, 1.5, -0.6, 0.5, -1.4, 0.6, -0.5, 1.4, -0.6, 0.5, -1.5, 0.4, -0.5],
    "nelson_5": [2.4, 0.3, 2.6],
    "nelson_6": [1.5, 1.2, -0.3, 1.4, 1.6],
    "nelson_7": [0.3, -0.2, -0.5, 0.6, 0.1, 0.4, -0.3, -0.6, 0.2, 0.7, -0.1, -0.4, 0.5, 0.2, -0.7],
    "nelson_8": [1.5, -1.4, -1.6, 1.3, 1.7, -1.2, -1.5, 1.4],
    "we_1": [-3.2],
    "we_2": [-2.4, -0.3, -2.2],
    "we_3": [-1.5, -1.2, 0.3, -1.4, -1.6],
    "we_4": [0.5, 0.3, 0.7, 1.1, 0.2, 0.6, 0.4, 0.9],
}


def test_the_background_breaks_no_rule():
    assert run_rules.evaluate(CALM * 2, "nelson") == {} and run_rules.evaluate(CALM * 2, "western_electric") == {}


@pytest.mark.parametrize("rule", sorted(PATTERNS))
def test_a_crafted_series_is_flagged_by_exactly_its_rule(rule):
    rule_set = "nelson" if rule.startswith("nelson") else "western_electric"
    z = CALM + PATTERNS[rule] + CALM
    found = run_rules.evaluate(z, rule_set)
    assert set(found) == {rule}
    completed = len(CALM) + len(PATTERNS[rule]) - 1
    assert completed in found[rule].tolist()   # the point that completes the pattern is flagged


def test_eight_on_one_side_is_not_yet_nine():
    z = CALM + PATTERNS["we_4"] + CALM
    assert "nelson_2" not in run_rules.evaluate(z, "nelson")
    assert "we_4" in run_rules.evaluate(z, "western_electric")


def test_rules_are_judged_against_the_limits_of_the_chart():
    series = charts.individual_series([f"k{i}" for i in range(3)], [10.0, 10.0, 10.4])
    limits = {"location": {"centre": 10.0, "lcl": 9.7, "ucl": 10.3, "sigma": 0.1},
              "dispersion": {"centre": 0.1, "lcl": 0.0, "ucl": 0.3, "sigma": 0.1}, "sigma_within": 0.1}
    assert charts.violations(series, limits, "nelson") == [(2, "mr", "mr_beyond_limits"), (2, "x", "nelson_1")]


DATA = [10.012, 9.987, 10.021, 10.003, 9.972, 10.031, 10.008, 9.994, 10.017, 10.002,
        9.981, 10.026, 10.011, 9.996, 10.004, 10.019, 9.989, 10.007, 10.013, 9.998]
LSL, USL = 9.95, 10.06


def test_imr_limits_and_cpk_match_a_hand_computation():
    moving = [abs(b - a) for a, b in zip(DATA, DATA[1:])]
    mean, mr_bar = sum(DATA) / len(DATA), sum(moving) / len(moving)
    sigma = mr_bar / (2 / math.sqrt(math.pi))   # d2(2) = 2 / sqrt(pi)
    cpk = min(USL - mean, mean - LSL) / (3 * sigma)
    overall = statistics.stdev(DATA)

    series = charts.individual_series(range(len(DATA)), DATA)
    limits = charts.compute_limits(series, 1)
    assert limits["location"]["ucl"] == pytest.approx(mean + 3 * sigma, abs=1e-12)
    found = capability.capability(series.values, LSL, USL, limits["sigma_within"])
    assert abs(found["cpk"] - cpk) < 1e-9
    assert abs(found["cp"] - (USL - LSL) / (6 * sigma)) < 1e-9
    assert abs(found["ppk"] - min(USL - mean, mean - LSL) / (3 * overall)) < 1e-9
    assert found["count"] == 20


def test_xbar_s_limits_and_cpk_match_a_hand_computation():
    groups = [DATA[i:i + 4] for i in range(0, 20, 4)]
    c4 = math.sqrt(2 / 3) * math.gamma(2) / math.gamma(1.5)   # n = 4
    s_bar = sum(statistics.stdev(g) for g in groups) / len(groups)
    grand = sum(statistics.fmean(g) for g in groups) / len(groups)
    sigma = s_bar / c4

    series = charts.subgroup_series(charts.XBAR_S, range(5), groups)
    limits = charts.compute_limits(series, 4)
    assert abs(limits["location"]["ucl"] - (grand + 3 * sigma / 2)) < 1e-12
    assert abs(limits["dispersion"]["ucl"] - s_bar * (1 + 3 * math.sqrt(1 - c4 ** 2) / c4)) < 1e-12
    found = capability.capability(series.values, LSL, USL, limits["sigma_within"])
    assert abs(found["cpk"] - min(USL - grand, grand - LSL) / (3 * sigma)) < 1e-9


def test_xbar_r_limits():
    groups = [DATA[i:i + 5] for i in range(0, 20, 5)]
    r_bar = sum(max(g) - min(g) for g in groups) / 4
    grand = sum(DATA) / 20
    limits = charts.compute_limits(charts.subgroup_series(charts.XBAR_R, range(4), groups), 5)
    assert limits["location"]["ucl"] == pytest.approx(grand + 0.577 * r_bar, rel=1e-3)   # A2(5) as printed
    assert limits["dispersion"]["ucl"] == pytest.approx(2.114 * r_bar, rel=1e-3)          # D4(5)
    assert limits["dispersion"]["lcl"] == 0.0                                              # D3(5) = 0


def test_one_sided_tolerance_has_no_cp():
    found = capability.capability(DATA, None, USL, 0.01)
    assert found["cp"] is None and found["pp"] is None
    assert found["cpk"] == pytest.approx((USL - statistics.fmean(DATA)) / 0.03)


def test_p_limits_follow_each_inspections_size():
    series = charts.proportion_series(["a", "b", "c"], [2, 12, 3], [50, 100, 200])
    limits = charts.compute_limits(series, 1)
    p_bar = 17 / 350
    assert limits["location"]["centre"] == pytest.approx(p_bar)
    sigma, lcl, ucl = charts.point_limits(series, limits)
    assert ucl.tolist() == pytest.approx([p_bar + 3 * math.sqrt(p_bar * (1 - p_bar) / n) for n in (50, 100, 200)])
    assert lcl.tolist()[:2] == [0.0, 0.0] and lcl[2] == pytest.approx(p_bar - 3 * math.sqrt(p_bar * (1 - p_bar) / 200))
    assert [v[2] for v in charts.violations(series, limits, "nelson")] == ["nelson_1"]   # 12 of 100


def test_c_limits_are_poisson():
    series = charts.count_series(list("abcde"), [1, 3, 2, 0, 9])
    limits = charts.compute_limits(series, 1)
    assert limits["location"] == {"centre": 3.0, "lcl": 0.0, "ucl": 3 + 3 * math.sqrt(3), "sigma": math.sqrt(3)}
    assert charts.violations(series, limits, "nelson") == [(4, "c", "nelson_1")]   # 9 > 3 + 3 sqrt(3)
