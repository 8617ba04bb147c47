"""Rules of nonconformance reports and their disposition. Pure: no I/O.

An NCR moves draft → open → contained → dispositioned → closed (or is
cancelled before its disposition is signed). The Material Review Board's
disposition says what becomes of every nonconforming unit: for each item the
lines' quantities sum to the item's quantity; use-as-is and repair need an
engineering justification and, on a critical NCR, the customer's approval;
a critical NCR needs two approvals by different MRB members.

Rework and repair lines become rework operations of the work order service;
the NCR closes once they are completed. The work in process of an operation
(item target_type `operation`) is no material yet: the operation's inspection
gate holds it, from the moment the NCR is raised until its disposition.
"""
from decimal import Decimal

from mes_common import errors
from mes_common.rules import StateMachine
from quality_service.contract import REWORK_STATUSES

DRAFT, OPEN, CONTAINED, DISPOSITIONED, CLOSED, CANCELLED = (
    "draft", "open", "contained", "dispositioned", "closed", "cancelled")
NCR = StateMachine("NCR", {
    DRAFT: (OPEN, CANCELLED),
    OPEN: (CONTAINED, CANCELLED),
    CONTAINED: (DISPOSITIONED, CANCELLED),
    DISPOSITIONED: (CLOSED,),
    CLOSED: (),
    CANCELLED: (),
})
JUSTIFIED = ("use_as_is", "repair")          # need an engineering justification (and customer approval if critical)
RELEASING = ("use_as_is", "rework", "repair", "regrade")   # the units stay: the hold is released for them
REWORKED = ("rework", "repair")   # each line becomes a rework operation (work order service)
OPERATION = "operation"           # an item that is an operation's work in process, held by its gate


def critical(severity, characteristics):
    return severity == "critical" or any(c.get("criticality") == "critical" for c in characteristics)


def signatures_required(is_critical):
    return 2 if is_critical else 1


def hold_status(item_statuses):
    """The NCR's hold in one word: none, pending (some not confirmed yet), held, released."""
    statuses = set(item_statuses)
    if not statuses:
        return "none"
    for status in ("pending", "held"):
        if status in statuses:
            return status
    return "released"


REWORK_PROGRESS = REWORK_STATUSES   # a line's rework, in order


def rework_moves(was, now):
    """Whether a line's rework goes from `was` to `now` (events can come late: never back)."""
    return was is None or REWORK_PROGRESS.index(now) > REWORK_PROGRESS.index(was)


def initial_hold(target_type):
    """An item's hold when the NCR is raised: material confirms a lot's or a
    serial's; an operation's gate holds its work in process at once."""
    return "held" if target_type == OPERATION else "pending"


def unfinished_rework(lines):
    """The rework and repair lines ({target_number, decision, rework_status,
    rework_number}) whose rework operation is not completed yet, as people read them."""
    return [f"{line['target_number']}: {line['decision']} "
            f"{line['rework_number'] or ''} {line['rework_status']}".replace("  ", " ")
            for line in lines if line["rework_status"] not in (None, "completed")]


def check_lines(items, lines, is_critical):
    """Problems of a disposition ({field: [messages]}): each line names an item
    of the NCR, each item's lines sum to its quantity, a serial is disposed of
    whole, use-as-is and repair are justified (and approved by the customer
    when critical), return to vendor is for lots."""
    by_target = {str(i.target_id): i for i in items}
    problems, sums = {}, {key: Decimal(0) for key in by_target}
    for index, line in enumerate(lines):
        where = f"lines.{index}"
        item = by_target.get(str(line["target_id"]))
        if item is None:
            problems[f"{where}.target_id"] = ["not a lot or serial of this NCR"]
            continue
        sums[str(item.target_id)] += line["quantity"]
        if line["decision"] in JUSTIFIED and not line.get("justification"):
            problems[f"{where}.justification"] = [f"{line['decision']} needs an engineering justification"]
        if line["decision"] in JUSTIFIED and is_critical and not line.get("customer_approval"):
            problems[f"{where}.customer_approval"] = [
                f"{line['decision']} of a critical nonconformance needs the customer's approval"]
        if line["decision"] == "return_to_vendor" and item.target_type != "lot":
            problems[f"{where}.decision"] = ["a serial is not returned to the vendor by this disposition"]
    for key, item in by_target.items():
        if sums[key] != item.quantity:
            problems.setdefault("lines", []).append(
                f"{item.target_number}: the lines dispose of {sums[key]:f}, the NCR holds {item.quantity:f}")
    return problems


def refuse_lines(problems):
    if problems:
        raise errors.RuleViolated(f"disposition refused: {', '.join(sorted(problems))}", problems)


def check_signer(signed_by, signer_id):
    """One approval per MRB member: a second by the same person is refused."""
    if str(signer_id) in {str(s) for s in signed_by}:
        raise errors.Conflict("you have approved this disposition already: a second approval is another member's",
                              {"signature": ["already signed by you with this meaning"]})
