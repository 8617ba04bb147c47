"""Traceability service: the genealogy read model. Event streams in (one per
source service, in batches), queries out; it owns no business data."""
from mes_common.db import UnitOfWork
from mes_common.events.stream import event_stream, of_source, project_batch
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from mes_common.service import ServiceBase
from traceability_service import as_built, contract, projections, queries, store
from traceability_service.contract import CONSUMES, schemas
from traceability_service.models import AuditEntry, Base, InboxEvent, OutboxEvent, Signature


def _of(prefix):
    return of_source(CONSUMES, prefix)


class TraceabilityService(ServiceBase):
    name = contract.SERVICE

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry, Signature)

    def _apply(self, events):
        """Project a batch into the generation that answers (in the stream's transaction)."""
        session = self.uow.session
        store.apply(session, store.active(session, lock="shared"), project_batch(events, projections.project))

    # ------------------------------------------------------------ intake: every event of each source

    @event_stream("material_service", _of("mes.material."))
    def on_material(self, events):
        self._apply(events)

    @event_stream("work_order_service", _of("mes.work_order."))
    def on_work_order(self, events):
        self._apply(events)

    @event_stream("quality_service", _of("mes.quality."))
    def on_quality(self, events):
        self._apply(events)

    @event_stream("resource_service", _of("mes.resource."))
    def on_resource(self, events):
        self._apply(events)

    @event_stream("auth_service", _of("mes.auth."))
    def on_auth(self, events):
        self._apply(events)

    # ------------------------------------------------------------ queries

    @rpc
    def get_trace_node(self, node_id):
        return queries.get_node(self.uow.session, uuid_arg(node_id, "node_id"))

    @rpc
    def find_trace_nodes(self, query=None):
        return queries.find_nodes(self.uow.session, load(schemas.NodeSearchQuery(), query))

    @rpc
    def trace_backward(self, node_id, query=None):
        """What went into the node (and who made it, what was measured, which NCRs)."""
        return queries.trace(self.uow.session, uuid_arg(node_id, "node_id"), "backward",
                             load(schemas.TraceQuery(), query))

    @rpc
    def trace_forward(self, node_id, query=None):
        """What the node went into (where-used)."""
        return queries.trace(self.uow.session, uuid_arg(node_id, "node_id"), "forward",
                             load(schemas.TraceQuery(), query))

    @rpc
    def recall(self, query=None):
        return queries.recall(self.uow.session, load(schemas.RecallQuery(), query))

    @rpc
    def recall_csv(self, query=None):
        query = load(schemas.RecallQuery(), query)
        answer = queries.recall(self.uow.session, query)
        name = "-".join(r["number"] or str(r["id"]) for r in answer["roots"][:3])
        return {"filename": f"recall-{name}.csv", "content": queries.recall_csv(answer)}

    @rpc
    def get_as_built(self, serial_id):
        return as_built.record(self.uow.session, uuid_arg(serial_id, "serial_id"))

    @rpc
    def get_as_built_html(self, serial_id):
        record = as_built.record(self.uow.session, uuid_arg(serial_id, "serial_id"))
        return {"filename": f"as-built-{record['serial']['number']}.html", "content": as_built.page(record)}

    @rpc
    def get_timeline(self, node_id, query=None):
        return queries.timeline(self.uow.session, uuid_arg(node_id, "node_id"), load(schemas.TimelineQuery(), query))

    @rpc
    def get_model_status(self):
        return schemas.ModelStatusOut().dump(store.MODEL.status(self.uow.session))
