import pytest

from mes_common import errors
from resource_service import domain


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


def test_version_check():
    domain.check_version(None, 3)
    domain.check_version(3, 3)
    with pytest.raises(errors.Conflict):
        domain.check_version(2, 3)


def test_child_path():
    assert domain.child_path("", "a") == "/a/"
    assert domain.child_path("/a/", "b") == "/a/b/"
