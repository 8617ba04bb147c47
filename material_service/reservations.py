"""Reservations of part quantities for work orders: FEFO then FIFO over
released, unheld, unexpired lots; keyed by the caller's idempotency key;
a release of an unknown key leaves a tombstone."""
import uuid

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from material_service import domain, ledger, parts
from material_service.contract import events
from material_service.lookups import columns, referenced, today
from material_service.models import Hold, Location, Lot, LotBalance, Part, Reservation, ReservationAllocation
from material_service.contract.schemas import ReservationOut
from mes_common import errors
from mes_common.paging import page, time_key, uuid_key

ENTITY = "reservation"
reservation_out = ReservationOut()


def dump_many(session, reservations):
    ids = [r.id for r in reservations]
    allocations = {}
    if ids:
        for allocation, lot_number, location_code in session.execute(
                select(ReservationAllocation, Lot.lot_number, Location.code)
                .join(Lot, Lot.id == ReservationAllocation.lot_id)
                .join(Location, Location.id == ReservationAllocation.location_id)
                .where(ReservationAllocation.reservation_id.in_(ids))
                .order_by(Lot.expiry_date.asc().nulls_last(), Lot.created_at, Lot.lot_number, Location.code)):
            allocations.setdefault(allocation.reservation_id, []).append(
                {"lot_id": allocation.lot_id, "lot_number": lot_number, "location_id": allocation.location_id,
                 "location_code": location_code, "quantity": allocation.quantity, "consumed": allocation.consumed})
    numbers = {i: p.part_number for i, p in parts.by_ids(session, {r.part_id for r in reservations if r.part_id}).items()}
    return [reservation_out.dump({**columns(r),
                                  "part_number": numbers.get(r.part_id), "allocations": allocations.get(r.id, [])})
            for r in reservations]


def dump(session, reservation):
    return dump_many(session, [reservation])[0]


def _by_key(session, key, lock=False):
    stmt = select(Reservation).where(Reservation.idempotency_key == key)
    return session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()


def _eligible(session, part_id, lock=False):
    """Balances of the part that can be reserved: released lots, unheld,
    not expired, something unreserved (locked when reserving)."""
    held = exists().where(Hold.target_type == "lot", Hold.target_id == Lot.id, Hold.status == "active")
    stmt = (select(LotBalance, Lot.expiry_date, Lot.created_at, Lot.lot_number, Location.code)
            .join(Lot, Lot.id == LotBalance.lot_id).join(Location, Location.id == LotBalance.location_id)
            .where(LotBalance.part_id == part_id, Lot.status == "released", LotBalance.quantity > LotBalance.reserved,
                   (Lot.expiry_date.is_(None)) | (Lot.expiry_date >= today()), ~held)
            .order_by(LotBalance.lot_id, LotBalance.location_id))
    if lock:
        stmt = stmt.with_for_update(of=LotBalance)
    rows = session.execute(stmt).all()
    candidates = [domain.Candidate(b.lot_id, b.location_id, expiry, received, number, code, b.quantity - b.reserved)
                  for b, expiry, received, number, code in rows]
    return candidates, {(b.lot_id, b.location_id): b for b, *_ in rows}


def _same_request(reservation, data):
    if reservation.part_id is None:  # a tombstone: the request was released before it arrived
        return
    if (reservation.work_order_id, reservation.part_id, reservation.quantity) != \
            (data["work_order_id"], data["part_id"], data["quantity"]):
        raise errors.Conflict(f"idempotency key {data['idempotency_key']!r} was already used for another reservation",
                              {"idempotency_key": ["already used for a different request"]})


def reserve(tx, data):
    session = tx.session
    existing = _by_key(session, data["idempotency_key"])
    if existing is not None:
        _same_request(existing, data)
        return dump(session, existing)
    part = referenced(session, Part, data["part_id"], "part_id")
    # claim the key: a concurrent duplicate waits here, then finds ours
    claimed = session.execute(pg_insert(Reservation).values(
        id=uuid.uuid4(), idempotency_key=data["idempotency_key"], work_order_id=data["work_order_id"],
        part_id=part.id, quantity=data["quantity"], status="active", reference=data["reference"])
        .on_conflict_do_nothing(index_elements=[Reservation.idempotency_key]).returning(Reservation.id)).scalar()
    if claimed is None:
        return reserve(tx, data)
    candidates, balances = _eligible(session, part.id, lock=True)
    allocations = domain.allocate(candidates, data["quantity"])
    if allocations is None:
        raise domain.short_error(part.id, part.part_number, data["quantity"],
                                 sum((c.available for c in candidates), domain.ZERO))
    for allocation in allocations:
        balances[(allocation.lot_id, allocation.location_id)].reserved += allocation.quantity
        session.add(ReservationAllocation(reservation_id=claimed, **allocation._asdict()))
    tx.flush()
    reservation = session.get(Reservation, claimed)
    out = dump(session, reservation)
    tx.emit(events.RESERVATION_CREATED, reservation.id, out)
    tx.audit("reserve", ENTITY, reservation.id, new=out)
    return out


def release(tx, key, data):
    session = tx.session
    reservation = _by_key(session, key, lock=True)
    if reservation is None:
        tombstone = session.execute(pg_insert(Reservation).values(
            id=uuid.uuid4(), idempotency_key=key, quantity=domain.ZERO, status="released",
            released_at=func.now(), release_reason=data.get("reason") or "released before it was reserved")
            .on_conflict_do_nothing(index_elements=[Reservation.idempotency_key]).returning(Reservation.id)).scalar()
        if tombstone is None:  # a reserve with this key won the race: release that
            return release(tx, key, data)
        reservation = session.get(Reservation, tombstone)
        return _released(tx, reservation, data, "tombstone")
    if reservation.status != "active":
        return dump(session, reservation)
    _unreserve(session, [reservation])
    reservation.status, reservation.released_at = "released", func.now()
    reservation.release_reason = data.get("reason")
    tx.flush()
    session.refresh(reservation)
    return _released(tx, reservation, data, "release")


def _released(tx, reservation, data, action):
    out = dump(tx.session, reservation)
    tx.emit(events.RESERVATION_RELEASED, reservation.id, out)
    tx.audit(action, ENTITY, reservation.id, old={"status": "active"} if action == "release" else None,
             new={"status": "released", "idempotency_key": reservation.idempotency_key}, reason=data.get("reason"))
    return out


def _unreserve(session, reservations):
    """Give back what is still reserved. The caller holds the reservation rows'
    locks, which every writer of their allocations takes first."""
    allocations = session.execute(select(ReservationAllocation).where(
        ReservationAllocation.reservation_id.in_([r.id for r in reservations]),
        ReservationAllocation.quantity > 0)).scalars().all()
    balances = ledger.lock_balance_pairs(session, [(a.lot_id, a.location_id) for a in allocations])
    for allocation in allocations:
        balances[(allocation.lot_id, allocation.location_id)].reserved -= allocation.quantity
        allocation.quantity = domain.ZERO


def release_work_order(tx, work_order_id, data):
    session = tx.session
    active = session.execute(select(Reservation).where(Reservation.work_order_id == work_order_id,
                                                       Reservation.status == "active")
                             .order_by(Reservation.id).with_for_update()).scalars().all()
    released = [release(tx, r.idempotency_key, data) for r in active]
    return {"work_order_id": str(work_order_id), "released": released}


def lock_own(session, work_order_id, lot_ids):
    """The work order's active reservations on these lots, locked (in id order)."""
    has_lot = exists().where(ReservationAllocation.reservation_id == Reservation.id,
                             ReservationAllocation.lot_id.in_(lot_ids), ReservationAllocation.quantity > 0)
    return session.execute(select(Reservation).where(Reservation.work_order_id == work_order_id,
                                                     Reservation.status == "active", has_lot)
                           .order_by(Reservation.id).with_for_update()).scalars().all()


def own_allocations(session, reservations, lot_id):
    """What these (locked) reservations still hold of one lot."""
    if not reservations:
        return []
    return session.execute(select(ReservationAllocation).where(
        ReservationAllocation.reservation_id.in_([r.id for r in reservations]),
        ReservationAllocation.lot_id == lot_id, ReservationAllocation.quantity > 0)
        .order_by(ReservationAllocation.id)).scalars().all()


def draw(balance, allocations, quantity):
    """Consume `quantity` out of the work order's own allocations first:
    what comes out of them is no longer reserved. Returns the amount drawn."""
    left = quantity
    for allocation in allocations:
        take = min(allocation.quantity, left)
        allocation.quantity -= take
        allocation.consumed += take
        balance.reserved -= take
        left -= take
    return quantity - left


def settle(session, reservations):
    """Reservations with nothing left reserved are consumed."""
    for reservation in reservations:
        left = session.execute(select(func.coalesce(func.sum(ReservationAllocation.quantity), 0)).where(
            ReservationAllocation.reservation_id == reservation.id)).scalar()
        if left == 0:
            reservation.status = "consumed"


def availability(session, items):
    found = parts.by_ids(session, {item["part_id"] for item in items})
    lines = []
    for i, item in enumerate(items):
        part = found.get(item["part_id"])
        if part is None:
            raise errors.RuleViolated(f"part {item['part_id']} does not exist",
                                      {f"items.{i}.part_id": ["no part with this id"]})
        candidates, _ = _eligible(session, part.id)
        lines.append(domain.shortage(part.id, part.part_number, item["quantity"],
                                     sum((c.available for c in candidates), domain.ZERO)))
    return lines


def list_page(session, query):
    stmt = select(Reservation)
    for name in ("work_order_id", "part_id", "status"):
        if name in query:
            stmt = stmt.where(getattr(Reservation, name) == query[name])
    return page(session, stmt, [(Reservation.created_at, time_key), (Reservation.id, uuid_key)], query,
                lambda rows: dump_many(session, rows))
