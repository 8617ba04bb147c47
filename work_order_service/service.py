"""Work order service: work orders, their release saga, shop-floor execution,
dispatch, schedule, variance, downtime (and work instructions and rework
operations, mixed in).

Entrypoints only: validate with the schemas, run a use case, dump the answer.
Use cases calling other services open their own units of work around the
calls; the others run in one opened here.
"""
from nameko.dependency_providers import Config

from mes_common import signatures
from mes_common.cache import ReferenceDataCache
from mes_common.db import UnitOfWork
from mes_common.metrics import DatabaseGauge
from mes_common.events.handlers import event_handler
from mes_common.rpc import RpcClient, rpc
from mes_common.schemas import load, uuid_arg
from mes_common.service import Caller, ServiceBase
from mes_common.timers import config_timer
from work_order_service.instructions import use_cases as instructions
from work_order_service import domain, downtime, execution, imports, orders, planning, references, release
from work_order_service.contract import schemas
from work_order_service.instructions.entrypoints import WorkInstructionEntrypoints
from work_order_service.models import AuditEntry, Base, InboxEvent, OutboxEvent, Signature
from work_order_service.references import References
from work_order_service.rework.entrypoints import ReworkEntrypoints


class WorkOrderService(WorkInstructionEntrypoints, ReworkEntrypoints, ServiceBase):
    name = "work_order_service"

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry, Signature)
    cache = ReferenceDataCache()
    config = Config()
    material = RpcClient("material_service")
    resource = RpcClient("resource_service")
    auth = RpcClient("auth_service")
    quality = RpcClient("quality_service")
    sagas = DatabaseGauge("mes_release_sagas", "Work order release sagas under way, by state", ["state"],
                          release.active_saga_counts)

    # ------------------------------------------------------------ helpers

    def _refs(self):
        return References(self.cache, self.material, self.resource, self.auth, self.quality)

    def _caller(self):
        return Caller.from_context(self.context, self._refs().user_name)

    def _settings(self):
        return release.Settings.from_config(self.config)

    # ------------------------------------------------------------ work orders

    @rpc
    def create_work_order(self, data):
        data = load(schemas.WorkOrderCreate(), data)
        return orders.create(self.uow, self._refs(), self._caller(), data)

    @rpc
    def import_work_orders(self, data):
        """Many orders from the ERP in one transaction (integration's schedule imports): all or none."""
        data = load(schemas.ImportWorkOrders(), data)
        return schemas.ImportResult().dump(imports.import_orders(self.uow, self._refs(), self._caller(), data))

    @rpc
    def find_work_orders(self, data):
        """The summaries of the orders with these numbers (those that exist)."""
        data = load(schemas.WorkOrderNumbers(), data)
        return imports.find(self.uow.session, data["numbers"])

    @rpc
    def get_work_order(self, work_order_id):
        return orders.get_out(self.uow.session, uuid_arg(work_order_id))

    @rpc
    def list_work_orders(self, query=None):
        """Newest first; items without operations and history (get_work_order has them)."""
        return orders.list_page(self.uow.session, load(schemas.WorkOrderListQuery(), query))

    @rpc
    def update_work_order(self, work_order_id, changes):
        """Quantity, due date, priority while created."""
        work_order_id = uuid_arg(work_order_id)
        changes = load(schemas.WorkOrderUpdate(), changes)
        with self.uow() as tx:
            return orders.update(tx, self._caller(), work_order_id, changes)

    @rpc
    def release_work_order(self, work_order_id, data=None):
        """The release saga (release.py): routing snapshot, material reserved, released;
        or compensated and RuleViolated saying what is short."""
        work_order_id = uuid_arg(work_order_id)
        load(schemas.ReleaseRequest(), data)
        return release.release(self.uow, self.material, self.resource, instructions.freeze,
                               self._settings(), self._caller(), work_order_id)

    @rpc
    def hold_work_order(self, work_order_id, data):
        work_order_id = uuid_arg(work_order_id)
        data = load(schemas.HoldRequest(), data)
        with self.uow() as tx:
            return orders.hold(tx, self._caller(), work_order_id, data["reason"])

    @rpc
    def resume_work_order(self, work_order_id, data=None):
        work_order_id = uuid_arg(work_order_id)
        data = load(schemas.ResumeRequest(), data)
        with self.uow() as tx:
            return orders.resume(tx, self._caller(), work_order_id, data["reason"])

    @rpc
    def cancel_work_order(self, work_order_id, data=None):
        work_order_id = uuid_arg(work_order_id)
        data = load(schemas.CancelRequest(), data)
        return orders.cancel(self.uow, self.material, self._caller(), work_order_id, data["reason"])

    @rpc
    def close_work_order(self, work_order_id, data=None):
        """Close a completed order, signed by the person closing it (approval)."""
        work_order_id = uuid_arg(work_order_id)
        data = self._load_signed(schemas.CloseRequest(), data)
        return orders.close(self.uow, self.material, self._caller(), work_order_id, data["reason"], sign=lambda: (
            self._signature(orders.RECORD, work_order_id, signatures.APPROVAL, data.get("signature"))))

    @config_timer("SAGA_RECOVERY_INTERVAL", default=2.0)
    def recover_sagas(self):
        """Compensate release sagas whose worker died (lease expired)."""
        return [str(i) for i in release.recover(self.uow, self.material, self._settings())]

    # ------------------------------------------------------------ planning

    @rpc
    def schedule_work_order(self, work_order_id, data=None):
        work_order_id = uuid_arg(work_order_id)
        data = load(schemas.ScheduleRequest(), data)
        with self.uow() as tx:   # read, ask the resource service outside any transaction, then write
            request, op_ids = planning.plan_request(tx.session, work_order_id, data)
        plan = self.resource.plan_operations(request)
        with self.uow() as tx:
            return planning.schedule(tx, self._caller(), work_order_id, op_ids, plan)

    @rpc
    def get_schedule(self, work_order_id):
        return planning.get_schedule(self.uow.session, uuid_arg(work_order_id))

    @rpc
    def get_variance(self, work_order_id):
        return planning.variance(self.uow.session, uuid_arg(work_order_id))

    @rpc
    def get_dispatch_list(self, work_center_id, query=None):
        work_center_id = uuid_arg(work_center_id, "work_center_id")
        return planning.dispatch_list(self.uow.session, work_center_id, load(schemas.DispatchQuery(), query))

    # ------------------------------------------------------------ execution

    def _op_ids(self, work_order_id, operation_id):
        return uuid_arg(work_order_id), uuid_arg(operation_id, "operation_id")

    @rpc
    def start_operation(self, work_order_id, operation_id, data=None):
        """Operator = the calling user. Start, pause, resume and complete answer with the whole order."""
        wo_id, op_id = self._op_ids(work_order_id, operation_id)
        data = load(schemas.StartOperation(), data)
        return execution.start(self.uow, self._refs(), self._caller(), wo_id, op_id, data)

    @rpc
    def pause_operation(self, work_order_id, operation_id, data=None):
        wo_id, op_id = self._op_ids(work_order_id, operation_id)
        data = load(schemas.PauseOperation(), data)
        with self.uow() as tx:
            return execution.pause(tx, self._caller(), wo_id, op_id, data["reason"])

    @rpc
    def resume_operation(self, work_order_id, operation_id, data=None):
        wo_id, op_id = self._op_ids(work_order_id, operation_id)
        data = load(schemas.ResumeOperation(), data)
        return execution.resume(self.uow, self._refs(), self._caller(), wo_id, op_id, data)

    @rpc
    def complete_operation(self, work_order_id, operation_id, data):
        """Report good / scrap / rework; the last operation reports the output."""
        wo_id, op_id = self._op_ids(work_order_id, operation_id)
        data = load(schemas.CompleteOperation(), data)
        return execution.complete(self.uow, self._refs(), self._caller(), wo_id, op_id, data)

    @rpc
    def consume_material(self, work_order_id, operation_id, data):
        wo_id, op_id = self._op_ids(work_order_id, operation_id)
        data = load(schemas.ConsumeMaterial(), data)
        return execution.consume(self.uow, self.material, self._caller(), wo_id, op_id, data)

    @rpc
    def buy_off_step(self, work_order_id, operation_id, data):
        """Buy off a step, signed by the operator (responsibility)."""
        wo_id, op_id = self._op_ids(work_order_id, operation_id)
        data = self._load_signed(schemas.BuyOffRequest(), data)
        return execution.buy_off(self.uow, self._refs(), self._caller(), instructions.validate_buy_off, wo_id, op_id,
                                 data,
                                 sign=lambda record_id: self._signature(
                                     domain.BUY_OFF, record_id, signatures.RESPONSIBILITY, data.get("signature")))

    # ------------------------------------------------------------ downtime

    @rpc
    def record_downtime(self, data):
        data = load(schemas.DowntimeCreate(), data)
        return downtime.record(self.uow, self._refs(), self._caller(), data)

    @rpc
    def end_downtime(self, downtime_id, data):
        downtime_id = uuid_arg(downtime_id)
        data = load(schemas.DowntimeEnd(), data)
        with self.uow() as tx:
            return downtime.end(tx, self._caller(), downtime_id, data["ended_at"])

    @rpc
    def list_downtime(self, query=None):
        return downtime.list_page(self.uow.session, load(schemas.DowntimeListQuery(), query))

    # ------------------------------------------------------------ cached references

    @event_handler("material_service", "mes.material.part.updated")
    def on_part_updated(self, event):
        references.sync_part(self.uow, self.cache, event.data)

    @event_handler("resource_service", "mes.resource.site.updated")
    def on_site_updated(self, event):
        references.sync_site(self.uow, self.cache, event.data)

    @event_handler("resource_service", "mes.resource.work_center.updated")
    def on_work_center_updated(self, event):
        references.sync_work_center(self.uow, self.cache, event.data)

    @event_handler("auth_service", "mes.auth.user.updated")
    def on_user_updated(self, event):
        references.sync_user(self.uow, self.cache, event.data)
