"""Material under another service's decision: held with a reference (an NCR
number), and disposed of as its review board decided. Each use case applies
to a whole decision in one transaction and can meet it again (an event
redelivered past the inbox, a replayed dead letter) without doing it twice.

- `hold`: each lot or serial held once per reference (its genealogy with it);
- `dispose`: per lot or serial, scrap and return-to-vendor quantities leave
  stock (ledger rows with the reference), units that stay make a received or
  quarantined lot usable, then the reference's holds are released: their
  `released` events tell the owner the decision was applied;
- `release`: every hold of a reference released (a cancelled NCR);
- `accept_lot`: a received lot that passed its receiving inspection becomes released.
"""
import logging
from decimal import Decimal

from sqlalchemy import select

from material_service import domain, holds, ledger, lots, serials
from material_service.contract import events
from material_service.lookups import get, today
from material_service.models import Hold, Lot, Serial

log = logging.getLogger(__name__)
MODELS = {"lot": Lot, "serial": Serial}
STAYING = ("use_as_is", "rework", "repair", "regrade")   # decisions that keep the units in stock


def _active_roots(session, reference, target_type=None, target_id=None):
    stmt = select(Hold).where(Hold.reference == reference, Hold.root_hold_id.is_(None), Hold.status == "active")
    if target_type is not None:
        stmt = stmt.where(Hold.target_type == target_type, Hold.target_id == target_id)
    return session.execute(stmt.order_by(Hold.placed_at, Hold.id)).scalars().all()


def _exists(session, target_type, target_id):
    return session.get(MODELS[target_type], target_id) is not None


def hold(tx, reference, reason, targets):
    """Hold each of `targets` ([{target_type, target_id}]) for `reference`; one
    that material does not know is skipped (logged and audited): the rest must not wait."""
    placed = []
    for target in targets:
        target_type, target_id = target["target_type"], target["target_id"]
        if _active_roots(tx.session, reference, target_type, target_id):
            continue
        if not _exists(tx.session, target_type, target_id):
            log.warning("%s: no %s %s to hold", reference, target_type, target_id)
            tx.audit("hold_skipped", "hold", target_id, new={"reference": reference, "target_type": target_type},
                     reason="no such lot or serial")
            continue
        placed.append(holds.place(tx, {"target_type": target_type, "target_id": target_id, "reason": reason,
                                       "reference": reference}))
    return placed


def release(tx, reference, reason):
    for root in _active_roots(tx.session, reference):
        holds.release(tx, root.id, {"reason": reason})


def dispose(tx, reference, reason, items):
    """Apply a signed disposition: `items` [{target_type, target_id, lines:
    [{decision, quantity}]}]. An item whose hold is released already was applied."""
    session = tx.session
    for item in items:
        roots = _active_roots(session, reference, item["target_type"], item["target_id"])
        if not roots:
            continue   # applied before (or never held): nothing twice
        totals = {}
        for line in item["lines"]:
            totals[line["decision"]] = totals.get(line["decision"], Decimal(0)) + Decimal(str(line["quantity"]))
        if item["target_type"] == "lot":
            _dispose_lot(tx, get(session, Lot, item["target_id"], lock=True), reference, reason, totals)
        elif totals.get("scrap"):
            _scrap_serial(tx, get(session, Serial, item["target_id"], lock=True), reference, reason)
        for root in roots:
            holds.release(tx, root.id, {"reason": f"{reason}: " + ", ".join(
                f"{decision.replace('_', ' ')} {quantity:f}" for decision, quantity in sorted(totals.items()))})


def _dispose_lot(tx, lot, reference, reason, totals):
    session = tx.session
    balances = ledger.lock_balances(session, [lot.id])
    rows = []
    for decision, kind in (("scrap", "scrap"), ("return_to_vendor", "issue")):
        left = min(totals.get(decision, Decimal(0)), ledger.on_hand(balances, lot.id))
        for balance in ledger.of_lot(balances, lot.id):   # from each location in turn
            quantity = min(left, balance.quantity - balance.reserved)
            if quantity <= 0:
                continue
            ledger.take(session, balances, lot, balance.location_id, quantity)
            rows.append({"type": kind, "part_id": lot.part_id, "lot_id": lot.id, "location_id": balance.location_id,
                         "quantity": -quantity, "reference": reference,
                         "reason": f"{reason}: {'scrapped' if kind == 'scrap' else 'returned to vendor'}"})
            left -= quantity
    posted = ledger.post(tx, rows)
    ledger.publish(tx, lot.id, posted)
    staying = sum((totals.get(d, Decimal(0)) for d in STAYING), Decimal(0))
    if staying and lot.status in ("received", "quarantine"):
        domain.check_lot_transition(lot.lot_number, lot.status, "released")
        lots.change_status(tx, lot, "released", f"{reason}: dispositioned for use")
    tx.audit("dispose", "lot", lot.id, new={"reference": reference, "decisions": {k: str(v) for k, v in totals.items()},
                                            "transactions": posted}, reason=reason)


def _scrap_serial(tx, serial, reference, reason):
    if serial.status == "scrapped":
        return
    previous, serial.status = serial.status, "scrapped"
    posted = ledger.post(tx, [{"type": "scrap", "part_id": serial.part_id, "serial_id": serial.id,
                               "location_id": serial.location_id, "quantity": -1, "reference": reference,
                               "reason": f"{reason}: scrapped"}])
    ledger.publish(tx, serial.id, posted)
    tx.emit(events.SERIAL_SCRAPPED, serial.id, {**serials.dump(tx.session, serial), "reference": reference,
                                                "reason": reason, "transaction_id": posted[0]["id"]})
    tx.audit("scrap", "serial", serial.id, old={"status": previous}, new={"status": "scrapped"}, reason=reason)


def accept_lot(tx, lot_id, reason):
    """A lot that passed its receiving inspection is released for use (if it
    still waits for it: received or in quarantine)."""
    lot = tx.session.get(Lot, lot_id, with_for_update=True)
    if lot is None or lot.status not in ("received", "quarantine"):
        return None
    if domain.expired(lot.expiry_date, today()):   # passed, but too late: it stays out of use
        tx.audit("accept_skipped", "lot", lot.id, new={"status": lot.status}, reason=f"{reason}; expired")
        return None
    return lots.change_status(tx, lot, "released", reason)
