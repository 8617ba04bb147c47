"""The pure rules of qualifications: expiry dates and shortfalls on a given day."""
import datetime as dt

import pytest

from mes_common import errors
from resource_service.qualifications.rules import Held, Requirement, check_requirements, expiry, shortfalls, status_on

pytestmark = pytest.mark.fast

DAY = dt.date(2026, 12, 6)


def test_expiry_is_the_interval_at_the_latest():
    assert expiry(DAY, 365) == dt.date(2027, 12, 6)
    assert expiry(DAY, 365, dt.date(2027, 6, 1)) == dt.date(2027, 6, 1)
    assert expiry(DAY, None) is None
    assert expiry(DAY, None, dt.date(2030, 1, 1)) == dt.date(2030, 1, 1)
    with pytest.raises(errors.RuleViolated) as late:
        expiry(DAY, 365, dt.date(2027, 12, 7))
    assert "2027-12-06" in late.value.details["expires_on"][0]
    with pytest.raises(errors.RuleViolated):
        expiry(DAY, None, DAY)   # not after the certification


def test_a_qualification_is_valid_through_its_last_day():
    held = {"TQ": Held("TQ", 2, "qualified", DAY)}
    need = [Requirement("TQ", 2)]
    assert shortfalls(need, held, DAY) == []
    [late] = shortfalls(need, held, DAY + dt.timedelta(days=1))
    assert (late["problem"], late["expired_on"]) == ("expired", DAY)


def test_each_requirement_not_met_is_named_once():
    held = {"TQ": Held("TQ", 1, "trainee", None), "CR": Held("CR", 3, "trainer", None)}
    found = shortfalls([Requirement("TQ", 2), Requirement("CR", 1), Requirement("WD", 1)], held, DAY)
    assert [(f["skill"], f["problem"], f["level_required"]) for f in found] == [
        ("TQ", "below_level", 2), ("WD", "not_qualified", 1)]
    assert found[0]["message"] == "TQ level 1 (trainee) held, level 2 needed"


def test_validity_on_a_day():
    assert status_on(None, DAY) == "valid"
    assert status_on(DAY + dt.timedelta(days=30), DAY, 30) == "valid"
    assert status_on(DAY + dt.timedelta(days=29), DAY, 30) == "expiring"
    assert status_on(DAY - dt.timedelta(days=1), DAY) == "expired"


def test_operation_requirements_name_the_operation_and_the_requirement():
    skills = {"TQ": (3, True), "OLD": (1, False)}
    with pytest.raises(errors.RuleViolated) as refused:
        check_requirements([[{"skill": "TQ", "min_level": 1}],
                            [{"skill": "TQ", "min_level": 4}, {"skill": "OLD", "min_level": 1},
                             {"skill": "TQ", "min_level": 1}]], skills)
    assert refused.value.details == {"operations.1.required_skills.0.min_level": ["TQ has 3 level(s)"],
                                     "operations.1.required_skills.1.skill": ["skill OLD is inactive"],
                                     "operations.1.required_skills.2.skill": ["TQ is required twice"]}
