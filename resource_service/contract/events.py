"""Events the resource service publishes: its public contract.

Equipment nodes: type `mes.resource.<level>.<verb>` with the node's level as
the entity (`mes.resource.work_center.updated`); `subject` is the node id and
`data` the node as NodeOut, plus `previous_parent_id` on moves and `reason` on
deactivation.

Routings: type `mes.resource.routing.<verb>`; `subject` is the routing id and
`data` the routing as RoutingOut, plus `changed` (field names) on updates,
`previous_routing_id` on releases (the version it made obsolete, or null) and
`replaced_by_routing_id` on obsoletes (the version whose release did it).

Skills: `mes.resource.skill.<created|updated>`; `subject` the skill id, `data`
the skill as SkillOut (plus `changed` on updates).

Qualifications: `mes.resource.qualification.<granted|superseded|revoked|expired>`;
`subject` the qualification id, `data` the record as QualificationOut (plus
`superseded_id` on a grant that replaced an active one). An expiry is
announced by a timer soon after the last valid day has passed.

Gauges and tools: `mes.resource.asset.<verb>`; `subject` the asset id, `data`
the asset as AssetOut (plus `changed` on updates, `reason_given` on status
changes, `calibration` (CalibrationOut) when calibrated), except: `used`
carries one use (AssetUseOut); `out_of_tolerance` (a calibration found it out
of tolerance) carries `asset_number`, `calibration`, `suspect_uses` (how many)
and `uses`: the suspect uses, in chunks of events when there are many. `due`
and `overdue` are the timer's (or the use that reached the interval).

Calendars: `mes.resource.calendar.changed` (`subject` the node, `data` the
calendar as CalendarOut) and `.exception_added` (ExceptionOut). Equipment
states: `mes.resource.equipment_state.changed`; `subject` the node, `data` the
new state as StateOut plus `previous` (the state it ended, with `ended_at`).
"""
from mes_common.events.envelope import EventFamily
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


skill_event_type = EventFamily("resource", "skill", ("created", "updated"))
qualification_event_type = EventFamily("resource", "qualification", ("granted", "superseded", "revoked", "expired"))
asset_event_type = EventFamily("resource", "asset", ("created", "updated", "status_changed", "calibrated", "due",
                                                     "overdue", "out_of_tolerance", "used"))
calendar_event_type = EventFamily("resource", "calendar", ("changed", "exception_added"))
equipment_state_event_type = EventFamily("resource", "equipment_state", ("changed",))
