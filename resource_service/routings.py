"""Use cases of routings on one unit of work.

A routing belongs to one revision of a part (an id of the material service,
no foreign key) and is versioned: each create makes the next version, a
draft; only a draft changes; releasing a version makes the previously
released one obsolete in the same transaction, so exactly one version of a
part revision is released at a time (a partial unique index holds the rule
even against a bug). Operations run at active work centers of this service's
own equipment hierarchy.
"""
import logging
import uuid

from nameko.exceptions import MethodNotFound, RemoteError
from sqlalchemy import func, select, text

from mes_common import errors, paging, signatures
from mes_common.db import fetch
from mes_common.rules import check_version
from resource_service import domain
from resource_service.contract.events import routing_event_type
from resource_service.models import EquipmentNode, Routing, RoutingOperation, Skill
from resource_service.qualifications import rules as qualification_rules
from resource_service.contract.schemas import RoutingOperationOut, RoutingOut

log = logging.getLogger(__name__)

ENTITY = RECORD = "routing"  # entity type of the audit entries and of the signed record
OPERATION_FIELDS = ("sequence", "name", "work_center_id", "setup_time", "run_time", "required_skills",
                    "skill_note", "work_instruction_code", "special_process")
# what a release signed before skills were a catalogue: the free text, from which migration
# 0005 derived the requirements and note (so a signature made then stays valid)
SIGNED_BEFORE_SKILLS = ("sequence", "name", "work_center_id", "setup_time", "run_time", "required_skill",
                        "work_instruction_code")

routing_out = RoutingOut()
operations_out = RoutingOperationOut(many=True)


def dump(routing):
    return routing_out.dump(routing)


def get(session, routing_id, lock=False):
    return fetch(session, Routing.id, routing_id, "routing", lock)


# ------------------------------------------------------------ part check

def check_part(lookup, part_id):
    """Refuse a part the material service says does not exist.

    `lookup(part_id)` gives the part's summary or None. When the material
    service cannot answer (down, slow, too old to know the call), the routing
    is accepted unchecked: planning routings must not depend on material
    being up, and the release saga checks the part again through the BOM."""
    try:
        summary = lookup(part_id)
    except (errors.Unavailable, MethodNotFound, RemoteError) as exc:
        log.warning("part %s not checked: the material service did not answer (%s)", part_id, exc)
        return None
    if summary is None:
        raise errors.RuleViolated(f"part {part_id} does not exist",
                                  {"part_id": ["no part with this id in the material service"]})
    return summary


# ------------------------------------------------------------ helpers

def _lock_part_revision(session, part_id, part_revision):
    """Serialize the version numbering and the releases of one part revision
    (transaction-scoped advisory lock, released at commit or rollback)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": f"routing:{part_id}:{part_revision}"})


def _work_centers(session, operations):
    """The work center nodes of `operations` by id, each checked (422 naming
    `operations.<i>.work_center_id` for a missing, non-work-center or inactive node)."""
    ids = {op["work_center_id"] for op in operations}
    # FOR SHARE: a concurrent deactivation waits until this routing is committed
    nodes = {n.id: n for n in session.execute(
        select(EquipmentNode).where(EquipmentNode.id.in_(ids)).with_for_update(read=True)).scalars()}
    domain.check_work_centers(operations, {i: (n.level, n.active) for i, n in nodes.items()})
    return nodes


def _check_skills(session, operations):
    """Every required skill is in the catalogue, active, at a level it has (422
    naming `operations.<i>.required_skills.<j>.<field>` otherwise)."""
    codes = {req["skill"] for op in operations for req in op["required_skills"]}
    skills = {k.code: k for k in session.execute(select(Skill).where(Skill.code.in_(codes))).scalars()} \
        if codes else {}
    qualification_rules.check_requirements(
        [op["required_skills"] for op in operations],
        {code: (len(k.levels), k.active) for code, k in skills.items()})


def _build_operations(operations, nodes):
    return [RoutingOperation(id=uuid.uuid4(), work_center=nodes[op["work_center_id"]],
                             **{k: op[k] for k in OPERATION_FIELDS})
            for op in sorted(operations, key=lambda op: op["sequence"])]


def _comparable(operations):
    """Operations (rows or loaded dicts) as a value to compare: same steps, same routing."""
    def value(op, key):
        return op[key] if isinstance(op, dict) else getattr(op, key)
    return sorted(tuple(value(op, k) for k in OPERATION_FIELDS) for op in operations)


# ------------------------------------------------------------ use cases

def create(tx, data):
    """The next version of the routing of (part_id, part_revision), as a draft."""
    session = tx.session
    domain.check_operations(data["operations"])
    _check_skills(session, data["operations"])
    nodes = _work_centers(session, data["operations"])
    _lock_part_revision(session, data["part_id"], data["part_revision"])
    last = session.execute(select(func.max(Routing.version)).where(
        Routing.part_id == data["part_id"], Routing.part_revision == data["part_revision"])).scalar()
    routing = Routing(id=uuid.uuid4(), part_id=data["part_id"], part_revision=data["part_revision"],
                      version=(last or 0) + 1, status="draft", description=data["description"],
                      operations=_build_operations(data["operations"], nodes))
    session.add(routing)
    tx.flush()
    out = dump(routing)
    tx.emit(routing_event_type("created"), routing.id, out)
    tx.audit("create", ENTITY, routing.id, old=None, new=out)
    return routing


def update(tx, routing_id, changes):
    """Change the description and/or replace the operations of a draft."""
    session = tx.session
    routing = get(session, routing_id, lock=True)
    check_version(changes.pop("version", None), routing.row_version, "the routing")
    domain.check_routing_editable(routing.status)
    old, new = {}, {}
    if "operations" in changes:
        operations = changes["operations"]
        domain.check_operations(operations)
        _check_skills(session, operations)
        nodes = _work_centers(session, operations)
        if _comparable(operations) != _comparable(routing.operations):
            old["operations"] = operations_out.dump(routing.operations)
            routing.operations.clear()
            tx.flush()  # the old rows go first: the new ones reuse their sequences
            routing.operations.extend(_build_operations(operations, nodes))
    if "description" in changes and changes["description"] != routing.description:
        old["description"], new["description"] = routing.description, changes["description"]
        routing.description = changes["description"]
    if not old:
        return routing
    routing.updated_at = func.now()  # an UPDATE of the routing row: row_version moves on
    tx.flush()
    session.refresh(routing, ["updated_at"])
    if "operations" in old:
        new["operations"] = operations_out.dump(routing.operations)
    changed = sorted(old)
    tx.emit(routing_event_type("updated"), routing.id, {**dump(routing), "changed": changed})
    tx.audit("update", ENTITY, routing.id, old=old, new=new)
    return routing


def signed_content(routing):
    """What a release signs: the version's substance (not its status or times,
    which move on; not the work centers' names, which may be corrected)."""
    return {"id": str(routing.id), "part_id": str(routing.part_id), "part_revision": routing.part_revision,
            "version": routing.version, "description": routing.description,
            "operations": [_signed_operation(op) for op in sorted(routing.operations, key=lambda op: op.sequence)]}


def _signed_operation(op):
    signed = {field: getattr(op, field) for field in SIGNED_BEFORE_SKILLS}
    if op.required_skill is None:   # else released before migration 0005: signed as it was then
        # skills and notes join the signed content where an operation has them (one without
        # any signs as it did before, and its signature stays valid)
        signed.update({field: getattr(op, field) for field in ("required_skills", "skill_note", "special_process")
                       if getattr(op, field)})
    return signed


def check_releasable(session, routing_id, data=None, lock=False):
    """The routing, if it can be released now (asked before the signature, again under the lock)."""
    routing = get(session, routing_id, lock=lock)
    check_version((data or {}).get("version"), routing.row_version, "the routing")
    domain.check_routing_transition(routing.status, "released")
    # a work center may have been deactivated since the draft was written
    domain.check_work_centers([{"work_center_id": op.work_center_id} for op in routing.operations],
                              {op.work_center_id: (op.work_center.level, op.work_center.active)
                               for op in routing.operations})
    return routing


def release(tx, routing_id, data=None, manifest=None):
    """Release a draft, with the releasing person's signature (`manifest`, None
    for the platform's own call); the released version of the same part
    revision, if any, becomes obsolete in the same transaction."""
    session = tx.session
    routing = check_releasable(session, routing_id, data, lock=True)
    _lock_part_revision(session, routing.part_id, routing.part_revision)
    previous = session.execute(select(Routing).where(
        Routing.part_id == routing.part_id, Routing.part_revision == routing.part_revision,
        Routing.status == "released").with_for_update()).scalar_one_or_none()
    if previous is not None:
        domain.check_routing_transition(previous.status, "obsolete")
        previous.status = "obsolete"
        previous.updated_at = func.now()
        tx.flush()  # before the new release: the partial unique index allows one released row
        session.refresh(previous, ["updated_at"])
    routing.status = "released"
    routing.released_at = routing.updated_at = func.now()
    tx.flush()
    session.refresh(routing, ["released_at", "updated_at"])
    tx.sign(manifest, RECORD, routing.id, signatures.APPROVAL, signed_content(routing))
    out = dump(routing)
    if previous is not None:
        tx.emit(routing_event_type("obsoleted"), previous.id,
                {**dump(previous), "replaced_by_routing_id": str(routing.id)})
    tx.emit(routing_event_type("released"), routing.id,
            {**out, "previous_routing_id": str(previous.id) if previous is not None else None})
    if previous is not None:
        tx.audit("obsolete", ENTITY, previous.id, old={"status": "released"}, new={"status": "obsolete"},
                 reason=f"replaced by version {routing.version}")
    tx.audit("release", ENTITY, routing.id, old={"status": "draft"},
             new={"status": "released", "released_at": out["released_at"]})
    return routing


# ------------------------------------------------------------ queries

def get_released(session, part_id, part_revision):
    routing = session.execute(select(Routing).where(
        Routing.part_id == part_id, Routing.part_revision == part_revision,
        Routing.status == "released")).scalar_one_or_none()
    if routing is None:
        raise errors.NotFound(f"no released routing for part {part_id} revision {part_revision}",
                              {"part_id": str(part_id), "part_revision": part_revision})
    return routing


def list_page(session, query):
    """Keyset pagination on (part_id, part_revision, version): the unique key."""
    stmt = select(Routing)
    for name in ("part_id", "part_revision", "status"):
        if query.get(name) is not None:
            stmt = stmt.where(getattr(Routing, name) == query[name])
    keys = [(Routing.part_id, paging.uuid_key), (Routing.part_revision, paging.text_key),
            (Routing.version, paging.int_key)]
    return paging.page(session, stmt, keys, query, lambda rows: [dump(r) for r in rows])
