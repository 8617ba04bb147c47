"""How many samples a characteristic takes from a lot, and how many of them may
be nonconforming. Pure: numbers in, numbers out.

Methods: every unit (100 %), the first piece, every n-th unit, or acceptance
sampling by attributes after ANSI/ASQ Z1.4 (ISO 2859-1): single sampling by the
AQL (percent nonconforming, 0.010 to 10), the inspection level and the lot size,
under normal, tightened or reduced severity with the standard's switching rules.

The Z1.4 master tables are built from their structure rather than typed cell by
cell: sample size code letters by lot size (Table I), the sample size of each
letter, and in Tables II-A/B/C the acceptance number constant along each
diagonal (one letter down = one AQL step looser: `letter + AQL step` indexes the
plan), arrows pointing to the first plan below or above. Reduced inspection
(Z1.4-2003 onwards: Re = Ac + 1) is the normal plan two letters up. An arrow
that would leave the table (the corners of the letters A and R/S) turns to
the first plan the other way. Spot-checked cells are pinned in the unit tests.
"""
import math
from dataclasses import dataclass, field
from typing import NamedTuple

from mes_common import errors

METHODS = ("all", "first_piece", "every_nth", "aql")
SEVERITIES = ("normal", "tightened", "reduced")
LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
AQLS = ("0.010", "0.015", "0.025", "0.040", "0.065", "0.10", "0.15", "0.25", "0.40", "0.65",
        "1.0", "1.5", "2.5", "4.0", "6.5", "10")

# Table I: the upper bound of each lot size range, then the code letter of each level (S-1 ... III)
CODE_LETTERS = (
    (8, "AAAAAAB"), (15, "AAAAABC"), (25, "AABBBCD"), (50, "ABBCCDE"), (90, "BBCCCEF"),
    (150, "BBCDDFG"), (280, "BCDEEGH"), (500, "BCDEFHJ"), (1200, "CCEFGJK"), (3200, "CDEGHKL"),
    (10000, "CDFGJLM"), (35000, "CDFHKMN"), (150000, "DEGJLNP"), (500000, "DEGJMPQ"), (math.inf, "DEHKNQR"),
)
LETTERS = "ABCDEFGHJKLMNPQRS"   # S: tightened inspection only
SAMPLE_SIZES = (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000, 3150)

# diagonal index (letter index + AQL index) -> (Ac, Re), or "down"/"up" (an arrow)
_NORMAL_FIRST, _NORMAL = 14, ((0, 1), "up", "down", (1, 2), (2, 3), (3, 4), (5, 6), (7, 8), (10, 11), (14, 15),
                              (21, 22))
_TIGHTENED_FIRST, _TIGHTENED = 16, ((0, 1), "down", (1, 2), (2, 3), (3, 4), (5, 6), (8, 9), (12, 13), (18, 19))
_ROWS = {"normal": 16, "tightened": 17}   # letters of each table (S only in tightened)


class Plan(NamedTuple):
    """What a characteristic needs of a lot: `sample_size` units, accepted with at
    most `accept` nonconforming, rejected from `reject`."""
    sample_size: int
    accept: int
    reject: int
    code_letter: str | None = None
    severity: str | None = None


def code_letter(lot_size, level):
    for upper, letters in CODE_LETTERS:
        if lot_size <= upper:
            return letters[LEVELS.index(level)]
    raise AssertionError("unreachable: the last range is unbounded")


def _cell(table, letter_index, aql_index):
    first, cells = (_NORMAL_FIRST, _NORMAL) if table == "normal" else (_TIGHTENED_FIRST, _TIGHTENED)
    offset = letter_index + aql_index - first
    if offset < 0:
        return "down"
    return cells[offset] if offset < len(cells) else "up"


def _single_plan(table, letter_index, aql_index):
    """Follow the arrows of Table II-A (normal) or II-B (tightened) from a cell to a plan."""
    rows, step, seen = _ROWS[table], 0, set()
    while True:
        cell = _cell(table, letter_index, aql_index)
        if isinstance(cell, tuple):
            return letter_index, cell
        if letter_index in seen:     # cannot happen with these tables; guards the corners' rule
            raise AssertionError(f"arrows loop in the {table} table at letter {LETTERS[letter_index]}")
        seen.add(letter_index)
        step = step or (1 if cell == "down" else -1)
        if not 0 <= letter_index + step < rows:   # an arrow leaving the table: the first plan the other way
            step = -step
        letter_index += step


def aql_plan(lot_size, aql, level="II", severity="normal"):
    """The single sampling plan of Z1.4 for a lot; 100 % when the plan's sample
    is as large as the lot (the tables' footnote)."""
    if aql not in AQLS:
        raise errors.ValidationFailed(f"aql {aql} is not a Z1.4 AQL of percent nonconforming",
                                      {"aql": [f"one of {', '.join(AQLS)}"]})
    letter = code_letter(lot_size, level)
    index = LETTERS.index(letter)
    if severity == "reduced":
        row, (accept, reject) = _single_plan("normal", max(index - 2, 0), AQLS.index(aql))
    else:
        row, (accept, reject) = _single_plan(severity, index, AQLS.index(aql))
    size = SAMPLE_SIZES[row]
    if size >= lot_size:
        return Plan(lot_size, accept if accept < lot_size else 0, reject if reject <= lot_size else 1,
                    letter, severity)
    return Plan(size, accept, reject, letter, severity)


def tighter_accept(lot_size, aql, level="II"):
    """The normal plan's acceptance number one AQL step tighter, at the lot's
    code letter (the switching score asks whether the lot would have passed it);
    None below the tightest AQL."""
    index = AQLS.index(aql)
    if index == 0:
        return None
    return _single_plan("normal", LETTERS.index(code_letter(lot_size, level)), index - 1)[1][0]


def plan_for(sampling, lot_size, severity="normal"):
    """The plan of a characteristic's `sampling` ({method, n, aql, level}) for a lot."""
    method = sampling["method"]
    if method == "all":
        return Plan(lot_size, 0, 1)
    if method == "first_piece":
        return Plan(1, 0, 1)
    if method == "every_nth":
        return Plan(max(1, math.ceil(lot_size / sampling["n"])), 0, 1)
    return aql_plan(lot_size, sampling["aql"], sampling.get("level") or "II", severity)


def whole_units(quantity, what="quantity"):
    """A lot's quantity as the whole number of units sampling counts in."""
    if quantity is None or quantity != int(quantity) or quantity < 1:
        raise errors.RuleViolated(f"{what}: sampling counts whole units; {quantity} is not",
                                  {what: ["a whole number of units, at least 1"]})
    return int(quantity)


# ------------------------------------------------------------------ switching (Z1.4 §8.3)

@dataclass
class SwitchingState:
    """Where a stream of lots (one characteristic, one supplier) stands."""
    severity: str = "normal"
    recent: list = field(default_factory=list)   # accepted? of the last lots on this severity, newest last
    score: int = 0                                 # the switching score towards reduced
    rejected_on_tightened: int = 0
    discontinued: bool = False


def switch(state, accepted, plan, tighter_accept=None, reduced_allowed=False):
    """The state after a lot's verdict under `plan`:
    normal → tightened when 2 of the last 5 or fewer lots were not accepted;
    tightened → normal after 5 accepted in a row; 5 lots not accepted while
    tightened discontinue acceptance inspection (quality must act);
    normal → reduced when the switching score reaches 30 and reduced inspection
    is allowed (steady production, approved); reduced → normal at the first lot
    not accepted. The score adds 3 when Ac ≥ 2 and the lot would have been
    accepted one AQL step tighter (`tighter_accept`), 2 when Ac ≤ 1 and it was
    accepted; anything else resets it."""
    recent = (state.recent + [accepted])[-5:]
    new = SwitchingState(state.severity, recent, state.score, state.rejected_on_tightened, state.discontinued)
    if state.severity == "normal":
        if plan.accept >= 2:
            new.score = state.score + 3 if tighter_accept else 0
        else:
            new.score = state.score + 2 if accepted else 0
        if recent.count(False) >= 2:
            return SwitchingState("tightened")
        if reduced_allowed and new.score >= 30:
            return SwitchingState("reduced")
        return new
    if state.severity == "tightened":
        if not accepted:
            new.rejected_on_tightened += 1
            new.discontinued = new.rejected_on_tightened >= 5
        if len(recent) == 5 and all(recent):
            return SwitchingState("normal")
        return new
    if not accepted:   # reduced
        return SwitchingState("normal")
    return new
