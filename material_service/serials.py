"""Serialized units: bulk creation (one INSERT, one audit entry, events in
chunks), look-ups and the SerialOut view."""
import uuid

from sqlalchemy import String, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from material_service import domain, holds, parts
from material_service.contract import events
from material_service.lookups import columns, get, referenced
from material_service.models import Location, Lot, Part, Serial
from material_service.contract.schemas import SerialOut
from mes_common import errors
from mes_common.paging import page, text_key, uuid_key

ENTITY = "serial"
serial_out = SerialOut()

# one statement for the whole batch: the arrays travel as two parameters
_INSERT = text("""
INSERT INTO serial (id, serial_number, part_id, status, lot_id, location_id, work_order_id)
SELECT unnest(CAST(:ids AS uuid[])), unnest(CAST(:numbers AS text[])), :part_id, 'available', :lot_id,
       :location_id, :work_order_id
""")
DUPLICATES_SHOWN = 20


def insert(tx, part, numbers, lot_id=None, location_id=None, work_order_id=None, field="serial_numbers"):
    """Create serials `numbers` of `part` (409 naming those that exist);
    publishes serial.created in chunks. Returns [{id, serial_number}]."""
    session = tx.session
    taken = session.execute(select(Serial.serial_number).where(
        Serial.part_id == part.id,
        Serial.serial_number == any_(bindparam("numbers", numbers, type_=ARRAY(String))))
        .order_by(Serial.serial_number)
        .limit(DUPLICATES_SHOWN)).scalars().all()
    if taken:
        more = "" if len(taken) < DUPLICATES_SHOWN else " (and maybe more)"
        raise errors.Conflict(f"part {part.part_number} already has serial(s) {', '.join(taken)}{more}",
                              {field: taken})
    ids = [str(uuid.uuid4()) for _ in numbers]
    session.execute(_INSERT, {"ids": ids, "numbers": numbers, "part_id": part.id, "lot_id": lot_id,
                              "location_id": location_id, "work_order_id": work_order_id})
    created = [{"id": i, "serial_number": n} for i, n in zip(ids, numbers)]
    tx.emit_chunked(events.SERIAL_CREATED, part.id, "serials", created, part_id=str(part.id),
                        lot_id=_str(lot_id), location_id=_str(location_id), work_order_id=_str(work_order_id))
    return created


def _str(value):
    return str(value) if value is not None else None


def create(tx, data):
    """Single or bulk (pattern or list) creation."""
    session = tx.session
    part = referenced(session, Part, data["part_id"], "part_id")
    domain.check_part_usable(part.part_number, part.status)
    if not part.serial_controlled:
        raise errors.RuleViolated(f"part {part.part_number} is not serial-controlled",
                                  {"part_id": ["not serial-controlled"]})
    if data.get("lot_id") is not None:
        lot = referenced(session, Lot, data["lot_id"], "lot_id")
        if lot.part_id != part.id:
            raise errors.RuleViolated("the lot is of another part", {"lot_id": ["lot of another part"]})
    if data.get("location_id") is not None:
        referenced(session, Location, data["location_id"], "location_id")
    field = "pattern" if data.get("pattern") else "serial_numbers"
    numbers = domain.expand_serial_pattern(data["pattern"]) if data.get("pattern") else data["serial_numbers"]
    repeated = domain.duplicates(numbers)
    if repeated:
        raise errors.ValidationFailed("serial numbers repeat", {field: [f"repeated: {', '.join(repeated[:20])}"]})
    created = insert(tx, part, numbers, data.get("lot_id"), data.get("location_id"), data.get("work_order_id"),
                     field)
    summary = {"part_id": str(part.id), "count": len(created), "first": numbers[0], "last": numbers[-1]}
    # one entry for the batch: the serials themselves are rows and events
    tx.audit("create_batch", ENTITY, part.id, new={**summary, "pattern": data.get("pattern"),
                                                   "lot_id": _str(data.get("lot_id")),
                                                   "location_id": _str(data.get("location_id")),
                                                   "work_order_id": _str(data.get("work_order_id"))})
    return {**summary, "serials": created}


def dump_many(session, serials):
    numbers = {i: p.part_number for i, p in parts.by_ids(session, {s.part_id for s in serials}).items()}
    active = holds.active(session, "serial", [s.id for s in serials])
    return [serial_out.dump({**columns(s),
                             "part_number": numbers.get(s.part_id, ""),
                             "holds": holds.views(session, active.get(s.id, []))}) for s in serials]


def dump(session, serial):
    return dump_many(session, [serial])[0]


def get_serial(session, serial_id):
    return dump(session, get(session, Serial, serial_id))


def lock_serials(session, ids, field):
    ids = sorted(set(ids))
    if not ids:
        return {}
    found = {s.id: s for s in session.execute(
        select(Serial).where(Serial.id.in_(ids)).order_by(Serial.id).with_for_update()).scalars()}
    for serial_id in ids:
        if serial_id not in found:
            raise errors.RuleViolated(f"serial {serial_id} does not exist", {field: [f"no serial {serial_id}"]})
    return found


def count_for_work_order(session, part_id, work_order_id):
    return session.execute(select(func.count()).where(Serial.part_id == part_id,
                                                      Serial.work_order_id == work_order_id)).scalar()


def list_page(session, query):
    stmt = select(Serial)
    for name in ("part_id", "status", "lot_id", "work_order_id"):
        if name in query:
            stmt = stmt.where(getattr(Serial, name) == query[name])
    if query.get("serial_number"):
        stmt = stmt.where(Serial.serial_number.startswith(query["serial_number"], autoescape=True))
    return page(session, stmt, [(Serial.serial_number, text_key), (Serial.id, uuid_key)], query,
                lambda rows: dump_many(session, rows))
