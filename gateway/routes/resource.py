"""/api/v1/resource: the equipment hierarchy and routings."""
from gateway.routing import SIGNED, SIGNED_ERRORS, Routes
from resource_service import contract
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
