"""The inventory ledger and the balances it maintains.

Every stock change appends immutable ledger rows and applies them to the
lot balances in the same transaction. Lock order, everywhere: lot rows, then
serial rows (each by id), then reservation rows, then balances (by lot,
location); a reservation's allocations are written only under its row lock.
So concurrent consumption, reservation, release and holds queue instead of
deadlocking.
"""
from sqlalchemy import insert, select, tuple_

from material_service import domain
from material_service.contract import events
from material_service.lookups import referenced
from material_service.models import InventoryTransaction, Location, LotBalance
from material_service.contract.schemas import InventoryTransactionOut
from mes_common import errors

transaction_out = InventoryTransactionOut()


def dump_many(rows):
    return transaction_out.dump(rows, many=True)


def post(tx, rows):
    """Append ledger rows ({type, part_id, quantity, lot_id?, serial_id?,
    location_id?, reason?, reference?, work_order_id?, operation_id?}) by the
    caller's actor; returns them as stored (InventoryTransactionOut)."""
    if not rows:
        return []
    defaults = {"lot_id": None, "serial_id": None, "location_id": None, "reason": None, "reference": None,
                "work_order_id": None, "operation_id": None, "actor": tx.actor}
    stored = tx.session.execute(
        insert(InventoryTransaction).returning(InventoryTransaction, sort_by_parameter_order=True),
        [{**defaults, **row} for row in rows]).scalars().all()
    return dump_many(stored)


def publish(tx, subject, posted):
    """inventory.transacted for these (posted) ledger rows, in chunks."""
    tx.emit_chunked(events.INVENTORY_TRANSACTED, subject, "transactions", posted)


def lock_balances(session, lot_ids):
    """{(lot id, location id): LotBalance} of these lots, locked in order."""
    if not lot_ids:
        return {}
    rows = session.execute(select(LotBalance).where(LotBalance.lot_id.in_(sorted(set(lot_ids))))
                           .order_by(LotBalance.lot_id, LotBalance.location_id).with_for_update()).scalars()
    return {(b.lot_id, b.location_id): b for b in rows}


def lock_balance_pairs(session, pairs):
    """The balances of these (lot id, location id) pairs, locked in order."""
    pairs = sorted(set(pairs))
    if not pairs:
        return {}
    rows = session.execute(select(LotBalance).where(tuple_(LotBalance.lot_id, LotBalance.location_id).in_(pairs))
                           .order_by(LotBalance.lot_id, LotBalance.location_id).with_for_update()).scalars()
    return {(b.lot_id, b.location_id): b for b in rows}


def of_lot(balances, lot_id):
    return [b for (lid, _), b in sorted(balances.items(), key=lambda kv: str(kv[0][1])) if lid == lot_id]


def on_hand(balances, lot_id):
    return sum((b.quantity for b in of_lot(balances, lot_id)), domain.ZERO)


def reserved(balances, lot_id):
    return sum((b.reserved for b in of_lot(balances, lot_id)), domain.ZERO)


def location_of(session, lot, balances, location_id, field="location_id", prefer=(), stocked_only=True):
    """Where a change applies: the location given (it must exist), else the
    first of `prefer` holding stock, else the lot's only stocked location."""
    if location_id is not None:
        referenced(session, Location, location_id, field)
        return location_id
    stocked = [b.location_id for b in of_lot(balances, lot.id) if b.quantity > 0 or not stocked_only]
    for candidate in prefer:
        if candidate in stocked:
            return candidate
    if len(stocked) == 1:
        return stocked[0]
    if not stocked:
        raise errors.RuleViolated(f"lot {lot.lot_number} has nothing on hand", {field: ["nothing on hand"]})
    raise errors.RuleViolated(f"lot {lot.lot_number} is at {len(stocked)} locations: say which",
                              {field: ["required: the lot is at several locations"]})


def code(session, location_id):
    return session.execute(select(Location.code).where(Location.id == location_id)).scalar() or str(location_id)


def take(session, balances, lot, location_id, quantity, field="quantity"):
    """Take `quantity` out of one balance: never below zero on hand, and only
    out of what nobody has reserved (a consumer first releases its own share)."""
    balance = balances.get((lot.id, location_id))
    have = balance.quantity if balance is not None else domain.ZERO
    free = have - balance.reserved if balance is not None else domain.ZERO
    if quantity > free:
        where = code(session, location_id)
        domain.check_on_hand(lot.lot_number, have, quantity, where, field)
        domain.check_unreserved(lot.lot_number, free, quantity, where, field)
    balance.quantity -= quantity
    return balance


def put(session, balances, lot, location_id, quantity):
    balance = balances.get((lot.id, location_id))
    if balance is None:
        balance = balances[(lot.id, location_id)] = LotBalance(lot_id=lot.id, location_id=location_id,
                                                              part_id=lot.part_id, quantity=domain.ZERO,
                                                              reserved=domain.ZERO)
        session.add(balance)
    balance.quantity += quantity
    return balance
