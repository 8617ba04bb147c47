"""Use cases of work instructions on one unit of work, and what the release
saga and the step buy-offs use: `freeze` and `validate_buy_off`.

A work instruction is versioned by code. `create` makes version 1 and
`revise` the next version, both drafts; `release` releases a draft and makes
every older version obsolete, so one version of a code is released at a
time. Released versions never change (migration 0002 refuses it too). A work
order release freezes the released version of each code its routing names.

Events (subject = the version's id, data = WorkInstructionVersionOut):
`mes.work_order.work_instruction.created|revised|released`; `released` also
carries `obsoleted_versions` (the older versions it made obsolete).
"""
import uuid

from sqlalchemy import func, select, text

from mes_common import errors, paging, signatures
from work_order_service.instructions import rules
from work_order_service.contract.instructions import WorkInstructionVersionOut
from work_order_service.models import WorkInstruction

CREATED = "mes.work_order.work_instruction.created"
REVISED = "mes.work_order.work_instruction.revised"
RELEASED = "mes.work_order.work_instruction.released"
EVENT_TYPES = (CREATED, REVISED, RELEASED)

ENTITY = RECORD = "work_instruction"  # entity type of the audit entries and of the signed record

version_out = WorkInstructionVersionOut()


def dump(instruction):
    return version_out.dump(instruction)


def _lock_code(session, code):
    """Serialize the versioning and the releases of one code (transaction-scoped advisory lock)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": f"work_instruction:{code}"})


def get(session, code, version=None, lock=False):
    """A version of `code`, or its newest version (whatever its status)."""
    stmt = select(WorkInstruction).where(WorkInstruction.code == code)
    stmt = stmt.where(WorkInstruction.version == version) if version is not None else \
        stmt.order_by(WorkInstruction.version.desc()).limit(1)
    if lock:   # fresh under the lock (populate_existing), not the session's copy
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        what = f"work instruction {code}" + (f" version {version}" if version is not None else "")
        raise errors.NotFound(f"{what} does not exist",
                              {"code": code, **({"version": version} if version is not None else {})})
    return found


# ------------------------------------------------------------ use cases

def _new_version(tx, caller, code, version, data, event):
    rules.check_steps(data["steps"])
    instruction = WorkInstruction(
        id=uuid.uuid4(), code=code, version=version, title=data["title"], status="draft",
        steps=rules.normalize_steps(data["steps"]), created_by=caller.actor, created_by_id=caller.user_id)
    tx.session.add(instruction)
    tx.flush()
    out = dump(instruction)
    tx.emit(event, instruction.id, out)
    tx.audit("create" if version == 1 else "revise", ENTITY, instruction.id, old=None, new=out)
    return instruction


def create(tx, caller, data):
    """Version 1 of a new code, as a draft."""
    _lock_code(tx.session, data["code"])
    exists = tx.session.execute(select(WorkInstruction.version).where(
        WorkInstruction.code == data["code"]).limit(1)).first()
    if exists:
        raise errors.Conflict(f"work instruction {data['code']} already exists; revise it for a new version",
                              {"code": ["already used"]})
    return _new_version(tx, caller, data["code"], 1, data, CREATED)


def revise(tx, caller, code, data):
    """The next version of `code`, as a draft (the released one stays in force until it is released)."""
    _lock_code(tx.session, code)
    latest = get(tx.session, code)
    return _new_version(tx, caller, code, latest.version + 1, data, REVISED)


def signed_content(instruction):
    """What a release signs: the version's text and fields (not its status, which
    moves on to obsolete)."""
    return {"id": str(instruction.id), "code": instruction.code, "version": instruction.version,
            "title": instruction.title, "steps": instruction.steps}


def check_releasable(session, code, version):
    """The draft, if it can be released now (asked before the signature, again under the lock)."""
    instruction = get(session, code, version)
    rules.check_transition(code, version, instruction.status, "released")
    return instruction


def release(tx, caller, code, version, manifest=None):
    """Release a draft, with the releasing person's signature (`manifest`, None for
    the platform's own call); every older version that is not obsolete yet becomes obsolete."""
    session = tx.session
    _lock_code(session, code)
    instruction = get(session, code, version, lock=True)
    rules.check_transition(code, version, instruction.status, "released")
    older = session.execute(select(WorkInstruction).where(
        WorkInstruction.code == code, WorkInstruction.version < version,
        WorkInstruction.status != "obsolete").order_by(WorkInstruction.version).with_for_update()).scalars().all()
    previous = []
    for row in older:
        rules.check_transition(code, row.version, row.status, "obsolete")
        previous.append((row, row.status))
        row.status, row.obsoleted_at = "obsolete", func.now()
    instruction.status = "released"
    instruction.released_at = func.now()
    instruction.released_by, instruction.released_by_id = caller.actor, caller.user_id
    tx.flush()
    session.refresh(instruction, ["released_at"])
    tx.sign(manifest, RECORD, instruction.id, signatures.APPROVAL, signed_content(instruction))
    out = dump(instruction)
    tx.emit(RELEASED, instruction.id, {**out, "obsoleted_versions": [row.version for row, _ in previous]})
    for row, status in previous:
        tx.audit("obsolete", ENTITY, row.id, old={"status": status}, new={"status": "obsolete"},
                 reason=f"version {version} released")
    tx.audit("release", ENTITY, instruction.id, old={"status": "draft"},
             new={"status": "released", "released_at": out["released_at"], "released_by": out["released_by"]})
    return instruction


# ------------------------------------------------------------ queries

def list_page(session, query):
    """Ordered by code then version; `code` filters on a prefix."""
    stmt = select(WorkInstruction)
    if query.get("code"):
        stmt = stmt.where(WorkInstruction.code.startswith(query["code"], autoescape=True))
    if query.get("status"):
        stmt = stmt.where(WorkInstruction.status == query["status"])
    keys = [(WorkInstruction.code, paging.text_key), (WorkInstruction.version, paging.int_key)]
    return paging.page(session, stmt, keys, query, lambda rows: [dump(r) for r in rows])


def freeze(session, codes):
    """{code: {code, version, title, steps}} of the latest released version of
    each code, for a work order release to keep. A code without a released
    version is left out (the caller refuses the release naming it)."""
    codes = sorted({code for code in codes if code})
    if not codes:
        return {}
    rows = session.execute(
        select(WorkInstruction).where(WorkInstruction.code.in_(codes), WorkInstruction.status == "released")
        .order_by(WorkInstruction.code, WorkInstruction.version.desc())
        .distinct(WorkInstruction.code)).scalars()
    return {row.code: {"code": row.code, "version": row.version, "title": row.title, "steps": row.steps}
            for row in rows}


validate_buy_off = rules.validate_buy_off  # the step buy-off's check (pure: instruction_rules)
