"""The status history of quality records and the announcement of their signatures."""
from sqlalchemy import select

from quality_service.contract import events
from quality_service.models import StatusChange


def record(tx, record_type, record_id, from_status, to_status, reason=None):
    tx.session.add(StatusChange(record_type=record_type, record_id=record_id, from_status=from_status,
                                to_status=to_status, actor=tx.actor, reason=reason))


def move(tx, machine, record_type, row, status, reason=None):
    """Move a record (with `id`, `number`, `status`) to `status` by its state
    machine, with its status history."""
    machine.check(row.status, status, row.number)
    record(tx, record_type, row.id, row.status, status, reason)
    row.status = status


def of(session, record_type, record_id):
    rows = session.execute(select(StatusChange).where(StatusChange.record_type == record_type,
                                                      StatusChange.record_id == record_id)
                           .order_by(StatusChange.id)).scalars()
    return [{"from_status": r.from_status, "to_status": r.to_status, "at": r.at, "actor": r.actor,
             "reason": r.reason} for r in rows]


def signed(tx, record_type, record_id, record_number, signature):
    """Announce a signature (traceability and reporting keep who signed what)."""
    tx.emit(events.SIGNATURE_RECORDED, record_id, {"record_type": record_type, "record_id": str(record_id),
                                                   "record_number": record_number, "signature": signature})
