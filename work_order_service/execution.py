"""Shop-floor use cases: start, pause, resume and report operations, consume
material, buy off work-instruction steps. Starting, pausing, resuming and
reporting answer with the whole order (WorkOrderOut): a report moves other
operations and the order too.

Every booking locks the work order row first: the operation-order rule and
the order's completion read several operations, so bookings on one order
are serialised (different orders run in parallel).
"""
import hashlib
import uuid
from decimal import Decimal

from sqlalchemy import select

from mes_common import errors, signatures
from mes_common.audit import iso_utc
from mes_common.db import utcnow
from work_order_service import domain, orders
from work_order_service.contract import events
from work_order_service.models import OperationInterval, OperationReport, StepBuyOff
from work_order_service.contract.schemas import BuyOffOut

ENTITY = "work_order_operation"

buy_off_out = BuyOffOut()


def _operation(wo, op_id):
    for op in wo.operations:
        if op.id == op_id:
            return op
    raise errors.NotFound(f"operation {op_id} of work order {wo.number} does not exist",
                          {"operation_id": str(op_id)})


def _locked(tx, wo_id, op_id, lock=True):
    wo = orders.get(tx.session, wo_id, lock=lock)
    return wo, _operation(wo, op_id)


def _neighbours(wo, op):
    ops = wo.operations  # ordered by sequence
    i = ops.index(op)
    return (ops[i - 1] if i else None), (ops[i + 1] if i + 1 < len(ops) else None)


def _fresh(tx, wo_id, op_id):
    """The order as it now is (the answer: WorkOrderOut) and the operation's
    event data."""
    wo = orders.get(tx.session, wo_id)
    return orders.dump(wo), orders.dump_operation(_operation(wo, op_id), wo)


def _open_interval(session, op, at):
    session.add(OperationInterval(operation_id=op.id, started_at=at))


OVERRIDE = "qualification:override"


def _prepare(uow, wo_id, op_id):
    """The operation as it is (unlocked), refused early if it cannot run: the
    resource service is asked before any transaction opens."""
    with uow() as tx:
        wo, op = _locked(tx, wo_id, op_id, lock=False)
        domain.check_executable(wo.number, wo.status)
        domain.check_op_transition(op.sequence, op.status, domain.RUNNING)
        return wo.number, op.sequence, list(op.required_skills)


def check_operator(refs, caller, requirements, override_reason):
    """Whether the calling person may run the operation now: qualified in its
    required skills today (the resource service's word). Returns None, or the
    shortfalls an authorised override (`override_reason` and the permission
    qualification:override) accepts, to audit; otherwise 422 naming each
    skill, the level needed and an expiry."""
    if not requirements:
        return None
    if caller.user_id is None:   # the platform's own call names no operator; nobody else may skip the check
        if caller.trusted:
            return None
        raise errors.Forbidden("running an operation that requires qualifications needs a person",
                               {"operator": ["no person, and not a platform call"]})
    answer = refs.resource.check_qualification({"user_id": str(caller.user_id), "requirements": requirements})
    if answer["qualified"]:
        return None
    messages = [shortfall["message"] for shortfall in answer["shortfalls"]]
    if override_reason is None:
        raise errors.RuleViolated(f"{caller.name} may not run this operation: {'; '.join(messages)}",
                                  {"operator": messages})
    if caller.permissions is None or OVERRIDE not in caller.permissions:
        raise errors.Forbidden(f"overriding a qualification needs the permission {OVERRIDE}",
                               {"override_reason": [f"you do not hold {OVERRIDE}"], "operator": messages})
    return answer["shortfalls"]


def overridden(tx, entity, record_id, caller, shortfalls, reason):
    """Record that an operation (or a rework) runs although its operator lacks a qualification."""
    if shortfalls is None:
        return None
    override = {"operator_id": str(caller.user_id), "operator": caller.name, "reason": reason, "by": caller.actor,
                "shortfalls": shortfalls}
    tx.audit("override_qualification", entity, record_id, new=override, reason=reason)
    return override


def start(uow, refs, caller, wo_id, op_id, data):
    """Operator = the calling user, qualified for it (or overridden); the order
    goes in progress with its first start."""
    if data["equipment_id"] is not None:
        check_equipment(refs, data["equipment_id"])
    number, sequence, requirements = _prepare(uow, wo_id, op_id)
    shortfalls = check_operator(refs, caller, requirements, data["override_reason"])
    operator_name = caller.name
    tools = _use_tools(refs, caller, wo_id, op_id, number, sequence, data["tools"])
    with uow() as tx:
        session = tx.session
        wo, op = _locked(tx, wo_id, op_id)
        domain.check_executable(wo.number, wo.status)
        domain.check_op_transition(op.sequence, op.status, domain.RUNNING)
        override = overridden(tx, ENTITY, op.id, caller, shortfalls, data["override_reason"])
        now = utcnow()
        op.status = domain.RUNNING
        op.actual_start = op.actual_start or now
        op.operator_id, op.operator_name = caller.user_id, operator_name
        op.equipment_id = data["equipment_id"] or op.equipment_id
        _open_interval(session, op, now)
        started_order = wo.status == domain.RELEASED
        if started_order:
            orders.record_status(tx, wo, domain.IN_PROGRESS, caller, at=now)
        tx.flush()
        order, operation = _fresh(tx, wo.id, op.id)
        tx.emit(events.operation("started"), op.id, {**operation, "qualification_override": override,
                                                     "tools": tools, "at": iso_utc(now)})
        if started_order:
            tx.emit(events.work_order("updated"), wo.id, {**order, "changed": ["status"]})
        tx.audit("start", ENTITY, op.id, new={"work_order": wo.number, "sequence": op.sequence,
                                              "operator": operator_name, "equipment_id": op.equipment_id})
        return order


def _use_tools(refs, caller, wo_id, op_id, number, sequence, tools):
    """Record the gauges and tools the operation starts with, each fit for use
    (the resource service refuses, naming each that is not and its due date).
    Recorded before the start commits, keyed by the operation and its tools: a
    start that fails afterwards leaves its uses (a suspect-product list errs on
    the safe side) and its retry records none again."""
    if not tools:
        return []
    asset_ids = sorted(str(t) for t in tools)
    key = f"wo-start:{op_id}:{hashlib.sha256(','.join(asset_ids).encode()).hexdigest()[:16]}"
    try:
        refs.resource.use_assets({"asset_ids": asset_ids, "work_order_id": str(wo_id),
                                  "work_order_number": number, "operation_id": str(op_id),
                                  "operation_sequence": sequence, "user_id": caller.user_id and str(caller.user_id),
                                  "used_by": caller.name, "idempotency_key": key})
    except errors.RuleViolated as refused:
        problems = refused.details.get("asset_ids", [refused.message])
        raise errors.RuleViolated(f"tools: {'; '.join(problems)}", {"tools": problems}) from None
    return [str(t) for t in tools]


def check_equipment(refs, equipment_id):
    node = refs.node(equipment_id)
    if node is None:
        raise errors.RuleViolated(f"equipment_id: no equipment node {equipment_id}",
                                  {"equipment_id": ["no equipment node with this id"]})
    if not node.get("active", True):
        raise errors.RuleViolated(f"equipment {node['code']} is inactive", {"equipment_id": ["inactive"]})


def pause(tx, caller, wo_id, op_id, reason=None):
    wo, op = _locked(tx, wo_id, op_id)
    domain.check_executable(wo.number, wo.status)
    domain.check_op_transition(op.sequence, op.status, domain.PAUSED)
    op.status = domain.PAUSED
    now = utcnow()
    orders.close_intervals(tx.session, [op.id], now)
    tx.flush()
    order, operation = _fresh(tx, wo.id, op.id)
    tx.emit(events.operation("paused"), op.id, {**operation, "reason": reason, "at": iso_utc(now)})
    tx.audit("pause", ENTITY, op.id, old={"status": domain.RUNNING}, new={"status": domain.PAUSED}, reason=reason)
    return order


def resume(uow, refs, caller, wo_id, op_id, data):
    """Whoever resumes becomes the operator, qualified for it (or overridden)."""
    shortfalls = check_operator(refs, caller, _prepare(uow, wo_id, op_id)[2], data["override_reason"])
    operator_name = caller.name
    with uow() as tx:
        wo, op = _locked(tx, wo_id, op_id)
        domain.check_executable(wo.number, wo.status)
        domain.check_op_transition(op.sequence, op.status, domain.RUNNING)
        override = overridden(tx, ENTITY, op.id, caller, shortfalls, data["override_reason"])
        op.status = domain.RUNNING
        op.operator_id, op.operator_name = caller.user_id, operator_name
        now = utcnow()
        _open_interval(tx.session, op, now)
        tx.flush()
        order, operation = _fresh(tx, wo.id, op.id)
        tx.emit(events.operation("resumed"), op.id, {**operation, "qualification_override": override,
                                                     "at": iso_utc(now)})
        tx.audit("resume", ENTITY, op.id, old={"status": domain.PAUSED}, new={"status": domain.RUNNING})
        return order


# ------------------------------------------------------------------ quantities

def _replayed(session, key, op_id):
    """The report already made with this idempotency key (None if none)."""
    if key is None:
        return None
    report = session.execute(select(OperationReport).where(OperationReport.idempotency_key == key)).scalar_one_or_none()
    if report is not None and report.operation_id != op_id:
        raise errors.Conflict("this idempotency key was used for another operation",
                              {"idempotency_key": ["already used"]})
    return report


def complete(uow, refs, caller, wo_id, op_id, data):
    """Report good / scrap / rework (they accumulate: partial completions).

    The last operation's good is the order's output: `output.reported` (outbox)
    with the serial numbers given, or generated for a serial-controlled part.
    An operation is completed once every unit that can reach it is reported
    good or scrap; the order completes when its last operation has made the
    quantity (or is completed short)."""
    with uow() as tx:  # what the report needs from outside, looked up before any lock
        wo = orders.get(tx.session, wo_id)
        op = _operation(wo, op_id)
        if _replayed(tx.session, data["idempotency_key"], op.id):
            return orders.dump(wo)
        is_last = op is wo.operations[-1]
        part_id, gate = wo.part_id, {"work_order_id": str(wo.id), "operation_id": str(op.id),
                                     "part_id": str(wo.part_id), "part_revision": wo.part_revision,
                                     "operation_sequence": op.sequence}
    if data["good"]:
        check_inspection_gate(refs, gate)
    part = refs.part(part_id) if is_last and data["good"] else None
    with uow() as tx:
        session = tx.session
        wo, op = _locked(tx, wo_id, op_id)
        if _replayed(session, data["idempotency_key"], op.id):  # a concurrent retry won
            return orders.dump(wo)
        domain.check_executable(wo.number, wo.status)
        domain.check_reportable(op.sequence, op.status)
        previous, following = _neighbours(wo, op)
        good, scrap, rework = data["good"], data["scrap"], data["rework"]
        domain.check_operation_order(op.sequence, op.quantity_good + good,
                                     (previous.sequence, previous.quantity_good) if previous else None)
        available, _ = domain.input_quantity(wo.quantity, (previous.status, previous.quantity_good)
                                             if previous else None)
        domain.check_input(op.sequence, op.quantity_good + op.quantity_scrap + good + scrap, available)
        now = utcnow()
        report = OperationReport(id=uuid.uuid4(), operation_id=op.id, idempotency_key=data["idempotency_key"],
                                 good=good, scrap=scrap, rework=rework, reason_codes=data["reason_codes"],
                                 reported_by_id=caller.user_id, actor=caller.actor, at=now)
        output = None
        if following is None and good:
            output = _output(session, wo, op, report, part, data)
            report.output = output
        elif data["serial_numbers"] is not None:
            raise errors.RuleViolated("serial numbers are given with the last operation's output",
                                      {"serial_numbers": ["only on the last operation"]})
        session.add(report)
        totals = domain.tally((op.quantity_good, op.quantity_scrap, op.quantity_rework), wo.quantity_scrapped,
                              (good, scrap, rework), following.status if following is not None else None)
        op.quantity_good, op.quantity_scrap, op.quantity_rework = totals.good, totals.scrap, totals.rework
        wo.quantity_scrapped = totals.order_scrapped
        if totals.order_completed is not None:
            wo.quantity_completed = totals.order_completed
        if totals.next_status is not None:
            following.status = totals.next_status
        done = _complete_done(session, wo, now)
        order_done = wo.status == domain.IN_PROGRESS and domain.order_done(
            wo.quantity, wo.operations[-1].quantity_good, wo.operations[-1].status)
        if order_done:
            orders.record_status(tx, wo, domain.COMPLETED, caller, at=now)
            wo.completed_at = now
        tx.flush()

        fresh = orders.get(session, wo.id)
        by_id = {o.id: o for o in fresh.operations}
        report_out = {"id": str(report.id), "good": float(good), "scrap": float(scrap), "rework": float(rework),
                      "reason_codes": data["reason_codes"]}
        tx.emit(events.operation("completed"), op.id,
                {**orders.dump_operation(by_id[op.id], fresh), "report": report_out, "at": iso_utc(now)})
        for other in done:
            if other.id != op.id:
                tx.emit(events.operation("completed"), other.id, {**orders.dump_operation(by_id[other.id], fresh),
                                                                  "report": None, "at": iso_utc(now)})
        if output is not None:
            tx.emit(events.OUTPUT_REPORTED, report.id, output)
        order = orders.dump(fresh)
        if order_done:
            tx.emit(events.work_order("completed"), wo.id, order)
        tx.audit("report", ENTITY, op.id, new={"work_order": wo.number, "sequence": op.sequence, **report_out,
                                               "output": output, "completed": [o.sequence for o in done]})
        return order


def check_inspection_gate(refs, gate):
    """Good units leave an operation only past its inspection: while the inspection
    a control point requires there is open, failed or not opened, 422 naming it.
    The quality service's word, asked each time (docs/architecture.md, "Quality
    gates"); with it down, 503: no part leaves an inspection point unseen."""
    answer = refs.quality.check_operation_gate(gate)
    if not answer["open"]:
        numbers = [i["number"] for i in answer["inspections"]]
        raise errors.RuleViolated(f"operation {gate['operation_sequence']} cannot report good units: "
                                  f"{answer['reason']}", {"inspection": [answer["reason"]], "inspections": numbers})


def _output(session, wo, op, report, part, data):
    """The output.reported data of a report on the last operation. Material
    makes the output from the event, after our commit: what we can check here
    (serials already reported by this order) is refused now, not in its handler."""
    good = data["good"]
    serials = data["serial_numbers"]
    if part is not None and part.get("serial_controlled"):
        domain.check_whole(good)
        if serials is None:
            serials = domain.serial_numbers(wo.number, int(op.quantity_good) + 1, int(good))
        earlier = {s for (out,) in session.execute(select(OperationReport.output).where(
            OperationReport.operation_id == op.id, OperationReport.output.is_not(None)))
            for s in out.get("serial_numbers") or []}
        again = sorted(earlier.intersection(serials))
        if again:
            raise errors.Conflict(f"serial numbers already reported on this order: {', '.join(again[:10])}",
                                  {"serial_numbers": again})
    elif serials is not None:
        raise errors.RuleViolated(f"part {wo.part_number} is not serial-controlled: no serial numbers",
                                  {"serial_numbers": ["the part is not serial-controlled"]})
    location = data["location_id"] or wo.output_location_id
    return {"report_id": str(report.id), "work_order_id": str(wo.id), "work_order_number": wo.number,
            "operation_id": str(op.id), "part_id": str(wo.part_id), "quantity": float(good),
            "serial_numbers": serials, "lot_number": data["lot_number"],
            "location_id": str(location) if location else None, "work_order_quantity": float(wo.quantity)}


def _complete_done(session, wo, now):
    """Mark completed every operation all of whose input is reported (a report
    upstream can finish operations downstream). Returns those it marked."""
    done, previous = [], None
    for op in wo.operations:
        if op.status != domain.COMPLETED and domain.operation_done(
                op.quantity_good, op.quantity_scrap, wo.quantity,
                (previous.status, previous.quantity_good) if previous else None):
            op.status, op.actual_end = domain.COMPLETED, now
            done.append(op)
        previous = op
    orders.close_intervals(session, [op.id for op in done], now)
    return done


# ------------------------------------------------------------------ material, buy-offs

def _number(value):
    return float(value) if isinstance(value, Decimal) else value


def consume(uow, material, caller, wo_id, op_id, data):
    """Material consumed against the operation, through material.consume (which
    records the genealogy of the order's output)."""
    with uow() as tx:
        wo = orders.get(tx.session, wo_id)
        op = _operation(wo, op_id)
        domain.check_executable(wo.number, wo.status)
        number = wo.number
    key = data["idempotency_key"] or f"wo-consume:{op_id}:{uuid.uuid4()}"
    items = [{k: str(v) if isinstance(v, uuid.UUID) else _number(v) for k, v in item.items() if v is not None}
             for item in data["items"]]
    result = material.consume({"work_order_id": str(wo_id), "work_order_number": number,
                               "operation_id": str(op_id), "items": items, "idempotency_key": key})
    with uow() as tx:
        tx.audit("consume", ENTITY, op.id, new={"work_order": number, "sequence": op.sequence, "items": items,
                                                "idempotency_key": key})
    return result


def _buy_off_checks(tx, validate, wo_id, op_id, data, lock):
    """(order, operation, instruction, cleaned values) if the step can be bought off now."""
    session = tx.session
    wo, op = _locked(tx, wo_id, op_id, lock)
    domain.check_buy_off(wo.number, wo.status, op.sequence, op.status)
    instruction = op.work_instruction
    if not instruction:
        raise errors.RuleViolated(f"operation {op.sequence} has no work instruction",
                                  {"step": ["the operation has no work instruction"]})
    steps = instruction.get("steps") or []
    if data["step"] >= len(steps):
        raise errors.ValidationFailed(f"work instruction {instruction['code']} has {len(steps)} step(s)",
                                      {"step": [f"no step {data['step']} (0 to {len(steps) - 1})"]})
    existing = session.execute(select(StepBuyOff).where(
        StepBuyOff.operation_id == op.id, StepBuyOff.step == data["step"])).scalar_one_or_none()
    if existing is not None:
        raise errors.Conflict(f"step {data['step']} of operation {op.sequence} was bought off by "
                              f"{existing.by_name} at {existing.at.isoformat()}", {"step": ["already bought off"]})
    return wo, op, instruction, validate(steps[data["step"]], data["values"])


def buy_off(uow, refs, caller, validate, wo_id, op_id, data, sign=None):
    """Record who bought off a step of the frozen work instruction, when, with
    which values (checked against the step's field definitions), signed by them
    (`sign(record_id)` gives the auth service's answer, asked between the check
    and the write so no transaction waits on it), qualified today in the
    operation's required skills (no override: a buy-off is the signer's own
    word). Each step once."""
    by_name = caller.name
    with uow() as tx:
        requirements = list(_buy_off_checks(tx, validate, wo_id, op_id, data, lock=False)[1].required_skills)
    check_operator(refs, caller, requirements, None)
    manifest = sign(domain.buy_off_record_id(op_id, data["step"])) if sign else None
    with uow() as tx:
        session = tx.session
        wo, op, instruction, values = _buy_off_checks(tx, validate, wo_id, op_id, data, lock=True)
        entry = StepBuyOff(operation_id=op.id, step=data["step"], values=values, note=data["note"],
                           by_id=caller.user_id, by_name=by_name, at=utcnow())
        session.add(entry)
        tx.flush()
        signature = tx.sign(manifest, domain.BUY_OFF, domain.buy_off_record_id(op.id, entry.step),
                            signatures.RESPONSIBILITY,
                            domain.buy_off_content(op.id, entry.step, entry.values, entry.note, entry.by_id))
        out = buy_off_out.dump(entry)
        tx.emit(events.STEP_BOUGHT_OFF, op.id, {**out, "work_order_id": str(wo.id), "work_order_number": wo.number,
                                                "operation_id": str(op.id), "sequence": op.sequence,
                                                "work_instruction": {"code": instruction["code"],
                                                                     "version": instruction.get("version")}})
        tx.audit("buy_off", ENTITY, op.id, new={"work_order": wo.number, "sequence": op.sequence, **out})
        return {**out, "signatures": [signature] if signature else []}
