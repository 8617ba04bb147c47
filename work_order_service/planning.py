"""Planning views: the dispatch list of a work center, the forward schedule of
an order, plan-vs-actual variance."""
import datetime as dt

from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.orm import selectinload

from mes_common import errors, paging
from mes_common.db import utcnow
from work_order_service import domain, orders
from work_order_service.contract import events
from work_order_service.models import Operation, WorkOrder
from work_order_service.contract.schemas import DispatchItem, ScheduleOut, VarianceOut

dispatch_out = DispatchItem()
schedule_out = ScheduleOut()
variance_out = VarianceOut()

# operations without a plan sort after planned ones (keyset needs a value, not NULL)
UNPLANNED = dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc)


def dispatch_list(session, work_center_id, query):
    """Ready, running and paused operations of released / in-progress orders at
    the work center: by priority, then due date, then planned start."""
    planned = func.coalesce(Operation.planned_start,
                            literal(UNPLANNED, TIMESTAMP(timezone=True))).label("planned_key")
    stmt = (select(Operation, WorkOrder, WorkOrder.priority, WorkOrder.due_date, planned, Operation.id)
            .join(WorkOrder, Operation.work_order_id == WorkOrder.id)
            .where(Operation.work_center_id == work_center_id, Operation.status.in_(domain.DISPATCHABLE),
                   WorkOrder.status.in_(domain.EXECUTABLE))
            .options(selectinload(Operation.buy_offs)))
    keys = [(WorkOrder.priority, paging.int_key), (WorkOrder.due_date, _date_key), (planned, paging.time_key),
            (Operation.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: [_dispatch_item(r.Operation, r.WorkOrder)
                                                                 for r in rows], scalars=False)


def _date_key(value):
    return dt.date.fromisoformat(paging.text_key(value))


def _dispatch_item(op, wo):
    return dispatch_out.dump({
        **{name: getattr(op, name) for name in dispatch_out.fields if hasattr(Operation, name)},
        "work_order_id": wo.id, "work_order_number": wo.number, "work_order_status": wo.status,
        "part_id": wo.part_id, "part_number": wo.part_number, "part_name": wo.part_name,
        "order_quantity": wo.quantity, "due_date": wo.due_date, "priority": wo.priority})


def _with_operations(session, wo_id, lock=False, intervals=False):
    stmt = select(WorkOrder).where(WorkOrder.id == wo_id).options(
        selectinload(WorkOrder.operations).selectinload(Operation.intervals) if intervals
        else selectinload(WorkOrder.operations)).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update(of=WorkOrder)
    wo = session.execute(stmt).scalar_one_or_none()
    if wo is None:
        raise errors.NotFound(f"work order {wo_id} does not exist", {"id": str(wo_id)})
    return wo


def _to_schedule(wo):
    if not wo.operations:
        raise errors.RuleViolated(f"work order {wo.number} is {wo.status}: it has operations once released",
                                  {"status": [f"{wo.status} has no operations to schedule"]})
    if wo.status in (domain.CLOSED, domain.CANCELLED, domain.COMPLETED):
        raise errors.RuleViolated(f"work order {wo.number} is {wo.status}: nothing to schedule",
                                  {"status": [f"{wo.status} is not scheduled"]})
    return [op for op in wo.operations if op.status != domain.COMPLETED]


def plan_request(session, wo_id, data):
    """What the resource service places into working time (plan_operations):
    the operations not completed, in sequence, each setup + run × quantity
    minutes at its work center, from `start_at` (default now); and their ids."""
    wo = _with_operations(session, wo_id)
    todo = _to_schedule(wo)
    request = {"start_at": (data["start_at"] or utcnow()).isoformat(), "operations": [
        {"work_center_id": str(op.work_center_id),
         "minutes": float(domain.operation_minutes(op.setup_time, op.run_time, wo.quantity))} for op in todo]}
    return request, [op.id for op in todo]


def schedule(tx, caller, wo_id, op_ids, plan):
    """Store the forward schedule `plan` ([{start, end}] of the operations
    `op_ids`, placed into their work centers' working time by the resource
    service): each operation starts when the previous ends, skipping time its
    work center does not work. Completed operations keep their plan."""
    session = tx.session
    wo = _with_operations(session, wo_id, lock=True)
    todo = _to_schedule(wo)
    if [op.id for op in todo] != op_ids:
        raise errors.Conflict(f"work order {wo.number} changed while it was being scheduled: schedule it again",
                              {"operations": ["changed meanwhile"]})
    old = {str(op.id): [op.planned_start, op.planned_end] for op in todo}
    for op, slot in zip(todo, plan):
        op.planned_start, op.planned_end = (dt.datetime.fromisoformat(slot[k]) for k in ("start", "end"))
    tx.flush()
    tx.emit(events.work_order("updated"), wo.id, {**orders.get_out(session, wo.id), "changed": ["schedule"]})
    tx.audit("schedule", orders.ENTITY, wo.id, old=old,
             new={str(op.id): [op.planned_start, op.planned_end] for op in todo})
    return schedule_view(wo)


def get_schedule(session, wo_id):
    return schedule_view(_with_operations(session, wo_id))


def schedule_view(wo):
    ops = wo.operations
    starts = [op.planned_start for op in ops if op.planned_start]
    ends = [op.planned_end for op in ops if op.planned_end]
    end = max(ends) if ends else None
    return schedule_out.dump({
        "work_order_id": wo.id, "number": wo.number, "due_date": wo.due_date,
        "planned_start": min(starts) if starts else None, "planned_end": end,
        "late": end.date() > wo.due_date if end else None,
        "operations": [{"id": op.id, "sequence": op.sequence, "name": op.name, "work_center_id": op.work_center_id,
                        "work_center_name": op.work_center_name, "status": op.status,
                        "duration_minutes": domain.operation_minutes(op.setup_time, op.run_time, wo.quantity),
                        "planned_start": op.planned_start, "planned_end": op.planned_end} for op in ops],
    })


def variance(session, wo_id):
    wo = _with_operations(session, wo_id, intervals=True)
    now = utcnow()
    ops = wo.operations
    rows, order = domain.variance(wo.quantity, [{
        "sequence": op.sequence, "setup_time": op.setup_time, "run_time": op.run_time, "good": op.quantity_good,
        "scrap": op.quantity_scrap, "rework": op.quantity_rework,
        "actual_minutes": domain.running_minutes([(i.started_at, i.ended_at) for i in op.intervals], now),
    } for op in ops])
    return variance_out.dump({
        "work_order_id": wo.id, "number": wo.number, "status": wo.status, "order": order,
        "operations": [{**row, "id": op.id, "name": op.name, "status": op.status} for op, row in zip(ops, rows)],
    })
