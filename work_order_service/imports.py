"""Work orders from the ERP (the integration service's schedule imports): many
orders in one transaction, all or none.

References (parts, sites, work centers) are resolved first, each distinct one
once and with no transaction open, and every problem of every order is
reported in one error. Then one transaction creates and changes the orders:
the integration service answers the ERP with what happened to each."""
import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from mes_common import errors
from mes_common.db import utcnow
from work_order_service import domain, orders
from work_order_service.contract import events
from work_order_service.models import StatusChange, WorkOrder
from work_order_service.references import node_of_level

CREATED, CHANGED, UNCHANGED, KEPT = "created", "changed", "unchanged", "kept"


def _resolve(items):
    """{id: summary} of each distinct (id, field) in `items`, and {where: [message]} of those that are not
    usable; `items` are (where, id, resolve) with resolve(id) raising a MesError that says why."""
    found, problems, seen = {}, defaultdict(list), {}
    for where, key, resolve in items:
        if key not in seen:
            try:
                seen[key] = (resolve(key), None)
            except errors.RuleViolated as exc:
                seen[key] = (None, exc.message.split(": ", 1)[-1])
        summary, problem = seen[key]
        if problem:
            problems[where].append(problem)
        else:
            found[key] = summary
    return found, dict(problems)


def _references(refs, items):
    part_items, node_items = [], []
    for i, order in enumerate(items):
        part_items.append((f"orders[{i}].part_id", order["part_id"], lambda key: orders._part(refs, key)))
        node_items.append((f"orders[{i}].site_id", order["site_id"],
                           lambda key: node_of_level(refs, key, "site", "site_id")))
        for j, op in enumerate(order["operations"]):
            node_items.append((f"orders[{i}].operations[{j}].work_center_id", op["work_center_id"],
                               lambda key: node_of_level(refs, key, "work_center", "work_center_id")))
    parts, part_problems = _resolve(part_items)
    nodes, node_problems = _resolve(node_items)
    problems = {**part_problems, **node_problems}
    if problems:
        raise errors.RuleViolated(f"{len(problems)} reference(s) of the import cannot be used: nothing imported",
                                  problems)
    return parts, nodes


def planned(order, nodes):
    """The planned operations as the order stores them (JSON), in sequence order."""
    return [{"sequence": op["sequence"], "name": op["name"], "work_center_id": str(op["work_center_id"]),
             "work_center_code": nodes[op["work_center_id"]]["code"],
             "work_center_name": nodes[op["work_center_id"]]["name"],
             "setup_time": float(op["setup_time"]), "run_time": float(op["run_time"]),
             "process_segment_id": op.get("process_segment_id")}
            for op in sorted(order["operations"], key=lambda o: o["sequence"])]


def _values(order, parts, nodes, source):
    """The columns an imported order sets."""
    part = parts[order["part_id"]]
    return {"part_id": order["part_id"], "part_number": part["part_number"], "part_name": part["name"],
            "part_revision": order["part_revision"] or part["revision"], "uom": part.get("uom") or "ea",
            "quantity": order["quantity"], "due_date": order["due_date"], "priority": order["priority"],
            "site_id": order["site_id"], "site_name": nodes[order["site_id"]]["name"],
            "description": order["description"], "planned_start": order["planned_start"],
            "planned_operations": planned(order, nodes) or None, "source": source}


def import_orders(uow, refs, caller, data):
    items, mode, source = data["orders"], data["mode"], data["source"]
    parts, nodes = _references(refs, items)
    numbers = [o["number"] for o in items]
    with uow() as tx:
        session = tx.session
        existing = {wo.number: wo for wo in session.execute(
            select(WorkOrder).where(WorkOrder.number.in_(numbers)).order_by(WorkOrder.number)
            .options(selectinload(WorkOrder.operations), selectinload(WorkOrder.history))
            .with_for_update(of=WorkOrder)).scalars()}
        _check(session, mode, items, existing)
        results, now = [], utcnow()
        created = []
        for order in items:
            wo = existing.get(order["number"])
            values = _values(order, parts, nodes, source)
            if wo is None:
                wo = _new(session, caller, order["number"], values, now)
                created.append(wo)
                results.append((wo, CREATED, None))
            elif wo.status != domain.CREATED or orders.active_saga(session, wo.id) is not None:
                results.append((wo, KEPT, f"{wo.status}: an order changes only before its release"))
            else:
                values = {k: v for k, v in values.items() if k != "source"}
                out = tx.apply_changes(wo, values, orders.ENTITY, events.work_order("updated"),
                                       lambda row: orders.get_out(session, row.id))
                results.append((wo, UNCHANGED if out is None else CHANGED, None))
        tx.flush()
        # the new orders as their events and audit entries carry them: no query each, one statement each
        outs = [(wo.id, {**orders.dump(wo), "signatures": []}) for wo in created]
        tx.emit_many(events.work_order("created"), outs)
        tx.audit_many("create", orders.ENTITY, [(wo_id, None, out) for wo_id, out in outs])
        return {"orders": [{"id": wo.id, "number": wo.number, "status": wo.status, "action": action,
                            "reason": reason} for wo, action, reason in results]}


def _check(session, mode, items, existing):
    """Every order the mode cannot take, in one error (nothing is written)."""
    if mode == "create":
        taken = [o["number"] for o in items if o["number"] in existing]
        if taken:
            raise errors.Conflict(f"work order number(s) already used: {', '.join(taken)}",
                                  {f"orders[{i}].number": ["already used"]
                                   for i, o in enumerate(items) if o["number"] in existing})
    elif mode == "change":
        problems = {}
        for i, order in enumerate(items):
            wo = existing.get(order["number"])
            if wo is None:
                problems[f"orders[{i}].number"] = [f"no work order {order['number']}"]
            elif wo.status != domain.CREATED:
                problems[f"orders[{i}].number"] = [f"{wo.status}: changes only before its release"]
            elif orders.active_saga(session, wo.id) is not None:
                problems[f"orders[{i}].number"] = ["being released"]
        if problems:
            raise errors.RuleViolated(f"{len(problems)} work order(s) of the change cannot be changed: "
                                      "nothing changed", problems)


def _new(session, caller, number, values, now):
    wo = WorkOrder(id=uuid.uuid4(), number=number, **values, created_by_id=caller.user_id,
                   created_by_name=caller.name, status=domain.CREATED, quantity_completed=0, quantity_scrapped=0,
                   version=1, created_at=now, updated_at=now)
    entry = StatusChange(work_order_id=wo.id, from_status=None, to_status=domain.CREATED, actor=caller.actor, at=now)
    session.add(wo)
    session.add(entry)
    set_committed_value(wo, "operations", [])
    set_committed_value(wo, "history", [entry])
    return wo


def find(session, numbers):
    """The summaries of the orders with these numbers (those that exist)."""
    rows = session.execute(select(WorkOrder).where(WorkOrder.number.in_(numbers)).order_by(WorkOrder.number))
    return [orders.summary_out.dump(wo) for wo in rows.scalars()]
