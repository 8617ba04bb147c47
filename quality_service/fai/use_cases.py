"""Use cases of First Article Inspection reports on one unit of work.

A FAIR is made for a serial from what the MES knows (the entrypoints gather
what other services own; form 3 comes from this service's plans and the
first article's inspections), refreshed while it is a draft, signed by its
preparer when sent to review (authorship) and by a different person when
approved (approval); an approved FAIR never changes, and a change in the
database after signing shows its signatures invalid. Every change is
audited with its status history and announced (`mes.quality.fai.*`).
"""
import base64
import uuid

from eventlet import tpool

from sqlalchemy import func, select

from mes_common import errors, paging, signatures
from mes_common.db import fetch
from mes_common.rules import check_version
from quality_service import history
from quality_service.contract import events
from quality_service.contract.fai import FaiOut, FaiSummary
from quality_service.fai import exports, forms, rules
from quality_service.inspections import rules as inspection_rules
from quality_service.models import FAI_SEQUENCE, FaiReport, Inspection, InspectionPlan, InspectionResult, Signature
from quality_service.plans import use_cases as plans

RECORD = "fai_report"
fai_out, summary_out = FaiOut(), FaiSummary()
STATED = ("drawing_number", "drawing_revision", "additional_changes", "organization", "supplier_code", "po_number",
          "comments")
GATHERED = ("process_reference", "plan_numbers", "detail_parts", "form2", "form3", "work_order_id",
            "work_order_number")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def content(fair):
    """What a signature signs: the report and its three forms (not its status)."""
    keys = ("number", "kind", "reason", "previous_fair_number", "part_number", "part_name", "part_revision",
            "serial_number", "work_order_number", "drawing_number", "drawing_revision", "additional_changes",
            "process_reference", "organization", "supplier_code", "po_number", "plan_numbers", "detail_parts",
            "form2", "form3", "comments")
    return {k: getattr(fair, k) for k in keys}


def open_items(fair):
    items = rules.open_items(fair.form3)
    items += [f"detail part {d['part_number']} ({d['serial_or_lot']}): no approved FAIR"
              for d in fair.detail_parts if not d.get("fair_number")]
    return items


def dump(session, fair):
    items = open_items(fair)
    out = {**{c.key: getattr(fair, c.key) for c in FaiReport.__table__.columns},
           "reason_text": rules.REASONS[fair.reason], "assembly": bool(fair.detail_parts), "open_items": items,
           "complete": not items}
    # the signatures as mes_common.signatures reads them back (dumped already)
    return {**fai_out.dump(out),
            "signatures": signatures.for_record(session, Signature, RECORD, fair.id, content(fair))}


def get(session, fair_id, lock=False):
    return fetch(session, FaiReport.id, fair_id, "FAIR", lock)


def _locked(session, fair_id, version):
    fair = get(session, fair_id, lock=True)
    check_version(version, fair.version, f"FAIR {fair.number}")
    return fair


def _announce(tx, fair, verb, **extra):
    tx.flush()
    tx.session.refresh(fair, ["updated_at"])
    out = dump(tx.session, fair)
    tx.emit(events.FAI(verb), fair.id, {**out, **extra})
    return out


def _move(tx, fair, status, reason=None):
    history.move(tx, rules.FAIR, RECORD, fair, status, reason)


# ------------------------------------------------------------------ form 3 from this service's records

def plans_of(session, part_id, part_revision, plan_numbers):
    """The released plans form 3 accounts for: those named (422 naming one that
    is not released, or of another part), else every released plan of the part revision."""
    if plan_numbers:
        found = []
        for index, number in enumerate(plan_numbers):
            plan = plans.released_or_none(session, number)
            if plan is None or str(plan.part_id) != str(part_id) or plan.part_revision != part_revision:
                raise errors.RuleViolated(f"plan_numbers.{index}: {number} is no released plan of this part revision",
                                          {f"plan_numbers.{index}": ["not a released plan of the part revision"]})
            found.append(plan)
        return found
    return session.execute(select(InspectionPlan).where(
        InspectionPlan.part_id == part_id, InspectionPlan.part_revision == part_revision,
        InspectionPlan.status == plans.RELEASED).order_by(InspectionPlan.plan_number)).scalars().all()


def first_article_results(session, plans_used, serial_id, work_order_id):
    """(characteristics, results, {(plan, number): NCR number}, gauge ids) of
    the first article: each plan's latest inspection of the serial, else of
    its work order's operations (in-process plans), not cancelled."""
    characteristics, results, ncrs, gauges = [], [], {}, set()
    for plan in plans_used:
        characteristics += [{**plans.characteristic_view(c), "plan_number": plan.plan_number}
                            for c in plan.characteristics]
        subject = Inspection.serial_id == serial_id
        if work_order_id is not None:
            subject = subject | (Inspection.work_order_id == work_order_id)
        inspection = session.execute(select(Inspection).where(
            Inspection.plan_number == plan.plan_number, subject, Inspection.status != inspection_rules.CANCELLED)
            .order_by(Inspection.opened_at.desc(), Inspection.id.desc()).limit(1)).scalar()
        if inspection is None:
            continue
        rows = session.execute(select(InspectionResult).where(InspectionResult.inspection_id == inspection.id)
                               .order_by(InspectionResult.characteristic_number, InspectionResult.sample)).scalars()
        for r in rows:
            results.append({"plan_number": plan.plan_number, "characteristic": r.characteristic_number,
                            "sample": r.sample, "value": r.value, "conforming": r.conforming,
                            "gauge_id": r.gauge_id, "gauge_number": r.gauge_number, "note": r.note})
            if r.gauge_id:
                gauges.add(str(r.gauge_id))
        if inspection.ncr_number:
            for item in inspection.items:
                if item.verdict == inspection_rules.FAIL:
                    ncrs[plan.plan_number, item.number] = inspection.ncr_number
    return characteristics, results, ncrs, sorted(gauges)


# ------------------------------------------------------------------ changes

def _gathered(sources, gauges_by_id):
    characteristics, results, ncrs, _ = sources["form3_sources"]
    return {"process_reference": sources["process_reference"], "plan_numbers": sources["plan_numbers"],
            "detail_parts": sources["detail_parts"], "work_order_id": sources["work_order_id"],
            "work_order_number": sources["work_order_number"],
            "form2": forms.form2(sources["materials"], sources["processes"], sources["tests"]),
            "form3": forms.form3(characteristics, results, gauges_by_id, ncrs)}


def _json_safe(rows):
    """Form rows as JSON (Decimals and UUIDs as the API shows them)."""
    return fai_out.dump({"form3": rows.get("form3", []), "form2": rows.get("form2", []),
                         "detail_parts": rows.get("detail_parts", [])})


def create(tx, caller, data, sources, gauges_by_id):
    session = tx.session
    previous = get(session, data["previous_fair_id"]) if data["previous_fair_id"] else None
    problems = rules.check_kind(data["kind"], data["reason"], previous.number if previous else None)
    if previous is not None and str(previous.part_id) != str(sources["part"]["id"]):
        problems["previous_fair_id"] = [f"{previous.number} is of part {previous.part_number}"]
    if problems:
        raise errors.RuleViolated(f"FAIR refused: {', '.join(sorted(problems))}", problems)
    gathered = _gathered(sources, gauges_by_id)
    safe = _json_safe(gathered)
    number = f"FAIR-{session.execute(FAI_SEQUENCE.next_value()).scalar_one():06d}"
    part = sources["part"]
    fair = FaiReport(
        id=uuid.uuid4(), number=number, status=rules.DRAFT, kind=data["kind"], reason=data["reason"],
        previous_fair_id=previous.id if previous else None, previous_fair_number=previous.number if previous else None,
        part_id=part["id"], part_number=part["part_number"], part_name=part["name"],
        part_revision=sources["part_revision"], serial_id=sources["serial"]["id"],
        serial_number=sources["serial"]["serial_number"],
        drawing_number=data.get("drawing_number") or part["part_number"],
        drawing_revision=data.get("drawing_revision") or sources["part_revision"],
        **{k: data.get(k) for k in STATED if k not in ("drawing_number", "drawing_revision")},
        **{k: gathered[k] for k in ("process_reference", "plan_numbers", "work_order_id", "work_order_number")},
        detail_parts=safe["detail_parts"], form2=safe["form2"], form3=safe["form3"], created_by=caller.actor)
    session.add(fair)
    history.record(tx, RECORD, fair.id, None, rules.DRAFT)
    out = _announce(tx, fair, "created")
    tx.audit("create", RECORD, fair.id, new={k: out[k] for k in out if k not in ("form2", "form3")})
    return fair


def refresh(tx, fair_id, version, sources, gauges_by_id):
    """The forms gathered again (results recorded since, an NCR raised); a rejected FAIR is a draft again."""
    fair = _locked(tx.session, fair_id, version)
    if fair.status == rules.REJECTED:
        _move(tx, fair, rules.DRAFT, "refreshed after rejection")
    rules.check_changeable(fair.number, fair.status)
    gathered = _gathered(sources, gauges_by_id)
    safe = _json_safe(gathered)
    for key in ("process_reference", "plan_numbers", "work_order_id", "work_order_number"):
        setattr(fair, key, gathered[key])
    fair.detail_parts, fair.form2, fair.form3 = safe["detail_parts"], safe["form2"], safe["form3"]
    fair.updated_at = func.now()
    out = _announce(tx, fair, "updated", changed=["forms"])
    tx.audit("refresh", RECORD, fair.id, new={"open_items": out["open_items"]})
    return fair


def update(tx, fair_id, changes):
    fair = _locked(tx.session, fair_id, changes.pop("version", None))
    rules.check_changeable(fair.number, fair.status)
    tx.apply_changes(fair, changes, RECORD, events.FAI("updated"), lambda row: dump(tx.session, row))
    return fair


def check_submittable(session, fair_id, version):
    fair = _locked(session, fair_id, version) if version is not None else get(session, fair_id)
    rules.check_changeable(fair.number, fair.status)
    return fair


def submit(tx, caller, fair_id, version, manifest):
    """The preparer signs the report (authorship) and sends it to review; its forms are frozen from now on."""
    fair = check_submittable(tx.session, fair_id, version)
    signature = tx.sign(manifest, RECORD, fair.id, signatures.AUTHORSHIP, content(fair))
    _move(tx, fair, rules.IN_REVIEW)
    fair.updated_at = func.now()
    if signature:
        history.signed(tx, RECORD, fair.id, fair.number, signature)
    out = _announce(tx, fair, "submitted")
    tx.audit("submit", RECORD, fair.id, new={"status": out["status"], "signature": signature})
    return fair


def check_approvable(session, fair_id, version, approver_id=None):
    fair = get(session, fair_id)
    check_version(version, fair.version, f"FAIR {fair.number}")
    rules.check_approvable(fair.number, fair.status, fair.form3)
    detail = [i for i in open_items(fair) if i.startswith("detail part")]
    if detail:
        raise errors.RuleViolated(f"FAIR {fair.number} cannot be approved: {'; '.join(detail)}",
                                  {"detail_parts": detail})
    if approver_id is not None:
        prepared = [s for s in signatures.for_record(session, Signature, RECORD, fair.id, content(fair))
                    if s["meaning"] == signatures.AUTHORSHIP]
        if any(str(s["signer_id"]) == str(approver_id) for s in prepared):
            raise errors.Conflict(f"FAIR {fair.number} was prepared by you: another person approves it",
                                  {"signature": ["the preparer cannot approve"]})
    return fair


def approve(tx, caller, fair_id, version, manifest):
    fair = check_approvable(tx.session, fair_id, version, manifest["signer_id"] if manifest else None)
    tx.session.refresh(fair, with_for_update=True)
    signature = tx.sign(manifest, RECORD, fair.id, signatures.APPROVAL, content(fair))
    _move(tx, fair, rules.APPROVED)
    fair.updated_at = func.now()
    if signature:
        history.signed(tx, RECORD, fair.id, fair.number, signature)
    out = _announce(tx, fair, "approved")
    tx.audit("approve", RECORD, fair.id, new={"status": out["status"], "signature": signature})
    return fair


def reject(tx, fair_id, reason, version):
    fair = _locked(tx.session, fair_id, version)
    _move(tx, fair, rules.REJECTED, reason)
    fair.status_reason, fair.updated_at = reason, func.now()
    out = _announce(tx, fair, "rejected")
    tx.audit("reject", RECORD, fair.id, new={"status": out["status"]}, reason=reason)
    return fair


# ------------------------------------------------------------------ queries and the documents

def approved_fair_of(session, part_number):
    """The number of the latest approved FAIR of a part (a detail part's, for form 1)."""
    return session.execute(select(FaiReport.number).where(
        FaiReport.part_number == part_number, FaiReport.status == rules.APPROVED)
        .order_by(FaiReport.created_at.desc()).limit(1)).scalar()


def list_page(session, query):
    stmt = paging.where_equal(select(FaiReport), FaiReport, query, ("status", "part_id", "serial_id"))
    keys = [(FaiReport.created_at, paging.time_key), (FaiReport.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: summary_out.dump(rows, many=True), descending=True)


def report_html(session, fair_id):
    fair = dump(session, get(session, fair_id))
    return {"filename": f"{fair['number']}.html", "content": exports.html(fair)}


def report_pdf(session, fair_id):
    """The PDF, rendered in a thread: seconds of layout must not stall the service's other workers."""
    fair = dump(session, get(session, fair_id))
    document = tpool.execute(exports.pdf, fair)
    return {"filename": f"{fair['number']}.pdf", "content_base64": base64.b64encode(document).decode()}


def report_xlsx(session, fair_id):
    fair = dump(session, get(session, fair_id))
    return {"filename": f"{fair['number']}.xlsx", "content_base64": base64.b64encode(exports.xlsx(fair)).decode()}
