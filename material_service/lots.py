"""Use cases of lots: receive, status, split, merge; the LotOut view."""
from sqlalchemy import func, select

from material_service import domain, genealogy, holds, ledger, parts
from material_service.contract import events
from material_service.idempotency import once
from material_service.lookups import columns, get, referenced, today
from material_service.models import LOT_NUMBER_SEQUENCE, Location, Lot, LotBalance, Part
from material_service.contract.schemas import LotOut
from mes_common import errors
from mes_common.paging import page, text_key, uuid_key
from mes_common.rules import check_version

ENTITY = "lot"
lot_out = LotOut()


def dump_many(session, lots):
    ids = [lot.id for lot in lots]
    balances = {}
    if ids:
        for balance, location_code in session.execute(
                select(LotBalance, Location.code).join(Location, Location.id == LotBalance.location_id)
                .where(LotBalance.lot_id.in_(ids)).order_by(Location.code)):
            balances.setdefault(balance.lot_id, []).append(
                {"location_id": balance.location_id, "location_code": location_code,
                 "quantity": balance.quantity, "reserved": balance.reserved})
    part_numbers = {i: p.part_number for i, p in parts.by_ids(session, {lot.part_id for lot in lots}).items()}
    active = holds.active(session, "lot", ids)
    held_by_lot = {}
    for hold in holds.views(session, [h for hs in active.values() for h in hs]):
        held_by_lot.setdefault(hold["target_id"], []).append(hold)
    out = []
    for lot in lots:
        rows = balances.get(lot.id, [])
        quantity = sum((b["quantity"] for b in rows), domain.ZERO)
        reserved = sum((b["reserved"] for b in rows), domain.ZERO)
        lot_holds = held_by_lot.get(lot.id, [])
        reservable = lot.status == "released" and not lot_holds and not domain.expired(lot.expiry_date, today())
        out.append(lot_out.dump({
            **columns(lot),
            "part_number": part_numbers.get(lot.part_id, ""), "quantity": quantity, "reserved": reserved,
            "available": quantity - reserved if reservable else domain.ZERO,
            "balances": [b for b in rows if b["quantity"] > 0], "holds": lot_holds}))
    return out


def dump(session, lot):
    return dump_many(session, [lot])[0]


def get_lot(session, lot_id):
    return dump(session, get(session, Lot, lot_id))


def lock_lots(session, ids, field):
    """Lots named in a request, locked in id order (the global lock order)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    found = {lot.id: lot for lot in session.execute(
        select(Lot).where(Lot.id.in_(ids)).order_by(Lot.id).with_for_update()).scalars()}
    for lot_id in ids:
        if lot_id not in found:
            raise errors.RuleViolated(f"lot {lot_id} does not exist", {field: [f"no lot {lot_id}"]})
    return found


def new_lot_number(session, part_id, wanted=None):
    """The lot number asked for (409 if the part has it already), else the
    next generated one that is free."""
    def taken(number):
        return session.execute(select(Lot.id).where(Lot.part_id == part_id, Lot.lot_number == number)).first()
    if wanted is not None:
        if taken(wanted):
            raise errors.Conflict(f"lot number {wanted} already exists for this part",
                                  {"lot_number": ["already used for this part"]})
        return wanted
    while True:
        number = domain.generated_lot_number(session.execute(select(LOT_NUMBER_SEQUENCE.next_value())).scalar())
        if not taken(number):
            return number


def create_lot(tx, part, lot_number, status, **attributes):
    lot = Lot(part_id=part.id, lot_number=new_lot_number(tx.session, part.id, lot_number), status=status,
              **attributes)
    tx.session.add(lot)
    tx.flush()
    return lot


def receive(tx, data):
    key = data.get("idempotency_key")
    if key is None:
        return _receive(tx, data)
    return once(tx, "receive_lot", key, data, lambda: _receive(tx, data))


def _receive(tx, data):
    session = tx.session
    part = referenced(session, Part, data["part_id"], "part_id")
    domain.check_part_usable(part.part_number, part.status)
    location = referenced(session, Location, data["location_id"], "location_id")
    lot = create_lot(tx, part, data.get("lot_number"), "received", supplier=data["supplier"],
                     supplier_lot=data["supplier_lot"], heat_number=data["heat_number"],
                     certificates=data["certificates"], expiry_date=data["expiry_date"])
    ledger.put(session, {}, lot, location.id, data["quantity"])
    rows = ledger.post(tx, [{"type": "receive", "part_id": part.id, "lot_id": lot.id, "location_id": location.id,
                             "quantity": data["quantity"], "reason": data["reason"],
                             "reference": data["reference"]}])
    out = dump(session, lot)
    tx.emit(events.LOT_RECEIVED, lot.id, {**out, "quantity_received": float(data["quantity"]),
                                          "location_id": str(location.id), "reference": data["reference"],
                                          "reason": data["reason"], "origin": "receipt"})
    ledger.publish(tx, lot.id, rows)
    tx.audit("receive", ENTITY, lot.id, new=out, reason=data["reason"])
    return out


def set_status(tx, lot_id, data):
    session = tx.session
    lot = get(session, Lot, lot_id, lock=True)
    check_version(data.get("version"), lot.version, "the lot")
    domain.check_lot_transition(lot.lot_number, lot.status, data["status"])
    if data["status"] == "released":
        domain.check_not_expired(lot.lot_number, lot.expiry_date, today())
    return change_status(tx, lot, data["status"], data["reason"])


def change_status(tx, lot, status, reason):
    previous, lot.status = lot.status, status
    tx.flush()
    out = dump(tx.session, lot)
    tx.emit(events.LOT_STATUS_CHANGED, lot.id, {**out, "from": previous, "to": status, "reason": reason})
    tx.audit("set_status", ENTITY, lot.id, old={"status": previous}, new={"status": status}, reason=reason)
    return out


def consumed_if_empty(tx, lot, balances, reason):
    """A released lot whose consumption took its last unit is consumed."""
    if lot.status == "released" and ledger.on_hand(balances, lot.id) == 0:
        change_status(tx, lot, "consumed", reason)


def split(tx, lot_id, data):
    """Children whose quantities sum to the parent's on-hand; the parent ends at 0."""
    session = tx.session
    parent = get(session, Lot, lot_id, lock=True)
    holds.check_not_held(session, "lot", {parent.id: parent.lot_number})
    balances = ledger.lock_balances(session, [parent.id])
    domain.check_not_reserved(parent.lot_number, ledger.reserved(balances, parent.id), "split")
    children = data["children"]
    domain.check_split(parent.lot_number, ledger.on_hand(balances, parent.id), [c["quantity"] for c in children])
    part = get(session, Part, parent.part_id)
    rows = [{"type": "split", "part_id": part.id, "lot_id": parent.id, "location_id": b.location_id,
             "quantity": -b.quantity, "reason": data["reason"]} for b in ledger.of_lot(balances, parent.id)
            if b.quantity > 0]
    locations = [ledger.location_of(session, parent, balances, child["location_id"], f"children.{i}.location_id")
                 for i, child in enumerate(children)]
    for b in ledger.of_lot(balances, parent.id):
        b.quantity = domain.ZERO
    already = session.execute(select(func.count()).where(Lot.part_id == parent.part_id,
                                                         Lot.lot_number.startswith(parent.lot_number + "-",
                                                                                   autoescape=True))).scalar()
    made = []
    for i, (child, location_id) in enumerate(zip(children, locations)):
        lot = create_lot(tx, part, child.get("lot_number") or f"{parent.lot_number}-{already + i + 1}", parent.status,
                         **_inherited(parent))
        ledger.put(session, balances, lot, location_id, child["quantity"])
        rows.append({"type": "split", "part_id": part.id, "lot_id": lot.id, "location_id": location_id,
                     "quantity": child["quantity"], "reason": data["reason"]})
        made.append(lot)
    posted = ledger.post(tx, rows)
    links = genealogy.link(tx, [{"source_type": "lot", "source_id": parent.id, "target_type": "lot",
                                 "target_id": lot.id, "relation": "split", "quantity": child["quantity"]}
                                for lot, child in zip(made, children)], parent.id)
    parent_out, *children_out = dump_many(session, [parent, *made])
    tx.emit(events.LOT_SPLIT, parent.id, {"parent": parent_out, "children": children_out, "reason": data["reason"]})
    ledger.publish(tx, parent.id, posted)
    tx.audit("split", ENTITY, parent.id, old={"quantity": float(sum(c["quantity"] for c in children))},
             new={"children": [{"lot_id": c["id"], "lot_number": c["lot_number"], "quantity": c["quantity"]}
                               for c in children_out], "links": [l["id"] for l in links]}, reason=data["reason"])
    return {"parent": parent_out, "children": children_out}


def _inherited(lot):
    return {"supplier": lot.supplier, "supplier_lot": lot.supplier_lot, "heat_number": lot.heat_number,
            "certificates": list(lot.certificates), "expiry_date": lot.expiry_date,
            "work_order_id": lot.work_order_id}


def merge(tx, data):
    """Compatible lots (same part, status, heat, expiry; none held) into a new
    lot; the sources end at 0."""
    session = tx.session
    found = lock_lots(session, data["lot_ids"], "lot_ids")
    sources = [found[i] for i in data["lot_ids"]]
    holds.check_not_held(session, "lot", {lot.id: lot.lot_number for lot in sources})
    domain.check_merge([{"lot_number": l.lot_number, "part_id": l.part_id, "status": l.status,
                         "heat_number": l.heat_number, "expiry_date": l.expiry_date} for l in sources])
    balances = ledger.lock_balances(session, found)
    quantities = {}
    for lot in sources:
        domain.check_not_reserved(lot.lot_number, ledger.reserved(balances, lot.id), "merged")
        quantities[lot.id] = ledger.on_hand(balances, lot.id)
        if not quantities[lot.id]:
            raise errors.RuleViolated(f"lot {lot.lot_number} has nothing on hand to merge",
                                      {"lot_ids": [f"{lot.lot_number} is empty"]})
    location_id = data["location_id"]
    if location_id is None:
        stocked = {b.location_id for b in balances.values() if b.quantity > 0}
        if len(stocked) != 1:
            raise errors.RuleViolated("the lots are at several locations: say where the merged lot goes",
                                      {"location_id": ["required: the lots are at several locations"]})
        location_id = stocked.pop()
    else:
        referenced(session, Location, location_id, "location_id")
    part = get(session, Part, sources[0].part_id)
    rows = [{"type": "merge", "part_id": part.id, "lot_id": b.lot_id, "location_id": b.location_id,
             "quantity": -b.quantity, "reason": data["reason"]} for b in balances.values() if b.quantity > 0]
    for b in balances.values():
        b.quantity = domain.ZERO
    total = sum(quantities.values(), domain.ZERO)
    attributes = {name: domain.merged_attribute(getattr(l, name) for l in sources)
                  for name in ("supplier", "supplier_lot", "work_order_id")}
    certificates = list(dict.fromkeys(c for l in sources for c in l.certificates))
    lot = create_lot(tx, part, data.get("lot_number"), sources[0].status, heat_number=sources[0].heat_number,
                     expiry_date=sources[0].expiry_date, certificates=certificates, **attributes)
    ledger.put(session, balances, lot, location_id, total)
    rows.append({"type": "merge", "part_id": part.id, "lot_id": lot.id, "location_id": location_id,
                 "quantity": total, "reason": data["reason"]})
    posted = ledger.post(tx, rows)
    links = genealogy.link(tx, [{"source_type": "lot", "source_id": s.id, "target_type": "lot", "target_id": lot.id,
                                 "relation": "merge", "quantity": quantities[s.id]} for s in sources], lot.id)
    lot_out_, *sources_out = dump_many(session, [lot, *sources])
    tx.emit(events.LOT_MERGED, lot.id, {"lot": lot_out_, "sources": sources_out, "reason": data["reason"]})
    ledger.publish(tx, lot.id, posted)
    tx.audit("merge", ENTITY, lot.id, new={"lot": lot_out_, "sources": [s["id"] for s in sources_out],
                                           "links": [l["id"] for l in links]}, reason=data["reason"])
    return {"lot": lot_out_, "sources": sources_out}


def list_page(session, query):
    stmt = select(Lot)
    for name in ("part_id", "status", "work_order_id"):
        if name in query:
            stmt = stmt.where(getattr(Lot, name) == query[name])
    if query.get("lot_number"):
        stmt = stmt.where(Lot.lot_number.startswith(query["lot_number"], autoescape=True))
    return page(session, stmt, [(Lot.lot_number, text_key), (Lot.id, uuid_key)], query,
                lambda rows: dump_many(session, rows))
