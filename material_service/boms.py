"""Bills of material per part revision: replace, read, explode, where-used."""
import decimal
import hashlib

from sqlalchemy import Boolean, Integer, Numeric, String, Uuid, delete, select, text

from material_service import domain, parts
from material_service.contract import events
from material_service.lookups import get, today
from material_service.models import Bom, BomComponent, Part, PartRevision
from material_service.contract.schemas import BomOut, ExplosionOut, WhereUsedLine
from mes_common import errors

ENTITY = "bom"
bom_out = BomOut()
explosion_out = ExplosionOut()
where_used_out = WhereUsedLine(many=True)
# BOM edits serialize on this (transaction-scoped) lock: two edits that each
# close half of a loop would otherwise both pass the cycle check
STRUCTURE_LOCK = int.from_bytes(hashlib.sha256(b"mes_material:bom_structure").digest()[:8], "big", signed=True)

# edges reachable below some parts, over every revision's BOM (a loop through
# any revision could show up in an explosion)
_BELOW = text("""
WITH RECURSIVE below(parent, child) AS (
    SELECT part_id, component_part_id FROM bom_component WHERE part_id = ANY(CAST(:starts AS uuid[]))
    UNION
    SELECT c.part_id, c.component_part_id FROM bom_component c JOIN below b ON c.part_id = b.child
)
SELECT parent, child FROM below
""").columns(parent=Uuid(), child=Uuid())

_ABOVE = text("""
WITH RECURSIVE above(part_id, revision, quantity_per, level) AS (
    SELECT part_id, revision, quantity, 1 FROM bom_component WHERE component_part_id = :part_id
    UNION
    SELECT c.part_id, c.revision, c.quantity, a.level + 1 FROM bom_component c
      JOIN above a ON c.component_part_id = a.part_id
     WHERE a.level < :max_depth
)
SELECT a.level, a.part_id, p.part_number, p.name, a.revision, a.revision = p.revision AS current, a.quantity_per
  FROM above a JOIN part p ON p.id = a.part_id
 ORDER BY a.level, p.part_number, a.revision
""").columns(level=Integer(), part_id=Uuid(), part_number=String(), name=String(), revision=String(),
             current=Boolean(), quantity_per=Numeric())


def _revision(session, part, revision, missing):
    revision = revision or part.revision
    if not session.execute(select(PartRevision.id).where(PartRevision.part_id == part.id,
                                                         PartRevision.revision == revision)).first():
        raise missing(f"part {part.part_number} has no revision {revision}", {"revision": ["no such revision"]})
    return revision


def _components(session, part_id, revision):
    rows = session.execute(select(BomComponent, Part.part_number, Part.name)
                           .join(Part, Part.id == BomComponent.component_part_id)
                           .where(BomComponent.part_id == part_id, BomComponent.revision == revision)
                           .order_by(BomComponent.position, Part.part_number)).all()
    return [{"part_id": c.component_part_id, "part_number": number, "name": name, "quantity": c.quantity,
             "uom": c.uom, "effective_from": c.effective_from, "effective_to": c.effective_to,
             "position": c.position} for c, number, name in rows]


def _dump(session, part, revision):
    header = session.get(Bom, (part.id, revision))
    return bom_out.dump({"part_id": part.id, "revision": revision, "components": _components(session, part.id, revision),
                         "version": header.version if header else 0, "updated_at": header.updated_at if header else None})


def get_bom(session, part_id, query):
    part = get(session, Part, part_id)
    return _dump(session, part, _revision(session, part, query.get("revision"), errors.NotFound))


def set_bom(tx, part_id, data):
    """Replace the BOM of one revision (default: the current one)."""
    session = tx.session
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STRUCTURE_LOCK})
    part = get(session, Part, part_id, lock=True)
    revision = _revision(session, part, data.get("revision"), errors.RuleViolated)
    lines = data["components"]
    components = parts.by_ids(session, {line["part_id"] for line in lines})
    for i, line in enumerate(lines):
        if line["part_id"] not in components:
            raise errors.RuleViolated(f"part {line['part_id']} does not exist",
                                      {f"components.{i}.part_id": ["no part with this id"]})
    domain.check_bom_lines(part.id, lines)
    _check_cycle(session, part, lines, components)
    previous = _dump(session, part, revision)
    header = session.get(Bom, (part.id, revision), with_for_update=True)
    if header is None:
        header = Bom(part_id=part.id, revision=revision, version=0)
        session.add(header)
    header.version += 1
    tx.flush()
    session.execute(delete(BomComponent).where(BomComponent.part_id == part.id, BomComponent.revision == revision))
    session.add_all([BomComponent(part_id=part.id, revision=revision, component_part_id=line["part_id"],
                                  quantity=line["quantity"], uom=line["uom"] or components[line["part_id"]].uom,
                                  effective_from=line["effective_from"], effective_to=line["effective_to"],
                                  position=line["position"] if line["position"] is not None else (i + 1) * 10)
                     for i, line in enumerate(lines)])
    tx.flush()
    session.refresh(header)
    out = _dump(session, part, revision)
    tx.audit("set_bom", ENTITY, f"{part.id}:{revision}", old=previous["components"], new=out["components"])
    tx.emit(events.BOM_CHANGED, part.id, {**out, "previous": previous["components"]})
    return out


def _check_cycle(session, part, lines, components):
    starts = [str(line["part_id"]) for line in lines]
    children_of = {}
    for parent, child in session.execute(_BELOW, {"starts": starts}):
        children_of.setdefault(parent, set()).add(child)
    path = domain.find_cycle(part.id, [line["part_id"] for line in lines], children_of)
    if path is not None:
        numbers = parts.by_ids(session, path)
        index = next(i for i, line in enumerate(lines) if line["part_id"] == path[1])
        shown = " → ".join(numbers[p].part_number for p in path)
        raise errors.RuleViolated(f"{components[path[1]].part_number} would make a cycle: {shown}",
                                  {f"components.{index}.part_id": [f"makes a cycle: {shown}"]})


def explode(session, part_id, query):
    part = get(session, Part, part_id)
    revision = _revision(session, part, query.get("revision"), errors.NotFound)
    quantity = decimal.Decimal(str(query["quantity"])).quantize(decimal.Decimal("0.000001"))
    at = query.get("at") or today()
    boms = _effective_boms(session, part.id, revision, at, query.get("levels"))
    lines, requirements = domain.explode(part.id, quantity, boms, query.get("levels"))
    info = parts.by_ids(session, {line["part_id"] for line in lines})
    for row in (*lines, *requirements):
        row.update(part_number=info[row["part_id"]].part_number, name=info[row["part_id"]].name)
    return explosion_out.dump({"part_id": part.id, "revision": revision, "quantity": quantity, "lines": lines,
                               "requirements": requirements})


def _effective_boms(session, root, revision, at, levels):
    """{part id: its BOM lines in effect at `at`}: the root's given revision,
    every component's current one; one query per level."""
    boms, frontier, depth = {}, {root: revision}, 0
    while frontier and (levels is None or depth < levels) and depth <= domain.MAX_BOM_DEPTH:
        pairs = list(frontier.items())
        rows = session.execute(select(BomComponent).where(
            BomComponent.part_id.in_([p for p, _ in pairs]))).scalars().all()
        wanted = set(pairs)
        for c in rows:
            if (c.part_id, c.revision) in wanted:
                line = {"part_id": c.component_part_id, "quantity": c.quantity, "uom": c.uom,
                        "position": c.position, "effective_from": c.effective_from, "effective_to": c.effective_to}
                if domain.effective(line, at):
                    boms.setdefault(c.part_id, []).append(line)
        for parent, _ in pairs:
            boms.setdefault(parent, [])
        children = {line["part_id"] for parent, _ in pairs for line in boms[parent]} - set(boms)
        frontier = {p.id: p.revision for p in parts.by_ids(session, children).values()}
        depth += 1
    return boms


def where_used(session, part_id):
    part = get(session, Part, part_id)
    rows = session.execute(_ABOVE, {"part_id": part.id, "max_depth": domain.MAX_BOM_DEPTH}).mappings().all()
    return where_used_out.dump(rows)
