"""Holds on lots and serials. A hold cascades to every descendant in the
genealogy (each gets its own hold row pointing at the root), and material
made later from held material inherits the hold."""
from sqlalchemy import func, or_, select, update

from material_service import domain, genealogy
from material_service.contract import events
from material_service.lookups import columns, get
from material_service.models import Hold, Lot, Serial
from material_service.contract.schemas import HoldOut
from mes_common import errors
from mes_common.paging import page, time_key, uuid_key

ENTITY = "hold"
MODELS = {"lot": Lot, "serial": Serial}
hold_out = HoldOut()


def views(session, holds):
    """HoldOut-shaped dicts, not dumped yet (to nest in LotOut and SerialOut)."""
    roots = [h.id for h in holds if h.root_hold_id is None]
    cascade = {}
    if roots:
        for root_id, target_type, target_id in session.execute(
                select(Hold.root_hold_id, Hold.target_type, Hold.target_id)
                .where(Hold.root_hold_id.in_(roots)).order_by(Hold.target_type, Hold.target_id)):
            cascade.setdefault(root_id, []).append({"target_type": target_type, "target_id": target_id})
    return [{**columns(h), "cascade": cascade.get(h.id, [])}
            for h in holds]


def dump_many(session, holds):
    return hold_out.dump(views(session, holds), many=True)


def dump(session, hold):
    return dump_many(session, [hold])[0]


def active(session, target_type, ids):
    """{target id: [active holds]}."""
    ids = list(ids)
    if not ids:
        return {}
    found = {}
    for hold in session.execute(select(Hold).where(Hold.target_type == target_type, Hold.target_id.in_(ids),
                                                   Hold.status == "active").order_by(Hold.placed_at)).scalars():
        found.setdefault(hold.target_id, []).append(hold)
    return found


def check_not_held(session, target_type, targets):
    """409 naming the hold when any of `targets` ({id: number}) is held.
    The hold named is the one to release: the root of a cascade."""
    held = active(session, target_type, targets)
    for target_id, number in targets.items():
        if target_id in held:
            hold = held[target_id][0]
            root_id = hold.root_hold_id or hold.id
            raise domain.hold_conflict(root_id, target_type, target_id, number, hold.reason)


def _lock_targets(session, refs):
    """Lock the held lots, then serials, each in id order: consumption locks
    in the same order, so it sees the hold or finishes before it."""
    for target_type in ("lot", "serial"):
        ids = sorted(i for t, i in refs if t == target_type)
        if ids:
            model = MODELS[target_type]
            session.execute(select(model.id).where(model.id.in_(ids)).order_by(model.id).with_for_update())


def place(tx, data):
    session = tx.session
    target_type, target_id = data["target_type"], data["target_id"]
    get(session, MODELS[target_type], target_id)
    cascade = [ref for ref in genealogy.descendants(session, target_type, target_id) if ref != (target_type, target_id)]
    _lock_targets(session, [(target_type, target_id), *cascade])
    root = Hold(target_type=target_type, target_id=target_id, reason=data["reason"],
                reference=data.get("reference"), status="active", placed_by=tx.actor)
    session.add(root)
    tx.flush()
    rows = _hold_rows(tx, root, cascade)
    out = dump(session, root)
    tx.audit("place", ENTITY, root.id, new=out, reason=data["reason"])
    _emit_each(tx, session, [root, *rows], events.held)
    return root


def _hold_rows(tx, root, refs):
    rows = [Hold(target_type=t, target_id=i, root_hold_id=root.id, reason=root.reason, reference=root.reference,
                 status="active", placed_by=root.placed_by) for t, i in refs]
    tx.session.add_all(rows)
    tx.flush()
    return rows


def _emit_each(tx, session, holds, event_type):
    for hold, out in zip(holds, dump_many(session, holds)):
        tx.emit(event_type(hold.target_type), hold.target_id, out)


def release(tx, hold_id, data):
    session = tx.session
    hold = get(session, Hold, hold_id, lock=True)
    if hold.root_hold_id is not None:
        raise errors.RuleViolated(f"hold {hold.id} was placed by cascade: release its root hold {hold.root_hold_id}",
                                  {"hold_id": ["a cascaded hold"], "root_hold_id": str(hold.root_hold_id)})
    if hold.status == "released":
        return hold
    values = {"status": "released", "released_by": tx.actor, "released_at": func.now(),
              "release_reason": data["reason"]}
    lifted = session.execute(update(Hold).where(or_(Hold.id == hold.id, Hold.root_hold_id == hold.id),
                                                Hold.status == "active")
                             .values(**values).returning(Hold.id)
                             .execution_options(synchronize_session=False)).scalars().all()
    rows = session.execute(select(Hold).where(Hold.id.in_(lifted)).order_by(Hold.root_hold_id.is_not(None))
                           .execution_options(populate_existing=True)).scalars().all()
    tx.audit("release", ENTITY, hold.id, old={"status": "active"}, new={"status": "released"}, reason=data["reason"])
    _emit_each(tx, session, rows, events.hold_released)
    return hold


def inherit(tx, sources, outputs):
    """Material made from held material is held too (by the same roots)."""
    session = tx.session
    roots = {}
    for target_type in ("lot", "serial"):
        ids = [i for t, i in sources if t == target_type]
        for holds in active(session, target_type, ids).values():
            for hold in holds:
                root_id = hold.root_hold_id or hold.id
                roots.setdefault(root_id, hold)
    rows = []
    for root_id, hold in roots.items():
        rows += [Hold(target_type=t, target_id=i, root_hold_id=root_id, reason=hold.reason,
                      reference=hold.reference, status="active", placed_by=hold.placed_by) for t, i in outputs]
    if rows:
        session.add_all(rows)
        tx.flush()
        _emit_each(tx, session, rows, events.held)
    return rows


def list_page(session, query):
    stmt = select(Hold)
    for name in ("status", "target_type", "target_id"):
        if name in query:
            stmt = stmt.where(getattr(Hold, name) == query[name])
    return page(session, stmt, [(Hold.placed_at, time_key), (Hold.id, uuid_key)], query,
                lambda rows: dump_many(session, rows), descending=True)
