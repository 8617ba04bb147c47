"""Events the resource service publishes: its public contract.

Equipment nodes: type `mes.resource.<level>.<verb>` with the node's level as
the entity (`mes.resource.work_center.updated`); `subject` is the node id and
`data` the node as NodeOut, plus `previous_parent_id` on moves and `reason` on
deactivation.

Routings: type `mes.resource.routing.<verb>`; `subject` is the routing id and
`data` the routing as RoutingOut, plus `changed` (field names) on updates,
`previous_routing_id` on releases (the version it made obsolete, or null) and
`replaced_by_routing_id` on obsoletes (the version whose release did it).
"""
from resource_service.contract import LEVELS

SOURCE = "resource_service"
VERBS = ("created", "updated", "moved", "deactivated", "reactivated")
EVENT_TYPES = tuple(f"mes.resource.{level}.{verb}" for level in LEVELS for verb in VERBS)

ROUTING_VERBS = ("created", "updated", "released", "obsoleted")
ROUTING_EVENT_TYPES = tuple(f"mes.resource.routing.{verb}" for verb in ROUTING_VERBS)


def event_type(level, verb):
    assert verb in VERBS, verb
    return f"mes.resource.{level}.{verb}"


def routing_event_type(verb):
    assert verb in ROUTING_VERBS, verb
    return f"mes.resource.routing.{verb}"
