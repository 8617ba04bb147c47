"""Use cases of skills and qualifications on one unit of work.

A grant supersedes the person's active qualification in the skill (one
active record per person and skill: a partial unique index holds it); a
revocation or an expiry ends it; no record is ever deleted, so a person's
history is their records. Validity is decided by the last valid day against
the day of the check, so a late expiry timer never lets an expired
qualification through; the timer only records and announces the expiry."""
import datetime as dt
import uuid

from sqlalchemy import func, select

from auth_service import contract as auth_contract
from mes_common import errors, paging
from mes_common.db import fetch, utcnow
from mes_common.references import event_key, set_copies, synced
from mes_common.rules import check_version
from resource_service.contract import events
from resource_service.contract.qualifications import QualificationOut, SkillOut
from resource_service.models import Qualification, Routing, RoutingOperation, Skill
from resource_service.qualifications import rules

SKILL, QUALIFICATION = "skill", "qualification"   # entity types of the audit entries
EXPIRY_BATCH = 500

skill_out = SkillOut()
qualification_out = QualificationOut()


def today():
    return utcnow().date()


def dump_skill(skill):
    return skill_out.dump(skill)


def dump(qualification):
    return qualification_out.dump(qualification)


# ------------------------------------------------------------------ skills

def get_skill(session, code, lock=False):
    return fetch(session, Skill.code, code, "skill", lock)


def create_skill(tx, data):
    if tx.session.execute(select(Skill.id).where(Skill.code == data["code"])).first():
        raise errors.Conflict(f"skill {data['code']} exists", {"code": [f"{data['code']} is taken"]})
    skill = Skill(id=uuid.uuid4(), **data)
    tx.session.add(skill)
    tx.flush()
    out = dump_skill(skill)
    tx.emit(events.skill_event_type("created"), skill.id, out)
    tx.audit("create", SKILL, skill.id, new=out)
    return skill


def update_skill(tx, code, changes):
    skill = get_skill(tx.session, code, lock=True)
    check_version(changes.pop("version", None), skill.version, f"skill {code}")
    if "levels" in changes and len(changes["levels"]) < len(skill.levels):
        raise errors.RuleViolated(f"levels: {code} has {len(skill.levels)} levels; rename or add, never remove",
                                  {"levels": [f"at least {len(skill.levels)} (levels held and required stay)"]})
    tx.apply_changes(skill, changes, SKILL, events.skill_event_type("updated"), dump_skill)
    return skill


def list_skills(session, query):
    stmt = select(Skill)
    if query.get("active") is not None:
        stmt = stmt.where(Skill.active == query["active"])
    return paging.page(session, stmt, [(Skill.code, paging.text_key)], query, lambda rows: [dump_skill(r) for r in rows])


# ------------------------------------------------------------------ qualifications

def _active(session, user_id, skill_id, lock=False):
    stmt = select(Qualification).where(Qualification.user_id == user_id, Qualification.skill_id == skill_id,
                                       Qualification.status == "active")
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def _end(tx, record, status, actor, reason):
    record.status, record.ended_at, record.ended_by, record.end_reason = status, func.now(), actor, reason
    tx.flush()
    tx.session.refresh(record, ["ended_at"])
    out = dump(record)
    tx.emit(events.qualification_event_type(status), record.id, out)
    tx.audit(status.removesuffix("d"), QUALIFICATION, record.id,
             old={"status": "active"}, new={"status": status}, reason=reason)
    return out


def grant(tx, caller, data, user_name):
    """Certify a person in a skill; their active qualification in it, if any, is superseded."""
    session = tx.session
    skill = session.execute(select(Skill).where(Skill.code == data["skill"])).scalar_one_or_none()
    if skill is None:
        raise errors.RuleViolated(f"skill: no skill {data['skill']} in the catalogue",
                                  {"skill": [f"no skill {data['skill']} in the catalogue"]})
    if not skill.active:
        raise errors.RuleViolated(f"skill {skill.code} is inactive", {"skill": ["inactive: granted no more"]})
    rules.check_level(data["level"], skill.levels)
    if data["certified_on"] > today():
        raise errors.RuleViolated("certified_on: in the future", {"certified_on": ["not after today (UTC)"]})
    expires_on = rules.expiry(data["certified_on"], skill.recertification_days, data["expires_on"])
    # the person's row lock: two grants of one skill to one person queue here
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(
        f"qualification:{data['user_id']}:{skill.id}", 0))))
    previous = _active(session, data["user_id"], skill.id, lock=True)
    if previous is not None:
        _end(tx, previous, "superseded", caller.actor, "a new certification")
    record = Qualification(id=uuid.uuid4(), user_id=data["user_id"], user_name=user_name, skill=skill,
                           level=data["level"], certified_on=data["certified_on"], expires_on=expires_on,
                           certificate_ref=data["certificate_ref"], assessor=data["assessor"], status="active",
                           granted_by=caller.actor)
    session.add(record)
    tx.flush()
    session.refresh(record, ["granted_at"])
    out = dump(record)
    tx.emit(events.qualification_event_type("granted"), record.id,
            {**out, "superseded_id": str(previous.id) if previous is not None else None})
    tx.audit("grant", QUALIFICATION, record.id, new=out)
    return record


def revoke(tx, caller, qualification_id, reason):
    record = fetch(tx.session, Qualification.id, qualification_id, "qualification", lock=True)
    if record.status != "active":
        raise errors.RuleViolated(f"qualification {qualification_id} is {record.status}, not active",
                                  {"status": [record.status]})
    _end(tx, record, "revoked", caller.actor, reason)
    return record


def expire_due(tx, day):
    """Record the expiry of active qualifications whose last valid day is before
    `day`, a batch at a time; rows another instance holds are skipped (it does
    them). Returns how many expired."""
    due = tx.session.execute(
        select(Qualification).where(Qualification.status == "active", Qualification.expires_on < day)
        .order_by(Qualification.expires_on).limit(EXPIRY_BATCH).with_for_update(skip_locked=True)).scalars().all()
    for record in due:
        _end(tx, record, "expired", "system", f"last valid day {record.expires_on.isoformat()}")
    return len(due)


def get(session, qualification_id):
    return fetch(session, Qualification.id, qualification_id, "qualification")


def list_page(session, query):
    """Newest grant first; with `expiring_within_days`, the active ones due by then, soonest first."""
    stmt = select(Qualification).join(Qualification.skill)
    if query.get("user_id") is not None:
        stmt = stmt.where(Qualification.user_id == query["user_id"])
    if query.get("skill") is not None:
        stmt = stmt.where(Skill.code == query["skill"])
    if query.get("status") is not None:
        stmt = stmt.where(Qualification.status == query["status"])
    dumps = lambda rows: [dump(r) for r in rows]  # noqa: E731
    if query.get("expiring_within_days") is not None:
        until = today() + dt.timedelta(days=query["expiring_within_days"])
        stmt = stmt.where(Qualification.status == "active", Qualification.expires_on <= until)
        keys = [(Qualification.expires_on, paging.date_key), (Qualification.id, paging.uuid_key)]
        return paging.page(session, stmt, keys, query, dumps)
    keys = [(Qualification.granted_at, paging.time_key), (Qualification.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, dumps, descending=True)


def held(session, user_id, codes):
    """The person's active qualifications in the skills `codes`: {code: rules.Held}."""
    rows = session.execute(select(Skill.code, Skill.levels, Qualification.level, Qualification.expires_on)
                           .join(Qualification.skill).where(Qualification.user_id == user_id,
                                                            Qualification.status == "active", Skill.code.in_(codes)))
    return {code: rules.Held(code, level, levels[level - 1], expires_on) for code, levels, level, expires_on in rows}


def check(session, user_id, requirements):
    """What the person lacks today for `requirements` (empty: qualified)."""
    wanted = [rules.Requirement(r["skill"], r["min_level"]) for r in requirements]
    return rules.shortfalls(wanted, held(session, user_id, [r.skill for r in wanted]), today())


def rename_holder(tx, cache, data):
    """`mes.auth.user.updated` (data = UserSummary): the person's records show
    their display name as it now is (one set-based UPDATE)."""
    key, name = event_key(data), data["display_name"]
    counts = {"qualification": set_copies(tx, Qualification, Qualification.user_id, key, {"user_name": name})}
    return synced(tx, cache, auth_contract.USER_KIND, key, {"display_name": name}, counts, "qualification_holder")


# ------------------------------------------------------------------ matrix

def _required_at(session, work_center_id):
    """{skill code: highest level} the released routings' operations at the work center require."""
    required = {}
    ops = session.execute(select(RoutingOperation.required_skills).join(Routing).where(
        Routing.status == "released", RoutingOperation.work_center_id == work_center_id)).scalars()
    for requirements in ops:
        for req in requirements:
            required[req["skill"]] = max(required.get(req["skill"], 0), req["min_level"])
    return required


def matrix(session, query):
    """People × skills: for a work center, the skills its released operations
    require (with the level), else every active skill; each cell the person's
    active level and how valid it is today."""
    day = today()
    if query["work_center_id"] is not None:
        required = _required_at(session, query["work_center_id"])
        skills = session.execute(select(Skill).where(Skill.code.in_(required)).order_by(Skill.code)).scalars().all()
    else:
        required = {}
        skills = session.execute(select(Skill).where(Skill.active).order_by(Skill.code)).scalars().all()
    records = session.execute(select(Qualification).where(
        Qualification.status == "active", Qualification.skill_id.in_([k.id for k in skills]))
        .order_by(Qualification.user_name, Qualification.user_id)).scalars().all() if skills else []
    people = {}
    for q in records:
        row = people.setdefault(q.user_id, {"user_id": q.user_id, "user_name": q.user_name, "cells": {}})
        row["cells"][q.skill.code] = {"level": q.level, "level_name": q.level_name, "expires_on": q.expires_on,
                                      "validity": rules.status_on(q.expires_on, day, query["expiring_within_days"])}
    columns = []
    for k in skills:
        need = required.get(k.code)
        qualified = sum(1 for row in people.values() if (cell := row["cells"].get(k.code)) is not None
                        and cell["validity"] != "expired" and cell["level"] >= (need or 1))
        columns.append({"code": k.code, "name": k.name, "levels": k.levels, "min_level": need,
                        "qualified": qualified})
    return {"as_of": day, "work_center_id": query["work_center_id"], "skills": columns,
            "people": list(people.values())}
