"""Downtime records: a work center (and maybe equipment, an order, an
operation) stopped for a reason code, from a time until a time."""
import uuid

from sqlalchemy import select

from mes_common import errors, paging
from mes_common.db import fetch
from work_order_service.contract import events
from work_order_service.models import Downtime, Operation, WorkOrder
from work_order_service.references import node_of_level
from work_order_service.contract.schemas import DowntimeOut

ENTITY = "downtime"

downtime_out = DowntimeOut()


def dump(row):
    minutes = (row.ended_at - row.started_at).total_seconds() / 60 if row.ended_at else None
    return downtime_out.dump({**{c: getattr(row, c) for c in downtime_out.fields if hasattr(Downtime, c)},
                              "duration_minutes": minutes})


def record(uow, refs, caller, data):
    work_center = node_of_level(refs, data["work_center_id"], "work_center", "work_center_id")
    if data["equipment_id"] is not None and refs.node(data["equipment_id"]) is None:
        raise errors.RuleViolated(f"equipment_id: no equipment node {data['equipment_id']}",
                                  {"equipment_id": ["no equipment node with this id"]})
    recorded_by = caller.name
    with uow() as tx:
        session = tx.session
        if data["work_order_id"] is not None:
            if session.get(WorkOrder, data["work_order_id"]) is None:
                raise errors.RuleViolated(f"work_order_id: no work order {data['work_order_id']}",
                                          {"work_order_id": ["no work order with this id"]})
            if data["operation_id"] is not None:
                op = session.get(Operation, data["operation_id"])
                if op is None or op.work_order_id != data["work_order_id"]:
                    raise errors.RuleViolated(f"operation_id: no operation {data['operation_id']} in that order",
                                              {"operation_id": ["not an operation of the work order"]})
        row = Downtime(id=uuid.uuid4(), work_center_name=work_center["name"], recorded_by_id=caller.user_id,
                       recorded_by_name=recorded_by, **data)
        session.add(row)
        tx.flush()
        out = dump(row)
        tx.emit(events.DOWNTIME_RECORDED, row.id, out)
        tx.audit("record", ENTITY, row.id, new=out)
        return out


def end(tx, caller, downtime_id, ended_at):
    row = fetch(tx.session, Downtime.id, downtime_id, "downtime", lock=True)
    if row.ended_at is not None:
        raise errors.Conflict(f"downtime {downtime_id} already ended at {row.ended_at.isoformat()}",
                              {"ended_at": row.ended_at.isoformat()})
    if ended_at < row.started_at:
        raise errors.ValidationFailed("ended_at is before the downtime started",
                                      {"ended_at": [f"must not be before {row.started_at.isoformat()}"]})
    row.ended_at = ended_at
    tx.flush()
    out = dump(row)
    tx.emit(events.DOWNTIME_ENDED, row.id, out)
    tx.audit("end", ENTITY, row.id, old={"ended_at": None}, new={"ended_at": ended_at})
    return out


def list_page(session, query):
    """Latest first (keyset on started_at, id)."""
    stmt = select(Downtime)
    for name in ("work_center_id", "work_order_id"):
        if name in query:
            stmt = stmt.where(getattr(Downtime, name) == query[name])
    if "open" in query:
        stmt = stmt.where(Downtime.ended_at.is_(None) if query["open"] else Downtime.ended_at.is_not(None))
    return paging.page(session, stmt, [(Downtime.started_at, paging.time_key), (Downtime.id, paging.uuid_key)],
                       query, lambda rows: [dump(r) for r in rows], descending=True)
