"""/api/v1/resource: the equipment hierarchy, routings, skills and qualifications."""
from gateway.routing import SIGNED, SIGNED_ERRORS, Routes
from mes_common.schemas import PageQuery
from resource_service import contract
from resource_service.contract import calendars as c
from resource_service.contract import gauges as g
from resource_service.contract import qualifications as q
from resource_service.contract import schemas as s

routes = Routes(contract.SERVICE, tags=["resource"], prefix="/api/v1/resource")
READ, WRITE = "resource:read", "resource:write"
NODE = "/nodes/<node_id>"

routes.post("/nodes", "create_node", body=s.NodeCreate, response=s.NodeOut, status=201, permission=WRITE,
            summary="Create an equipment node",
            doc="Enterprise at the top; then site, area, work center, work unit, equipment, each under a node "
                "of the level above. Codes are unique among siblings.")
routes.get("/nodes", "list_nodes", query=s.NodeListQuery, response=s.NodePage, permission=READ,
           summary="List equipment nodes",
           doc="Ordered by code; filter by level, parent and active; page with `limit` and `cursor`.")
routes.get(NODE, "get_node", response=s.NodeOut, permission=READ, summary="Get an equipment node")
routes.cached_summary(NODE + "/summary", "get_node_summary", kind=contract.EQUIPMENT_KIND,
                      rpc="get_node_summaries", what="equipment node", response=s.NodeSummary, permission=READ,
                      summary="Display fields of a node (cached)")
routes.patch(NODE, "update_node", body=s.NodeUpdate, response=s.NodeOut, permission=WRITE,
             summary="Change code, name or description",
             doc="Give `version` to refuse the change if someone else changed the node meanwhile (409).")
routes.post(NODE + "/move", "move_node", body=s.NodeMove, response=s.NodeOut, permission=WRITE,
            summary="Move a node (with its subtree) under another parent")
routes.post(NODE + "/deactivate", "deactivate_node", body=s.NodeDeactivate, response=s.NodeOut, permission=WRITE,
            summary="Deactivate a node (refused while it has active children)")
routes.post(NODE + "/reactivate", "reactivate_node", body=s.NodeDeactivate, response=s.NodeOut, permission=WRITE,
            summary="Reactivate a node")
routes.get(NODE + "/tree", "get_tree", query=s.TreeQuery, response=s.TreeNode, permission=READ,
           summary="The subtree of a node")
routes.get(NODE + "/ancestors", "get_ancestors", response=s.NodeOut(many=True), permission=READ,
           summary="The chain from the enterprise down to the node's parent")

# ------------------------------------------------------------ routings

ROUTING_TAGS, ROUTING_READ, ROUTING_WRITE = ["routing"], "routing:read", "routing:write"
ROUTING = "/routings/<routing_id>"

routes.post("/routings", "create_routing", body=s.RoutingCreate, response=s.RoutingOut, status=201,
            permission=ROUTING_WRITE, tags=ROUTING_TAGS,
            summary="Create a routing version (draft) for a part revision",
            doc="The next `version` of the routing of (`part_id`, `part_revision`), as a draft. Each operation "
                "runs at an active work center (422 naming `operations.<i>.work_center_id` otherwise); "
                "sequences are unique; times are minutes (setup, and run per unit).")
routes.get("/routings", "list_routings", query=s.RoutingListQuery, response=s.RoutingPage,
           permission=ROUTING_READ, tags=ROUTING_TAGS, summary="List routings",
           doc="Ordered by part, revision and version; filter by part, revision and status.")
routes.get("/routings/released", "get_released_routing", query=s.ReleasedRoutingQuery, response=s.RoutingOut,
           permission=ROUTING_READ, tags=ROUTING_TAGS, error_codes=(400, 404, 503),
           summary="The released routing of a part revision",
           args=lambda call: (call.payload.get("part_id"), call.payload.get("part_revision")))
routes.get(ROUTING, "get_routing", response=s.RoutingOut, permission=ROUTING_READ, tags=ROUTING_TAGS,
           summary="Get a routing")
routes.patch(ROUTING, "update_routing", body=s.RoutingUpdate, response=s.RoutingOut, permission=ROUTING_WRITE,
             tags=ROUTING_TAGS, summary="Change a draft routing",
             doc="Drafts only (422 otherwise). `operations` replaces them all; give `version` (the routing's "
                 "`row_version`) to refuse the change if someone else changed it meanwhile (409).")
routes.post(ROUTING + "/release", "release_routing", body=s.RoutingRelease, response=s.RoutingOut,
            permission=ROUTING_WRITE, tags=ROUTING_TAGS, summary="Release a draft routing",
            error_codes=SIGNED_ERRORS,
            doc=SIGNED + "Meaning: approval. The previously released version of the same part revision becomes "
                         "obsolete.")

# ------------------------------------------------------------ skills and qualifications

PEOPLE_TAGS, QUAL_READ, QUAL_WRITE = ["qualifications"], "qualification:read", "qualification:write"
SKILL = "/skills/<code>"
SKILL_PATH = {"code": q.SkillKey().fields["code"]}
QUALIFICATION = "/qualifications/<qualification_id>"

routes.post("/skills", "create_skill", body=q.SkillCreate, response=q.SkillOut, status=201, permission=QUAL_WRITE,
            tags=PEOPLE_TAGS, summary="Add a skill to the catalogue",
            doc="Levels are named lowest first (level 1 is the first); `recertification_days` caps how long a "
                "qualification lasts (null: until revoked). A code in use is a 409.")
routes.get("/skills", "list_skills", query=q.SkillListQuery, response=q.SkillPage, permission=QUAL_READ,
           tags=PEOPLE_TAGS, summary="List skills", doc="Ordered by code.")
routes.get(SKILL, "get_skill", response=q.SkillOut, permission=QUAL_READ, tags=PEOPLE_TAGS,
           path_schemas=SKILL_PATH, summary="Get a skill")
routes.patch(SKILL, "update_skill", body=q.SkillUpdate, response=q.SkillOut, permission=QUAL_WRITE,
             tags=PEOPLE_TAGS, path_schemas=SKILL_PATH, summary="Change a skill",
             doc="Levels may be renamed or added above, never removed. A new interval applies to grants from "
                 "now on. Give `version` to refuse the change if someone else changed it meanwhile (409).")
routes.post("/qualifications", "grant_qualification", body=q.QualificationGrant, response=q.QualificationOut,
            status=201, permission=QUAL_WRITE, tags=PEOPLE_TAGS, summary="Qualify a person in a skill",
            doc="The person's active qualification in the skill, if any, is superseded (kept in their history). "
                "422 for an unknown user or skill, a level the skill does not have, a certification in the "
                "future, or `expires_on` not after `certified_on` or beyond the skill's interval.")
routes.get("/qualifications", "list_qualifications", query=q.QualificationListQuery,
           response=q.QualificationPage, permission=QUAL_READ, tags=PEOPLE_TAGS,
           summary="List qualification records",
           doc="Newest first; filter by person (`user_id`: their history), skill and status. With "
               "`expiring_within_days`: the active ones whose last valid day is that close, soonest first.")
routes.get("/qualifications/matrix", "get_qualification_matrix", query=q.MatrixQuery, response=q.Matrix,
           permission=QUAL_READ, tags=PEOPLE_TAGS, summary="The qualification matrix",
           doc="People × skills with each person's level and its validity (valid, expiring, expired). For a "
               "`work_center_id`: the skills its released routings require, with the level, and how many "
               "people are valid at it.")
routes.post("/qualifications/check", "check_qualification", body=q.QualificationCheck,
            response=q.QualificationCheckOut, permission=QUAL_READ, tags=PEOPLE_TAGS,
            summary="Would this person be allowed to do this work today?",
            doc="The shortfalls against skill requirements, each naming the skill, the level needed and, for an "
                "expired qualification, its last valid day: what starting an operation would refuse.")
routes.get(QUALIFICATION, "get_qualification", response=q.QualificationOut, permission=QUAL_READ,
           tags=PEOPLE_TAGS, summary="Get a qualification record")
routes.post(QUALIFICATION + "/revoke", "revoke_qualification", body=q.QualificationRevoke,
            response=q.QualificationOut, permission=QUAL_WRITE, tags=PEOPLE_TAGS,
            summary="Revoke a qualification", doc="Active ones only (422 otherwise); the reason is kept and audited.")

# ------------------------------------------------------------ gauges and tools

ASSET_TAGS, GAUGE_READ, GAUGE_WRITE = ["gauges and tools"], "gauge:read", "gauge:write"
ASSET = "/assets/<asset_id>"

routes.post("/assets", "create_asset", body=g.AssetCreate, response=g.AssetOut, status=201, permission=GAUGE_WRITE,
            tags=ASSET_TAGS, summary="Register a gauge or a tool",
            doc="With a calibration interval in days, `next_due_on` (its current certificate's) is required. An "
                "asset number in use is a 409.")
routes.get("/assets", "list_assets", query=g.AssetListQuery, response=g.AssetPage, permission=GAUGE_READ,
           tags=ASSET_TAGS, summary="List gauges and tools",
           doc="By asset number; filter by kind, status, location. With `due_within_days`: those due by then "
               "(or overdue), soonest first. `usable` and `problem` say whether each may be used today.")
routes.get(ASSET, "get_asset", response=g.AssetOut, permission=GAUGE_READ, tags=ASSET_TAGS,
           summary="Get a gauge or a tool")
routes.patch(ASSET, "update_asset", body=g.AssetUpdate, response=g.AssetOut, permission=GAUGE_WRITE,
             tags=ASSET_TAGS, summary="Change a gauge or a tool",
             doc="Give `version` to refuse the change if someone else changed it meanwhile (409).")
routes.post(ASSET + "/status", "change_asset_status", body=g.AssetStatusChange, response=g.AssetOut,
            permission=GAUGE_WRITE, tags=ASSET_TAGS, summary="Send out for calibration, quarantine, retire",
            doc="Or back in service, when its calibration is current (422 otherwise: record a calibration). "
                "Retired is final.")
routes.post(ASSET + "/calibrations", "record_calibration", body=g.CalibrationRecord, response=g.CalibrationOut,
            status=201, permission=GAUGE_WRITE, tags=ASSET_TAGS, summary="Record a calibration",
            doc="As left pass: back in service until `next_due_on` (default: the interval from `calibrated_on`). "
                "As left fail: quarantined. As found fail: every use since its last good calibration is suspect "
                "(`suspect_uses`; listed at /calibrations/{id}/suspect-uses, and announced for quality).")
routes.get(ASSET + "/calibrations", "list_calibrations", query=PageQuery, response=g.CalibrationPage,
           permission=GAUGE_READ, tags=ASSET_TAGS, summary="Calibration history, newest first")
routes.get(ASSET + "/uses", "list_asset_uses", query=g.AssetUseQuery, response=g.AssetUsePage,
           permission=GAUGE_READ, tags=ASSET_TAGS, summary="What it was used on, oldest first")
routes.get("/calibrations/<calibration_id>/suspect-uses", "list_suspect_uses", query=PageQuery,
           response=g.AssetUsePage, permission=GAUGE_READ, tags=ASSET_TAGS,
           summary="The uses a calibration found out of tolerance puts in doubt",
           doc="Every use between the asset's last good calibration and this one, oldest first: the "
               "reverse-traceability review list. Empty for a calibration found in tolerance.")
routes.post("/assets/uses", "use_assets", body=g.AssetUseRecord, response=g.AssetUseOut(many=True), status=201,
            permission=GAUGE_WRITE, tags=ASSET_TAGS, summary="Record uses of gauges or tools",
            doc="All are fit for use and recorded, or 422 names each that is not with its due date (nothing "
                "recorded). Starting an operation with `tools` does this itself.")

# ------------------------------------------------------------ calendars and equipment states

CALENDAR_TAGS, CALENDAR_READ, CALENDAR_WRITE = ["calendars"], "calendar:read", "calendar:write"

routes.put(NODE + "/calendar", "set_calendar", body=c.CalendarSet, response=c.CalendarOut, permission=CALENDAR_WRITE,
           tags=CALENDAR_TAGS, summary="Set the shift calendar of a site, an area or a work center",
           doc="Shifts per weekday in local time (a shift ending at or before its start ends the next day) with "
               "unpaid breaks, in an IANA time zone. A work center's own calendar overrides its site's. 422 for "
               "overlapping shifts or breaks outside their shift, naming `shifts.<i>`.")
routes.get(NODE + "/calendar", "get_calendar", response=c.CalendarOut, permission=CALENDAR_READ,
           tags=CALENDAR_TAGS, summary="The node's own shift calendar")
routes.post(NODE + "/calendar-exceptions", "add_calendar_exception", body=c.ExceptionCreate, response=c.ExceptionOut,
            status=201, permission=CALENDAR_WRITE, tags=CALENDAR_TAGS, summary="Add a holiday or a planned shutdown",
            doc="Whole local days (`date`, `to_date`) or an interval (`starts_at`, `ends_at`); a site's apply to "
                "every work center below it.")
routes.get(NODE + "/calendar-exceptions", "list_calendar_exceptions", query=c.ExceptionQuery,
           response=c.ExceptionOut(many=True), permission=CALENDAR_READ, tags=CALENDAR_TAGS,
           error_codes=(400, 404, 422, 503), summary="Holidays and shutdowns of the node in a window",
           doc="`to` after `from`, at most ten years later (422 otherwise).")
routes.get("/work-centers/<work_center_id>/planned-time", "get_planned_time", query=c.Window,
           response=c.PlannedTimeOut, permission=CALENDAR_READ, tags=CALENDAR_TAGS, error_codes=(400, 404, 422, 503),
           summary="Planned busy time of a work center",
           doc="Exact seconds (and minutes) of shift time minus breaks, holidays and shutdowns in [from, to), "
               "with the intervals; at most 400 days. Without a calendar, all time is planned.")
routes.post(NODE + "/states", "report_equipment_state", body=c.StateReport, response=c.StateOut, status=201,
            permission="equipment_state:write", tags=CALENDAR_TAGS, summary="Report what the equipment is doing",
            doc="A work center, work unit or equipment: running, idle, setup, down (with a reason) or planned "
                "maintenance from `at` (default now); the open state ends then.")
routes.get(NODE + "/states", "list_equipment_states", query=c.StateQuery, response=c.StatePage, permission=READ,
           tags=CALENDAR_TAGS, summary="The equipment's states, oldest first")
