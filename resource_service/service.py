"""Resource service: the ISA-95 equipment hierarchy (enterprise → equipment),
the routings of part revisions (operations at its work centers), people's
skills and qualifications (resource_service.qualifications), gauges and
tools with their calibration (resource_service.gauges), shift calendars and
equipment states (resource_service.calendars).

Entrypoints only: validate with the schemas, run a use case in one unit of
work, refresh the reference cache after the commit, dump the answer.
"""
from material_service import contract as material_contract
from mes_common import signatures
from mes_common.cache import ReferenceDataCache
from mes_common.db import UnitOfWork
from mes_common.rpc import RpcClient, rpc
from mes_common.schemas import load, uuid_arg
from mes_common.service import ServiceBase
from resource_service import hierarchy, routings
from resource_service import contract
from resource_service.contract import schemas
from resource_service.models import AuditEntry, Base, InboxEvent, OutboxEvent, Signature
from resource_service.calendars.entrypoints import CalendarEntrypoints
from resource_service.gauges.entrypoints import GaugeEntrypoints
from resource_service.qualifications.entrypoints import QualificationEntrypoints

PART_CHECK_TIMEOUT = 2.0  # seconds: a slow material service does not hold up routing work


class ResourceService(QualificationEntrypoints, GaugeEntrypoints, CalendarEntrypoints, ServiceBase):
    name = "resource_service"

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry, Signature)
    cache = ReferenceDataCache()
    material = RpcClient("material_service", timeout=PART_CHECK_TIMEOUT)
    auth = RpcClient("auth_service")

    def _cached(self, node):
        self.cache.set(contract.EQUIPMENT_KIND, str(node.id), hierarchy.summary(node))

    @rpc
    def create_node(self, data):
        data = load(schemas.NodeCreate(), data)
        with self.uow() as tx:
            node = hierarchy.create(tx, data)
        self._cached(node)
        return hierarchy.dump(node)

    @rpc
    def get_node(self, node_id):
        node_id = uuid_arg(node_id)
        return hierarchy.dump(hierarchy.get(self.uow.session, node_id))

    @rpc
    def get_node_summaries(self, node_ids):
        """Display fields of many nodes at once (for reference caches)."""
        ids = load(schemas.SummaryQuery(), {"ids": node_ids})["ids"]
        return hierarchy.summaries(self.uow.session, ids)

    @rpc
    def find_nodes(self, query):
        """The nodes with these codes (an ERP names equipment by code), each with its site."""
        query = load(schemas.NodeCodesQuery(), query)
        return hierarchy.find_by_code(self.uow.session, sorted(set(query["codes"])), query["level"])

    @rpc
    def list_nodes(self, query=None):
        return hierarchy.list_page(self.uow.session, load(schemas.NodeListQuery(), query))

    @rpc
    def update_node(self, node_id, changes):
        node_id = uuid_arg(node_id)
        changes = load(schemas.NodeUpdate(), changes)
        with self.uow() as tx:
            node = hierarchy.update_node(tx, node_id, changes)
        self._cached(node)
        return hierarchy.dump(node)

    @rpc
    def move_node(self, node_id, data):
        node_id = uuid_arg(node_id)
        data = load(schemas.NodeMove(), data)
        with self.uow() as tx:
            node = hierarchy.move(tx, node_id, data)
        self._cached(node)
        return hierarchy.dump(node)

    @rpc
    def deactivate_node(self, node_id, data=None):
        return self._set_active(node_id, data, False)

    @rpc
    def reactivate_node(self, node_id, data=None):
        return self._set_active(node_id, data, True)

    def _set_active(self, node_id, data, active):
        node_id = uuid_arg(node_id)
        data = load(schemas.NodeDeactivate(), data)
        with self.uow() as tx:
            node = hierarchy.set_active(tx, node_id, data, active)
        self._cached(node)
        return hierarchy.dump(node)

    @rpc
    def get_tree(self, node_id, query=None):
        node_id = uuid_arg(node_id)
        query = load(schemas.TreeQuery(), query)
        return hierarchy.tree(self.uow.session, node_id, query["max_depth"])

    @rpc
    def get_ancestors(self, node_id):
        return hierarchy.ancestors(self.uow.session, uuid_arg(node_id))


    # ------------------------------------------------------------ routings

    def _part_summary(self, part_id):
        return self.cache.summary(material_contract.PART_KIND, part_id, self.material.get_part_summaries)

    @rpc
    def create_routing(self, data):
        """The next version of the routing of (part_id, part_revision), as a draft."""
        data = load(schemas.RoutingCreate(), data)
        routings.check_part(self._part_summary, data["part_id"])
        with self.uow() as tx:
            routing = routings.create(tx, data)
        return self._routing_out(routing)

    @rpc
    def update_routing(self, routing_id, changes):
        """Description and/or operations of a draft; `version` = the expected row_version."""
        routing_id = uuid_arg(routing_id)
        changes = load(schemas.RoutingUpdate(), changes)
        with self.uow() as tx:
            routing = routings.update(tx, routing_id, changes)
        return self._routing_out(routing)

    @rpc
    def release_routing(self, routing_id, data=None):
        """Release a draft, signed by the releasing person (approval); the previously
        released version becomes obsolete."""
        routing_id = uuid_arg(routing_id)
        data = self._load_signed(schemas.RoutingRelease(), data, signer_gives=("version",))
        with self.uow() as tx:
            routings.check_releasable(tx.session, routing_id, data)
        manifest = self._signature(routings.RECORD, routing_id, signatures.APPROVAL, data.get("signature"))
        with self.uow() as tx:
            routing = routings.release(tx, routing_id, data, manifest)
        return self._routing_out(routing)

    @rpc
    def get_routing(self, routing_id):
        return self._routing_out(routings.get(self.uow.session, uuid_arg(routing_id)))

    def _routing_out(self, routing):
        """The routing with its signatures, each valid while it is as it was signed."""
        return {**routings.dump(routing), "signatures": signatures.for_record(
            self.uow.session, Signature, routings.RECORD, routing.id, routings.signed_content(routing))}

    @rpc
    def list_routings(self, query=None):
        return routings.list_page(self.uow.session, load(schemas.RoutingListQuery(), query))

    @rpc
    def get_released_routing(self, part_id, part_revision):
        """The released routing of a part revision (what a work order release snapshots), or NotFound."""
        query = load(schemas.ReleasedRoutingQuery(), {"part_id": part_id, "part_revision": part_revision})
        return routings.dump(routings.get_released(self.uow.session, query["part_id"], query["part_revision"]))
