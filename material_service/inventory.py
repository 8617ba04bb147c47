"""Stock movements of a lot (move, issue, adjust, scrap) and the ledger and
balance queries."""
from sqlalchemy import select

from material_service import domain, holds, ledger, lots
from material_service.lookups import get, referenced, today
from material_service.models import InventoryTransaction, Location, Lot, LotBalance
from material_service.contract.schemas import BalanceOut
from mes_common import errors
from mes_common.paging import int_key, page, uuid_key

ENTITY = "lot"
balance_out = BalanceOut()


def _apply(tx, data, action, rows_for):
    """Lock the lot and its balances, let `rows_for(lot, balances, location)`
    check and apply the change and say its ledger rows, then post, publish
    and audit. Returns {lot, transactions}."""
    session = tx.session
    lot = get(session, Lot, data["lot_id"], lock=True)
    balances = ledger.lock_balances(session, [lot.id])
    # a positive adjustment may land where the lot stood before it ran out
    location_id = ledger.location_of(session, lot, balances, data["location_id"],
                                     stocked_only=not (action == "adjust" and data["quantity"] > 0))
    base = {"part_id": lot.part_id, "lot_id": lot.id, "reason": data["reason"], "reference": data["reference"]}
    posted = ledger.post(tx, [{**base, **row} for row in rows_for(lot, balances, location_id)])
    ledger.publish(tx, lot.id, posted)
    tx.audit(action, ENTITY, lot.id, new={"transactions": posted}, reason=data["reason"])
    return {"lot": lots.dump(session, lot), "transactions": posted}


def move(tx, data):
    def rows(lot, balances, location_id):
        target = referenced(tx.session, Location, data["to_location_id"], "to_location_id")
        if target.id == location_id:
            raise errors.RuleViolated("the lot is already there", {"to_location_id": ["same as location_id"]})
        ledger.take(tx.session, balances, lot, location_id, data["quantity"])
        ledger.put(tx.session, balances, lot, target.id, data["quantity"])
        return [{"type": "move", "location_id": location_id, "quantity": -data["quantity"]},
                {"type": "move", "location_id": target.id, "quantity": data["quantity"]}]
    return _apply(tx, data, "move", rows)


def issue(tx, data):
    """Stock out to a cost centre or a work order without genealogy (released,
    unheld material only; consumption is `consume`)."""
    def rows(lot, balances, location_id):
        holds.check_not_held(tx.session, "lot", {lot.id: lot.lot_number})
        domain.check_lot_usable(lot.lot_number, lot.status, "issued")
        domain.check_not_expired(lot.lot_number, lot.expiry_date, today())
        ledger.take(tx.session, balances, lot, location_id, data["quantity"])
        return [{"type": "issue", "location_id": location_id, "quantity": -data["quantity"]}]
    return _apply(tx, data, "issue", rows)


def scrap(tx, data):
    """Any status, held or not: scrapping is how rejected or held material leaves."""
    def rows(lot, balances, location_id):
        ledger.take(tx.session, balances, lot, location_id, data["quantity"])
        return [{"type": "scrap", "location_id": location_id, "quantity": -data["quantity"]}]
    return _apply(tx, data, "scrap", rows)


def adjust(tx, data):
    """A signed correction (cycle count); a decrease cannot go below zero."""
    def rows(lot, balances, location_id):
        if data["quantity"] < 0:
            ledger.take(tx.session, balances, lot, location_id, -data["quantity"])
        else:
            ledger.put(tx.session, balances, lot, location_id, data["quantity"])
        return [{"type": "adjust", "location_id": location_id, "quantity": data["quantity"]}]
    return _apply(tx, data, "adjust", rows)


def list_transactions(session, query):
    """Newest first."""
    stmt = select(InventoryTransaction)
    for name in ("lot_id", "serial_id", "part_id", "work_order_id", "type"):
        if name in query:
            stmt = stmt.where(getattr(InventoryTransaction, name) == query[name])
    return page(session, stmt, [(InventoryTransaction.id, int_key)], query, ledger.dump_many, descending=True)


def list_balances(session, query):
    stmt = (select(LotBalance.part_id, LotBalance.lot_id, Lot.lot_number, LotBalance.location_id,
                   Location.code.label("location_code"), LotBalance.quantity, LotBalance.reserved)
            .join(Lot, Lot.id == LotBalance.lot_id).join(Location, Location.id == LotBalance.location_id))
    for name in ("part_id", "lot_id", "location_id"):
        if name in query:
            stmt = stmt.where(getattr(LotBalance, name) == query[name])
    if not query.get("include_empty"):
        stmt = stmt.where(LotBalance.quantity > 0)
    return page(session, stmt, [(LotBalance.lot_id, uuid_key), (LotBalance.location_id, uuid_key)], query,
                lambda rows: balance_out.dump([r._mapping for r in rows], many=True), scalars=False)
