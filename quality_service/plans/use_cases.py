"""Use cases of inspection plans and control points on one unit of work.

A plan number has revisions: at most one draft and one released at a time.
A draft is edited freely; releasing it is signed (approval) and supersedes the
released revision; a released revision never changes (its signature would show
it), a new revision starts as a copy of it.
"""
import uuid

from sqlalchemy import func, select

from mes_common import errors, paging
from mes_common.db import fetch
from mes_common.rules import check_version
from quality_service import history
from quality_service.contract import events
from quality_service.contract.plans import ControlPointOut, PlanOut, PlanSummary
from quality_service.inspections import rules
from quality_service.models import Characteristic, ControlPoint, InspectionPlan

RECORD = "inspection_plan"   # signature record type and audit entity
CONTROL_POINT = "control_point"
DRAFT, RELEASED, SUPERSEDED = "draft", "released", "superseded"
plan_out, summary_out, control_point_out = PlanOut(), PlanSummary(), ControlPointOut()
CHARACTERISTIC_FIELDS = ("number", "name", "kind", "criticality", "nominal", "lower_tolerance", "upper_tolerance",
                         "unit", "gauge_type", "sampling", "subgroup_size", "spc", "description", "designator",
                         "drawing_zone", "external_id")
# added after plans were signed: part of what a release signs only when set, so older signatures stay valid
SIGNED_WHEN_SET = ("designator", "drawing_zone", "external_id")


def characteristic_view(c):
    lower, upper = rules.limits(c.nominal, c.lower_tolerance, c.upper_tolerance)
    return {"id": c.id, **{name: getattr(c, name) for name in CHARACTERISTIC_FIELDS},
            "lower_limit": lower, "upper_limit": upper}


def dump(plan, signatures=()):
    """PlanOut, with `signatures` as mes_common.signatures reads them back (dumped already)."""
    columns = {c.key: getattr(plan, c.key) for c in InspectionPlan.__table__.columns}
    out = plan_out.dump({**columns, "characteristics": [characteristic_view(c) for c in plan.characteristics]})
    return {**out, "signatures": list(signatures)}


def signed_content(plan):
    """What the release signs: the plan revision and every characteristic."""
    out = dump(plan)
    content = {key: out[key] for key in ("plan_number", "revision", "title", "part_id", "part_revision",
                                         "operation_sequence", "inspector_skills")}
    content["characteristics"] = [{k: v for k, v in c.items() if v is not None or k not in SIGNED_WHEN_SET}
                                  for c in out["characteristics"]]
    return content


def get(session, plan_id, lock=False):
    """A plan revision by id; unlocked, the session's copy when it has one (a
    results request reads its plan and 50 characteristics once, not four times)."""
    if not lock:
        plan = session.get(InspectionPlan, plan_id)
        if plan is not None:
            return plan
    return fetch(session, InspectionPlan.id, plan_id, "inspection plan", lock)


def by_number(session, plan_number, revision=None, lock=False):
    """A revision of a plan number: `revision`, else the released one, else the newest."""
    stmt = select(InspectionPlan).where(InspectionPlan.plan_number == plan_number)
    if revision is not None:
        stmt = stmt.where(InspectionPlan.revision == revision)
    else:
        stmt = stmt.order_by((InspectionPlan.status == RELEASED).desc(), InspectionPlan.revision.desc()).limit(1)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    plan = tx_first(session, stmt)
    if plan is None:
        what = f"revision {revision} of plan {plan_number}" if revision else f"inspection plan {plan_number}"
        raise errors.NotFound(f"{what} does not exist", {"plan_number": plan_number})
    return plan


def tx_first(session, stmt):
    return session.execute(stmt).scalars().first()


def released_or_none(session, plan_number):
    return tx_first(session, select(InspectionPlan).where(InspectionPlan.plan_number == plan_number,
                                                          InspectionPlan.status == RELEASED))


def released(session, plan_number):
    """The released revision of a plan number, or 422 saying there is none."""
    plan = released_or_none(session, plan_number)
    if plan is None:
        raise errors.RuleViolated(f"plan {plan_number} has no released revision",
                                  {"plan_number": [f"{plan_number} has no released revision"]})
    return plan


def _characteristics(data):
    return [Characteristic(id=uuid.uuid4(), **{name: c[name] for name in CHARACTERISTIC_FIELDS})
            for c in data]


def _check_units(characteristics):
    for i, c in enumerate(characteristics):
        if c.get("unit") is not None:
            rules.check_unit(c["unit"], f"characteristics.{i}.unit")


def _emit(tx, verb, plan, **extra):
    tx.flush()
    tx.session.refresh(plan, ["updated_at"])
    out = dump(plan)
    tx.emit(events.PLAN(verb), plan.id, {**out, **extra})
    return out


def create(tx, caller, data, part):
    session = tx.session
    if tx_first(session, select(InspectionPlan.id).where(InspectionPlan.plan_number == data["plan_number"])):
        raise errors.Conflict(f"plan {data['plan_number']} exists: revise it",
                              {"plan_number": [f"{data['plan_number']} is taken"]})
    _check_units(data["characteristics"])
    plan = InspectionPlan(id=uuid.uuid4(), plan_number=data["plan_number"], revision=1, status=DRAFT,
                          title=data["title"], part_id=data["part_id"], part_number=part["part_number"],
                          part_revision=data["part_revision"], operation_sequence=data["operation_sequence"],
                          description=data["description"], inspector_skills=data["inspector_skills"],
                          created_by=caller.actor, characteristics=_characteristics(data["characteristics"]))
    session.add(plan)
    out = _emit(tx, "created", plan)
    history.record(tx, RECORD, plan.id, None, DRAFT)
    tx.audit("create", RECORD, plan.id, new=out)
    return plan


def _draft(session, plan_id):
    plan = get(session, plan_id, lock=True)
    if plan.status != DRAFT:
        raise errors.RuleViolated(f"plan {plan.plan_number} revision {plan.revision} is {plan.status}: "
                                  "only a draft changes (revise it for a new revision)",
                                  {"status": [f"is {plan.status}"]})
    return plan


def update(tx, plan_id, changes):
    plan = _draft(tx.session, plan_id)
    check_version(changes.pop("version", None), plan.version, f"plan {plan.plan_number}")
    old = signed_content(plan)
    characteristics = changes.pop("characteristics", None)
    for name, value in changes.items():
        setattr(plan, name, value)
    if characteristics is not None:
        _check_units(characteristics)
        plan.characteristics = []
        tx.flush()   # the old rows go before the new ones take their balloon numbers
        plan.characteristics = _characteristics(characteristics)
    _emit(tx, "updated", plan, changed=sorted([*changes, *(["characteristics"] if characteristics else [])]))
    tx.audit("update", RECORD, plan.id, old=old, new=signed_content(plan))
    return plan


def revise(tx, caller, plan_number, change_note):
    """A new draft revision copied from the released one."""
    session = tx.session
    current = released(session, plan_number)
    if tx_first(session, select(InspectionPlan.id).where(InspectionPlan.plan_number == plan_number,
                                                         InspectionPlan.status == DRAFT)):
        raise errors.Conflict(f"plan {plan_number} has a draft revision already",
                              {"plan_number": ["has a draft revision"]})
    newest = session.execute(select(func.max(InspectionPlan.revision))
                             .where(InspectionPlan.plan_number == plan_number)).scalar_one()
    plan = InspectionPlan(
        id=uuid.uuid4(), plan_number=plan_number, revision=newest + 1, status=DRAFT, title=current.title,
        part_id=current.part_id, part_number=current.part_number, part_revision=current.part_revision,
        operation_sequence=current.operation_sequence, description=current.description, change_note=change_note,
        inspector_skills=current.inspector_skills, created_by=caller.actor,
        characteristics=_characteristics([characteristic_view(c) for c in current.characteristics]))
    session.add(plan)
    out = _emit(tx, "revised", plan, previous_id=str(current.id))
    history.record(tx, RECORD, plan.id, None, DRAFT, change_note)
    tx.audit("revise", RECORD, plan.id, new=out, reason=change_note)
    return plan


def check_releasable(session, plan_id, version):
    plan = _draft(session, plan_id)
    check_version(version, plan.version, f"plan {plan.plan_number}")
    return plan


def release(tx, caller, plan_id, version, manifest):
    session = tx.session
    plan = check_releasable(session, plan_id, version)
    previous = tx_first(session, select(InspectionPlan).where(InspectionPlan.plan_number == plan.plan_number,
                                                              InspectionPlan.status == RELEASED).with_for_update())
    if previous is not None:
        previous.status = SUPERSEDED
        history.record(tx, RECORD, previous.id, RELEASED, SUPERSEDED, f"revision {plan.revision} released")
        tx.flush()
        _emit(tx, "superseded", previous, superseded_by=str(plan.id))
        tx.audit("supersede", RECORD, previous.id, old={"status": RELEASED}, new={"status": SUPERSEDED})
    plan.status, plan.released_at, plan.released_by = RELEASED, func.now(), caller.actor
    tx.flush()
    session.refresh(plan, ["released_at"])
    signature = tx.sign(manifest, RECORD, plan.id, "approval", signed_content(plan))
    history.record(tx, RECORD, plan.id, DRAFT, RELEASED)
    _emit(tx, "released", plan, signatures=[signature] if signature else [],
                superseded_id=str(previous.id) if previous else None)
    if signature:
        history.signed(tx, RECORD, plan.id, plan.plan_number, signature)
    tx.audit("release", RECORD, plan.id, old={"status": DRAFT}, new={"status": RELEASED, "signature": signature})
    return plan


def list_page(session, query):
    stmt = paging.where_equal(select(InspectionPlan), InspectionPlan, query, ("part_id", "status"))
    if query.get("plan_number"):
        stmt = stmt.where(InspectionPlan.plan_number.startswith(query["plan_number"], autoescape=True))
    keys = [(InspectionPlan.plan_number, paging.text_key), (InspectionPlan.revision, paging.int_key)]
    return paging.page(session, stmt, keys, query, lambda rows: [summary_out.dump(
        {**{c.key: getattr(p, c.key) for c in InspectionPlan.__table__.columns},
         "characteristic_count": len(p.characteristics)}) for p in rows])


# ------------------------------------------------------------------ control points

def dump_control_point(point):
    return control_point_out.dump(point)


def create_control_point(tx, caller, data, part):
    session = tx.session
    released(session, data["plan_number"])   # a control point names a plan in force
    point = ControlPoint(id=uuid.uuid4(), part_number=part["part_number"], created_by=caller.actor, active=True,
                         **data)
    session.add(point)
    tx.flush()
    out = dump_control_point(point)
    tx.audit("create", CONTROL_POINT, point.id, new=out)
    return point


def update_control_point(tx, point_id, changes):
    point = fetch(tx.session, ControlPoint.id, point_id, "control point", lock=True)
    check_version(changes.pop("version", None), point.version, "the control point")
    old = {name: getattr(point, name) for name in changes}
    for name, value in changes.items():
        setattr(point, name, value)
    tx.flush()
    tx.audit("update", CONTROL_POINT, point.id, old=old, new=changes)
    return point


def list_control_points(session, query):
    stmt = paging.where_equal(select(ControlPoint), ControlPoint, query, ("part_id", "kind", "active"))
    keys = [(ControlPoint.created_at, paging.time_key), (ControlPoint.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: [dump_control_point(p) for p in rows])


def control_points_at(session, part_id, part_revision, kind=None, operation_sequence=None):
    """The active control points that apply to a part revision (one of the
    revision wins over one of every revision), by kind and operation."""
    stmt = select(ControlPoint).where(ControlPoint.part_id == part_id, ControlPoint.active.is_(True))
    if kind is not None:
        stmt = stmt.where(ControlPoint.kind == kind)
    if operation_sequence is not None:
        stmt = stmt.where(ControlPoint.operation_sequence == operation_sequence)
    found = {}
    for point in session.execute(stmt.order_by(ControlPoint.part_revision.is_(None))).scalars():
        if point.part_revision not in (None, part_revision):
            continue
        found.setdefault((point.kind, point.operation_sequence), point)
    return list(found.values())
