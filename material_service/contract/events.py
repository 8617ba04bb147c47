"""Events the material service publishes: its public contract.

`subject` is the entity's id, `data` its full "Out" dump plus the extras
named here, so a read model (traceability) can rebuild parts, lots, serials,
holds, reservations, the ledger and the whole genealogy from events alone:

- part.created / part.revised: PartOut (+ previous_revision, reason);
  part.updated: PartOut + changed (field names)
- bom.changed: BomOut + previous (the replaced components)
- lot.received: LotOut + quantity_received, location_id, reference, reason, origin
  (receipt | production) and work_order_id / operation_id of an output lot
- lot.status_changed: LotOut + from, to, reason
- lot.split: {parent, children: [LotOut], reason}; lot.merged: {lot, sources, reason}
- lot.held / serial.held: HoldOut of the hold on that lot or serial (a
  cascaded one has root_hold_id); lot.released / serial.released: the
  lifted hold (hold released, not the lot status)
- lot.consumed: LotOut + quantity_consumed, location_id, work_order_id,
  operation_id, transaction_id; serial.consumed: SerialOut + work_order_id,
  operation_id, transaction_id
- serial.created: {part_id, lot_id, location_id, work_order_id, serials:
  [{id, serial_number}]} in chunks of at most 1000 serials
- serial.assembled: {parent, child (nodes), quantity, link, work_order_id, operation_id}
- serial.scrapped: SerialOut + reference (e.g. the NCR number), reason, transaction_id
- genealogy.linked: {links: [GenealogyLinkOut + source/target numbers and part ids]}
  in chunks of at most 1000 links
- inventory.transacted: {transactions: [InventoryTransactionOut]} per use case, in
  chunks of at most 1000 ledger rows
- reservation.created / reservation.released: ReservationOut
"""
SOURCE = "material_service"

PART_CREATED = "mes.material.part.created"
PART_UPDATED = "mes.material.part.updated"
PART_REVISED = "mes.material.part.revised"
BOM_CHANGED = "mes.material.bom.changed"
LOT_RECEIVED = "mes.material.lot.received"
LOT_STATUS_CHANGED = "mes.material.lot.status_changed"
LOT_SPLIT = "mes.material.lot.split"
LOT_MERGED = "mes.material.lot.merged"
LOT_CONSUMED = "mes.material.lot.consumed"
SERIAL_CREATED = "mes.material.serial.created"
SERIAL_ASSEMBLED = "mes.material.serial.assembled"
SERIAL_CONSUMED = "mes.material.serial.consumed"
SERIAL_SCRAPPED = "mes.material.serial.scrapped"
GENEALOGY_LINKED = "mes.material.genealogy.linked"
INVENTORY_TRANSACTED = "mes.material.inventory.transacted"
RESERVATION_CREATED = "mes.material.reservation.created"
RESERVATION_RELEASED = "mes.material.reservation.released"



def held(target_type):
    return f"mes.material.{target_type}.held"


def hold_released(target_type):
    return f"mes.material.{target_type}.released"


EVENT_TYPES = (PART_CREATED, PART_UPDATED, PART_REVISED, BOM_CHANGED, LOT_RECEIVED, LOT_STATUS_CHANGED, LOT_SPLIT,
               LOT_MERGED, LOT_CONSUMED, held("lot"), hold_released("lot"), SERIAL_CREATED, SERIAL_ASSEMBLED,
               SERIAL_CONSUMED, SERIAL_SCRAPPED, held("serial"), hold_released("serial"), GENEALOGY_LINKED,
               INVENTORY_TRANSACTED,
               RESERVATION_CREATED, RESERVATION_RELEASED)
