"""Use cases of corrective and preventive actions (CAPA) on one unit of work.

A CAPA answers one or more NCRs: a root cause (5-why or a fishbone
category), actions with owners and due dates, then an effectiveness check a
person signs (verification). It cannot be checked until every action is done,
nor closed (signed: approval) until the check says it was effective; a check
that says it was not leaves it open for more actions.
"""
import uuid

from sqlalchemy import func, select

from mes_common import errors, paging, signatures
from mes_common.db import fetch
from mes_common.rules import StateMachine, check_version
from quality_service import history
from quality_service.contract import events
from quality_service.contract.capas import CapaOut, CapaSummary
from quality_service.models import CAPA_SEQUENCE, Capa, CapaAction, CapaNcr, Ncr, Signature

RECORD = "capa"
OPEN, CHECKED, CLOSED, CANCELLED = "open", "effectiveness_check", "closed", "cancelled"
CAPA = StateMachine("CAPA", {OPEN: (CHECKED, CANCELLED), CHECKED: (CLOSED,), CLOSED: (), CANCELLED: ()})
capa_out, summary_out = CapaOut(), CapaSummary()
FIELDS = ("title", "problem", "root_cause_method", "whys", "fishbone_category", "root_cause", "owner_name",
          "due_on", "effectiveness_criteria", "effectiveness_result", "effective")


def signed_content(capa):
    """What the effectiveness check and the closure sign: the whole CAPA."""
    return {"number": capa.number, **{k: getattr(capa, k) for k in FIELDS},
            "ncrs": [n.ncr_number for n in capa.ncrs],
            "actions": [{"number": a.number, "kind": a.kind, "description": a.description, "status": a.status,
                         "evidence": a.evidence} for a in capa.actions]}


def dump(session, capa):
    out = capa_out.dump({**{c.key: getattr(capa, c.key) for c in Capa.__table__.columns},
                         "ncrs": capa.ncrs, "actions": capa.actions})
    return {**out, "signatures": signatures.for_record(session, Signature, RECORD, capa.id, signed_content(capa))}


def get(session, capa_id, lock=False):
    return fetch(session, Capa.id, capa_id, "CAPA", lock)


def _locked(session, capa_id, version, status=OPEN):
    capa = get(session, capa_id, lock=True)
    check_version(version, capa.version, f"CAPA {capa.number}")
    if status is not None and capa.status != status:
        raise errors.RuleViolated(f"CAPA {capa.number} is {capa.status}", {"status": [f"is {capa.status}"]})
    return capa


def _announce(tx, capa, verb, **extra):
    capa.updated_at = func.now()
    tx.flush()
    tx.session.refresh(capa, ["updated_at"])
    out = dump(tx.session, capa)
    tx.emit(events.CAPA(verb), capa.id, {**out, **extra})
    return out


def _move(tx, capa, status, reason=None):
    history.move(tx, CAPA, RECORD, capa, status, reason)


def create(tx, caller, data):
    session = tx.session
    ncrs = session.execute(select(Ncr).where(Ncr.id.in_(data["ncr_ids"]))).scalars().all()
    missing = sorted(str(i) for i in set(data["ncr_ids"]) - {n.id for n in ncrs})
    if missing:
        raise errors.RuleViolated(f"ncr_ids: no NCR {', '.join(missing)}",
                                  {"ncr_ids": [f"no NCR {m}" for m in missing]})
    number = f"CAPA-{session.execute(CAPA_SEQUENCE.next_value()).scalar_one():06d}"
    capa = Capa(id=uuid.uuid4(), number=number, status=OPEN, created_by=caller.actor, owner_id=data["owner_id"],
                ncrs=[CapaNcr(ncr_id=n.id, ncr_number=n.number) for n in ncrs],
                **{k: data[k] for k in ("title", "problem", "root_cause_method", "whys", "fishbone_category",
                                         "root_cause", "owner_name", "due_on", "effectiveness_criteria")})
    session.add(capa)
    history.record(tx, RECORD, capa.id, None, OPEN)
    out = _announce(tx, capa, "opened")
    tx.audit("open", RECORD, capa.id, new=out)
    return capa


def update(tx, capa_id, changes):
    capa = _locked(tx.session, capa_id, changes.pop("version", None))
    tx.apply_changes(capa, changes, RECORD, events.CAPA("updated"), lambda row: dump(tx.session, row))
    return capa


def add_action(tx, capa_id, data):
    capa = _locked(tx.session, capa_id, None)
    number = max((a.number for a in capa.actions), default=0) + 1
    capa.actions.append(CapaAction(id=uuid.uuid4(), number=number, status="open", **data))
    out = _announce(tx, capa, "action_added", action=number)
    tx.audit("add_action", RECORD, capa.id, new=out["actions"][-1])
    return capa


def complete_action(tx, caller, capa_id, number, evidence):
    capa = _locked(tx.session, capa_id, None)
    action = next((a for a in capa.actions if a.number == number), None)
    if action is None:
        raise errors.NotFound(f"CAPA {capa.number} has no action {number}", {"number": number})
    if action.status != "open":
        raise errors.RuleViolated(f"action {number} of {capa.number} is {action.status}",
                                  {"status": [f"is {action.status}"]})
    action.status, action.evidence, action.done_at, action.done_by = "done", evidence, func.now(), caller.actor
    _announce(tx, capa, "action_done", action=number)
    tx.audit("complete_action", RECORD, capa.id, new={"action": number, "evidence": evidence}, reason=evidence)
    return capa


def check_effectiveness_due(session, capa_id, version):
    """The CAPA, if its effectiveness can be checked now (asked before the signature, again under the lock)."""
    capa = get(session, capa_id)
    check_version(version, capa.version, f"CAPA {capa.number}")
    _effectiveness_due(capa)
    return capa


def _effectiveness_due(capa):
    if capa.status != OPEN:
        raise errors.RuleViolated(f"CAPA {capa.number} is {capa.status}", {"status": [f"is {capa.status}"]})
    problems = {}
    if not capa.root_cause:
        problems["root_cause"] = ["state the root cause first"]
    if not capa.actions:
        problems["actions"] = ["no action taken"]
    open_actions = [a.number for a in capa.actions if a.status != "done"]
    if open_actions:
        problems["actions"] = [f"action {n} is not done" for n in open_actions]
    if problems:
        raise errors.RuleViolated(f"CAPA {capa.number} cannot be checked yet: {', '.join(problems)}", problems)


def sign_effectiveness(tx, capa_id, version, result, effective, manifest):
    capa = _locked(tx.session, capa_id, version)
    _effectiveness_due(capa)
    capa.effectiveness_result, capa.effective = result, effective
    tx.flush()
    signature = tx.sign(manifest, RECORD, capa.id, signatures.VERIFICATION, signed_content(capa))
    if effective:
        _move(tx, capa, CHECKED, result)
    out = _announce(tx, capa, "effectiveness_signed")
    if signature is not None:
        history.signed(tx, RECORD, capa.id, capa.number, signature)
    tx.audit("check_effectiveness", RECORD, capa.id, new={"result": result, "effective": effective,
                                                          "signature": signature, "status": out["status"]})
    return capa


def check_closable(session, capa_id, version):
    capa = get(session, capa_id)
    check_version(version, capa.version, f"CAPA {capa.number}")
    CAPA.check(capa.status, CLOSED, capa.number)
    return capa


def close(tx, capa_id, version, manifest):
    capa = _locked(tx.session, capa_id, version, status=CHECKED)
    signature = tx.sign(manifest, RECORD, capa.id, signatures.APPROVAL, signed_content(capa))
    _move(tx, capa, CLOSED)
    capa.closed_at = func.now()
    out = _announce(tx, capa, "closed")
    if signature is not None:
        history.signed(tx, RECORD, capa.id, capa.number, signature)
    tx.audit("close", RECORD, capa.id, new={"status": out["status"], "signature": signature})
    return capa


def cancel(tx, capa_id, version, reason):
    capa = _locked(tx.session, capa_id, version, status=None)
    _move(tx, capa, CANCELLED, reason)
    capa.status_reason = reason
    out = _announce(tx, capa, "cancelled")
    tx.audit("cancel", RECORD, capa.id, new={"status": out["status"]}, reason=reason)
    return capa


def list_page(session, query):
    stmt = paging.where_equal(select(Capa), Capa, query, ("status",))
    keys = [(Capa.created_at, paging.time_key), (Capa.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: summary_out.dump(rows, many=True), descending=True)
