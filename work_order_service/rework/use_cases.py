"""Use cases of rework operations.

Made from the MRB's signed disposition (`mes.quality.ncr.dispositioned`), one
per rework or repair line (the line's id is unique here: a redelivered event
makes none twice). Started by an operator qualified as the operation the units
came from requires (or overridden, as an operation is), completed with a note.
Each change is announced (`rework.*`, outbox): quality follows each line on
its NCR and inspects the units again when the NCR's rework is done.
"""
import uuid
from decimal import Decimal

from sqlalchemy import select

from mes_common import paging
from mes_common.db import fetch, utcnow
from work_order_service import execution
from work_order_service.contract import events
from work_order_service.contract.rework import ReworkOut
from work_order_service.models import REWORK_SEQUENCE, Operation, ReworkOperation, WorkOrder
from work_order_service.references import node_of_level
from work_order_service.rework import rules

ENTITY = "rework_operation"
rework_out = ReworkOut()


def dump(row):
    return rework_out.dump({c.key: getattr(row, c.key) for c in ReworkOperation.__table__.columns})


def get(session, rework_id, lock=False):
    return fetch(session, ReworkOperation.id, rework_id, "rework operation", lock)


def _announce(tx, row, verb, **extra):
    tx.flush()
    tx.session.refresh(row)
    out = dump(row)
    tx.emit(events.rework(verb), row.id, {**out, **extra})
    return out


def _where(session, item, ncr):
    """The order, operation, work center and skills of the units' origin (what we know of it)."""
    op_id = rules.origin_operation_id(item, ncr)
    op = session.get(Operation, uuid.UUID(str(op_id))) if op_id else None
    wo_id = op.work_order_id if op is not None else ncr.get("work_order_id")
    wo = session.get(WorkOrder, uuid.UUID(str(wo_id))) if wo_id else None
    if op is not None:
        return {"work_order_id": wo.id, "work_order_number": wo.number, "operation_id": op.id,
                "operation_sequence": op.sequence, "work_center_id": op.work_center_id,
                "work_center_name": op.work_center_name, "required_skills": list(op.required_skills)}
    if wo is not None:
        return {"work_order_id": wo.id, "work_order_number": wo.number, "work_center_id": wo.work_center_id,
                "work_center_name": wo.work_center_name}
    return {}


def from_disposition(tx, ncr):
    """A rework operation of each rework or repair line of an NCR's signed
    disposition (NcrOut), none made twice. Returns those made now."""
    session = tx.session
    lines = [line for line in ncr["dispositions"] if line["decision"] in rules.REWORKED]
    made_before = set(session.execute(select(ReworkOperation.disposition_id).where(
        ReworkOperation.disposition_id.in_([uuid.UUID(line["id"]) for line in lines]))).scalars())
    items = {item["target_id"]: item for item in ncr["items"]}
    made = []
    for line in lines:
        if uuid.UUID(line["id"]) in made_before:
            continue
        item = items[line["target_id"]]
        number = rules.format_number(session.execute(REWORK_SEQUENCE.next_value()).scalar_one())
        row = ReworkOperation(
            id=uuid.uuid4(), number=number, disposition_id=line["id"], decision=line["decision"],
            ncr_id=ncr["id"], ncr_number=ncr["number"], ncr_title=ncr["title"][:200], part_id=ncr["part_id"],
            part_number=ncr["part_number"], target_type=item["target_type"], target_id=item["target_id"],
            target_number=item["target_number"], quantity=Decimal(str(line["quantity"])),
            instructions=line["instructions"], status=rules.OPEN, **_where(session, item, ncr))
        session.add(row)
        out = _announce(tx, row, "created")
        tx.audit("create", ENTITY, row.id, new=out)
        made.append(out)
    return made


def start(uow, refs, caller, rework_id, data):
    """The calling person starts it, qualified as the operation it came from requires."""
    with uow() as tx:   # what the checks need, read before any other service is asked
        row = get(tx.session, rework_id)
        rules.STATES.check(row.status, rules.RUNNING, row.number)
        rules.check_work_center(row.number, row.work_center_id is not None, data["work_center_id"])
        requirements = list(row.required_skills)
    center = (node_of_level(refs, data["work_center_id"], "work_center", "work_center_id")
              if data["work_center_id"] is not None else None)
    if data["equipment_id"] is not None:
        execution.check_equipment(refs, data["equipment_id"])
    shortfalls = execution.check_operator(refs, caller, requirements, data["override_reason"])
    operator_name = caller.name
    with uow() as tx:
        row = get(tx.session, rework_id, lock=True)
        rules.STATES.check(row.status, rules.RUNNING, row.number)
        override = execution.overridden(tx, ENTITY, row.id, caller, shortfalls, data["override_reason"])
        if center is not None:
            row.work_center_id, row.work_center_name = data["work_center_id"], center["name"]
        row.status, row.started_at, row.equipment_id = rules.RUNNING, utcnow(), data["equipment_id"]
        row.operator_id, row.operator_name = caller.user_id, operator_name
        out = _announce(tx, row, "started", qualification_override=override)
        tx.audit("start", ENTITY, row.id, old={"status": rules.OPEN},
                 new={"status": rules.RUNNING, "operator": operator_name, "work_center": row.work_center_name})
        return out


def complete(tx, rework_id, data):
    row = get(tx.session, rework_id, lock=True)
    rules.STATES.check(row.status, rules.COMPLETED, row.number)
    row.status, row.completed_at, row.note = rules.COMPLETED, utcnow(), data["note"]
    out = _announce(tx, row, "completed")
    tx.audit("complete", ENTITY, row.id, old={"status": rules.RUNNING}, new={"status": rules.COMPLETED},
             reason=data["note"])
    return out


def list_page(session, query):
    """Newest first."""
    stmt = paging.where_equal(select(ReworkOperation), ReworkOperation, query,
                              ("status", "work_center_id", "work_order_id", "ncr_number"))
    keys = [(ReworkOperation.created_at, paging.time_key), (ReworkOperation.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: [dump(r) for r in rows], descending=True)
