"""The shared rules of mes_common.rules (pure: no infrastructure)."""
import pytest

from mes_common import errors
from mes_common.rules import StateMachine, check_version, refuse

pytestmark = pytest.mark.fast  # no servers: `make test-fast`


def test_version_check():
    check_version(None, 3, "the node")   # no version given: last writer wins
    check_version(3, 3, "the node")
    with pytest.raises(errors.Conflict) as exc:
        check_version(2, 3, "work order WO-1")
    assert exc.value.details == {"version": 3}
    assert exc.value.message == "work order WO-1 was changed by someone else (version 3, you had 2)"


LOT = StateMachine("lot", {"received": ("released", "rejected"), "released": ("consumed",),
                           "consumed": (), "rejected": ()})


def test_a_state_machine_allows_what_its_table_lists():
    LOT.check("received", "released", "L-1")
    LOT.check("released", "consumed")
    assert LOT.states == ("received", "released", "consumed", "rejected")
    assert LOT.allows("received", "rejected") and not LOT.allows("received", "consumed")


@pytest.mark.parametrize("current,target,options", [
    ("received", "consumed", "released or rejected"),
    ("released", "released", "consumed"),                 # already there: not a move
    ("consumed", "released", "nothing: consumed is final"),
])
def test_a_state_machine_refuses_the_rest_naming_what_is_allowed(current, target, options):
    with pytest.raises(errors.RuleViolated) as exc:
        LOT.check(current, target, "L-1")
    assert exc.value.message == f"lot L-1 is {current}: it cannot become {target} (it can become {options})"
    assert exc.value.details == {"status": [f"is {current}; cannot become {target}"]}


def test_the_error_and_field_are_the_machine_s():
    saga = StateMachine("saga", {"started": ("done",), "done": ()}, error=errors.Conflict, field="state")
    with pytest.raises(errors.Conflict) as exc:
        saga.check("done", "started")
    assert exc.value.message.startswith("the saga is done") and "state" in exc.value.details


def test_a_table_naming_an_undeclared_state_is_refused():
    with pytest.raises(ValueError, match="undeclared"):
        StateMachine("x", {"a": ("b",)})


def test_refuse_is_400_unless_only_relations_are_broken():
    refuse("nothing", {})
    with pytest.raises(errors.ValidationFailed) as exc:
        refuse("invalid steps", {"a.name": ["taken"], "a.type": ["unknown"]}, {"a.name"})
    assert exc.value.message == "invalid steps: a.name, a.type"
    with pytest.raises(errors.RuleViolated) as exc:
        refuse("invalid steps", {"a.name": ["taken"]}, {"a.name"})
    assert exc.value.details == {"a.name": ["taken"]}
