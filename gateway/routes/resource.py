"""/api/v1/resource: the equipment hierarchy and routings."""
from gateway.http import json_body, path_id, query_args, route
from mes_common.errors import NotFound
from mes_common.rpc import RpcClient
from resource_service import schemas
from resource_service.service import CACHE_KIND

TAGS = ["resource"]
NODES = "/api/v1/resource/nodes"
ROUTING_TAGS = ["routing"]
ROUTINGS = "/api/v1/resource/routings"


class ResourceRoutes:
    """Mixed into the Gateway, which provides `self.cache` (ReferenceDataCache)."""

    resource = RpcClient("resource_service")

    @route("POST", NODES, summary="Create an equipment node", tags=TAGS, body=schemas.NodeCreate,
           response=schemas.NodeOut, status=201, permission="resource:write")
    def create_node(self, request):
        """Enterprise at the top; then site, area, work center, work unit, equipment,
        each under a node of the level above. Codes are unique among siblings."""
        return self.resource.create_node(json_body(request, schemas.NodeCreate))

    @route("GET", NODES, summary="List equipment nodes", tags=TAGS, query=schemas.NodeListQuery,
           response=schemas.NodePage, permission="resource:read", error_codes=(400, 503))
    def list_nodes(self, request):
        """Ordered by code; filter by level, parent and active; page with `limit` and `cursor`."""
        return self.resource.list_nodes(query_args(request, schemas.NodeListQuery))

    @route("GET", NODES + "/<node_id>", summary="Get an equipment node", tags=TAGS,
           response=schemas.NodeOut, permission="resource:read", error_codes=(400, 404, 503))
    def get_node(self, request, node_id):
        return self.resource.get_node(path_id("node_id", node_id))

    @route("GET", NODES + "/<node_id>/summary", summary="Display fields of a node (cached)", tags=TAGS,
           response=schemas.NodeSummary, permission="resource:read", error_codes=(400, 404, 503))
    def get_node_summary(self, request, node_id):
        """Served from the reference-data cache, loaded from the resource service on a miss."""
        node_id = path_id("node_id", node_id)
        summary = self.cache.get_or_load(
            CACHE_KIND, node_id, lambda: self.resource.get_node_summaries([node_id]).get(node_id))
        if summary is None:
            raise NotFound(f"equipment node {node_id} does not exist", {"id": node_id})
        return summary

    @route("PATCH", NODES + "/<node_id>", summary="Change code, name or description", tags=TAGS,
           body=schemas.NodeUpdate, response=schemas.NodeOut, permission="resource:write")
    def update_node(self, request, node_id):
        """Give `version` to refuse the change if someone else changed the node meanwhile (409)."""
        return self.resource.update_node(path_id("node_id", node_id), json_body(request, schemas.NodeUpdate))

    @route("POST", NODES + "/<node_id>/move", summary="Move a node (with its subtree) under another parent",
           tags=TAGS, body=schemas.NodeMove, response=schemas.NodeOut, permission="resource:write")
    def move_node(self, request, node_id):
        return self.resource.move_node(path_id("node_id", node_id), json_body(request, schemas.NodeMove))

    @route("POST", NODES + "/<node_id>/deactivate", summary="Deactivate a node (refused while it has "
           "active children)", tags=TAGS, body=schemas.NodeDeactivate, response=schemas.NodeOut,
           permission="resource:write")
    def deactivate_node(self, request, node_id):
        return self.resource.deactivate_node(path_id("node_id", node_id),
                                             json_body(request, schemas.NodeDeactivate))

    @route("POST", NODES + "/<node_id>/reactivate", summary="Reactivate a node", tags=TAGS,
           body=schemas.NodeDeactivate, response=schemas.NodeOut, permission="resource:write")
    def reactivate_node(self, request, node_id):
        return self.resource.reactivate_node(path_id("node_id", node_id),
                                             json_body(request, schemas.NodeDeactivate))

    @route("GET", NODES + "/<node_id>/tree", summary="The subtree of a node", tags=TAGS,
           query=schemas.TreeQuery, response=schemas.TreeNode, permission="resource:read",
           error_codes=(400, 404, 503))
    def get_tree(self, request, node_id):
        return self.resource.get_tree(path_id("node_id", node_id), query_args(request, schemas.TreeQuery))

    @route("GET", NODES + "/<node_id>/ancestors", summary="The chain from the enterprise down to the "
           "node's parent", tags=TAGS, response=schemas.NodeOut(many=True), permission="resource:read",
           error_codes=(400, 404, 503))
    def get_ancestors(self, request, node_id):
        return self.resource.get_ancestors(path_id("node_id", node_id))

    # ------------------------------------------------------------ routings

    @route("POST", ROUTINGS, summary="Create a routing version (draft) for a part revision", tags=ROUTING_TAGS,
           body=schemas.RoutingCreate, response=schemas.RoutingOut, status=201, permission="routing:write")
    def create_routing(self, request):
        """The next `version` of the routing of (`part_id`, `part_revision`), as a draft. Each operation
        runs at an active work center (422 naming `operations.<i>.work_center_id` otherwise);
        sequences are unique; times are minutes (setup, and run per unit)."""
        return self.resource.create_routing(json_body(request, schemas.RoutingCreate))

    @route("GET", ROUTINGS, summary="List routings", tags=ROUTING_TAGS, query=schemas.RoutingListQuery,
           response=schemas.RoutingPage, permission="routing:read", error_codes=(400, 503))
    def list_routings(self, request):
        """Ordered by part, revision and version; filter by part, revision and status."""
        return self.resource.list_routings(query_args(request, schemas.RoutingListQuery))

    @route("GET", ROUTINGS + "/released", summary="The released routing of a part revision", tags=ROUTING_TAGS,
           query=schemas.ReleasedRoutingQuery, response=schemas.RoutingOut, permission="routing:read",
           error_codes=(400, 404, 503))
    def get_released_routing(self, request):
        query = query_args(request, schemas.ReleasedRoutingQuery)
        return self.resource.get_released_routing(query["part_id"], query["part_revision"])

    @route("GET", ROUTINGS + "/<routing_id>", summary="Get a routing", tags=ROUTING_TAGS,
           response=schemas.RoutingOut, permission="routing:read", error_codes=(400, 404, 503))
    def get_routing(self, request, routing_id):
        return self.resource.get_routing(path_id("routing_id", routing_id))

    @route("PATCH", ROUTINGS + "/<routing_id>", summary="Change a draft routing", tags=ROUTING_TAGS,
           body=schemas.RoutingUpdate, response=schemas.RoutingOut, permission="routing:write")
    def update_routing(self, request, routing_id):
        """Drafts only (422 otherwise). `operations` replaces them all; give `version` (the routing's
        `row_version`) to refuse the change if someone else changed it meanwhile (409)."""
        return self.resource.update_routing(path_id("routing_id", routing_id),
                                            json_body(request, schemas.RoutingUpdate))

    @route("POST", ROUTINGS + "/<routing_id>/release", summary="Release a draft routing", tags=ROUTING_TAGS,
           body=schemas.RoutingRelease, response=schemas.RoutingOut, permission="routing:write")
    def release_routing(self, request, routing_id):
        """The previously released version of the same part revision becomes obsolete."""
        return self.resource.release_routing(path_id("routing_id", routing_id),
                                             json_body(request, schemas.RoutingRelease))
