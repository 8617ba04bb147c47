"""Material at work: consumption against a work order, its output (with the
produced_from genealogy), and assembly (as-built links)."""
import decimal
import uuid

from sqlalchemy import func, select

from material_service import domain, genealogy, holds, ledger, locations, lots, reservations, serials
from material_service.contract import events
from material_service.idempotency import once
from material_service.lookups import referenced, today
from material_service.models import InventoryTransaction, Location, Lot, Part, Serial

ENTITY = "work_order"
ONE = decimal.Decimal(1)  # a serial is one unit


def _str(value):
    return str(value) if value is not None else None


class Work:
    """Material one work order operation takes in one transaction: locked in
    the global order (lots, serials, the order's reservations, balances), its
    own reservations drawn before anyone's free stock, then the ledger rows,
    lots and reservations used up, and events."""

    def __init__(self, tx, work_order_id, operation_id=None, reference=None):
        self.tx, self.session = tx, tx.session
        self.work_order_id, self.operation_id, self.reference = work_order_id, operation_id, reference
        self.lots, self.serials, self.balances, self.own = {}, {}, {}, []
        self.rows, self.taken = [], []

    def lock(self, lot_ids, serial_ids, field):
        self.lots = lots.lock_lots(self.session, lot_ids, field)
        self.serials = serials.lock_serials(self.session, serial_ids, field)
        if self.work_order_id is not None and self.lots:
            self.own = reservations.lock_own(self.session, self.work_order_id, list(self.lots))
        self.balances = ledger.lock_balances(self.session, list(self.lots))

    def _context(self):
        return {"work_order_id": self.work_order_id, "operation_id": self.operation_id, "reference": self.reference}

    def take_lot(self, lot_id, location_id, quantity, field):
        lot = self.lots[lot_id]
        holds.check_not_held(self.session, "lot", {lot.id: lot.lot_number})
        domain.check_lot_usable(lot.lot_number, lot.status, "consumed")
        domain.check_not_expired(lot.lot_number, lot.expiry_date, today())
        mine = reservations.own_allocations(self.session, self.own, lot.id)
        location_id = ledger.location_of(self.session, lot, self.balances, location_id, f"{field}.location_id",
                                         prefer=[a.location_id for a in mine])
        balance = self.balances.get((lot.id, location_id))
        if balance is not None:
            reservations.draw(balance, [a for a in mine if a.location_id == location_id], quantity)
        ledger.take(self.session, self.balances, lot, location_id, quantity, f"{field}.quantity")
        self.taken.append((lot, location_id, quantity))
        self.rows.append({"type": "consume", "part_id": lot.part_id, "lot_id": lot.id, "location_id": location_id,
                          "quantity": -quantity, **self._context()})
        return lot

    def take_serial(self, serial_id, status, field):
        """The serial leaves stock: consumed, or assembled into a parent."""
        serial = self.serials[serial_id]
        holds.check_not_held(self.session, "serial", {serial.id: serial.serial_number})
        domain.check_serial_usable(serial.serial_number, serial.status, status)
        serial.status = status
        self.taken.append((serial, serial.location_id, ONE))
        self.rows.append({"type": "consume", "part_id": serial.part_id, "serial_id": serial.id,
                          "location_id": serial.location_id, "quantity": -1, **self._context()})
        return serial

    def finish(self, subject):
        tx, session = self.tx, self.session
        reservations.settle(session, self.own)
        posted = ledger.post(tx, self.rows)
        taken_lots = {m.id: m for m, _, _ in self.taken if isinstance(m, Lot)}
        for lot in taken_lots.values():
            lots.consumed_if_empty(tx, lot, self.balances, "consumed by work order")
        lot_outs = {o["id"]: o for o in lots.dump_many(session, list(taken_lots.values()))}
        consumed = [m for m, _, _ in self.taken if isinstance(m, Serial) and m.status == "consumed"]
        serial_outs = {o["id"]: o for o in serials.dump_many(session, consumed)}
        context = {"work_order_id": _str(self.work_order_id), "operation_id": _str(self.operation_id)}
        for (material, location_id, quantity), row in zip(self.taken, posted):
            if isinstance(material, Lot):
                tx.emit(events.LOT_CONSUMED, material.id, {
                    **lot_outs[str(material.id)], **context, "quantity_consumed": float(quantity),
                    "location_id": str(location_id), "transaction_id": row["id"]})
            elif str(material.id) in serial_outs:
                tx.emit(events.SERIAL_CONSUMED, material.id, {**serial_outs[str(material.id)], **context,
                                                              "transaction_id": row["id"]})
        ledger.publish(tx, subject, posted)
        return posted


# ------------------------------------------------------------------ consumption

def consume(tx, data):
    return once(tx, "consume", data["idempotency_key"], data, lambda: _consume(tx, data))


def _consume(tx, data):
    items = data["items"]
    work = Work(tx, data["work_order_id"], data["operation_id"], data.get("work_order_number"))
    work.lock([i["lot_id"] for i in items if i.get("lot_id")], [i["serial_id"] for i in items if i.get("serial_id")],
              "items")
    for n, item in enumerate(items):
        if item.get("lot_id"):
            work.take_lot(item["lot_id"], item["location_id"], item["quantity"], f"items.{n}")
        else:
            work.take_serial(item["serial_id"], "consumed", f"items.{n}")
    posted = work.finish(data["work_order_id"])
    tx.audit("consume", ENTITY, data["work_order_id"],
             new={"operation_id": str(data["operation_id"]), "transactions": posted})
    return {"idempotency_key": data["idempotency_key"], "transactions": posted}


# ------------------------------------------------------------------ output

def consumed_sources(session, work_order_id):
    """[(type, id, quantity, consuming operation id)] of every lot and serial
    consumed against the work order, per operation that consumed it."""
    T = InventoryTransaction
    rows = session.execute(select(T.lot_id, T.serial_id, T.operation_id, -func.sum(T.quantity)).where(
        T.work_order_id == work_order_id, T.type == "consume").group_by(T.lot_id, T.serial_id, T.operation_id)).all()
    return sorted((("lot", lot_id, qty, op_id) if lot_id else ("serial", serial_id, qty, op_id))
                  for lot_id, serial_id, op_id, qty in rows)


def share(source_type, consumed, output_quantity, order_quantity):
    """What of a consumed source one output holds: a lot's consumption shared
    over the order's quantity (an output unit holds consumed / order quantity,
    an output lot that times its quantity); a serial goes whole; without the
    order's quantity (an older publisher), the whole consumption."""
    if source_type == "serial" or not order_quantity:
        return consumed
    return consumed * output_quantity / order_quantity


def produce_output(tx, data):
    return once(tx, "produce_output", data["idempotency_key"], data, lambda: _produce(tx, data))


def _produce(tx, data):
    session = tx.session
    part = referenced(session, Part, data["part_id"], "part_id")
    domain.check_part_usable(part.part_number, part.status)
    location = referenced(session, Location, data["location_id"], "location_id") \
        if data["location_id"] is not None else locations.production(tx)
    work_order_id, quantity = data["work_order_id"], data["quantity"]
    context = {"work_order_id": work_order_id, "operation_id": data["operation_id"],
               "reference": data["work_order_number"], "reason": "work order output"}
    lot, created, each = None, [], ONE
    if part.serial_controlled:
        numbers = _output_serials(session, part, data)
        created = serials.insert(tx, part, numbers, location_id=location.id, work_order_id=work_order_id)
        outputs = [("serial", uuid.UUID(c["id"])) for c in created]
        rows = [{"type": "produce", "part_id": part.id, "serial_id": c["id"], "location_id": location.id,
                 "quantity": 1, **context} for c in created]
    else:
        if data["serial_numbers"]:
            domain.refuse_serial_numbers(part.part_number)
        lot = lots.create_lot(tx, part, data["lot_number"], "received", work_order_id=work_order_id)
        ledger.put(session, {}, lot, location.id, quantity)
        outputs, each = [("lot", lot.id)], quantity
        rows = [{"type": "produce", "part_id": part.id, "lot_id": lot.id, "location_id": location.id,
                 "quantity": quantity, **context}]
    posted = ledger.post(tx, rows)
    sources = consumed_sources(session, work_order_id)
    links = genealogy.link(tx, [{"source_type": s_type, "source_id": s_id, "target_type": o_type, "target_id": o_id,
                                 "relation": "produced_from", "work_order_id": work_order_id,
                                 "quantity": share(s_type, s_qty, each, data.get("work_order_quantity")),
                                 "operation_id": s_op or data["operation_id"]}
                                for s_type, s_id, s_qty, s_op in sources for o_type, o_id in outputs], work_order_id)
    holds.inherit(tx, sorted({(t, i) for t, i, _, _ in sources}), outputs)
    lot_out = None
    if lot is not None:
        lot_out = lots.dump(session, lot)
        tx.emit(events.LOT_RECEIVED, lot.id, {
            **lot_out, "quantity_received": float(quantity), "location_id": str(location.id),
            "reference": data["work_order_number"], "reason": context["reason"], "origin": "production",
            "operation_id": _str(data["operation_id"])})
    ledger.publish(tx, work_order_id, posted)
    tx.audit("produce", ENTITY, work_order_id, new={
        "part_id": str(part.id), "quantity": float(quantity), "lot_id": lot_out and lot_out["id"],
        "serials": len(created), "first": created[0]["serial_number"] if created else None,
        "last": created[-1]["serial_number"] if created else None, "links": len(links)})
    return {"idempotency_key": data["idempotency_key"], "work_order_id": str(work_order_id), "part_id": str(part.id),
            "quantity": float(quantity), "lot": lot_out, "serials": created, "transactions": posted, "links": links}


def _output_serials(session, part, data):
    domain.check_whole(data["quantity"])
    count = int(data["quantity"])
    numbers = data["serial_numbers"] or domain.output_serial_numbers(
        data["work_order_number"], serials.count_for_work_order(session, part.id, data["work_order_id"]) + 1, count)
    domain.check_serial_count(numbers, count)
    return numbers


# ------------------------------------------------------------------ assembly

def assemble(tx, data):
    return once(tx, "assemble", data["idempotency_key"], data, lambda: _assemble(tx, data))


def _ref(side):
    return ("serial", side["serial_id"]) if side.get("serial_id") else ("lot", side["lot_id"])


def _assemble(tx, data):
    session = tx.session
    parent_ref, child_ref = _ref(data["parent"]), _ref(data["child"])
    for name, (kind, id_) in (("parent", parent_ref), ("child", child_ref)):
        referenced(session, Serial if kind == "serial" else Lot, id_, f"{name}.{kind}_id")
    domain.check_no_genealogy_cycle(parent_ref, child_ref, set(genealogy.descendants(session, *parent_ref)))
    work = Work(tx, data["work_order_id"], data["operation_id"])
    refs = (parent_ref, child_ref)
    work.lock([i for k, i in refs if k == "lot"], [i for k, i in refs if k == "serial"], "parent")
    parent = work.serials[parent_ref[1]] if parent_ref[0] == "serial" else work.lots[parent_ref[1]]
    holds.check_not_held(session, parent_ref[0], {parent.id: getattr(parent, f"{parent_ref[0]}_number")})
    if child_ref[0] == "lot":
        quantity = data["child"]["quantity"]
        work.take_lot(child_ref[1], data["child"].get("location_id"), quantity, "child")
    else:
        quantity = ONE
        child = work.take_serial(child_ref[1], "assembled", "child")
        if parent_ref[0] == "serial":
            child.parent_serial_id = parent.id
    posted = work.finish(parent.id)
    [link] = genealogy.link(tx, [{"source_type": child_ref[0], "source_id": child_ref[1],
                                  "target_type": parent_ref[0], "target_id": parent_ref[1], "relation": "assembly",
                                  "quantity": quantity, "work_order_id": data["work_order_id"],
                                  "operation_id": data["operation_id"]}], parent.id)
    ends = genealogy.nodes(session, [parent_ref, child_ref])
    payload = {"parent": ends[parent_ref], "child": ends[child_ref], "quantity": float(quantity), "link": link,
               "work_order_id": _str(data["work_order_id"]), "operation_id": _str(data["operation_id"])}
    tx.emit(events.SERIAL_ASSEMBLED, parent.id, payload)
    tx.audit("assemble", parent_ref[0], parent.id, new=payload)
    return {"idempotency_key": data["idempotency_key"], "link": link, "transactions": posted}
