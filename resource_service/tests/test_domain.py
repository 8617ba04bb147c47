import pytest

from mes_common import errors
from resource_service import domain

pytestmark = pytest.mark.fast  # no servers: `make test-fast`


@pytest.mark.parametrize("level,parent", [
    ("enterprise", None), ("site", "enterprise"), ("area", "site"), ("work_center", "area"),
    ("work_unit", "work_center"), ("equipment", "work_unit"), ("equipment", "equipment"),
])
def test_allowed_nesting(level, parent):
    domain.check_parent(level, parent)


@pytest.mark.parametrize("level,parent", [
    ("site", None), ("enterprise", "site"), ("area", "enterprise"), ("work_center", "site"),
    ("work_unit", "area"), ("equipment", "site"), ("site", "site"),
])
def test_refused_nesting_names_the_rule(level, parent):
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_parent(level, parent)
    assert "parent_id" in exc.value.details
    assert level in exc.value.message


def test_cannot_move_under_own_subtree():
    with pytest.raises(errors.RuleViolated):
        domain.check_move("/a/b/", "/a/b/c/")
    with pytest.raises(errors.RuleViolated):
        domain.check_move("/a/b/", "/a/b/")
    domain.check_move("/a/b/", "/a/x/")


def test_deactivate_refused_with_active_children():
    with pytest.raises(errors.Conflict) as exc:
        domain.check_deactivate(2)
    assert exc.value.details == {"active_children": 2}
    domain.check_deactivate(0)


def test_child_path():
    assert domain.child_path("", "a") == "/a/"
    assert domain.child_path("/a/", "b") == "/a/b/"


# ------------------------------------------------------------------ routings

def op(sequence, setup=0, run=1, wc="wc"):
    return {"sequence": sequence, "setup_time": setup, "run_time": run, "work_center_id": wc}


def test_routing_status_machine():
    domain.check_routing_transition("draft", "released")
    domain.check_routing_transition("released", "obsolete")
    for current, target in [("draft", "obsolete"), ("released", "released"), ("obsolete", "released"),
                            ("obsolete", "draft"), ("released", "draft")]:
        with pytest.raises(errors.RuleViolated) as exc:
            domain.check_routing_transition(current, target)
        assert exc.value.details == {"status": [f"is {current}; cannot become {target}"]}


def test_only_drafts_change():
    domain.check_routing_editable("draft")
    for status in ("released", "obsolete"):
        with pytest.raises(errors.RuleViolated) as exc:
            domain.check_routing_editable(status)
        assert "status" in exc.value.details and status in exc.value.message


def test_operations_need_one_unique_sequences_and_non_negative_times():
    domain.check_operations([op(10), op(20), op(5)])
    with pytest.raises(errors.ValidationFailed) as exc:
        domain.check_operations([])
    assert "operations" in exc.value.details
    with pytest.raises(errors.ValidationFailed) as exc:
        domain.check_operations([op(10), op(20), op(10, setup=-1), op(0, run=-0.5)])
    assert exc.value.details == {
        "operations.2.sequence": ["sequence 10 is already used by operation 0"],
        "operations.2.setup_time": ["must not be negative (minutes)"],
        "operations.3.sequence": ["must be greater than 0"],
        "operations.3.run_time": ["must not be negative (minutes)"],
    }


def test_operations_run_at_active_work_centers():
    nodes = {"wc": ("work_center", True), "area": ("area", True), "old": ("work_center", False)}
    domain.check_work_centers([op(10), op(20)], nodes)
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_work_centers([op(10), op(20, wc="area"), op(30, wc="old"), op(40, wc="gone")], nodes)
    assert exc.value.details == {
        "operations.1.work_center_id": ["is a node of level area, not a work_center"],
        "operations.2.work_center_id": ["work center is inactive"],
        "operations.3.work_center_id": ["no equipment node with this id"],
    }


def test_a_misplaced_node_is_told_where_it_belongs_in_plain_english():
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_parent("work_center", "site")
    assert exc.value.message == "a work_center cannot sit under a site; it belongs under an area"
    with pytest.raises(errors.RuleViolated) as exc:
        domain.check_parent("area", None)
    assert exc.value.message == "an area cannot sit at the top of the hierarchy; it belongs under a site"
