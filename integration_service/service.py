"""Integration service: the MES's border with ERP, PLM and shop-floor systems (ISA-95 / B2MML).
Entrypoints only: B2MML in (inbound.py), the message log (messages.py), endpoints (endpoints.py), what goes
out (outbound.py: webhooks and performance documents from the event streams; delivery.py sends)."""
from nameko.dependency_providers import Config

from mes_common.db import UnitOfWork
from mes_common.events.stream import event_stream
from mes_common.rpc import RpcClient, rpc
from mes_common.schemas import load, uuid_arg
from mes_common.service import ServiceBase
from mes_common.timers import Kick, kickable_timer
from integration_service import contract, delivery, endpoints, inbound, messages, outbound
from integration_service.contract import schemas
from integration_service.models import AuditEntry, Base, InboxEvent, OutboxEvent, Signature

STANDARDS_DIR = "../shared/standards"   # the official schemas, beside the checkout (config: STANDARDS_DIR)
IMPORT_TIMEOUT = 60   # seconds: a schedule of 1,000 orders is one call of the work order service


def _stream(source):
    """The batch handler of every event of `source`: what it takes (the contract's CONSUMES) plus whatever
    webhooks subscribe to. Idempotent by the message's unique (endpoint, event), so no inbox rows."""
    def handler(self, events):
        self._queue(events)
    handler.__name__ = f"on_{source.removesuffix('_service')}"
    return event_stream(source, contract.consumed_from(source), inbox=False)(handler)


class IntegrationService(ServiceBase):
    name = contract.SERVICE

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry, Signature)
    config = Config()
    kick = Kick()
    work_order = RpcClient("work_order_service", timeout=IMPORT_TIMEOUT)
    material = RpcClient("material_service")
    resource = RpcClient("resource_service")

    def _standards(self):
        return self.config.get("STANDARDS_DIR") or STANDARDS_DIR

    def _context(self, query):
        return inbound.Context(work_order=self.work_order, material=self.material, resource=self.resource,
                               standards_dir=self._standards(), correlation_id=self.context.get("correlation_id"),
                               actor=self._caller().actor, site_code=query.get("site"),
                               part_type=query.get("part_type"), permissions=self._caller().permissions)

    def _sealer(self):
        return endpoints.sealer(self.config)

    # ------------------------------------------------------------ B2MML in

    @rpc
    def receive_b2mml(self, query, document):
        """Apply a B2MML document (Process, Change, Cancel, Sync, Get or a plain noun) and answer in B2MML
        (Acknowledge, Respond, Show); a repeated message answers what the first did."""
        query = load(schemas.ReceiveQuery(), query)
        return inbound.receive(self.uow, self._context(query), document, query["idempotency_key"])

    # ------------------------------------------------------------ the message log

    @rpc
    def list_messages(self, query=None):
        return messages.search(self.uow.session, load(schemas.MessageListQuery(), query))

    @rpc
    def get_message(self, message_id):
        return messages.get(self.uow.session, uuid_arg(message_id))

    @rpc
    def get_message_payload(self, message_id):
        """The message as it came in or went out (a file)."""
        row = messages.get_row(self.uow.session, uuid_arg(message_id))
        extension = "json" if row.kind == "webhook" else "xml"
        return {"filename": f"{row.direction}-{row.noun or row.kind}-{row.id}.{extension}", "content": row.payload}

    @rpc
    def replay_message(self, message_id):
        """A refused or failed inbound message applied again, or a parked outbound one sent again."""
        message_id = uuid_arg(message_id)
        with self.uow() as tx:
            direction = messages.get_row(tx.session, message_id).direction
        if direction == messages.IN:
            inbound.replay(self.uow, self._context({}), message_id)
        else:
            with self.uow() as tx:
                delivery.replay(tx, message_id)
                tx.after_commit(self.kick)
        return messages.get(self.uow.session, message_id)

    # ------------------------------------------------------------ endpoints

    @rpc
    def create_endpoint(self, data):
        data = load(schemas.EndpointCreate(), data)
        with self.uow() as tx:
            return endpoints.create(tx, self._sealer(), data)

    @rpc
    def list_endpoints(self, query=None):
        return endpoints.list_page(self.uow.session, load(schemas.EndpointListQuery(), query))

    @rpc
    def get_endpoint(self, endpoint_id):
        return endpoints.get(self.uow.session, uuid_arg(endpoint_id))

    @rpc
    def update_endpoint(self, endpoint_id, changes):
        changes = load(schemas.EndpointUpdate(), changes)
        with self.uow() as tx:
            tx.after_commit(self.kick)   # an endpoint made active again: its waiting messages go now
            return endpoints.update(tx, self._sealer(), uuid_arg(endpoint_id), changes)

    @rpc
    def rotate_endpoint_secret(self, endpoint_id):
        with self.uow() as tx:
            return endpoints.rotate(tx, self._sealer(), uuid_arg(endpoint_id))

    # ------------------------------------------------------------ out: from the events, then delivered

    def _queue(self, events):
        tx = self.uow()
        if delivery.queue(tx.session, outbound.rows_for(events, endpoints.every(tx.session))):
            tx.after_commit(self.kick)

    on_auth = _stream("auth_service")
    on_resource = _stream("resource_service")
    on_material = _stream("material_service")
    on_work_order = _stream("work_order_service")
    on_quality = _stream("quality_service")
    on_reporting = _stream("reporting_service")

    @kickable_timer("INTEGRATION_DELIVERY_INTERVAL", default=1.0, eager=True)
    def deliver(self):
        """Send what is due (kicked when something is queued); rounds until nothing is due."""
        settings = delivery.Settings.from_config(self.config)
        prepare = outbound.preparer(self.work_order, self.material, self._standards())
        sealer = self._sealer()
        while delivery.run(self.uow, settings, sealer, prepare) == settings.batch:
            pass
