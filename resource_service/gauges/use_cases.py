"""Use cases of gauges and tools on one unit of work.

An asset is fit for use while it is in service (or due) and neither its last
usable day nor its uses are past: `rules.problem` decides it at each use, from
the row locked for the use, so a late timer lets nothing through. A use is
recorded with what it served (work order operation, inspection), and counts
against a calibration interval in uses. A calibration found out of tolerance
("as found" failed) makes every use since the asset's last good calibration
suspect: they are listed and announced for quality's review."""
import datetime as dt
import uuid

from sqlalchemy import and_, func, or_, select

from mes_common import errors, paging
from mes_common.db import fetch, utcnow
from mes_common.rules import check_version
from resource_service.contract import events
from resource_service.contract.gauges import AssetOut, AssetUseOut, CalibrationOut
from resource_service.gauges import rules
from resource_service.models import Asset, AssetUse, Calibration, EquipmentNode

ENTITY, CALIBRATION = "asset", "calibration"   # entity types of the audit entries
STATE_BATCH = 500

asset_out = AssetOut()
calibration_out = CalibrationOut()
use_out = AssetUseOut()


def today():
    return utcnow().date()


def dump(asset, day=None):
    problem = rules.problem(asset, day or today())
    return asset_out.dump({**{c.key: getattr(asset, c.key) for c in Asset.__table__.columns},
                           "location_code": asset.location.code if asset.location else None,
                           "usable": problem is None, "problem": problem})


def dump_calibration(calibration):
    return calibration_out.dump(calibration)


def get(session, asset_id, lock=False):
    return fetch(session, Asset.id, asset_id, "asset", lock)


def _check_location(session, location_id):
    if location_id is not None and session.get(EquipmentNode, location_id) is None:
        raise errors.RuleViolated(f"location_id: no equipment node {location_id}",
                                  {"location_id": ["no equipment node with this id"]})


def _changed(tx, asset, verb, old=None, new=None, reason=None, **extra):
    tx.flush()
    tx.session.refresh(asset, ["updated_at"])
    out = dump(asset)
    tx.emit(events.asset_event_type(verb), asset.id, {**out, **extra})
    tx.audit(verb if verb != "status_changed" else "change_status", ENTITY, asset.id,
             old=old, new=new if new is not None else out, reason=reason)
    return out


def create(tx, data):
    session = tx.session
    if session.execute(select(Asset.id).where(Asset.asset_number == data["asset_number"])).first():
        raise errors.Conflict(f"asset {data['asset_number']} exists",
                              {"asset_number": [f"{data['asset_number']} is taken"]})
    _check_location(session, data["location_id"])
    status = rules.calibration_state("in_service", data["next_due_on"], data["due_warning_days"], 0,
                                     data["calibration_interval_uses"], today())
    asset = Asset(id=uuid.uuid4(), status=status, uses_since_calibration=0, **data)
    session.add(asset)
    _changed(tx, asset, "created")
    return asset


def update(tx, asset_id, changes):
    """Change what is known of an asset; a new interval or warning window moves
    its calibration state at once (due, overdue or back in service), not at the
    timer's next round."""
    asset = get(tx.session, asset_id, lock=True)
    check_version(changes.pop("version", None), asset.version, f"asset {asset.asset_number}")
    if "location_id" in changes:
        _check_location(tx.session, changes["location_id"])
    if asset.status in rules.CALIBRATION_STATES:
        merged = {**{k: getattr(asset, k) for k in ("due_warning_days", "calibration_interval_uses")}, **changes}
        changes["status"] = rules.calibration_state(asset.status, asset.next_due_on, merged["due_warning_days"],
                                                    asset.uses_since_calibration,
                                                    merged["calibration_interval_uses"], today())
    tx.apply_changes(asset, changes, ENTITY, events.asset_event_type("updated"), dump)
    return asset


def change_status(tx, asset_id, status, reason):
    """Out for calibration, quarantined, retired (final), or back in service
    when its calibration is current."""
    asset = get(tx.session, asset_id, lock=True)
    if asset.status == "retired":
        raise errors.RuleViolated(f"asset {asset.asset_number} is retired", {"status": ["retired is final"]})
    old = {"status": asset.status, "status_reason": asset.status_reason}
    if status == "in_service":
        asset.status, asset.status_reason = "in_service", None
        problem = rules.problem(asset, today())
        if problem is not None:
            raise errors.RuleViolated(f"{problem}: record a calibration to put it back in service",
                                      {"status": [problem]})
        asset.status = rules.calibration_state("in_service", asset.next_due_on, asset.due_warning_days,
                                               asset.uses_since_calibration, asset.calibration_interval_uses, today())
    else:
        asset.status, asset.status_reason = status, reason
    _changed(tx, asset, "status_changed", old=old, new={"status": asset.status, "status_reason": asset.status_reason},
             reason=reason, reason_given=reason)
    return asset


def _last_good(session, asset):
    """When the asset was last known good: the recording of its last calibration
    left in tolerance, else the start of its last calibration day before the
    MES knew it, else None (since it was created)."""
    recorded = session.execute(select(func.max(Calibration.recorded_at)).where(
        Calibration.asset_id == asset.id, Calibration.as_left == "pass")).scalar()
    if recorded is not None:
        return recorded
    if asset.last_calibrated_on is not None:
        return dt.datetime.combine(asset.last_calibrated_on, dt.time(), dt.timezone.utc)
    return None


def _uses_between(asset_id, since, until):
    stmt = select(AssetUse).where(AssetUse.asset_id == asset_id, AssetUse.used_at <= until)
    return stmt.where(AssetUse.used_at >= since) if since is not None else stmt


def calibrate(tx, caller, asset_id, data):
    session = tx.session
    asset = get(session, asset_id, lock=True)
    if asset.status == "retired":
        raise errors.RuleViolated(f"asset {asset.asset_number} is retired", {"status": ["retired"]})
    if data["calibrated_on"] > today():
        raise errors.RuleViolated("calibrated_on: in the future", {"calibrated_on": ["not after today (UTC)"]})
    if asset.last_calibrated_on is not None and data["calibrated_on"] < asset.last_calibrated_on:
        raise errors.RuleViolated(f"calibrated_on: before the last calibration ({asset.last_calibrated_on})",
                                  {"calibrated_on": [f"not before {asset.last_calibrated_on}, the last calibration"]})
    next_due = rules.next_due(data["calibrated_on"], asset.calibration_interval_days, data["next_due_on"])
    now = utcnow()
    calibration = Calibration(id=uuid.uuid4(), asset_id=asset.id, recorded_by=caller.actor, recorded_at=now,
                              **{**data, "next_due_on": next_due})
    suspects = []
    if data["as_found"] == "fail":
        calibration.suspect_since = _last_good(session, asset)
        suspects = session.execute(_uses_between(asset.id, calibration.suspect_since, now)
                                   .order_by(AssetUse.used_at, AssetUse.id)).scalars().all()
        calibration.suspect_uses = len(suspects)
    session.add(calibration)
    old = {"status": asset.status, "next_due_on": asset.next_due_on, "uses_since_calibration": asset.uses_since_calibration}
    asset.last_calibrated_on = data["calibrated_on"]
    if data["as_left"] == "pass":
        asset.next_due_on, asset.uses_since_calibration, asset.status_reason = next_due, 0, None
        asset.status = rules.calibration_state("in_service", next_due, asset.due_warning_days, 0,
                                               asset.calibration_interval_uses, today())
    else:
        asset.status, asset.status_reason = "quarantined", f"failed calibration on {data['calibrated_on']} (as left)"
    tx.flush()
    out = dump_calibration(calibration)
    _changed(tx, asset, "calibrated", old=old, calibration=out)
    tx.audit("record", CALIBRATION, calibration.id, new=out)
    if data["as_found"] == "fail":
        tx.emit_chunked(events.asset_event_type("out_of_tolerance"), asset.id, "uses",
                        [use_out.dump(u) for u in suspects], asset_number=asset.asset_number,
                        calibration=out, suspect_uses=len(suspects))
    return calibration


def use(tx, data):
    """Record the uses of `asset_ids` on one piece of work, if every one is fit
    for use (422 naming each that is not, with its due date; nothing recorded)."""
    session = tx.session
    assets = session.execute(select(Asset).where(Asset.id.in_(data["asset_ids"]))
                             .order_by(Asset.id).with_for_update()).scalars().all()
    found = {a.id for a in assets}
    missing = [str(i) for i in data["asset_ids"] if i not in found]
    if missing:
        raise errors.RuleViolated(f"asset_ids: no asset {', '.join(missing)}",
                                  {"asset_ids": [f"no asset {i}" for i in missing]})
    replayed = _replayed(session, data)   # looked up under the assets' locks: a concurrent retry waits for us
    if replayed is not None:
        return replayed
    day = today()
    problems = [p for p in (rules.problem(a, day) for a in assets) if p]
    if problems:
        raise errors.RuleViolated("; ".join(problems), {"asset_ids": problems})
    now = utcnow()
    fields = {k: data[k] for k in ("work_order_id", "work_order_number", "operation_id", "operation_sequence",
                                   "inspection_id", "user_id", "used_by", "idempotency_key")}
    uses = [AssetUse(id=uuid.uuid4(), asset_id=a.id, used_at=now, **fields) for a in assets]
    session.add_all(uses)
    for asset in assets:
        asset.uses_since_calibration += 1
        state = rules.calibration_state(asset.status, asset.next_due_on, asset.due_warning_days,
                                        asset.uses_since_calibration, asset.calibration_interval_uses, day)
        if state != asset.status:   # the last use its interval allows
            old = {"status": asset.status}
            asset.status = state
            _changed(tx, asset, state, old=old, new={"status": state})
    tx.flush()
    out = [use_out.dump(u) for u in uses]
    for u in out:
        tx.emit(events.asset_event_type("used"), u["asset_id"], u)
    return out


def _replayed(session, data):
    """The uses a request with this idempotency key recorded already (None:
    none); the key of a request for other assets is a conflict."""
    key = data["idempotency_key"]
    if key is None:
        return None
    uses = session.execute(select(AssetUse).where(AssetUse.idempotency_key == key)
                           .order_by(AssetUse.asset_id)).scalars().all()
    if not uses:
        return None
    if {u.asset_id for u in uses} != set(data["asset_ids"]):
        raise errors.Conflict("this idempotency key recorded the use of other assets",
                              {"idempotency_key": ["used for other assets"]})
    return [use_out.dump(u) for u in uses]


def refresh_states(tx, day):
    """Move assets in service to due or overdue as their days (and uses) pass, a
    batch at a time; rows another instance holds are skipped (it does them).
    Returns how many moved."""
    due_now = Asset.next_due_on - Asset.due_warning_days <= day
    overdue_now = or_(Asset.next_due_on < day, Asset.uses_since_calibration >= Asset.calibration_interval_uses)
    moving = tx.session.execute(
        select(Asset).where(or_(and_(Asset.status == "in_service", or_(due_now, overdue_now)),
                                and_(Asset.status == "due", overdue_now)))
        .order_by(Asset.next_due_on).limit(STATE_BATCH).with_for_update(skip_locked=True)).scalars().all()
    for asset in moving:
        state = rules.calibration_state(asset.status, asset.next_due_on, asset.due_warning_days,
                                        asset.uses_since_calibration, asset.calibration_interval_uses, day)
        old = {"status": asset.status}
        asset.status = state
        _changed(tx, asset, state, old=old, new={"status": state})
    return len(moving)


# ------------------------------------------------------------------ queries

def list_page(session, query):
    stmt = select(Asset)
    for name in ("kind", "status", "location_id"):
        if query.get(name) is not None:
            stmt = stmt.where(getattr(Asset, name) == query[name])
    day = today()
    dumps = lambda rows: [dump(r, day) for r in rows]  # noqa: E731
    if query.get("due_within_days") is not None:
        stmt = stmt.where(Asset.next_due_on <= day + dt.timedelta(days=query["due_within_days"]),
                          Asset.status != "retired")
        return paging.page(session, stmt, [(Asset.next_due_on, paging.date_key), (Asset.id, paging.uuid_key)],
                           query, dumps)
    return paging.page(session, stmt, [(Asset.asset_number, paging.text_key)], query, dumps)


def list_calibrations(session, asset_id, query):
    get(session, asset_id)
    stmt = select(Calibration).where(Calibration.asset_id == asset_id)
    keys = [(Calibration.recorded_at, paging.time_key), (Calibration.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: [dump_calibration(r) for r in rows], descending=True)


def list_uses(session, asset_id, query):
    get(session, asset_id)
    stmt = select(AssetUse).where(AssetUse.asset_id == asset_id)
    if query.get("since") is not None:
        stmt = stmt.where(AssetUse.used_at >= query["since"])
    keys = [(AssetUse.used_at, paging.time_key), (AssetUse.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: [use_out.dump(r) for r in rows])


def suspect_uses(session, calibration_id, query):
    """The uses a calibration found out of tolerance puts in doubt, oldest first."""
    calibration = fetch(session, Calibration.id, calibration_id, "calibration")
    if calibration.as_found != "fail":
        return {"items": [], "next_cursor": None}
    stmt = _uses_between(calibration.asset_id, calibration.suspect_since, calibration.recorded_at)
    keys = [(AssetUse.used_at, paging.time_key), (AssetUse.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: [use_out.dump(r) for r in rows])
