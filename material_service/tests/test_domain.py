"""The pure material rules, without infrastructure."""
import datetime as dt
from decimal import Decimal as D

import pytest

from material_service import domain
from mes_common import errors

pytestmark = pytest.mark.fast  # no servers: `make test-fast`

DAY = dt.date(2026, 6, 1)


@pytest.mark.parametrize("current,new", [
    ("received", "quarantine"), ("received", "released"), ("received", "rejected"),
    ("quarantine", "released"), ("quarantine", "rejected"),
    ("released", "quarantine"), ("released", "expired"), ("released", "consumed"),
])
def test_allowed_lot_transitions(current, new):
    domain.check_lot_transition("L1", current, new)


@pytest.mark.parametrize("current,new", [
    ("received", "consumed"), ("received", "expired"), ("quarantine", "consumed"), ("released", "received"),
    ("consumed", "released"), ("expired", "released"), ("rejected", "quarantine"), ("released", "released"),
])
def test_refused_lot_transitions_name_the_status(current, new):
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_lot_transition("L1", current, new)
    assert "status" in exc.value.details and "L1" in exc.value.message


def test_final_statuses_say_so():
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_lot_transition("L1", "rejected", "released")
    assert "rejected is final" in exc.value.message


def test_quantities_are_shown_as_people_write_them():
    assert domain.fmt_qty(D("10.000000")) == "10"
    assert domain.fmt_qty(D("2.500000")) == "2.5"
    assert domain.fmt_qty(D("0.000001")) == "0.000001"


def test_on_hand_and_unreserved_checks():
    domain.check_on_hand("L1", D(5), D(5))
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_on_hand("L1", D(5), D("5.5"), "STORES")
    assert exc.value.message == "lot L1: only 5 on hand at STORES, 5.5 requested"
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_unreserved("L1", D(2), D(3))
    assert "only 2 unreserved" in exc.value.message


def test_split_must_sum_to_on_hand():
    domain.check_split("L1", D(10), [D(4), D(6)])
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_split("L1", D(10), [D(4), D(5)])
    assert "children" in exc.value.details and "sum to 9" in exc.value.message


def _lot(number, **changes):
    return {"lot_number": number, "part_id": "P", "status": "released", "heat_number": "H1",
            "expiry_date": DAY, **changes}


def test_merge_compatibility():
    domain.check_merge([_lot("A"), _lot("B")])
    for key, value in [("part_id", "Q"), ("status", "quarantine"), ("heat_number", "H2"), ("expiry_date", None)]:
        with pytest.raises(errors.RuleViolated) as exc:
            domain.check_merge([_lot("A"), _lot("B", **{key: value})])
        assert key.replace("_", " ") in exc.value.message and "lot_ids" in exc.value.details
    with pytest.raises(errors.RuleViolated):
        domain.check_merge([_lot("A", status="rejected"), _lot("B", status="rejected")])
    assert domain.merged_attribute(["x", "x"]) == "x" and domain.merged_attribute(["x", "y"]) is None


def test_serial_pattern_expansion():
    numbers = domain.expand_serial_pattern("SN-{00001..10000}")
    assert len(numbers) == 10_000 and numbers[0] == "SN-00001" and numbers[-1] == "SN-10000"
    assert domain.expand_serial_pattern("A{8..11}B") == ["A8B", "A9B", "A10B", "A11B"]
    assert domain.expand_serial_pattern("X{001..1000}")[0] == "X0001"  # padded to the wider bound
    for bad in ("SN-1", "SN-{5..1}", "{1..2}{3..4}", "SN-{a..b}", "SN-{1..200000}"):
        with pytest.raises(errors.ValidationFailed) as exc:
            domain.expand_serial_pattern(bad)
        assert "pattern" in exc.value.details


def test_serial_counts_and_repeats():
    assert domain.duplicates(["a", "b", "a", "c", "b"]) == ["a", "b"]
    assert domain.output_serial_numbers("WO-000001", 9, 2) == ["WO-000001-0009", "WO-000001-0010"]
    with pytest.raises(errors.RuleViolated):
        domain.check_serial_count(["a"], 2)
    with pytest.raises(errors.ValidationFailed):
        domain.check_serial_count(["a", "a"], 2)
    with pytest.raises(errors.RuleViolated):
        domain.check_whole(D("1.5"))


def _candidate(lot, expiry, received, available, location="L"):
    return domain.Candidate(lot, location, expiry, received, lot, location, D(available))


def test_allocation_is_fefo_then_fifo():
    t = dt.datetime(2026, 1, 1)
    candidates = [
        _candidate("no-expiry-old", None, t, 5),
        _candidate("late", DAY + dt.timedelta(days=30), t, 5),
        _candidate("early-new", DAY, t + dt.timedelta(days=2), 5),
        _candidate("early-old", DAY, t + dt.timedelta(days=1), 5),
    ]
    allocations = domain.allocate(candidates, D(12))
    assert [(a.lot_id, a.quantity) for a in allocations] == [("early-old", 5), ("early-new", 5), ("late", 2)]
    assert [a.lot_id for a in domain.allocate(candidates, D(20))][-1] == "no-expiry-old"
    assert domain.allocate(candidates, D("20.1")) is None


def test_shortage_message_and_details():
    error = domain.short_error("p1", "P-100", D(10), D(7))
    assert error.message == "part P-100 is short by 3 (needs 10, 7 available)"
    assert error.details == {"part_id": "p1", "part_number": "P-100", "required": 10.0, "available": 7.0,
                             "short": 3.0}
    assert domain.shortage("p1", "P-100", D(5), D(7))["short"] == 0.0


def test_consumption_draws_own_reservation_first():
    assert domain.plan_consumption(D(5), D(3), D(10)) == (D(3), D(2))
    assert domain.plan_consumption(D(2), D(3), D(10)) == (D(2), D(0))


def test_bom_lines_refuse_itself_and_overlapping_repeats():
    a = {"part_id": "C", "effective_from": None, "effective_to": dt.date(2026, 1, 31)}
    b = {"part_id": "C", "effective_from": dt.date(2026, 2, 1), "effective_to": None}
    domain.check_bom_lines("P", [a, b])  # a replacement at a date
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_bom_lines("P", [a, {**b, "effective_from": dt.date(2026, 1, 15)}])
    assert "components.1.part_id" in exc.value.details
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_bom_lines("P", [{"part_id": "P", "effective_from": None, "effective_to": None}])
    assert "components.0.part_id" in exc.value.details


def test_cycle_detection_gives_the_path():
    children_of = {"B": {"C"}, "C": {"A"}}
    assert domain.find_cycle("A", ["B"], children_of) == ["A", "B", "C", "A"]
    assert domain.find_cycle("A", ["X"], children_of) is None
    assert domain.find_cycle("A", ["A"], {}) == ["A", "A"]


def test_multi_level_explosion():
    line = lambda part, qty, pos=10: {"part_id": part, "quantity": D(qty), "uom": "ea", "position": pos}
    boms = {"A": [line("S", 2, 20), line("R", 1, 10)], "S": [line("R", 3), line("B", 4, 20)]}
    lines, requirements = domain.explode("A", D(5), boms)
    assert [(l["level"], l["parent_part_id"], l["part_id"], l["quantity"]) for l in lines] == [
        (1, "A", "R", 5), (1, "A", "S", 10), (2, "S", "R", 30), (2, "S", "B", 40)]
    assert {r["part_id"]: r["quantity"] for r in requirements} == {"R": 35, "S": 10, "B": 40}
    lines, requirements = domain.explode("A", D(5), boms, levels=1)
    assert {r["part_id"]: r["quantity"] for r in requirements} == {"R": 5, "S": 10}
    with pytest.raises(errors.RuleViolated):
        domain.explode("A", D(1), {"A": [line("B", 1)], "B": [line("A", 1)]})


def test_effectivity_is_inclusive():
    line = {"effective_from": dt.date(2026, 1, 1), "effective_to": dt.date(2026, 1, 31)}
    assert domain.effective(line, dt.date(2026, 1, 1)) and domain.effective(line, dt.date(2026, 1, 31))
    assert not domain.effective(line, dt.date(2026, 2, 1))
    assert domain.effective({"effective_from": None, "effective_to": None}, DAY)


def test_expiry_and_genealogy_cycles():
    assert not domain.expired(DAY, DAY) and domain.expired(DAY, DAY + dt.timedelta(days=1))
    with pytest.raises(errors.RuleViolated):
        domain.check_not_expired("L1", DAY, DAY + dt.timedelta(days=1))
    domain.check_no_genealogy_cycle(("serial", 1), ("serial", 2), set())
    for parent, child, made_from_parent in [(1, 2, {("serial", 2)}), (1, 1, set())]:
        with pytest.raises(errors.RuleViolated):
            domain.check_no_genealogy_cycle(("serial", parent), ("serial", child), made_from_parent)


def test_hold_conflict_names_the_hold():
    error = domain.hold_conflict("h1", "lot", "l1", "LOT-1", "NCR-7")
    assert isinstance(error, errors.Conflict) and "h1" in error.message and "NCR-7" in error.message
    assert error.details == {"hold_id": "h1", "target_type": "lot", "target_id": "l1", "reason": "NCR-7"}
