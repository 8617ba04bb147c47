"""Rules every service states the same way. Pure: no I/O.

- `check_version`: optimistic concurrency on a row's version;
- `refuse`: field problems as 400, or 422 when only relations are broken;
- `StateMachine`: a status machine declared as data, whose refusals all read
  alike ("lot L-1 is consumed: it cannot become released (it can become
  nothing: consumed is final)").
"""
from mes_common import errors


def check_version(expected, actual, what):
    """A change that names the version it read must find that version
    (`what`: "the node", "work order WO-000001")."""
    if expected is not None and expected != actual:
        raise errors.Conflict(f"{what} was changed by someone else (version {actual}, you had {expected})",
                              {"version": actual})


def refuse(message, problems, relations=()):
    """Raise for `problems` ({field: [messages]}) unless there are none: 400
    (ValidationFailed), or 422 (RuleViolated) when every problem is one of
    `relations`, rules between values the OpenAPI document cannot state (a
    duplicate within a list, a minimum above a maximum)."""
    if problems:
        error = errors.RuleViolated if set(problems) <= set(relations) else errors.ValidationFailed
        raise error(f"{message}: {', '.join(problems)}", problems)


class StateMachine:
    """`LOT = StateMachine("lot", {"received": ("quarantine", "released"), "released": (), ...})`;
    `LOT.check(current, target, "L-1")` refuses a move the table does not list,
    with `error` (RuleViolated by default) naming `field`."""

    def __init__(self, what, transitions, *, error=errors.RuleViolated, field="status"):
        self.what, self.error, self.field = what, error, field
        self.transitions = {state: tuple(targets) for state, targets in transitions.items()}
        unknown = {t for targets in self.transitions.values() for t in targets} - set(self.transitions)
        if unknown:
            raise ValueError(f"{what}: transitions to undeclared states {sorted(unknown)}")

    @property
    def states(self):
        return tuple(self.transitions)

    def allows(self, current, target):
        return target in self.transitions[current]

    def check(self, current, target, name=None):
        if self.allows(current, target):
            return
        subject = f"{self.what} {name}" if name is not None else f"the {self.what}"
        options = " or ".join(self.transitions[current]) or f"nothing: {current} is final"
        raise self.error(f"{subject} is {current}: it cannot become {target} (it can become {options})",
                         {self.field: [f"is {current}; cannot become {target}"]})
