"""Use cases of the work order itself: create, read, list, change, and the
lifecycle moves (hold, resume, cancel, close). Release is a saga (release.py),
execution has its own module (execution.py).

A use case that calls another service opens its own units of work around
the call (`with tx:`), so no database transaction waits on an RPC; the
others run in the unit of work the entrypoint opens."""
import uuid

from sqlalchemy import select, update as sql_update
from sqlalchemy.orm import selectinload

from mes_common import errors, paging, signatures
from mes_common.audit import iso_utc
from mes_common.db import utcnow
from mes_common.rules import check_version
from work_order_service import domain
from work_order_service.contract import events
from work_order_service.models import (NUMBER_SEQUENCE, Operation, OperationInterval, Saga, Signature, StatusChange,
                                       WorkOrder)
from work_order_service.references import node_of_level
from work_order_service.contract.schemas import OperationOut, WorkOrderOut, WorkOrderSummaryOut

ENTITY = RECORD = "work_order"  # entity type of the audit entries and of the signed record (its close)
ACTIONS = {domain.CANCELLED: "cancel", domain.CLOSED: "close"}  # audit action of each end

work_order_out = WorkOrderOut()
summary_out = WorkOrderSummaryOut()
operation_out = OperationOut()


def dump(wo):
    return work_order_out.dump(wo)


def dump_operation(op, wo):
    """An operation as its events carry it: with its order's number, part and
    quantity (quality opens the inspection of a control point from them)."""
    return {**operation_out.dump(op), "work_order_id": str(wo.id), "work_order_number": wo.number,
            "part_id": str(wo.part_id), "part_number": wo.part_number, "part_revision": wo.part_revision,
            "work_order_quantity": float(wo.quantity)}


def get(session, wo_id, lock=False):
    """The order with its operations (and their buy-offs) and status history,
    freshly read (populate_existing: a dump after a change shows the change)."""
    stmt = (select(WorkOrder).where(WorkOrder.id == wo_id)
            .options(selectinload(WorkOrder.operations).selectinload(Operation.buy_offs),
                     selectinload(WorkOrder.history))
            .execution_options(populate_existing=True))
    if lock:
        stmt = stmt.with_for_update(of=WorkOrder)
    wo = session.execute(stmt).scalar_one_or_none()
    if wo is None:
        raise errors.NotFound(f"work order {wo_id} does not exist", {"id": str(wo_id)})
    return wo


def get_out(session, wo_id):
    """The order with the signatures of its close and of its step buy-offs, each
    valid while the record is as it was signed."""
    wo = get(session, wo_id)
    out = dump(wo)
    buy_offs = {domain.buy_off_record_id(op.id, b.step): domain.buy_off_content(op.id, b.step, b.values, b.note,
                                                                                b.by_id)
                for op in wo.operations for b in op.buy_offs}
    signed = signatures.for_records(session, Signature, domain.BUY_OFF, buy_offs)
    for op in out["operations"]:
        for b in op["buy_offs"]:
            b["signatures"] = signed[domain.buy_off_record_id(op["id"], b["step"])]
    # only a close signs the order itself: no query for the others (most answers of execution)
    out["signatures"] = signatures.for_record(session, Signature, RECORD, wo.id, closed_content(wo)) \
        if wo.status == domain.CLOSED else []
    return out


def record_status(tx, wo, target, caller, reason=None, at=None):
    """Move the order to `target` (domain rules) and append the history entry."""
    entry = domain.transition(wo.number, wo.status, target, reason=reason, actor=caller.actor, at=at or utcnow())
    wo.status = target
    tx.session.add(StatusChange(work_order_id=wo.id, from_status=entry["from"], to_status=entry["to"],
                                reason=reason, actor=caller.actor, at=entry["at"]))
    return entry


def active_saga(session, wo_id):
    return session.execute(select(Saga.id).where(
        Saga.work_order_id == wo_id, Saga.state.in_(domain.SAGA_ACTIVE))).scalar_one_or_none()


def check_no_release_running(session, wo):
    if active_saga(session, wo.id) is not None:
        raise errors.Conflict(f"work order {wo.number} is being released; try again in a moment",
                              {"status": ["release in progress"]})


def _part(refs, part_id):
    part = refs.part(part_id)
    if part is None:
        raise errors.RuleViolated(f"part_id: no part {part_id}", {"part_id": ["no part with this id"]})
    if part.get("status", "active") != "active":
        raise errors.RuleViolated(f"part {part['part_number']} is {part['status']}: no new work orders",
                                  {"part_id": [f"part is {part['status']}"]})
    return part


def create(uow, refs, caller, data):
    # reference lookups first: no database transaction is open during the RPCs
    part = _part(refs, data["part_id"])
    site = node_of_level(refs, data["site_id"], "site", "site_id")
    work_center = (node_of_level(refs, data["work_center_id"], "work_center", "work_center_id")
                   if data["work_center_id"] else None)
    creator_name = caller.name
    with uow() as tx:
        session = tx.session
        number = data["number"]
        if number is None:
            number = domain.format_number(session.execute(NUMBER_SEQUENCE.next_value()).scalar())
        elif session.execute(select(WorkOrder.id).where(WorkOrder.number == number)).first():
            raise errors.Conflict(f"work order number {number} is already used", {"number": ["already used"]})
        now = utcnow()
        wo = WorkOrder(
            id=uuid.uuid4(), number=number, part_id=data["part_id"], part_number=part["part_number"],
            part_name=part["name"], part_revision=data["part_revision"] or part["revision"],
            uom=part.get("uom") or "ea",
            quantity=data["quantity"], due_date=data["due_date"], priority=data["priority"],
            site_id=data["site_id"], site_name=site["name"],
            work_center_id=data["work_center_id"], work_center_name=work_center["name"] if work_center else None,
            output_location_id=data["output_location_id"], created_by_id=caller.user_id, created_by_name=creator_name,
            status=domain.CREATED, quantity_completed=0, quantity_scrapped=0)
        session.add(wo)
        session.add(StatusChange(work_order_id=wo.id, from_status=None, to_status=domain.CREATED,
                                 actor=caller.actor, at=now))
        tx.flush()
        out = get_out(session, wo.id)
        tx.emit(events.work_order("created"), wo.id, out)
        tx.audit("create", ENTITY, wo.id, new=out)
        return out


def update(tx, caller, wo_id, changes):
    session = tx.session
    wo = get(session, wo_id, lock=True)
    check_version(changes.pop("version", None), wo.version, f"work order {wo.number}")
    domain.check_editable(wo.number, wo.status)
    check_no_release_running(session, wo)  # the saga reserves for the quantity it read
    out = tx.apply_changes(wo, changes, ENTITY, events.work_order("updated"), lambda row: get_out(session, row.id))
    return dump(wo) if out is None else out


def hold(tx, caller, wo_id, reason):
    """Hold stops the work: running operations are paused (their clocks stop)."""
    session = tx.session
    wo = get(session, wo_id, lock=True)
    now = utcnow()
    domain.hold(wo.number, wo.status, reason, actor=caller.actor, at=now)
    held_from = wo.status
    record_status(tx, wo, domain.ON_HOLD, caller, reason, now)
    wo.held_from, wo.hold_reason = held_from, reason
    paused = [op for op in wo.operations if op.status == domain.RUNNING]
    for op in paused:
        op.status = domain.PAUSED
    if paused:
        close_intervals(session, [op.id for op in paused], now)
    tx.flush()
    wo = get(session, wo.id)
    paused_ids = {op.id for op in paused}
    for op in wo.operations:
        if op.id in paused_ids:
            tx.emit(events.operation("paused"), op.id, {**dump_operation(op, wo), "reason": f"order held: {reason}",
                                                        "at": iso_utc(now)})
    out = dump(wo)
    tx.emit(events.work_order("held"), wo.id, out)
    tx.audit("hold", ENTITY, wo.id, old={"status": held_from}, new={"status": domain.ON_HOLD}, reason=reason)
    return out


def resume(tx, caller, wo_id, reason=None):
    session = tx.session
    wo = get(session, wo_id, lock=True)
    target = domain.resume_target(wo.number, wo.status, wo.held_from)
    record_status(tx, wo, target, caller, reason)
    wo.held_from = wo.hold_reason = None
    tx.flush()
    out = get_out(session, wo.id)
    tx.emit(events.work_order("resumed"), wo.id, out)
    tx.audit("resume", ENTITY, wo.id, old={"status": domain.ON_HOLD}, new={"status": target}, reason=reason)
    return out


def closed_content(wo):
    """What closing signs: the order, its quantities per operation and its end."""
    return {"id": str(wo.id), "number": wo.number, "part_id": str(wo.part_id), "part_revision": wo.part_revision,
            "quantity": wo.quantity, "status": wo.status,
            "closed_at": iso_utc(wo.closed_at) if wo.closed_at else None,
            "operations": [{"sequence": op.sequence, "good": op.quantity_good, "scrap": op.quantity_scrap,
                            "rework": op.quantity_rework} for op in wo.operations]}


def _end(uow, material, caller, wo_id, target, reason, sign=None):
    """Cancel or close: check the move, have it signed (`sign()`: the auth
    service's answer, or None), give back what material still holds for the
    order, then record the move (and the signature). The release is
    idempotent, so it runs first, outside any database transaction: a failure
    leaves the order as it was."""
    with uow() as tx:
        wo = get(tx.session, wo_id)
        domain.check_transition(wo.number, wo.status, target)
        check_no_release_running(tx.session, wo)
        holds_material = wo.status != domain.CREATED  # failed releases were compensated
        number = wo.number
    manifest = sign() if sign else None
    verb = ACTIONS[target]
    if holds_material:
        material.release_work_order_reservations(
            str(wo_id), {"reason": f"work order {number} {verb}" + (f": {reason}" if reason else "")})
    with uow() as tx:
        session = tx.session
        wo = get(session, wo_id, lock=True)
        old = wo.status
        now = utcnow()
        record_status(tx, wo, target, caller, reason, now)
        wo.held_from = None
        running = [op for op in wo.operations if op.status == domain.RUNNING]
        for op in running:  # a cancelled order's clocks stop
            op.status = domain.PAUSED
        close_intervals(session, [op.id for op in running], now)
        if target == domain.CLOSED:
            wo.closed_at = now
        tx.flush()
        tx.sign(manifest, RECORD, wo.id, signatures.APPROVAL, closed_content(wo))
        fresh = get(session, wo.id)
        stopped = {op.id for op in running}
        for op in fresh.operations:   # their clocks stop: said as for a hold
            if op.id in stopped:
                tx.emit(events.operation("paused"), op.id, {**dump_operation(op, fresh), "reason": f"order {target}",
                                                            "at": iso_utc(now)})
        out = get_out(session, wo.id)
        tx.emit(events.work_order(target), wo.id, out)
        tx.audit(verb, ENTITY, wo.id, old={"status": old}, new={"status": target}, reason=reason)
        return out


def cancel(uow, material, caller, wo_id, reason=None):
    """From created, released or on_hold; material reservations are released."""
    return _end(uow, material, caller, wo_id, domain.CANCELLED, reason)


def close(uow, material, caller, wo_id, reason=None, sign=None):
    """From completed, signed by the person closing (approval); leftover reservations are released."""
    return _end(uow, material, caller, wo_id, domain.CLOSED, reason, sign)


def close_intervals(session, operation_ids, at):
    if not operation_ids:
        return
    session.execute(sql_update(OperationInterval)
                    .where(OperationInterval.operation_id.in_(operation_ids), OperationInterval.ended_at.is_(None))
                    .values(ended_at=at).execution_options(synchronize_session=False))


def list_page(session, query):
    """Newest first (keyset on created_at, id)."""
    stmt = select(WorkOrder)
    for name in ("status", "part_id", "work_center_id"):
        if name in query:
            stmt = stmt.where(getattr(WorkOrder, name) == query[name])
    if "number" in query:
        stmt = stmt.where(WorkOrder.number.startswith(query["number"], autoescape=True))
    return paging.page(session, stmt, [(WorkOrder.created_at, paging.time_key), (WorkOrder.id, paging.uuid_key)],
                       query, lambda rows: summary_out.dump(rows, many=True), descending=True)
