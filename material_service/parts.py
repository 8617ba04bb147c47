"""Use cases of parts and their revisions."""
from sqlalchemy import select

from material_service import domain
from material_service.contract import events
from material_service.lookups import columns, get
from material_service.models import Part, PartRevision
from material_service.contract.schemas import PartOut
from mes_common import errors
from mes_common.paging import page, text_key, uuid_key
from mes_common.rules import check_version

ENTITY = "part"
part_out = PartOut()


def dump_many(session, parts):
    revisions = {}
    if parts:
        rows = session.execute(select(PartRevision).where(PartRevision.part_id.in_([p.id for p in parts]))
                               .order_by(PartRevision.created_at, PartRevision.revision)).scalars()
        for rev in rows:
            revisions.setdefault(rev.part_id, []).append(rev)
    return [part_out.dump({**columns(p), "revisions": revisions.get(p.id, [])}) for p in parts]


def dump(session, part):
    return dump_many(session, [part])[0]


def summary(part):
    """The display fields cached as reference kind "part"."""
    return {"id": str(part.id), "part_number": part.part_number, "name": part.name, "revision": part.revision,
            "uom": part.uom, "type": part.type, "lot_controlled": part.lot_controlled,
            "serial_controlled": part.serial_controlled, "status": part.status}


def create(tx, data):
    session = tx.session
    if session.execute(select(Part.id).where(Part.part_number == data["part_number"])).first():
        raise errors.Conflict(f"part number {data['part_number']} is already used", {"part_number": ["already used"]})
    part = Part(**data, status="active")
    session.add(part)
    tx.flush()
    session.add(PartRevision(part_id=part.id, revision=part.revision, reason="initial revision",
                             created_by=tx.actor))
    tx.flush()
    out = dump(session, part)
    tx.audit("create", ENTITY, part.id, new=out)
    tx.emit(events.PART_CREATED, part.id, out)
    return part


def update(tx, part_id, changes):
    session = tx.session
    part = get(session, Part, part_id, lock=True)
    check_version(changes.pop("version", None), part.version, "the part")
    tx.apply_changes(part, changes, ENTITY, events.PART_UPDATED, lambda row: dump(session, row))
    return part


def add_revision(tx, part_id, data):
    """A new revision becomes the part's current one."""
    session = tx.session
    part = get(session, Part, part_id, lock=True)
    existing = set(session.execute(select(PartRevision.revision).where(PartRevision.part_id == part.id)).scalars())
    domain.check_new_revision(data["revision"], existing)
    previous = part.revision
    session.add(PartRevision(part_id=part.id, revision=data["revision"], reason=data["reason"], created_by=tx.actor))
    part.revision = data["revision"]
    tx.flush()
    tx.audit("revise", ENTITY, part.id, old={"revision": previous}, new={"revision": part.revision},
             reason=data["reason"])
    tx.emit(events.PART_REVISED, part.id, {**dump(session, part), "previous_revision": previous,
                                           "reason": data["reason"]})
    return part


def list_page(session, query):
    stmt = select(Part)
    if query.get("part_number"):
        stmt = stmt.where(Part.part_number.startswith(query["part_number"], autoescape=True))
    for name in ("type", "status"):
        if name in query:
            stmt = stmt.where(getattr(Part, name) == query[name])
    return page(session, stmt, [(Part.part_number, text_key), (Part.id, uuid_key)], query,
                lambda rows: dump_many(session, rows))


def summaries(session, ids):
    rows = session.execute(select(Part).where(Part.id.in_(ids))).scalars().all()
    return {str(p.id): summary(p) for p in rows}


def by_ids(session, ids):
    """{id: Part} for display fields of related records."""
    ids = set(ids)
    if not ids:
        return {}
    return {p.id: p for p in session.execute(select(Part).where(Part.id.in_(ids))).scalars()}


def find_by_number(session, part_numbers):
    """{part number: summary} of the parts with these numbers (an ERP names parts by number)."""
    rows = session.execute(select(Part).where(Part.part_number.in_(part_numbers))).scalars()
    return {p.part_number: summary(p) for p in rows}
