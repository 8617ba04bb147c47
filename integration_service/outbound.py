"""What goes out, from the MES's events: each event an active webhook subscribes to becomes a CloudEvents JSON
message to it; a completed work order becomes an OperationsPerformance document for each ERP endpoint that
receives them.

The messages are queued in the stream's transaction (pure rows here, `delivery.queue` writes them). A
performance document is made just before its first send (`prepare`), from its owners' records: the work order
(operations, actual times, people, equipment) and material's ledger of it (lots and serials consumed and
produced). Both have committed before the completion event is published, so the document is complete."""
import json

from sqlalchemy import select

from mes_common import errors

from integration_service import b2mml, performance
from integration_service.endpoints import matches
from integration_service.models import Message
from work_order_service.contract import events as work_order_events

WORK_ORDER_COMPLETED = work_order_events.work_order("completed")
CLOUDEVENTS_JSON = "application/cloudevents+json"
PAGE = 500


def rows_for(events, endpoints):
    """The outbound messages (Message column dicts) of a batch of events, in event order. An inactive endpoint
    is paused, not forgotten: its messages are queued and wait until it is active again."""
    hooks = [e for e in endpoints if e.kind == "webhook"]
    erps = [e for e in endpoints if e.kind == "b2mml" and "OperationsPerformance" in e.nouns]
    rows = []
    for event in events:
        for hook in hooks:
            if matches(hook.event_types, event.type):
                rows.append({"endpoint_id": hook.id, "kind": "webhook", "noun": event.type, "event_id": event.id,
                             "order_key": (event.subject or event.type)[:100], "content_type": CLOUDEVENTS_JSON,
                             "payload": json.dumps(event.to_dict(), separators=(",", ":"), default=str),
                             "correlation_id": event.correlationid, "actor": event.actor})
        if event.type == WORK_ORDER_COMPLETED:
            number = event.data.get("number")
            for erp in erps:
                rows.append({"endpoint_id": erp.id, "kind": "b2mml", "version": erp.b2mml_version,
                             "noun": "OperationsPerformance", "verb": "Process", "event_id": event.id,
                             "document_id": number, "order_key": event.subject, "content_type": "application/xml",
                             "payload": "", "correlation_id": event.correlationid, "actor": event.actor,
                             "touched": [{"type": "work_order", "id": event.subject, "number": number or "",
                                          "action": "reported"}]})
    return rows


def _all(list_page, query):
    items, cursor = [], None
    while True:
        page = list_page({**query, "limit": PAGE, **({"cursor": cursor} if cursor else {})})
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def gather(work_order, material, work_order_id):
    """(work order, ledger rows, lots, serials) of a work order from their owners."""
    order = work_order.get_work_order(work_order_id)
    transactions = _all(material.list_transactions, {"work_order_id": work_order_id})
    produced = sum(t["quantity"] for t in transactions if t["type"] == "produce")
    if produced < order["quantity_completed"]:   # material books the last output from the same commit's event
        raise errors.Unavailable(f"material has booked {produced:g} of the {order['quantity_completed']:g} made "
                                 "so far; the document waits for the rest", {"work_order_id": work_order_id})
    serials = {s["id"]: s for s in _all(material.list_serials, {"work_order_id": work_order_id})}
    for serial_id in {t["serial_id"] for t in transactions if t.get("serial_id")} - set(serials):
        serials[serial_id] = material.get_serial(serial_id)
    lot_ids = {t["lot_id"] for t in transactions if t.get("lot_id")} | {
        s["lot_id"] for s in serials.values() if s.get("lot_id")}
    lots = {lot_id: material.get_lot(lot_id) for lot_id in lot_ids}
    return order, transactions, lots, serials


def preparer(work_order, material, standards_dir):
    """`prepare(uow, row, endpoint)` for delivery.send: makes a performance document and stores it."""
    def prepare(uow, row, endpoint):
        if row.noun != "OperationsPerformance":
            raise ValueError(f"nothing prepares a {row.noun} message")
        order, transactions, lots, serials = gather(work_order, material, row.order_key)
        tree = performance.document(order, transactions, lots, serials, sender=b2mml.MES_LOGICAL_ID,
                                    receiver=endpoint.name, bod_id=str(row.id))
        b2mml.validate_v0700(tree, standards_dir)   # an invalid document is parked, never sent
        summary = performance.summary(tree)
        if endpoint.b2mml_version == b2mml.V0600:
            tree = b2mml.as_v0600(tree)
        touched = [*row.touched, *({"type": "lot", "id": "", "number": n, "action": "reported"}
                                   for n in summary["lots"]),
                   *({"type": "serial", "id": "", "number": n, "action": "reported"} for n in summary["serials"])]
        with uow() as tx:
            stored = tx.session.execute(select(Message).where(Message.id == row.id).with_for_update()).scalar_one()
            if not stored.payload:   # another delivery may have made it meanwhile (a lease that ran out)
                stored.payload, stored.touched = b2mml.to_bytes(tree).decode("utf-8"), touched
            return stored
    return prepare
