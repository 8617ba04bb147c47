"""RPC entrypoints and the event handler of rework operations; mixed into
WorkOrderService, which provides `self.uow`, `self._refs()` and `self._caller()`."""
from mes_common.events.handlers import event_handler
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from work_order_service.contract import rework as schemas
from work_order_service.rework import use_cases as rework


class ReworkEntrypoints:

    @rpc
    def list_rework_operations(self, query=None):
        """Newest first; by status, work center, work order or NCR number."""
        return rework.list_page(self.uow.session, load(schemas.ReworkListQuery(), query))

    @rpc
    def get_rework_operation(self, rework_id):
        return rework.dump(rework.get(self.uow.session, uuid_arg(rework_id, "rework_id")))

    @rpc
    def start_rework_operation(self, rework_id, data=None):
        """Operator = the calling user, qualified as the operation it came from requires."""
        rework_id, data = uuid_arg(rework_id, "rework_id"), load(schemas.ReworkStart(), data)
        return rework.start(self.uow, self._refs(), self._caller(), rework_id, data)

    @rpc
    def complete_rework_operation(self, rework_id, data=None):
        rework_id, data = uuid_arg(rework_id, "rework_id"), load(schemas.ReworkComplete(), data)
        with self.uow() as tx:
            return rework.complete(tx, rework_id, data)

    @event_handler("quality_service", "mes.quality.ncr.dispositioned")
    def on_ncr_dispositioned(self, event):
        """The MRB's signed disposition: its rework and repair lines become rework operations."""
        rework.from_disposition(self.uow(), event.data)
