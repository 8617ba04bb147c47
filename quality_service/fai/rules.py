"""Rules of First Article Inspection reports (AS9102 Rev C). Pure: no I/O.

A FAIR is prepared (draft), signed by its preparer and sent to review
(in_review), then approved or rejected by a reviewer; an approved FAIR never
changes, a rejected one goes back to draft. A full FAI covers every
characteristic; a partial one (AS9102 §4.6: a design, process or source
change, a natural or man-made event, two years without production) names the
FAIR it completes. It cannot be approved while a characteristic has no
result, or fails without the number of the NCR that dispositions it.
"""
from mes_common import errors
from mes_common.rules import StateMachine

DRAFT, IN_REVIEW, APPROVED, REJECTED = "draft", "in_review", "approved", "rejected"
STATUSES = (DRAFT, IN_REVIEW, APPROVED, REJECTED)
FAIR = StateMachine("FAIR", {DRAFT: (IN_REVIEW,), IN_REVIEW: (APPROVED, REJECTED), REJECTED: (DRAFT,),
                             APPROVED: ()})
FULL, PARTIAL = "full", "partial"
# AS9102 Rev C §4.4 (full) and §4.6 (partial): why a first article is inspected
REASONS = {
    "new_part": "New part or first production run",
    "design_change": "Change in design affecting fit, form or function",
    "process_change": "Change in manufacturing source, process, inspection method, location or tooling",
    "source_change": "Change of supplier or of a special process source",
    "production_lapse": "Lapse in production of two years",
    "natural_event": "Natural or man-made event affecting the manufacturing process",
    "corrective_action": "Corrective action for a previous FAI nonconformance",
}
PARTIAL_REASONS = tuple(r for r in REASONS if r != "new_part")


def check_kind(kind, reason, previous_number):
    """A full FAI's reason; a partial one's reason and the FAIR it completes ({field: [message]})."""
    problems = {}
    if kind == PARTIAL:
        if reason not in PARTIAL_REASONS:
            problems["reason"] = ["a partial FAI is for a change: " + ", ".join(PARTIAL_REASONS)]
        if not previous_number:
            problems["previous_fair_id"] = ["a partial FAI names the FAIR it completes"]
    elif previous_number:
        problems["previous_fair_id"] = ["a full FAI stands alone"]
    return problems


def open_items(characteristics):
    """What keeps form 3 from approval: a characteristic without a result, or
    one that failed without an NCR number. `characteristics`: form 3 rows."""
    problems = []
    for row in characteristics:
        if not row["results"]:
            problems.append(f"characteristic {row['number']}: no result")
        elif not row["conforming"] and not row["ncr_number"]:
            problems.append(f"characteristic {row['number']}: failed, and no NCR number")
    return problems


def check_approvable(number, status, characteristics):
    if status != IN_REVIEW:
        raise errors.RuleViolated(f"FAIR {number} is {status}: a FAIR in review is approved",
                                  {"status": [f"is {status}"]})
    problems = open_items(characteristics)
    if problems:
        raise errors.RuleViolated(f"FAIR {number} cannot be approved: {'; '.join(problems[:10])}",
                                  {"form3": problems})


def check_changeable(number, status):
    if status != DRAFT:
        raise errors.RuleViolated(f"FAIR {number} is {status}: only a draft changes",
                                  {"status": [f"is {status}"]})
