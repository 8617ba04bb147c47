"""Use cases of nonconformance reports on one unit of work.

Raising an NCR announces it (`ncr.raised`, outbox): the material service holds
each lot and serial, with the NCR number as the hold's reference, and its
`held` events say so back; until then the NCR's hold is `pending`, so a
material service that is down loses nothing and the NCR says where it stands.
The MRB's signed disposition is announced the same way (`ncr.dispositioned`):
material scraps, returns and releases in one transaction per item and its
hold's `released` event marks the item's lines applied; the work order service
makes a rework operation of each rework and repair line and says how it goes
(`rework.*` events). Work in process of an operation is held by the
operation's inspection gate (inspections.use_cases.gate) from the raise to the
disposition. Cancelling releases the holds. Every change is audited with its
status history.
"""
import uuid
from decimal import Decimal

from sqlalchemy import func, select

from mes_common import errors, paging, signatures
from mes_common.db import fetch, utcnow
from mes_common.rules import check_version
from quality_service import history
from quality_service.contract import events
from quality_service.contract.ncrs import NcrOut, NcrSummary
from quality_service.models import NCR_SEQUENCE, Disposition, Ncr, NcrItem, Signature
from quality_service.ncrs import rules

RECORD = "ncr"   # signature record type and audit entity
APPROVAL = signatures.APPROVAL
ncr_out, summary_out = NcrOut(), NcrSummary()
ITEM_FIELDS = ("target_type", "target_id", "target_number", "quantity")
LINE_FIELDS = ("decision", "quantity", "justification", "customer_approval", "instructions")
LINE_PROGRESS = ("id", "effect_status", "rework_status", "rework_id", "rework_number")   # not what the MRB signs


def _lines(ncr):
    numbers = {i.id: (i.target_id, i.target_number) for i in ncr.items}
    return [{"target_id": numbers[d.item_id][0], "target_number": numbers[d.item_id][1],
             **{k: getattr(d, k) for k in (*LINE_FIELDS, *LINE_PROGRESS)}} for d in ncr.dispositions]


def is_critical(ncr):
    return rules.critical(ncr.severity, ncr.characteristics)


def signed_content(ncr):
    """What an MRB approval signs: the nonconformance and its whole disposition."""
    return {"number": ncr.number, "part_id": str(ncr.part_id), "severity": ncr.severity, "title": ncr.title,
            "description": ncr.description, "quantity": str(ncr.quantity), "characteristics": ncr.characteristics,
            "items": [{k: str(getattr(i, k)) for k in ITEM_FIELDS} for i in ncr.items],
            "dispositions": [{k: str(v) if v is not None else None for k, v in line.items()
                              if k not in LINE_PROGRESS} for line in _lines(ncr)]}


def approvals(session, ncr):
    return signatures.for_record(session, Signature, RECORD, ncr.id, signed_content(ncr))


def dump(session, ncr, signed=None):
    out = {**{c.key: getattr(ncr, c.key) for c in Ncr.__table__.columns},
           "critical": is_critical(ncr), "items": ncr.items, "dispositions": _lines(ncr),
           "hold_status": ("none" if ncr.status == rules.DRAFT
                           else rules.hold_status([i.hold_status for i in ncr.items])),
           "signatures_required": rules.signatures_required(is_critical(ncr)),
           "history": history.of(session, RECORD, ncr.id)}
    return {**ncr_out.dump(out), "signatures": signed if signed is not None else approvals(session, ncr)}


def get(session, ncr_id, lock=False):
    return fetch(session, Ncr.id, ncr_id, "NCR", lock)


def _locked(session, ncr_id, version):
    ncr = get(session, ncr_id, lock=True)
    check_version(version, ncr.version, f"NCR {ncr.number}")
    return ncr


def _announce(tx, ncr, verb, **extra):
    tx.flush()
    tx.session.refresh(ncr, ["updated_at"])
    out = dump(tx.session, ncr)
    tx.emit(events.NCR(verb), ncr.id, {**out, **extra})
    return out


def _move(tx, ncr, status, reason=None):
    history.move(tx, rules.NCR, RECORD, ncr, status, reason)


# ------------------------------------------------------------------ raising

def raise_(tx, caller, data, part, targets, inspection=None, characteristics=(), trigger_key=None):
    """A new NCR of `part` on `targets` ([{target_type, target_id, target_number,
    quantity}]); open (announced, holds pending) unless `data["draft"]`."""
    session = tx.session
    if trigger_key is not None:
        found = session.execute(select(Ncr).where(Ncr.trigger_key == trigger_key)).scalar_one_or_none()
        if found is not None:
            return found
    number = f"NCR-{session.execute(NCR_SEQUENCE.next_value()).scalar_one():06d}"
    status = rules.DRAFT if data.get("draft") else rules.OPEN
    items = [NcrItem(id=uuid.uuid4(), position=i, hold_status=rules.initial_hold(t["target_type"]),
                     **{k: t[k] for k in ITEM_FIELDS}) for i, t in enumerate(targets)]
    ncr = Ncr(id=uuid.uuid4(), number=number, source=data["source"], status=status, severity=data["severity"],
              title=data["title"], description=data["description"], part_id=part["id"],
              part_number=part["part_number"], quantity=sum((t["quantity"] for t in targets), Decimal(0)),
              work_order_id=data.get("work_order_id"), work_order_number=data.get("work_order_number"),
              operation_id=data.get("operation_id"), operation_sequence=data.get("operation_sequence"),
              inspection_id=inspection.id if inspection else None,
              inspection_number=inspection.number if inspection else None, supplier=data.get("supplier"),
              characteristics=list(characteristics), defect_codes=data.get("defect_codes") or [],
              containment=[_containment(tx, action) for action in data.get("containment") or []],
              trigger_key=trigger_key, created_by=caller.actor, items=items)
    session.add(ncr)
    history.record(tx, RECORD, ncr.id, None, status)
    if status == rules.OPEN and all(i.hold_status == "held" for i in items):   # held by its operation's gate
        ncr.containment = [*ncr.containment, _containment(tx, "held at the inspection gate: " + ", ".join(
            f"operation {i.target_number}" for i in items))]
        _move(tx, ncr, rules.CONTAINED, "work in process held by the operation's inspection gate")
    out = _announce(tx, ncr, "raised" if status == rules.OPEN else "updated")
    tx.audit("raise" if status == rules.OPEN else "create", RECORD, ncr.id, new=out)
    return ncr


def _containment(tx, action):
    return {"action": action, "by": tx.actor, "at": utcnow().isoformat()}


def submit(tx, ncr_id, version):
    """A draft raised: announced, its lots and serials held."""
    ncr = _locked(tx.session, ncr_id, version)
    _move(tx, ncr, rules.OPEN)
    out = _announce(tx, ncr, "raised")
    tx.audit("raise", RECORD, ncr.id, old={"status": rules.DRAFT}, new=out)
    return ncr


def inspected(inspection):
    """What an inspection inspected, as an NCR item: its lot, its serial, or
    the work in process of its work-order operation."""
    if inspection.lot_id is not None:
        target = {"target_type": "lot", "target_id": inspection.lot_id, "target_number": inspection.lot_number,
                  "quantity": Decimal(inspection.quantity)}
    elif inspection.serial_id is not None:
        target = {"target_type": "serial", "target_id": inspection.serial_id,
                  "target_number": inspection.serial_number, "quantity": Decimal(1)}
    else:
        target = {"target_type": rules.OPERATION, "target_id": inspection.operation_id,
                  "target_number": f"{inspection.work_order_number}/{inspection.operation_sequence}",
                  "quantity": Decimal(inspection.quantity)}
    return target


def for_inspection(tx, caller, inspection, characteristics, data, describe, trigger_key):
    """The NCR (once per `trigger_key`) of what an inspection inspected, held.
    `data`: source, severity, title, defect codes; `describe(target)`: the
    description, given "lot L-1", "serial S-1" or "operation WO-000001/20"."""
    target = inspected(inspection)
    data = {**data, "description": describe(f"{target['target_type']} {target['target_number']}"),
            "supplier": inspection.supplier, "work_order_id": inspection.work_order_id,
            "work_order_number": inspection.work_order_number, "operation_id": inspection.operation_id,
            "operation_sequence": inspection.operation_sequence}
    part = {"id": inspection.part_id, "part_number": inspection.part_number}
    return raise_(tx, caller, data, part, [target], inspection=inspection, trigger_key=trigger_key,
                  characteristics=[{"number": c.number, "name": c.name, "criticality": c.criticality}
                                   for c in characteristics])


def from_inspection(tx, caller, inspection, plan, failed_items):
    """The NCR of a failed inspection (once per inspection)."""
    by_id = {c.id: c for c in plan.characteristics}
    failed = [by_id[i.characteristic_id] for i in failed_items]
    names = "; ".join(f"{c.number} {c.name}" for c in failed)
    data = {"source": "inspection", "severity": "critical" if any(c.criticality == "critical" for c in failed)
            else "major", "title": f"Inspection {inspection.number} failed: {names}"[:200],
            "defect_codes": [f"CHAR-{c.number}" for c in failed]}
    return for_inspection(
        tx, caller, inspection, failed, data, lambda target: (
            f"{inspection.kind.replace('_', ' ')} inspection {inspection.number} of {target} to plan "
            f"{plan.plan_number} revision {plan.revision} failed characteristic(s) {names}."),
        trigger_key=f"inspection:{inspection.id}")


# ------------------------------------------------------------------ changes before the disposition

def _check_unsigned(session, ncr):
    if session.execute(select(func.count()).select_from(Signature).where(
            Signature.record_type == RECORD, Signature.record_id == str(ncr.id))).scalar_one():
        raise errors.RuleViolated(f"NCR {ncr.number} has MRB signatures: it no longer changes",
                                  {"status": ["signed"]})


def update(tx, ncr_id, changes):
    ncr = _locked(tx.session, ncr_id, changes.pop("version", None))
    if ncr.status not in (rules.DRAFT, rules.OPEN, rules.CONTAINED):
        raise errors.RuleViolated(f"NCR {ncr.number} is {ncr.status}: it no longer changes",
                                  {"status": [f"is {ncr.status}"]})
    _check_unsigned(tx.session, ncr)
    tx.apply_changes(ncr, changes, RECORD, events.NCR("updated"), lambda row: dump(tx.session, row))
    return ncr


def contain(tx, ncr_id, action, version):
    """Record a containment action; an open NCR becomes contained."""
    ncr = _locked(tx.session, ncr_id, version)
    if ncr.status not in (rules.OPEN, rules.CONTAINED):
        raise errors.RuleViolated(f"NCR {ncr.number} is {ncr.status}: containment is recorded while it is open",
                                  {"status": [f"is {ncr.status}"]})
    ncr.containment = [*ncr.containment, _containment(tx, action)]
    verb = "updated"
    if ncr.status == rules.OPEN:
        _move(tx, ncr, rules.CONTAINED, action)
        verb = "contained"
    out = _announce(tx, ncr, verb)
    tx.audit("contain", RECORD, ncr.id, new={"containment": action, "status": out["status"]})
    return ncr


def set_disposition(tx, ncr_id, lines, version):
    """The MRB's proposed disposition (replaced until the first approval)."""
    session = tx.session
    ncr = _locked(session, ncr_id, version)
    if ncr.status not in (rules.OPEN, rules.CONTAINED):
        raise errors.RuleViolated(f"NCR {ncr.number} is {ncr.status}: a disposition is proposed while it is "
                                  "open or contained", {"status": [f"is {ncr.status}"]})
    _check_unsigned(session, ncr)
    rules.refuse_lines(rules.check_lines(ncr.items, lines, is_critical(ncr)))
    old = _lines(ncr)
    by_target = {str(i.target_id): i for i in ncr.items}
    ncr.dispositions = []
    tx.flush()
    ncr.dispositions = [Disposition(id=uuid.uuid4(), item_id=by_target[str(line["target_id"])].id, position=i,
                                    effect_status="proposed", **{k: line[k] for k in LINE_FIELDS})
                        for i, line in enumerate(lines)]
    ncr.updated_at = func.now()
    out = _announce(tx, ncr, "updated", changed=["dispositions"])
    tx.audit("propose_disposition", RECORD, ncr.id, old={"dispositions": old},
             new={"dispositions": out["dispositions"]})
    return ncr


# ------------------------------------------------------------------ the MRB's approval

def check_signable(session, ncr_id, version, lock=False):
    """The NCR, if its disposition can be approved now (asked before the signature, again under the lock)."""
    ncr = get(session, ncr_id, lock=lock)
    check_version(version, ncr.version, f"NCR {ncr.number}")
    if ncr.status != rules.CONTAINED:
        raise errors.RuleViolated(f"NCR {ncr.number} is {ncr.status}: the MRB approves the disposition of a "
                                  "contained nonconformance (its material held)", {"status": [f"is {ncr.status}"]})
    if not ncr.dispositions:
        raise errors.RuleViolated(f"NCR {ncr.number} has no disposition to approve", {"dispositions": ["none"]})
    return ncr


def sign_disposition(tx, caller, ncr_id, version, manifest):
    """An MRB member's approval (signed); with the approvals it needs (two
    different members when critical) the NCR is dispositioned and announced for
    material to apply."""
    session = tx.session
    ncr = check_signable(session, ncr_id, version, lock=True)
    signed = approvals(session, ncr)
    rules.check_signer([s["signer_id"] for s in signed if s["meaning"] == APPROVAL], manifest["signer_id"])
    signature = tx.sign(manifest, RECORD, ncr.id, APPROVAL, signed_content(ncr))
    signed.append(signature)
    history.signed(tx, RECORD, ncr.id, ncr.number, signature)
    needed = rules.signatures_required(is_critical(ncr))
    if len(signed) >= needed:
        _move(tx, ncr, rules.DISPOSITIONED)
        _set_effects(ncr)
        out = _announce(tx, ncr, "dispositioned")
    else:
        ncr.updated_at = func.now()
        out = _announce(tx, ncr, "updated", changed=["signatures"])
    tx.audit("approve_disposition", RECORD, ncr.id, new={"signature": signature, "approvals": len(signed),
                                                         "needed": needed, "status": out["status"]})
    return ncr


def _set_effects(ncr):
    """The disposition signed: material's lines wait for it (pending); an
    operation's work in process goes as decided at once (its gate opens to the
    disposition: inspections.use_cases.gate); rework and repair wait for their
    rework operation."""
    at_gate = {i.id for i in ncr.items if i.target_type == rules.OPERATION}
    for item in ncr.items:
        if item.id in at_gate:
            item.hold_status, item.hold_changed_at = "released", func.now()
    for line in ncr.dispositions:
        line.effect_status = "applied" if line.item_id in at_gate else "pending"
        if line.decision in rules.REWORKED:
            line.rework_status = "pending"


def _release_gates(ncr):
    for item in ncr.items:
        if item.target_type == rules.OPERATION and item.hold_status == "held":
            item.hold_status, item.hold_changed_at = "released", func.now()


def close(tx, ncr_id, reason, version):
    ncr = _locked(tx.session, ncr_id, version)
    lines = _lines(ncr)
    pending = [f"{line['target_number']}: {line['decision']}" for line in lines if line["effect_status"] != "applied"]
    if ncr.status == rules.DISPOSITIONED and pending:
        raise errors.RuleViolated(f"NCR {ncr.number}: material has not applied {', '.join(pending)} yet",
                                  {"dispositions": pending})
    rework = rules.unfinished_rework(lines)
    if rework:
        raise errors.RuleViolated(f"NCR {ncr.number}: the rework is not completed ({'; '.join(rework)})",
                                  {"dispositions": rework})
    _move(tx, ncr, rules.CLOSED, reason)
    ncr.closed_at, ncr.status_reason = func.now(), reason
    out = _announce(tx, ncr, "closed")
    tx.audit("close", RECORD, ncr.id, new={"status": out["status"]}, reason=reason)
    return ncr


def cancel(tx, ncr_id, reason, version):
    """A cancelled NCR releases its holds."""
    ncr = _locked(tx.session, ncr_id, version)
    _check_unsigned(tx.session, ncr)
    was = ncr.status
    _move(tx, ncr, rules.CANCELLED, reason)
    ncr.status_reason = reason
    _release_gates(ncr)
    out = _announce(tx, ncr, "cancelled", held=was != rules.DRAFT)
    tx.audit("cancel", RECORD, ncr.id, old={"status": was}, new={"status": out["status"]}, reason=reason)
    return ncr


# ------------------------------------------------------------------ material's word

def hold_changed(tx, hold, released):
    """A hold of material's (HoldOut of a `held` or `released` event) on a lot or
    serial of an NCR, named by its reference: the item's hold landed, or the
    disposition was applied (material releases the hold after its effects, in
    the same transaction). Other holds are none of ours."""
    if hold.get("root_hold_id") or not hold.get("reference"):
        return None
    session = tx.session
    ncr = session.execute(select(Ncr).where(Ncr.number == hold["reference"]).with_for_update()).scalar_one_or_none()
    if ncr is None:
        return None
    item = next((i for i in ncr.items if str(i.target_id) == str(hold["target_id"])
                 and i.target_type == hold["target_type"]), None)
    if item is None:
        return None
    item.hold_id, item.hold_status, item.hold_changed_at = hold["id"], "released" if released else "held", func.now()
    if released:
        for line in ncr.dispositions:
            if line.item_id == item.id and line.effect_status == "pending":
                line.effect_status = "applied"
    elif ncr.status == rules.OPEN and all(i.hold_status == "held" for i in ncr.items):
        ncr.containment = [*ncr.containment, _containment(tx, "held in material: " + ", ".join(
            f"{i.target_type} {i.target_number}" for i in ncr.items))]
        _move(tx, ncr, rules.CONTAINED, "material holds confirmed")
    ncr.updated_at = func.now()
    out = _announce(tx, ncr, "hold_changed", target_id=str(item.target_id))
    tx.audit("hold_" + ("released" if released else "placed"), RECORD, ncr.id,
             new={"target": item.target_number, "hold_id": hold["id"], "status": out["status"]})
    return ncr


# ------------------------------------------------------------------ the work order service's word on the rework

def rework_changed(tx, rework):
    """A rework operation (ReworkOut of a `rework.*` event) of a disposition
    line: the line follows it. Returns the NCR, or None when the line is none
    of ours."""
    session = tx.session
    ncr_id = session.execute(select(Disposition.ncr_id).where(Disposition.id == rework["disposition_id"])).scalar()
    if ncr_id is None:
        return None
    ncr = get(session, ncr_id, lock=True)   # the NCR first, as every change of its lines locks it
    line = next(d for d in ncr.dispositions if str(d.id) == str(rework["disposition_id"]))
    was = line.rework_status
    if not rules.rework_moves(was, rework["status"]):   # a late event of an earlier state
        return ncr
    line.rework_id, line.rework_number, line.rework_status = rework["id"], rework["number"], rework["status"]
    ncr.updated_at = func.now()
    _announce(tx, ncr, "updated", changed=["dispositions"])
    tx.audit("rework_" + rework["status"], RECORD, ncr.id,
             old={"rework_status": was}, new={"rework": rework["number"], "rework_status": rework["status"],
                                               "target": rework["target_number"]})
    return ncr


def rework_done(ncr):
    """Every rework and repair line of a dispositioned NCR has its rework completed."""
    lines = [d for d in ncr.dispositions if d.rework_status is not None]
    return bool(lines) and all(d.rework_status == "completed" for d in lines)


# ------------------------------------------------------------------ queries

def holding_operation(session, operation_id):
    """The numbers of the NCRs that hold an operation's work in process."""
    return session.execute(select(Ncr.number).join(NcrItem, NcrItem.ncr_id == Ncr.id).where(
        NcrItem.target_type == rules.OPERATION, NcrItem.target_id == operation_id,
        NcrItem.hold_status == "held").order_by(Ncr.number)).scalars().all()


def list_page(session, query):
    stmt = paging.where_equal(select(Ncr), Ncr, query, ("status", "source", "part_id"))
    if query.get("created_since") is not None:
        stmt = stmt.where(Ncr.created_at >= query["created_since"])
    keys = [(Ncr.created_at, paging.time_key), (Ncr.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: summary_out.dump(rows, many=True), descending=True)
