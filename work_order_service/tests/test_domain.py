import datetime as dt
from decimal import Decimal as D

import pytest

from mes_common import errors
from mes_common.service import Caller
from work_order_service import domain
from work_order_service.execution import check_operator

pytestmark = pytest.mark.fast  # no servers: `make test-fast`

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)


# ------------------------------------------------------------------ lifecycle

@pytest.mark.parametrize("current,target", [
    ("created", "released"), ("created", "cancelled"), ("released", "in_progress"), ("released", "on_hold"),
    ("released", "cancelled"), ("in_progress", "completed"), ("in_progress", "on_hold"),
    ("on_hold", "released"), ("on_hold", "in_progress"), ("on_hold", "cancelled"), ("completed", "closed"),
])
def test_allowed_transitions_give_a_history_entry(current, target):
    entry = domain.transition("WO-1", current, target, reason="r", actor="alice", at=T0)
    assert entry == {"from": current, "to": target, "reason": "r", "actor": "alice", "at": T0}


@pytest.mark.parametrize("current,target", [
    ("created", "in_progress"), ("created", "completed"), ("released", "closed"), ("in_progress", "cancelled"),
    ("in_progress", "released"), ("completed", "cancelled"), ("closed", "created"), ("cancelled", "released"),
])
def test_refused_transitions_name_both_statuses(current, target):
    with pytest.raises(errors.RuleViolated) as exc:
        domain.transition("WO-7", current, target, actor="a", at=T0)
    assert "WO-7" in exc.value.message and current in exc.value.message and target in exc.value.message
    assert "status" in exc.value.details


def test_hold_only_from_released_or_in_progress_and_resume_returns_there():
    assert domain.hold("WO-1", "in_progress", "tooling", actor="a", at=T0)["to"] == "on_hold"
    with pytest.raises(errors.RuleViolated):
        domain.hold("WO-1", "created", "tooling", actor="a", at=T0)
    assert domain.resume_target("WO-1", "on_hold", "in_progress") == "in_progress"
    assert domain.resume_target("WO-1", "on_hold", "released") == "released"
    with pytest.raises(errors.RuleViolated):
        domain.resume_target("WO-1", "released", None)


def test_execution_and_edit_guards():
    domain.check_executable("WO-1", "released")
    domain.check_executable("WO-1", "in_progress")
    for status in ("created", "on_hold", "completed", "cancelled"):
        with pytest.raises(errors.RuleViolated):
            domain.check_executable("WO-1", status)
    domain.check_editable("WO-1", "created")
    with pytest.raises(errors.RuleViolated):
        domain.check_editable("WO-1", "released")


def test_number_format():
    assert domain.format_number(1) == "WO-000001"
    assert domain.format_number(1234567) == "WO-1234567"


# ------------------------------------------------------------------ operations

def test_operation_state_machine():
    domain.check_op_transition(10, "ready", "running")
    domain.check_op_transition(10, "pending", "running")  # setup before material arrives
    domain.check_op_transition(10, "running", "paused")
    domain.check_op_transition(10, "paused", "running")
    for current, target in [("completed", "running"), ("ready", "paused"), ("pending", "completed"),
                            ("paused", "paused")]:
        with pytest.raises(errors.RuleViolated):
            domain.check_op_transition(10, current, target)
    domain.check_reportable(10, "running")
    domain.check_reportable(10, "paused")
    with pytest.raises(errors.RuleViolated):
        domain.check_reportable(10, "ready")


def test_next_operation_cannot_complete_more_good_than_the_previous():
    domain.check_operation_order(10, D(100), None)  # the first has no previous
    domain.check_operation_order(20, D(5), (10, D(5)))
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_operation_order(20, D(6), (10, D(5)))
    assert exc.value.message == ("operation 20 cannot complete 6 good: operation 10 has completed only 5 good")
    assert "good" in exc.value.details


def test_input_and_done():
    assert domain.input_quantity(D(10), None) == (D(10), True)
    assert domain.input_quantity(D(10), ("running", D(4))) == (D(4), False)
    assert domain.input_quantity(D(10), ("completed", D(9))) == (D(9), True)
    domain.check_input(10, D(10), D(10))
    with pytest.raises(errors.RuleViolated):
        domain.check_input(10, D(11), D(10))
    # the first operation is done when all of the order quantity is good or scrap
    assert not domain.operation_done(D(9), D(0), D(10), None)
    assert domain.operation_done(D(9), D(1), D(10), None)
    # a later one only once the previous is completed: more may still arrive
    assert not domain.operation_done(D(4), D(0), D(10), ("running", D(4)))
    assert domain.operation_done(D(8), D(1), D(10), ("completed", D(9)))
    # nothing reached it and nothing will: done
    assert domain.operation_done(D(0), D(0), D(10), ("completed", D(0)))


def test_order_done_when_last_operation_made_the_quantity_or_completed_short():
    assert domain.order_done(D(10), D(10), "running")
    assert domain.order_done(D(10), D(12), "running")
    assert not domain.order_done(D(10), D(9), "running")
    assert domain.order_done(D(10), D(9), "completed")


def test_generated_serial_numbers_continue_after_earlier_reports():
    assert domain.serial_numbers("WO-000042", 1, 3) == ["WO-000042-0001", "WO-000042-0002", "WO-000042-0003"]
    assert domain.serial_numbers("WO-9", 4, 2) == ["WO-9-0004", "WO-9-0005"]
    domain.check_whole(D("3.000000"))
    with pytest.raises(errors.RuleViolated):
        domain.check_whole(D("2.5"))


# ------------------------------------------------------------------ time

def test_running_minutes_exclude_pauses_and_count_an_open_interval_to_now():
    intervals = [(T0, T0 + dt.timedelta(minutes=30)),                       # paused after 30 min
                 (T0 + dt.timedelta(minutes=90), T0 + dt.timedelta(minutes=100)),
                 (T0 + dt.timedelta(minutes=200), None)]                     # running since
    assert domain.running_minutes(intervals, T0 + dt.timedelta(minutes=205)) == D(45)
    assert domain.running_minutes([], T0) == D(0)


def test_variance_per_operation_and_order():
    rows, order = domain.variance(D(10), [
        {"sequence": 10, "setup_time": D(30), "run_time": D(2), "good": D(10), "scrap": D(0), "rework": D(1),
         "actual_minutes": D(60)},
        {"sequence": 20, "setup_time": D(0), "run_time": D(1), "good": D(8), "scrap": D(2), "rework": D(0),
         "actual_minutes": D(5)},
    ])
    assert rows[0]["planned_minutes"] == D(50) and rows[0]["minutes_difference"] == D(10)
    assert rows[0]["minutes_ratio"] == D("1.2") and rows[0]["quantity_ratio"] == D(1)
    assert rows[1]["quantity_difference"] == D(-2) and rows[1]["earned_minutes"] == D(10)
    assert order["planned_minutes"] == D(60) and order["actual_minutes"] == D(65)
    assert order["actual_good"] == D(8) and order["actual_scrap"] == D(2)
    assert order["quantity_ratio"] == D("0.8")
    _, empty = domain.variance(D(10), [])
    assert empty["minutes_ratio"] is None and empty["actual_good"] == D(0)


# ------------------------------------------------------------------ saga

def test_saga_transitions():
    domain.check_saga_transition("started", "reserving")
    domain.check_saga_transition("reserving", "completed")
    domain.check_saga_transition("started", "compensating")
    domain.check_saga_transition("reserving", "compensating")
    domain.check_saga_transition("compensating", "compensated")
    for current, target in [("completed", "compensating"), ("compensated", "reserving"),
                            ("compensating", "completed"), ("started", "completed")]:
        with pytest.raises(errors.Conflict):
            domain.check_saga_transition(current, target)
    assert domain.reservation_key("s1", "p1") == "wo-release:s1:p1"


def test_release_refused_names_every_short_part():
    exc = domain.release_refused([
        {"part_id": "a", "part_number": "P-100", "required": 10.0, "available": 7.0, "short": 3.0},
        {"part_id": "b", "part_number": "P-200", "required": 2.5, "available": 0, "short": 2.5}])
    assert isinstance(exc, errors.RuleViolated)
    assert exc.message == ("release refused: part P-100 is short by 3 (needs 10, 7 available); "
                           "part P-200 is short by 2.5 (needs 2.5, 0 available)")
    assert [s["part_number"] for s in exc.details["shortages"]] == ["P-100", "P-200"]
    assert domain.fmt(D("30.000000")) == "30"


def test_a_report_tallies_the_operation_the_order_and_readies_the_next():
    middle = domain.tally((D(2), D(1), D(0)), D(1), (D(3), D(1), D(2)), domain.PENDING)
    assert (middle.good, middle.scrap, middle.rework, middle.order_scrapped) == (D(5), D(2), D(2), D(2))
    assert middle.order_completed is None and middle.next_status == domain.READY
    scrap_only = domain.tally((D(0), D(0), D(0)), D(0), (D(0), D(1), D(0)), domain.PENDING)
    assert scrap_only.next_status is None          # nothing reached the next operation
    running = domain.tally((D(1), D(0), D(0)), D(0), (D(1), D(0), D(0)), domain.RUNNING)
    assert running.next_status is None            # only a pending one becomes ready
    last = domain.tally((D(4), D(0), D(0)), D(0), (D(1), D(0), D(0)), None)
    assert last.order_completed == D(5) and last.next_status is None


def test_only_the_platforms_own_call_may_run_a_qualified_operation_without_a_person():
    needs = [{"skill": "TORQUE", "min_level": 1}]
    assert check_operator(None, Caller("cli", trusted=True), needs, None) is None   # asks nobody
    with pytest.raises(errors.Forbidden) as refused:
        check_operator(None, Caller("someone", trusted=False), needs, None)
    assert "operator" in refused.value.details
    assert check_operator(None, Caller("someone", trusted=False), [], None) is None
