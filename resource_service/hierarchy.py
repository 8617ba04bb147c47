"""Use cases of the equipment hierarchy on one unit of work.

Each function takes the worker's Transaction, applies the domain rules,
writes the rows and records the event; the nameko entrypoints stay thin.
"""
import uuid

from sqlalchemy import func, select, update

from mes_common import errors, paging
from mes_common.db import fetch
from mes_common.rules import check_version
from resource_service import domain
from resource_service.contract.events import event_type
from resource_service.models import EquipmentNode
from resource_service.contract.schemas import NodeOut

MAX_TREE_NODES = 10_000
ENTITY = "equipment_node"  # entity type of the audit entries

node_out = NodeOut()


def dump(node):
    return node_out.dump(node)


def summary(node):
    return {"id": str(node.id), "level": node.level, "code": node.code, "name": node.name,
            "parent_id": str(node.parent_id) if node.parent_id else None, "active": node.active}


def get(session, node_id, lock=False):
    return fetch(session, EquipmentNode.id, node_id, "equipment node", lock)


def _parent(session, parent_id):
    if parent_id is None:
        return None
    try:
        return get(session, parent_id)
    except errors.NotFound:
        raise errors.RuleViolated(f"parent {parent_id} does not exist",
                                  {"parent_id": ["no equipment node with this id"]}) from None


def _check_code_free(session, parent_id, code, except_id=None):
    stmt = select(EquipmentNode.id).where(
        EquipmentNode.code == code,
        EquipmentNode.parent_id == parent_id if parent_id else EquipmentNode.parent_id.is_(None))
    if except_id is not None:
        stmt = stmt.where(EquipmentNode.id != except_id)
    if session.execute(stmt.limit(1)).first():
        where = "under this parent" if parent_id else "among top-level nodes"
        raise errors.Conflict(f"code {code!r} is already used {where}", {"code": ["already used"]})


def create(tx, data):
    session = tx.session
    parent = _parent(session, data["parent_id"])
    domain.check_parent(data["level"], parent.level if parent else None)
    if parent is not None and not parent.active:
        raise errors.RuleViolated("cannot add a node under an inactive parent",
                                  {"parent_id": ["parent is inactive"]})
    _check_code_free(session, data["parent_id"], data["code"])
    node_id = uuid.uuid4()
    node = EquipmentNode(id=node_id, level=data["level"], code=data["code"], name=data["name"],
                         description=data["description"], parent_id=data["parent_id"],
                         path=domain.child_path(parent.path if parent else "", node_id),
                         depth=parent.depth + 1 if parent else 0, active=True)
    session.add(node)
    tx.flush()
    out = dump(node)
    tx.audit("create", ENTITY, node.id, old=None, new=out)
    tx.emit(event_type(node.level, "created"), node.id, out)
    return node


def update_node(tx, node_id, changes):
    node = get(tx.session, node_id, lock=True)
    check_version(changes.pop("version", None), node.version, "the node")
    if "code" in changes and changes["code"] != node.code:
        _check_code_free(tx.session, node.parent_id, changes["code"], except_id=node.id)
    tx.apply_changes(node, changes, ENTITY, event_type(node.level, "updated"), dump)
    return node


def move(tx, node_id, data):
    session = tx.session
    node = get(session, node_id, lock=True)
    check_version(data.get("version"), node.version, "the node")
    new_parent = _parent(session, data["parent_id"])
    domain.check_parent(node.level, new_parent.level)
    domain.check_move(node.path, new_parent.path)
    if new_parent.id == node.parent_id:
        return node
    if not new_parent.active:
        raise errors.RuleViolated("cannot move a node under an inactive parent",
                                  {"parent_id": ["parent is inactive"]})
    _check_code_free(session, new_parent.id, node.code, except_id=node.id)
    old_path, new_path = node.path, domain.child_path(new_parent.path, node.id)
    depth_shift = new_parent.depth + 1 - node.depth
    previous_parent = node.parent_id
    old = {"parent_id": previous_parent, "path": node.path, "depth": node.depth}
    # the whole subtree in one statement: its paths share the old prefix
    session.execute(
        update(EquipmentNode)
        .where(EquipmentNode.path.startswith(old_path, autoescape=True), EquipmentNode.id != node.id)
        .values(path=func.concat(new_path, func.substr(EquipmentNode.path, len(old_path) + 1)),
                depth=EquipmentNode.depth + depth_shift)
        .execution_options(synchronize_session=False))
    node.parent_id, node.path, node.depth = new_parent.id, new_path, new_parent.depth + 1
    tx.flush()
    tx.audit("move", ENTITY, node.id, old=old,
             new={"parent_id": node.parent_id, "path": node.path, "depth": node.depth})
    tx.emit(event_type(node.level, "moved"), node.id,
            {**dump(node), "previous_parent_id": str(previous_parent) if previous_parent else None})
    return node


def set_active(tx, node_id, data, active):
    session = tx.session
    node = get(session, node_id, lock=True)
    check_version(data.get("version"), node.version, "the node")
    if node.active == active:
        return node
    if not active:
        children = session.execute(
            select(func.count()).where(EquipmentNode.parent_id == node.id, EquipmentNode.active)).scalar()
        domain.check_deactivate(children)
    elif node.parent_id is not None and not get(session, node.parent_id).active:
        raise errors.RuleViolated("cannot reactivate a node under an inactive parent",
                                  {"parent_id": ["parent is inactive"]})
    node.active = active
    tx.flush()
    tx.audit("reactivate" if active else "deactivate", ENTITY, node.id,
             old={"active": not active}, new={"active": active}, reason=data.get("reason"))
    verb = "reactivated" if active else "deactivated"
    tx.emit(event_type(node.level, verb), node.id, {**dump(node), "reason": data.get("reason")})
    return node


def list_page(session, query):
    """Keyset pages on (code, id): stable under inserts, no OFFSET scans."""
    stmt = select(EquipmentNode)
    if "level" in query:
        stmt = stmt.where(EquipmentNode.level == query["level"])
    if "parent_id" in query:
        stmt = stmt.where(EquipmentNode.parent_id == query["parent_id"])
    if "active" in query:
        stmt = stmt.where(EquipmentNode.active == query["active"])
    keys = [(EquipmentNode.code, paging.text_key), (EquipmentNode.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda nodes: [dump(n) for n in nodes])


def tree(session, node_id, max_depth=None):
    root = get(session, node_id)
    stmt = select(EquipmentNode).where(EquipmentNode.path.startswith(root.path, autoescape=True))
    if max_depth is not None:
        stmt = stmt.where(EquipmentNode.depth <= root.depth + max_depth)
    nodes = session.execute(stmt.order_by(EquipmentNode.depth, EquipmentNode.code)
                            .limit(MAX_TREE_NODES + 1)).scalars().all()
    if len(nodes) > MAX_TREE_NODES:
        raise errors.ValidationFailed(
            f"the subtree has more than {MAX_TREE_NODES} nodes; ask for fewer levels",
            {"max_depth": ["subtree too large; give a smaller max_depth"]})
    by_id = {}
    for n in nodes:  # parents come before children: ordered by depth
        entry = {**dump(n), "children": []}
        by_id[n.id] = entry
        if n.id != root.id:
            by_id[n.parent_id]["children"].append(entry)
    return by_id[root.id]


def ancestors(session, node_id):
    node = get(session, node_id)
    ids = [uuid.UUID(p) for p in node.path.strip("/").split("/")[:-1]]
    if not ids:
        return []
    rows = session.execute(select(EquipmentNode).where(EquipmentNode.id.in_(ids))
                           .order_by(EquipmentNode.depth)).scalars().all()
    return [dump(n) for n in rows]


def summaries(session, ids):
    rows = session.execute(select(EquipmentNode).where(EquipmentNode.id.in_(ids))).scalars().all()
    return {str(n.id): summary(n) for n in rows}


def find_by_code(session, codes, level=None):
    """The nodes with these codes (of `level`), each with the codes of its ancestors from the root
    (`path_codes`) and its site (`site_id`, `site_code`; None above a site): how an ERP names equipment.
    A code may name several nodes (codes are unique among siblings only); the caller decides."""
    stmt = select(EquipmentNode).where(EquipmentNode.code.in_(codes)).order_by(EquipmentNode.path)
    if level:
        stmt = stmt.where(EquipmentNode.level == level)
    rows = session.execute(stmt).scalars().all()
    ancestor_ids = {uuid.UUID(p) for n in rows for p in n.path.strip("/").split("/")[:-1]}
    above = {n.id: n for n in session.execute(
        select(EquipmentNode).where(EquipmentNode.id.in_(ancestor_ids))).scalars()} if ancestor_ids else {}
    found = []
    for node in rows:
        line = [above[uuid.UUID(p)] for p in node.path.strip("/").split("/")[:-1]] + [node]
        site = next((n for n in line if n.level == "site"), None)
        found.append({**dump(node), "path_codes": [n.code for n in line],
                      "site_id": str(site.id) if site else None, "site_code": site.code if site else None})
    return found
