"""ISA-95 / B2MML equipment hierarchy rules. Pure: no I/O."""
from mes_common import errors
from mes_common.rules import StateMachine, refuse

# Role-based equipment hierarchy (ISA-95 Part 1 §5.2, B2MML EquipmentElementLevel):
# each level may sit only under the levels listed for it.

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


def _a(word):
    """The article of a level name: "an area", "a site"."""
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def check_parent(level, parent_level):
    """Refuse a node of `level` under a parent of `parent_level` (None: a root)."""
    allowed = ALLOWED_PARENTS[level]
    if parent_level not in allowed:
        where = f"under {_a(parent_level)}" if parent_level else "at the top of the hierarchy"
        expected = " or ".join("the top" if p is None else _a(p) for p in allowed)
        raise errors.RuleViolated(
            f"{_a(level)} cannot sit {where}; it belongs under {expected}",
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


def child_path(parent_path, node_id):
    """Materialized path `/id/id/.../` of a node under `parent_path` ('' for a root)."""
    return f"{parent_path or '/'}{node_id}/"


# ------------------------------------------------------------------ routings
# A routing is the ordered list of operations that makes one revision of a
# part. Versions of a part revision's routing: draft → released → obsolete;
# at most one released at a time (releasing one obsoletes its predecessor).

ROUTING_STATES = StateMachine("routing", {
    "draft": ("released",),
    "released": ("obsolete",),
    "obsolete": (),
})


def check_routing_transition(current, target):
    ROUTING_STATES.check(current, target)


def check_routing_editable(status):
    """Only a draft changes; a released or obsolete routing is a record of what was made."""
    if status != "draft":
        raise errors.RuleViolated(f"a {status} routing cannot be changed; create a new version instead",
                                  {"status": [f"is {status}, not draft"]})


def check_operations(operations):
    """At least one operation, sequences positive and unique, times not negative.
    Field errors are named `operations.<i>.<field>` (i = position in the list)."""
    if not operations:
        raise errors.ValidationFailed("a routing needs at least one operation",
                                      {"operations": ["at least one operation is required"]})
    problems, relations, first_at = {}, set(), {}
    for i, op in enumerate(operations):
        sequence = op["sequence"]
        if sequence <= 0:
            problems[f"operations.{i}.sequence"] = ["must be greater than 0"]
        elif sequence in first_at:
            problems[f"operations.{i}.sequence"] = [
                f"sequence {sequence} is already used by operation {first_at[sequence]}"]
            relations.add(f"operations.{i}.sequence")
        else:
            first_at[sequence] = i
        for key in ("setup_time", "run_time"):
            if op[key] < 0:
                problems[f"operations.{i}.{key}"] = ["must not be negative (minutes)"]
    refuse("invalid operations", problems, relations)


def check_work_centers(operations, nodes):
    """Each operation's work center must be an active node of level work_center.
    `nodes` maps id → (level, active) for the ids that exist."""
    problems = {}
    for i, op in enumerate(operations):
        found = nodes.get(op["work_center_id"])
        if found is None:
            problems[f"operations.{i}.work_center_id"] = ["no equipment node with this id"]
        elif found[0] != "work_center":
            problems[f"operations.{i}.work_center_id"] = [f"is a node of level {found[0]}, not a work_center"]
        elif not found[1]:
            problems[f"operations.{i}.work_center_id"] = ["work center is inactive"]
    if problems:
        raise errors.RuleViolated(
            f"operations must run at active work centers: {', '.join(problems)}", problems)
