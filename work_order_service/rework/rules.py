"""Rules of rework operations. Pure: no I/O.

A rework operation is open when the MRB's signed disposition makes it,
running once an operator starts it (where: the work center of the operation
the units came from, or one named at start), completed when they say it is
done. A unit the rework cannot save is a new nonconformance (its own NCR),
not a quantity here: the MRB decides what becomes of it.
"""
from mes_common import errors
from mes_common.rules import StateMachine

OPEN, RUNNING, COMPLETED = "open", "running", "completed"
STATES = StateMachine("rework operation", {OPEN: (RUNNING,), RUNNING: (COMPLETED,), COMPLETED: ()})
REWORKED = ("rework", "repair")   # the disposition decisions that make a rework operation


def format_number(n):
    return f"RW-{n:06d}"


def origin_operation_id(item, ncr):
    """The operation the units came from: the item's own (an operation's work
    in process) or the one the NCR names; None for material from outside."""
    if item["target_type"] == "operation":
        return item["target_id"]
    return ncr.get("operation_id")


def check_work_center(number, has_one, given):
    """Where the rework is done must be known when it starts."""
    if not has_one and given is None:
        raise errors.RuleViolated(f"rework {number} has no work center: name the one it is done at",
                                  {"work_center_id": ["required: this rework has no work center"]})
