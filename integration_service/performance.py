"""What the MES did for a work order, told back to the ERP: a B2MML V0700
ProcessOperationsPerformance (ISA-95 Part 2 operations performance, Part 5
Process verb) built from the services' JSON dumps of the order, its ledger
transactions and the lots and serials they name. Pure: no database, no RPC,
the clock only when no `now` is given; the helpers that write V0700 answers (b2mml) write it too,
so its header is the answers' and it validates against the same official XSD.

The ERP's OperationsRequest ID was the work order number, so the number is the
OperationsPerformance, the OperationsResponse and the OperationsRequestID at
once; each operation is one SegmentResponse, numbered as the schedule numbered
its SegmentRequirements ("0010"). Elements are written in the XSD's sequence
order (xsd:sequence: any other order does not validate).

Serials are written as material sublots (MaterialSubLotID): B2MML's
MaterialActual has no serial number element, and an ISA-95 sublot is a
uniquely identified part of a lot, one unit for a serial; a serial produced or
consumed outside a lot is a sublot without MaterialLotID (both are optional).
MaterialUseType has no scrap use (its escape, Other, tells a receiver nothing
it could book), so scrap is a MaterialActualProperty ScrapQuantity of what the
order produced.
"""
from collections import OrderedDict
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from lxml import etree

from integration_service.b2mml import (MES_LOGICAL_ID, NAMESPACES, V0700, _document, _el, _root, _timestamp,
                                       parse_datetime)

NOUN = "OperationsPerformance"
# the work order's status → PerformanceState/ResponseState (ResponseState1Type has no Closed: a closed order is done)
ORDER_STATE = {"released": "Ready", "in_progress": "Running", "on_hold": "Holding", "completed": "Completed",
               "closed": "Completed", "cancelled": "Aborted"}
# the operation's status → SegmentState (a pending operation, waiting for the one before, has no ISA-95 state)
OPERATION_STATE = {"ready": "Ready", "running": "Running", "paused": "Paused", "completed": "Completed"}
DONE = ("completed", "closed")   # an order whose end may be read off its last operation's
# per-operation yields, as SegmentData (an ERP confirms each operation's good, scrap and rework)
SEGMENT_DATA = (("QuantityGood", "quantity_good"), ("QuantityScrap", "quantity_scrap"),
                ("QuantityRework", "quantity_rework"))


def document(work_order, transactions=(), lots=None, serials=None, version=V0700, sender=MES_LOGICAL_ID,
             receiver=None, bod_id=None, now=None):
    """The ProcessOperationsPerformance (an lxml ElementTree) of `work_order` (its JSON dump with `operations`).

    `transactions`: the order's ledger rows ({type, part_id, lot_id, serial_id, quantity (signed: negative out),
    work_order_id, operation_id, created_at}); rows of another work order are skipped. `lots`: {lot_id:
    {lot_number, part_number, uom?}}, `serials`: {serial_id: {serial_number, part_number, lot_id, work_order_id?}},
    for every lot and serial the rows name. Produced: the lots and serials of "produce" rows, and the serials (and
    lots) whose work_order_id is the order's. Consumed: "consume" rows, on the segment of their operation_id (rows
    of no operation of the order on the last one, with the order's output). Times are ISO strings or datetimes;
    one without a zone is UTC. Only V0700 is written: the version the MES can validate.

    ValueError: no work order number, an operation without a sequence or given twice, a time or quantity that is
    none, a lot or serial the rows name that `lots`/`serials` do not give."""
    if version != V0700:
        raise ValueError(f"only B2MML {V0700} is written, not {version}")
    if not isinstance(work_order, dict) or not str(work_order.get("number") or "").strip():
        raise ValueError("the work order has no number")
    lots, serials = lots or {}, serials or {}
    number = str(work_order["number"]).strip()
    operations = _operations(work_order.get("operations") or [])
    rows = _rows(transactions, work_order.get("id"))
    now = now or datetime.now(timezone.utc)
    root, _, process = _document("Process", NOUN, None, sender, receiver, bod_id, now)

    starts = [op["actual_start"] for op in operations if op["actual_start"] is not None]
    ends = [op["actual_end"] for op in operations if op["actual_end"] is not None]
    start = min(starts, default=None)
    end = _time(work_order.get("completed_at"), "completed_at")
    if end is None and work_order.get("status") in DONE:
        end = max(ends, default=None)
    state = ORDER_STATE.get(work_order.get("status"))

    performance = _el(process.getparent(), NOUN)
    _el(performance, "ID", number)
    part = str(work_order.get("part_number") or "").strip()
    revision = str(work_order.get("part_revision") or "").strip()
    if part:
        _el(performance, "Description", f"{part} rev {revision}" if revision else part)
    site = work_order.get("site_name") or work_order.get("site_id")
    if site:
        scope = _el(performance, "HierarchyScope")
        _el(scope, "EquipmentID", str(site))
        _el(scope, "EquipmentElementLevel", "Site")
    _el(performance, "OperationsType", "Production")
    _times(performance, "StartTime", start, "EndTime", end)
    if state:
        _el(performance, "PerformanceState", state)
    _el(performance, "PublishedDate", _timestamp(now))

    response = _el(performance, "OperationsResponse")
    _el(response, "ID", number)
    _el(response, "OperationsType", "Production")
    _el(response, "OperationsRequestID", number)
    _times(response, "StartTime", start, "EndTime", end)
    if state:
        _el(response, "ResponseState", state)

    consumed = _consumed(rows, operations, lots, serials)
    for position, op in enumerate(operations):
        last = position == len(operations) - 1
        segment = _segment(response, op, work_order.get("uom"))
        for actual in consumed.get(op["id"], []):
            _material(segment, "Consumed", *actual)
        if last:
            _produced(segment, work_order, op, rows, lots, serials)
    return etree.ElementTree(root)


def summary(tree):
    """{work_order, lots, serials, segments} of a performance document: its ID, every lot and serial it names
    (consumed and produced, first mention first) and its SegmentResponse count (for the message log's "touched")."""
    root = _root(tree)
    found = root if etree.QName(root).localname == NOUN else root.find(f".//{{{NAMESPACES[V0700]}}}{NOUN}")
    if found is None:
        raise ValueError(f"no B2MML {V0700} {NOUN} in the document")

    def texts(name):
        return list(OrderedDict.fromkeys(e.text for e in found.iter(f"{{{NAMESPACES[V0700]}}}{name}") if e.text))

    return {"work_order": found.findtext(f"{{{NAMESPACES[V0700]}}}ID"), "lots": texts("MaterialLotID"),
            "serials": texts("MaterialSubLotID"),
            "segments": sum(1 for _ in found.iter(f"{{{NAMESPACES[V0700]}}}SegmentResponse"))}


def quantity_text(value):
    """A quantity as plain decimal text: no exponent, no trailing zeros ("4", "2.5", 1e-05 → "0.00001"). A float
    goes through its shortest repr, so 2.5 stays 2.5 and not its binary expansion."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is no quantity")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is no quantity") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is no quantity")
    return "0" if number == 0 else format(number.normalize(), "f")


# -- reading the dumps ---------------------------------------------------------------------------------------------

def _time(value, field):
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        return parse_datetime(str(value))
    except ValueError as exc:
        raise ValueError(f"{field}: {value!r}: {exc}") from None


def _decimal(value, field):
    try:
        return Decimal(quantity_text(value))
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from None


def _operations(operations):
    """The operations in sequence order, times parsed, IDs as the schedule numbers them."""
    found, ids = [], set()
    for op in operations:
        sequence = op.get("sequence")
        if sequence is None or isinstance(sequence, bool) or not str(sequence).strip().isdigit():
            raise ValueError(f"operation {op.get('name') or op.get('id')!r} has no sequence number")
        segment_id = str(int(str(sequence).strip())).zfill(4)
        if segment_id in ids:
            raise ValueError(f"operation {segment_id} is given twice")
        ids.add(segment_id)
        found.append({**op, "segment_id": segment_id, "id": _str(op.get("id")),
                      "actual_start": _time(op.get("actual_start"), f"operation {segment_id} actual_start"),
                      "actual_end": _time(op.get("actual_end"), f"operation {segment_id} actual_end")})
    return sorted(found, key=lambda op: int(op["segment_id"]))


def _rows(transactions, work_order_id):
    """The order's ledger rows, oldest first (stable: rows of one moment keep their order)."""
    rows = [t for t in transactions or ()
            if work_order_id is None or t.get("work_order_id") is None or _str(t["work_order_id"]) == _str(
                work_order_id)]
    return sorted(rows, key=lambda t: str(t.get("created_at") or ""))


def _str(value):
    return str(value) if value is not None else None


def _lot(lots, lot_id):
    if _str(lot_id) not in lots:
        raise ValueError(f"lot {lot_id} is not in the lots given")
    return lots[_str(lot_id)]


def _serial(serials, serial_id):
    if _str(serial_id) not in serials:
        raise ValueError(f"serial {serial_id} is not in the serials given")
    return serials[_str(serial_id)]


def _serial_lot(lots, serial):
    """The id of the lot a serial came from, when the lots given name it (a serial may have none)."""
    lot_id = _str((serial or {}).get("lot_id"))
    return lot_id if lot_id in lots else None


def _consumed(rows, operations, lots, serials):
    """{operation id: [(part number, lot number, [serial numbers], quantity, unit)]}: one per (part, lot) each operation
    consumed, a serial under its lot (or under none), in the order first consumed; a net zero is left out."""
    known = {op["id"] for op in operations}
    fallback = operations[-1]["id"] if operations else None
    grouped = {}
    for row in rows:
        if row.get("type") != "consume":
            continue
        serial = _serial(serials, row["serial_id"]) if row.get("serial_id") else None
        lot_id = _str(row.get("lot_id")) or _serial_lot(lots, serial)
        lot = _lot(lots, lot_id) if lot_id else None
        part = (serial or lot or {}).get("part_number") or row.get("part_number") or _str(row.get("part_id"))
        operation = _str(row.get("operation_id")) if _str(row.get("operation_id")) in known else fallback
        group = grouped.setdefault(operation, {}).setdefault(
            (part, lot_id), [part, lot["lot_number"] if lot else None, [], Decimal(0),
             (lot or serial or {}).get("uom")])
        if serial is not None and serial["serial_number"] not in group[2]:
            group[2].append(serial["serial_number"])
        group[3] -= _decimal(row.get("quantity"), f"transaction {row.get('id')} quantity")
    return {op: [tuple(g) for g in groups.values() if g[3] != 0] for op, groups in grouped.items()}


def _output(work_order, rows, lots, serials):
    """[(lot number or None, [serial numbers], quantity or None)] the order produced, a lot's serials with it and
    serials of no (known) lot last, first produced first."""
    order_id = _str(work_order.get("id"))
    lot_ids, serial_ids, quantities = OrderedDict(), OrderedDict(), {}
    for row in rows:
        if row.get("type") == "produce" and row.get("serial_id"):
            serial_ids[_str(row["serial_id"])] = None
        elif row.get("type") == "produce" and row.get("lot_id"):
            lot_ids[_str(row["lot_id"])] = None
            quantities[_str(row["lot_id"])] = quantities.get(_str(row["lot_id"]), 0) + _decimal(
                row.get("quantity"), f"transaction {row.get('id')} quantity")
    if order_id is not None:
        serial_ids.update((i, None) for i, s in serials.items() if _str(s.get("work_order_id")) == order_id)
        lot_ids.update((i, None) for i, lot in lots.items() if _str(lot.get("work_order_id")) == order_id)
    serial_lots = [_serial_lot(lots, _serial(serials, i)) for i in serial_ids]
    for lot_id in serial_lots:
        if lot_id:
            lot_ids.setdefault(lot_id, None)
    groups = OrderedDict((lot_id, []) for lot_id in lot_ids)   # lot id (None: no lot) → its serial numbers
    for serial_id, lot_id in zip(serial_ids, serial_lots):
        groups.setdefault(lot_id, []).append(_serial(serials, serial_id)["serial_number"])
    return [(_lot(lots, lot_id)["lot_number"] if lot_id else None, numbers,
             quantities.get(lot_id) or (Decimal(len(numbers)) if numbers else None))
            for lot_id, numbers in groups.items()]


# -- writing -------------------------------------------------------------------------------------------------------

def _times(parent, start_name, start, end_name, end):
    if start is not None:
        _el(parent, start_name, _timestamp(start))
    if end is not None:
        _el(parent, end_name, _timestamp(end))


def _quantity(parent, value, unit):
    quantity = _el(parent, "Quantity")
    _el(quantity, "QuantityString", quantity_text(value))
    if unit:
        _el(quantity, "UnitOfMeasure", str(unit))
    return quantity


def _segment(response, op, unit):
    """The SegmentResponse of one operation, without its material (XSD order: ... SegmentState, SegmentData,
    PersonnelActual, EquipmentActual, PhysicalAssetActual, MaterialActual)."""
    segment = _el(response, "SegmentResponse")
    _el(segment, "ID", op["segment_id"])
    if op.get("name"):
        _el(segment, "Description", str(op["name"]))
    if op.get("process_segment_id"):
        _el(segment, "ProcessSegmentID", str(op["process_segment_id"]))
    _times(segment, "ActualStartTime", op["actual_start"], "ActualEndTime", op["actual_end"])
    if OPERATION_STATE.get(op.get("status")):
        _el(segment, "SegmentState", OPERATION_STATE[op["status"]])
    for data_id, field in SEGMENT_DATA:
        if op.get(field) is not None:
            data = _el(segment, "SegmentData")
            _el(data, "ID", data_id)
            value = _el(data, "Value")
            _el(value, "ValueString", quantity_text(op[field]))
            if unit:
                _el(value, "UnitOfMeasure", str(unit))
    if op.get("operator_name"):
        personnel = _el(segment, "PersonnelActual")
        _el(personnel, "PersonID", str(op["operator_name"]))
        _el(personnel, "Description", "operator")
    work_center = op.get("work_center_code") or op.get("work_center_id")
    for equipment_id, description in ((work_center, "work center"), (op.get("equipment_id"), "equipment")):
        if equipment_id:
            equipment = _el(segment, "EquipmentActual")
            _el(equipment, "EquipmentID", str(equipment_id))
            _el(equipment, "Description", description)
    return segment


def _material(segment, use, part, lot_numbers, serial_numbers, quantity, unit=None, scrap=None):
    """A MaterialActual (XSD order: MaterialDefinitionID, MaterialLotID, MaterialSubLotID, MaterialUse, Quantity,
    MaterialActualProperty)."""
    actual = _el(segment, "MaterialActual")
    if part:
        _el(actual, "MaterialDefinitionID", str(part))
    for lot_number in [lot_numbers] if isinstance(lot_numbers, str) else lot_numbers or ():
        _el(actual, "MaterialLotID", str(lot_number))
    for serial_number in sorted(map(str, serial_numbers)):   # a stable document: the same order each time
        _el(actual, "MaterialSubLotID", serial_number)
    _el(actual, "MaterialUse", use)
    if quantity is not None:
        _quantity(actual, quantity, unit)
    if scrap is not None:
        prop = _el(actual, "MaterialActualProperty")
        _el(prop, "ID", "ScrapQuantity")
        _quantity(prop, scrap, unit)
    return actual


def _produced(segment, work_order, op, rows, lots, serials):
    """What the order made, on its last operation: one Produced MaterialActual per produced lot (its serials as
    sublots; serials of no lot in one more), so a receiver booking per lot gets each lot's quantity and none is
    counted twice. One actual (or none produced in the ledger) carries the operation's quantity_good; several
    carry what the ledger put in each. The order's scrap is a property of the first."""
    unit = work_order.get("uom")
    good = op.get("quantity_good") if op.get("quantity_good") is not None else work_order.get("quantity_completed")
    scrap = work_order.get("quantity_scrapped")
    if scrap is None:
        scrap = sum((_decimal(o.get("quantity_scrap") or 0, "quantity_scrap")
                     for o in work_order.get("operations") or ()), Decimal(0))
    outputs = _output(work_order, rows, lots, serials) or [(None, [], None)]
    part = work_order.get("part_number")
    for position, (lot_number, serial_numbers, quantity) in enumerate(outputs):
        _material(segment, "Produced", part, lot_number, serial_numbers,
                  good if len(outputs) == 1 else quantity, unit, scrap if position == 0 else None)
