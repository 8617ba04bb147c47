"""/api/v1 routes of the work order service: work orders, execution, dispatch
lists, downtime."""
from gateway.http import json_body, path_id, query_args, route
from mes_common.rpc import RpcClient
from work_order_service import schemas

TAGS = ["work orders"]
ORDERS = "/api/v1/work-orders"
ORDER = ORDERS + "/<work_order_id>"
OPERATION = ORDER + "/operations/<operation_id>"
DOWNTIME = "/api/v1/downtime"
ACTION_ERRORS = (400, 404, 409, 422, 503)
READ_ERRORS = (400, 404, 503)


def _ids(work_order_id, operation_id):
    return path_id("work_order_id", work_order_id), path_id("operation_id", operation_id)


class WorkOrderRoutes:
    """Mixed into the Gateway."""

    work_orders = RpcClient("work_order_service")

    # ------------------------------------------------------------ work orders

    @route("POST", ORDERS, summary="Create a work order", tags=TAGS, body=schemas.WorkOrderCreate,
           response=schemas.WorkOrderOut, status=201, permission="work_order:write")
    def create_work_order(self, request):
        """Number generated (WO-000001) unless the ERP gives one. Part, site and work center
        must exist (422 naming the field); their names are cached on the order."""
        return self.work_orders.create_work_order(json_body(request, schemas.WorkOrderCreate))

    @route("GET", ORDERS, summary="List work orders", tags=TAGS, query=schemas.WorkOrderListQuery,
           response=schemas.WorkOrderPage, permission="work_order:read", error_codes=(400, 503))
    def list_work_orders(self, request):
        """Newest first; items without operations and status history."""
        return self.work_orders.list_work_orders(query_args(request, schemas.WorkOrderListQuery))

    @route("GET", ORDER, summary="Get a work order with its operations and status history", tags=TAGS,
           response=schemas.WorkOrderOut, permission="work_order:read", error_codes=READ_ERRORS)
    def get_work_order(self, request, work_order_id):
        return self.work_orders.get_work_order(path_id("work_order_id", work_order_id))

    @route("PATCH", ORDER, summary="Change quantity, due date or priority (while created)", tags=TAGS,
           body=schemas.WorkOrderUpdate, response=schemas.WorkOrderOut, permission="work_order:write")
    def update_work_order(self, request, work_order_id):
        return self.work_orders.update_work_order(path_id("work_order_id", work_order_id),
                                                  json_body(request, schemas.WorkOrderUpdate))

    @route("POST", ORDER + "/release", summary="Release: snapshot the routing, reserve the material", tags=TAGS,
           body=schemas.ReleaseRequest, response=schemas.WorkOrderOut, permission="work_order:release")
    def release_work_order(self, request, work_order_id):
        """All or nothing: when material is short (422 naming every short part and by how
        much) or anything fails, every reservation is given back and the order stays created
        with `release_error`."""
        return self.work_orders.release_work_order(path_id("work_order_id", work_order_id),
                                                   json_body(request, schemas.ReleaseRequest))

    @route("POST", ORDER + "/hold", summary="Put on hold (reason required)", tags=TAGS, body=schemas.HoldRequest,
           response=schemas.WorkOrderOut, permission="work_order:write")
    def hold_work_order(self, request, work_order_id):
        """Running operations are paused."""
        return self.work_orders.hold_work_order(path_id("work_order_id", work_order_id),
                                                json_body(request, schemas.HoldRequest))

    @route("POST", ORDER + "/resume", summary="Resume a held order", tags=TAGS, body=schemas.ResumeRequest,
           response=schemas.WorkOrderOut, permission="work_order:write")
    def resume_work_order(self, request, work_order_id):
        return self.work_orders.resume_work_order(path_id("work_order_id", work_order_id),
                                                  json_body(request, schemas.ResumeRequest))

    @route("POST", ORDER + "/cancel", summary="Cancel (material reservations are released)", tags=TAGS,
           body=schemas.CancelRequest, response=schemas.WorkOrderOut, permission="work_order:write")
    def cancel_work_order(self, request, work_order_id):
        return self.work_orders.cancel_work_order(path_id("work_order_id", work_order_id),
                                                  json_body(request, schemas.CancelRequest))

    @route("POST", ORDER + "/close", summary="Close a completed order", tags=TAGS, body=schemas.CloseRequest,
           response=schemas.WorkOrderOut, permission="work_order:write")
    def close_work_order(self, request, work_order_id):
        return self.work_orders.close_work_order(path_id("work_order_id", work_order_id),
                                                 json_body(request, schemas.CloseRequest))

    # ------------------------------------------------------------ planning

    @route("POST", ORDER + "/schedule", summary="Forward-schedule the operations", tags=TAGS,
           body=schemas.ScheduleRequest, response=schemas.ScheduleOut, permission="work_order:write")
    def schedule_work_order(self, request, work_order_id):
        """Each operation starts when the previous ends; duration = setup + run × quantity."""
        return self.work_orders.schedule_work_order(path_id("work_order_id", work_order_id),
                                                    json_body(request, schemas.ScheduleRequest))

    @route("GET", ORDER + "/schedule", summary="The planned start and end of each operation", tags=TAGS,
           response=schemas.ScheduleOut, permission="work_order:read", error_codes=READ_ERRORS)
    def get_schedule(self, request, work_order_id):
        return self.work_orders.get_schedule(path_id("work_order_id", work_order_id))

    @route("GET", ORDER + "/variance", summary="Plan vs actual: quantities and minutes", tags=TAGS,
           response=schemas.VarianceOut, permission="work_order:read", error_codes=READ_ERRORS)
    def get_variance(self, request, work_order_id):
        return self.work_orders.get_variance(path_id("work_order_id", work_order_id))

    @route("GET", "/api/v1/work-centers/<work_center_id>/dispatch-list", summary="What to work on at a work center",
           tags=TAGS, query=schemas.DispatchQuery, response=schemas.DispatchPage, permission="work_order:read",
           error_codes=(400, 503))
    def get_dispatch_list(self, request, work_center_id):
        """Ready, running and paused operations of released and in-progress orders, by
        priority, due date, planned start."""
        return self.work_orders.get_dispatch_list(path_id("work_center_id", work_center_id),
                                                  query_args(request, schemas.DispatchQuery))

    # ------------------------------------------------------------ execution

    @route("POST", OPERATION + "/start", summary="Start an operation (you are its operator)", tags=TAGS,
           body=schemas.StartOperation, response=schemas.WorkOrderOut, permission="work_order:execute")
    def start_operation(self, request, work_order_id, operation_id):
        return self.work_orders.start_operation(*_ids(work_order_id, operation_id),
                                                json_body(request, schemas.StartOperation))

    @route("POST", OPERATION + "/pause", summary="Pause a running operation", tags=TAGS,
           body=schemas.PauseOperation, response=schemas.WorkOrderOut, permission="work_order:execute")
    def pause_operation(self, request, work_order_id, operation_id):
        return self.work_orders.pause_operation(*_ids(work_order_id, operation_id),
                                                json_body(request, schemas.PauseOperation))

    @route("POST", OPERATION + "/resume", summary="Resume a paused operation", tags=TAGS,
           body=schemas.ResumeOperation, response=schemas.WorkOrderOut, permission="work_order:execute")
    def resume_operation(self, request, work_order_id, operation_id):
        return self.work_orders.resume_operation(*_ids(work_order_id, operation_id),
                                                 json_body(request, schemas.ResumeOperation))

    @route("POST", OPERATION + "/complete", summary="Report good, scrap and rework", tags=TAGS,
           body=schemas.CompleteOperation, response=schemas.WorkOrderOut, permission="work_order:execute")
    def complete_operation(self, request, work_order_id, operation_id):
        """Quantities accumulate. An operation cannot complete more good than the previous one
        has (422). The last operation's good is the output (serials generated
        `<WO number>-0001…` for a serial-controlled part unless given); the order completes
        when the last operation has made its quantity."""
        return self.work_orders.complete_operation(*_ids(work_order_id, operation_id),
                                                   json_body(request, schemas.CompleteOperation))

    @route("POST", OPERATION + "/consume", summary="Consume lots or serials against the operation", tags=TAGS,
           body=schemas.ConsumeMaterial, response=schemas.ConsumptionOut, permission="work_order:execute")
    def consume_material(self, request, work_order_id, operation_id):
        """A held lot or serial answers 409 naming the hold."""
        return self.work_orders.consume_material(*_ids(work_order_id, operation_id),
                                                 json_body(request, schemas.ConsumeMaterial))

    @route("POST", OPERATION + "/buy-offs", summary="Buy off a step of the frozen work instruction", tags=TAGS,
           body=schemas.BuyOffRequest, response=schemas.BuyOffOut, permission="work_order:execute")
    def buy_off_step(self, request, work_order_id, operation_id):
        """Values are checked against the step's fields (400 naming `values.<field>`); each step once (409)."""
        return self.work_orders.buy_off_step(*_ids(work_order_id, operation_id),
                                             json_body(request, schemas.BuyOffRequest))

    # ------------------------------------------------------------ downtime

    @route("POST", DOWNTIME, summary="Record downtime", tags=TAGS, body=schemas.DowntimeCreate,
           response=schemas.DowntimeOut, status=201, permission="work_order:execute")
    def record_downtime(self, request):
        return self.work_orders.record_downtime(json_body(request, schemas.DowntimeCreate))

    @route("GET", DOWNTIME, summary="List downtime", tags=TAGS, query=schemas.DowntimeListQuery,
           response=schemas.DowntimePage, permission="work_order:read", error_codes=(400, 503))
    def list_downtime(self, request):
        return self.work_orders.list_downtime(query_args(request, schemas.DowntimeListQuery))

    @route("POST", DOWNTIME + "/<downtime_id>/end", summary="End an open downtime", tags=TAGS,
           body=schemas.DowntimeEnd, response=schemas.DowntimeOut, permission="work_order:execute")
    def end_downtime(self, request, downtime_id):
        return self.work_orders.end_downtime(path_id("downtime_id", downtime_id),
                                             json_body(request, schemas.DowntimeEnd))
