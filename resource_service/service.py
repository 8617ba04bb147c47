"""Resource service: the ISA-95 equipment hierarchy (enterprise → equipment).

Entrypoints only: validate with the schemas, run a use case in one unit of
work, refresh the reference cache after the commit, dump the answer.
"""
from mes_common.cache import ReferenceDataCache
from mes_common.db import UnitOfWork
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from mes_common.service import ServiceBase
from resource_service import hierarchy, schemas
from resource_service.models import AuditEntry, Base, InboxEvent, OutboxEvent

CACHE_KIND = "equipment"


class ResourceService(ServiceBase):
    name = "resource_service"

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry)
    cache = ReferenceDataCache()

    def _cached(self, node):
        self.cache.set(CACHE_KIND, str(node.id), hierarchy.summary(node))

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

