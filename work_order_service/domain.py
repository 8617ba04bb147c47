"""Work order rules. Pure: no I/O, no clock (callers pass `now`).

- the work order lifecycle (with its status history) and the operation
  state machine;
- the operation-order rule, when an operation is done, when the order is;
- forward scheduling and plan-vs-actual variance;
- the release saga's states;
- numbers: work order numbers, generated serial numbers, shortage messages.
"""
from dataclasses import dataclass
from decimal import Decimal

from mes_common import errors
from mes_common.rules import StateMachine

# ------------------------------------------------------------------ lifecycle

CREATED, RELEASED, IN_PROGRESS, ON_HOLD = "created", "released", "in_progress", "on_hold"
COMPLETED, CLOSED, CANCELLED = "completed", "closed", "cancelled"
STATUSES = (CREATED, RELEASED, IN_PROGRESS, ON_HOLD, COMPLETED, CLOSED, CANCELLED)

ORDER_STATES = StateMachine("work order", {
    CREATED: (RELEASED, CANCELLED),
    RELEASED: (IN_PROGRESS, ON_HOLD, CANCELLED),
    IN_PROGRESS: (COMPLETED, ON_HOLD),
    # resume goes back to the status the order was held in (released or in_progress)
    ON_HOLD: (RELEASED, IN_PROGRESS, CANCELLED),
    COMPLETED: (CLOSED,),
    CLOSED: (),
    CANCELLED: (),
})
# where shop-floor work may be booked
EXECUTABLE = (RELEASED, IN_PROGRESS)


def check_transition(number, current, target):
    ORDER_STATES.check(current, target, number)


def transition(number, current, target, *, reason=None, actor, at):
    """Check `current → target`; the status-history entry that records it."""
    check_transition(number, current, target)
    return {"from": current, "to": target, "reason": reason, "actor": actor, "at": at}


def hold(number, current, reason, *, actor, at):
    """on_hold needs a reason; the status it came from is where resume returns."""
    if current not in (RELEASED, IN_PROGRESS):
        raise errors.RuleViolated(f"work order {number} is {current}: only released or in-progress orders "
                                  "can be put on hold", {"status": [f"{current} cannot be held"]})
    return transition(number, current, ON_HOLD, reason=reason, actor=actor, at=at)


def resume_target(number, current, held_from):
    if current != ON_HOLD:
        raise errors.RuleViolated(f"work order {number} is {current}, not on hold",
                                  {"status": [f"{current} is not on_hold"]})
    return held_from if held_from in (RELEASED, IN_PROGRESS) else RELEASED


def check_executable(number, status):
    if status not in EXECUTABLE:
        raise errors.RuleViolated(f"work order {number} is {status}: work can be booked only on released "
                                  "or in-progress orders", {"status": [f"{status} is not executable"]})


def check_editable(number, status):
    if status != CREATED:
        raise errors.RuleViolated(f"work order {number} is {status}: quantity, due date and priority "
                                  "change only while created", {"status": [f"{status} is not editable"]})


def format_number(n):
    """Generated work order numbers: WO-000001 (ERP numbers are taken as given)."""
    return f"WO-{n:06d}"


# ------------------------------------------------------------------ operations

PENDING, READY, RUNNING, PAUSED = "pending", "ready", "running", "paused"
OP_STATUSES = (PENDING, READY, RUNNING, PAUSED, COMPLETED)
OPERATION_STATES = StateMachine("operation", {
    # ready: material has arrived (the previous operation completed some good);
    # a pending one may start all the same (its setup), the order rule holds at completion
    PENDING: (READY, RUNNING),
    READY: (RUNNING,),
    RUNNING: (PAUSED, COMPLETED),
    PAUSED: (RUNNING, COMPLETED),
    COMPLETED: (),
})
# operations that can be worked on (dispatch list)
DISPATCHABLE = (READY, RUNNING, PAUSED)


def check_op_transition(sequence, current, target):
    OPERATION_STATES.check(current, target, sequence)


def check_reportable(sequence, status):
    """Quantities are reported on a started operation (running, or paused at a shift's end)."""
    if status not in (RUNNING, PAUSED):
        raise errors.RuleViolated(f"operation {sequence} is {status}: start it before reporting quantities",
                                  {"status": [f"{status} operations take no report"]})


def check_operation_order(sequence, new_good, previous):
    """The next operation cannot complete more good than the previous one has
    completed good. `previous` is (sequence, good) of the operation before, or
    None for the first."""
    if previous is None:
        return
    prev_sequence, prev_good = previous
    if new_good > prev_good:
        raise errors.RuleViolated(
            f"operation {sequence} cannot complete {fmt(new_good)} good: operation {prev_sequence} "
            f"has completed only {fmt(prev_good)} good",
            {"good": [f"at most {fmt(prev_good)} in total (completed by operation {prev_sequence})"]})


def check_input(sequence, processed, available):
    """An operation cannot process (good + scrap) more units than have reached it:
    the order quantity for the first, what the previous made good for the others."""
    if processed > available:
        raise errors.RuleViolated(
            f"operation {sequence} cannot process {fmt(processed)} units (good + scrap): only "
            f"{fmt(available)} have reached it", {"good": [f"good + scrap at most {fmt(available)} in total"]})


def check_buy_off(number, status, sequence, op_status):
    """Steps are bought off on started operations (completed ones too: a sign-off
    may follow the work) of orders still open."""
    if status not in (RELEASED, IN_PROGRESS, COMPLETED):
        raise errors.RuleViolated(f"work order {number} is {status}: no buy-offs",
                                  {"status": [f"{status} takes no buy-off"]})
    if op_status in (PENDING, READY):
        raise errors.RuleViolated(f"operation {sequence} is {op_status}: start it before buying off steps",
                                  {"status": [f"{op_status} operations take no buy-off"]})


def input_quantity(order_quantity, previous):
    """What can reach an operation: (quantity, final). The first gets the order
    quantity; a later one what the previous has made good so far, final only
    once that one is completed. `previous` is (status, good) or None."""
    if previous is None:
        return order_quantity, True
    status, good = previous
    return good, status == COMPLETED


def operation_done(good, scrap, order_quantity, previous):
    """Every unit that can reach the operation has been reported good or scrap."""
    quantity, final = input_quantity(order_quantity, previous)
    return final and good + scrap >= quantity


@dataclass(frozen=True)
class Tally:
    """What a report changes: the operation's accumulated quantities, the
    order's scrapped and completed quantities (completed: None unless the
    operation is the last), and the next operation's status (None: unchanged)."""
    good: Decimal
    scrap: Decimal
    rework: Decimal
    order_scrapped: Decimal
    order_completed: Decimal | None
    next_status: str | None


def tally(operation, order_scrapped, report, next_status):
    """Add `report` (good, scrap, rework) to `operation`'s (good, scrap, rework).
    `next_status` is the following operation's status, None for the last:
    good that leaves an operation reaches a pending successor, which is ready."""
    good, scrap, rework = (before + added for before, added in zip(operation, report))
    return Tally(good, scrap, rework, order_scrapped + report[1],
                 order_completed=good if next_status is None else None,
                 next_status=READY if report[0] and next_status == PENDING else None)


def order_done(order_quantity, last_good, last_status):
    """The order completes when its last operation has made the quantity, or
    when that operation is completed short (the rest was scrapped on the way)."""
    return last_good >= order_quantity or last_status == COMPLETED


def serial_numbers(number, first, count):
    """Generated serial numbers of output: `<WO number>-0001`, continuing after
    the `first - 1` units already reported."""
    return [f"{number}-{i:04d}" for i in range(first, first + count)]


def check_whole(quantity, what="good"):
    """Serial-controlled output comes in whole units."""
    if quantity != quantity.to_integral_value():
        raise errors.RuleViolated(f"{what} must be a whole number for a serial-controlled part",
                                  {what: ["a whole number of serials"]})


# ------------------------------------------------------------------ time

def running_minutes(intervals, now):
    """Minutes an operation has run: its (start, end) intervals, pauses excluded;
    an open interval runs until `now`."""
    seconds = sum(((end or now) - start).total_seconds() for start, end in intervals)
    return Decimal(str(round(seconds / 60, 6)))


def operation_minutes(setup_time, run_time, quantity):
    return setup_time + run_time * quantity


def _ratio(actual, planned):
    return None if not planned else actual / planned


def variance(order_quantity, operations):
    """Plan vs actual per operation and for the order.

    `operations`: dicts with sequence, setup_time, run_time, good, scrap, rework,
    actual_minutes. Planned minutes are the standard for the order quantity;
    earned minutes the standard for what was actually processed (good + scrap).
    """
    rows = []
    for op in operations:
        planned_min = operation_minutes(op["setup_time"], op["run_time"], order_quantity)
        processed = op["good"] + op["scrap"]
        earned = operation_minutes(op["setup_time"], op["run_time"], processed) if processed else Decimal(0)
        rows.append({
            "sequence": op["sequence"],
            "planned_quantity": order_quantity, "actual_good": op["good"], "actual_scrap": op["scrap"],
            "actual_rework": op["rework"],
            "quantity_difference": op["good"] - order_quantity,
            "quantity_ratio": _ratio(op["good"], order_quantity),
            "planned_minutes": planned_min, "earned_minutes": earned, "actual_minutes": op["actual_minutes"],
            "minutes_difference": op["actual_minutes"] - planned_min,
            "minutes_ratio": _ratio(op["actual_minutes"], planned_min),
        })
    last_good = operations[-1]["good"] if operations else Decimal(0)
    planned = sum((r["planned_minutes"] for r in rows), Decimal(0))
    earned = sum((r["earned_minutes"] for r in rows), Decimal(0))
    actual = sum((r["actual_minutes"] for r in rows), Decimal(0))
    order = {
        "planned_quantity": order_quantity, "actual_good": last_good,
        "actual_scrap": sum((op["scrap"] for op in operations), Decimal(0)),
        "quantity_difference": last_good - order_quantity, "quantity_ratio": _ratio(last_good, order_quantity),
        "planned_minutes": planned, "earned_minutes": earned, "actual_minutes": actual,
        "minutes_difference": actual - planned, "minutes_ratio": _ratio(actual, planned),
    }
    return rows, order


# ------------------------------------------------------------------ release saga

SAGA_RELEASE = "work_order_release"
# started: reading routing and BOM, nothing reserved yet; reserving: requirements
# persisted, reservations under way (compensation releases every key)
STARTED, RESERVING, COMPENSATING, COMPENSATED = "started", "reserving", "compensating", "compensated"
SAGA_STATES = (STARTED, RESERVING, COMPLETED, COMPENSATING, COMPENSATED)
SAGA_ACTIVE = (STARTED, RESERVING, COMPENSATING)
SAGA_STATES = StateMachine("release saga", {
    STARTED: (RESERVING, COMPENSATING),
    RESERVING: (COMPLETED, COMPENSATING),
    COMPENSATING: (COMPENSATED,),
    COMPLETED: (),
    COMPENSATED: (),
}, error=errors.Conflict, field="state")


def check_saga_transition(current, target):
    SAGA_STATES.check(current, target)


def reservation_key(saga_id, part_id):
    """One key per (saga, part): a retried step reserves once, and compensation
    can release every key without knowing which steps ran."""
    return f"wo-release:{saga_id}:{part_id}"


def fmt(quantity):
    """A quantity as people write it: 3, 2.5 (not 3.000000)."""
    return format(Decimal(str(quantity)).normalize(), "f")


def shortage_text(s):
    return (f"part {s.get('part_number') or s['part_id']} is short by {fmt(s['short'])} "
            f"(needs {fmt(s['required'])}, {fmt(s['available'])} available)")


def release_refused(shortages):
    """The error of a release refused for lack of material, naming every short part."""
    return errors.RuleViolated("release refused: " + "; ".join(shortage_text(s) for s in shortages),
                               {"shortages": shortages})


# ------------------------------------------------------------ signed records

BUY_OFF = "step_buy_off"  # the signed record: one step of one operation


def buy_off_record_id(operation_id, step):
    return f"{operation_id}:{step}"


def buy_off_content(operation_id, step, values, note, by_id):
    """What a buy-off signs: the step of the operation, the values recorded, the note, who."""
    return {"operation_id": str(operation_id), "step": step, "values": values, "note": note,
            "by_id": str(by_id) if by_id else None}
