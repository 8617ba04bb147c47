"""Events the resource service publishes: its public contract.

Type `mes.resource.<level>.<verb>` with the node's level as the entity
(`mes.resource.work_center.updated`); `subject` is the node id and `data` the
node as NodeOut, plus `previous_parent_id` on moves and `reason` on
deactivation.
"""
from resource_service.domain import LEVELS

SOURCE = "resource_service"
VERBS = ("created", "updated", "moved", "deactivated", "reactivated")
EVENT_TYPES = tuple(f"mes.resource.{level}.{verb}" for level in LEVELS for verb in VERBS)


def event_type(level, verb):
    assert verb in VERBS, verb
    return f"mes.resource.{level}.{verb}"
