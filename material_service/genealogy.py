"""Genealogy: links from source material to the material made from it, and
traces along them with recursive CTEs (cost follows the size of the answer)."""
import uuid

from sqlalchemy import String, Uuid, insert, select, text

from material_service.contract import events
from material_service.models import GenealogyLink, Lot, Serial
from material_service.contract.schemas import GenealogyLinkOut, GenealogyNode
from mes_common import errors

MAX_DEPTH = 100
MAX_LINKS = 10_000
link_out = GenealogyLinkOut()
node_out = GenealogyNode()

# one walk per direction; UNION drops repeats, the depth bound stops any loop
_WALK = """
WITH RECURSIVE walk(link_id, node_type, node_id, depth) AS (
    SELECT l.id, l.{far}_type, l.{far}_id, 1 FROM genealogy_link l
     WHERE l.{near}_type = :node_type AND l.{near}_id = :node_id
    UNION
    SELECT l.id, l.{far}_type, l.{far}_id, w.depth + 1 FROM genealogy_link l
      JOIN walk w ON l.{near}_type = w.node_type AND l.{near}_id = w.node_id
     WHERE w.depth < :max_depth
)
SELECT DISTINCT link_id, node_type, node_id FROM walk LIMIT :limit
"""
WALKS = {direction: text(_WALK.format(near=near, far=far)).columns(link_id=Uuid(), node_type=String(),
                                                                    node_id=Uuid())
         for direction, near, far in (("down", "source", "target"), ("up", "target", "source"))}


def walk(session, node_type, node_id, direction="down", max_depth=MAX_DEPTH, limit=MAX_LINKS + 1):
    """[(link id, reached type, reached id)] from one lot/serial."""
    return session.execute(WALKS[direction], {"node_type": node_type, "node_id": node_id,
                                              "max_depth": max_depth, "limit": limit}).all()


def descendants(session, node_type, node_id):
    """Every (type, id) made from this lot/serial, however far down."""
    return sorted({(t, i) for _, t, i in walk(session, node_type, node_id, limit=None)}, key=lambda n: (n[0], n[1]))


def nodes(session, refs):
    """{(type, id): GenealogyNode dict} of lots and serials."""
    lot_ids = [i for t, i in refs if t == "lot"]
    serial_ids = [i for t, i in refs if t == "serial"]
    found = {}
    if lot_ids:
        for id_, number, part_id in session.execute(
                select(Lot.id, Lot.lot_number, Lot.part_id).where(Lot.id.in_(lot_ids))):
            found[("lot", id_)] = node_out.dump({"type": "lot", "id": id_, "number": number, "part_id": part_id})
    if serial_ids:
        for id_, number, part_id in session.execute(
                select(Serial.id, Serial.serial_number, Serial.part_id).where(Serial.id.in_(serial_ids))):
            found[("serial", id_)] = node_out.dump({"type": "serial", "id": id_, "number": number,
                                                    "part_id": part_id})
    return found


def link(tx, links, subject):
    """Record links ({source_type, source_id, target_type, target_id, relation,
    quantity?, work_order_id?, operation_id?}) and publish them with both
    ends' numbers and parts, so a read model needs nothing else."""
    if not links:
        return []
    session = tx.session
    rows = [{"id": uuid.uuid4(), "quantity": None, "work_order_id": None, "operation_id": None, **l} for l in links]
    created = session.execute(insert(GenealogyLink).returning(GenealogyLink.id, GenealogyLink.created_at),
                              rows).all()
    created_at = dict(created)
    out = [link_out.dump({**row, "created_at": created_at[row["id"]]}) for row in rows]
    ends = nodes(session, {(r["source_type"], r["source_id"]) for r in rows}
                 | {(r["target_type"], r["target_id"]) for r in rows})
    published = [{**o, "source": ends.get((r["source_type"], r["source_id"])),
                  "target": ends.get((r["target_type"], r["target_id"]))} for o, r in zip(out, rows)]
    tx.emit_chunked(events.GENEALOGY_LINKED, subject, "links", published)
    return out


def trace(session, query):
    """get_genealogy: the links and nodes reachable from one lot/serial."""
    root_ref = (query["target_type"], query["target_id"])
    root = nodes(session, [root_ref]).get(root_ref)
    if root is None:
        raise errors.NotFound(f"{root_ref[0]} {root_ref[1]} does not exist", {"target_id": str(root_ref[1])})
    reached = walk(session, *root_ref, direction=query["direction"], max_depth=query.get("max_depth") or MAX_DEPTH)
    if len(reached) > MAX_LINKS:
        raise errors.ValidationFailed(f"the genealogy has more than {MAX_LINKS} links; ask for fewer levels",
                                      {"max_depth": ["genealogy too large; give a smaller max_depth"]})
    link_ids = {link_id for link_id, _, _ in reached}
    links = session.execute(select(GenealogyLink).where(GenealogyLink.id.in_(link_ids))
                            .order_by(GenealogyLink.created_at, GenealogyLink.id)).scalars().all() if link_ids else []
    refs = {root_ref} | {(l.source_type, l.source_id) for l in links} | {(l.target_type, l.target_id) for l in links}
    found = nodes(session, refs)
    return {"root": root, "links": [link_out.dump(l) for l in links],
            "nodes": sorted(found.values(), key=lambda n: (n["type"], n["number"]))}
