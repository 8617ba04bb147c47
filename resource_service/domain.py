"""ISA-95 / B2MML equipment hierarchy rules. Pure: no I/O."""
from mes_common import errors

# Role-based equipment hierarchy (ISA-95 Part 1 §5.2, B2MML EquipmentElementLevel):
# each level may sit only under the levels listed for it.
LEVELS = ("enterprise", "site", "area", "work_center", "work_unit", "equipment")

ALLOWED_PARENTS = {
    "enterprise": (None,),
    "site": ("enterprise",),
    "area": ("site",),
    "work_center": ("area",),
    "work_unit": ("work_center",),
    # equipment modules may nest (a fixture on a machine on a cell)
    "equipment": ("work_unit", "work_center", "equipment"),
}

# B2MML V0700 EquipmentElementLevel names, for exports
B2MML_LEVEL = {
    "enterprise": "Enterprise", "site": "Site", "area": "Area",
    "work_center": "WorkCenter", "work_unit": "WorkUnit", "equipment": "EquipmentModule",
}


def check_parent(level, parent_level):
    """Refuse a node of `level` under a parent of `parent_level` (None: a root)."""
    allowed = ALLOWED_PARENTS[level]
    if parent_level not in allowed:
        where = f"under a {parent_level}" if parent_level else "at the top of the hierarchy"
        expected = " or ".join("the top" if p is None else f"a {p}" for p in allowed)
        raise errors.RuleViolated(
            f"a {level} cannot sit {where}; it belongs under {expected}",
            {"parent_id": [f"{level} requires a parent of level {expected}"]})


def check_move(node_path, new_parent_path):
    """A node cannot move under itself or one of its descendants."""
    if new_parent_path.startswith(node_path):
        raise errors.RuleViolated("a node cannot be moved under itself or its own descendants",
                                  {"parent_id": ["is the node or one of its descendants"]})


def check_deactivate(active_children):
    if active_children:
        raise errors.Conflict(
            f"cannot deactivate: {active_children} active child node(s) remain; deactivate them first",
            {"active_children": active_children})


def check_version(expected, actual):
    """Optimistic concurrency: an update that names a version must match it."""
    if expected is not None and expected != actual:
        raise errors.Conflict(f"the node was changed by someone else (version {actual}, you had {expected})",
                              {"version": actual})


def child_path(parent_path, node_id):
    """Materialized path `/id/id/.../` of a node under `parent_path` ('' for a root)."""
    return f"{parent_path or '/'}{node_id}/"
