"""Alert rules and alerts: a KPI over a moving window against a threshold,
evaluated as facts arrive (and as time passes), raised and cleared with
hysteresis (domain.alert_transition), announced by events through the outbox."""
import datetime as dt
import logging
import uuid

from sqlalchemy import select

from mes_common import errors, paging
from mes_common.db import fetch, utcnow
from mes_common.rules import check_version
from reporting_service import definitions, domain, queries, store
from reporting_service.contract import events
from reporting_service.contract.schemas import AlertOut, AlertRuleOut
from reporting_service.models import Alert, AlertRule

log = logging.getLogger(__name__)
rule_out, alert_out = AlertRuleOut(), AlertOut()
RULE, ALERT = "alert_rule", "alert"


def create_rule(tx, caller, data):
    session = tx.session
    if data["kpi"] not in definitions.current(session):
        raise errors.RuleViolated(f"kpi: no definition {data['kpi']}", {"kpi": ["a KPI definition key"]})
    if data["node_id"] is not None:
        _scope(session, data["node_id"])
    rule = AlertRule(id=uuid.uuid4(), raised=False, created_by=caller.actor, **data)
    session.add(rule)
    tx.flush()
    out = rule_out.dump(rule)
    tx.emit(events.ALERT_RULE("created"), rule.id, out)
    tx.audit("create", RULE, rule.id, new=out)
    return rule


def update_rule(tx, caller, rule_id, changes):
    rule = fetch(tx.session, AlertRule.id, rule_id, "alert rule", lock=True)
    check_version(changes.pop("version", None), rule.version, f"alert rule {rule.name}")
    old = rule_out.dump(rule)
    for key, value in changes.items():
        setattr(rule, key, value)
    tx.flush()
    out = rule_out.dump(rule)
    tx.emit(events.ALERT_RULE("updated"), rule.id, {**out, "changed": sorted(changes)})
    tx.audit("update", RULE, rule.id, old=old, new=out)
    return rule


def _scope(session, node_id):
    tree = store.Tree.load(session, store.active(session).schema)
    if str(node_id) not in tree.nodes:
        raise errors.RuleViolated(f"node_id: equipment node {node_id} is not known to reporting",
                                  {"node_id": ["a work center, area, site or enterprise"]})


def list_rules(session):
    return [rule_out.dump(r) for r in session.execute(select(AlertRule).order_by(AlertRule.name)).scalars()]


def window(session, rule, now):
    """[start, end) and, for a shift window, the shift's label, of the rule's window at `now`."""
    hour = domain.floor_hour(now)
    if rule.window == "hours":
        return hour - domain.HOUR * (rule.hours - 1), hour + domain.HOUR, None
    ctx = queries.Context(session, {"start": hour, "end": hour + domain.HOUR, "node_id": rule.node_id})
    if rule.window == "day":
        return domain.period_start(now, "day", ctx.zone), hour + domain.HOUR, None
    latest = ctx.rows('SELECT label, start, "end" FROM {s}.shift_instance WHERE work_center_id = '
                      "ANY(CAST(:wcs AS uuid[])) AND start <= :now ORDER BY start DESC LIMIT 1",
                      wcs=ctx.work_centers, now=now)
    if not latest:
        return None
    label, start, end = latest[0]
    return domain.floor_hour(start), min(domain.floor_hour(end - dt.timedelta(microseconds=1)), hour) + domain.HOUR, \
        label


def value(session, rule, bounds, current):
    """The KPI's exact value over the window (None: no denominator yet)."""
    start, end, label = bounds
    query = {"start": start, "end": end, "node_id": rule.node_id, "part_id": None, "timezone": None,
             "period": "shift" if label else "none", "by": None, "kpis": [rule.kpi]}
    report = queries.kpi_report(session, query, current)
    row = next((r for r in report["rows"] if r["label"] == label), None) if label else report["total"]
    exact = row and row["kpis"][rule.kpi]["exact"]
    return domain.fraction(exact) if exact is not None else None


def evaluate(tx, work_centers=None, now=None):
    """Evaluate the active rules whose scope holds one of `work_centers` (all: None)."""
    session = tx.session
    now = now or utcnow()
    rules = session.execute(select(AlertRule).where(AlertRule.active).with_for_update(skip_locked=True)).scalars().all()
    if not rules:
        return []
    tree = store.Tree.load(session, store.active(session).schema)
    current = definitions.current(session)
    changed = []
    for rule in rules:
        if work_centers is not None and rule.node_id is not None and not (
                set(work_centers) & set(tree.work_centers_under(str(rule.node_id)))):
            continue
        if rule.kpi not in current:
            continue
        try:   # a rule that cannot be evaluated is logged, never a reason to refuse the facts
            with session.begin_nested():
                changed += _evaluate(tx, rule, current, now)
        except Exception:  # noqa: BLE001
            log.exception("alert rule %s (%s) could not be evaluated", rule.id, rule.name)
    return changed


def _evaluate(tx, rule, current, now):
    bounds = window(tx.session, rule, now)
    if bounds is None:
        return []
    exact = value(tx.session, rule, bounds, current)
    rule.last_value = str(domain.decimal_of(exact)) if exact is not None else None
    rule.evaluated_at = now
    move = domain.alert_transition(rule.raised, exact, rule.condition, rule.threshold, rule.hysteresis)
    if move == "raise":
        return [_raise(tx, rule, rule.last_value, bounds, now)]
    if move == "clear":
        return [_clear(tx, rule, rule.last_value, now)]
    return []


def _dump(alert, rule):
    return alert_out.dump({**{c: getattr(alert, c) for c in (
        "id", "rule_id", "status", "raised_at", "raised_value", "cleared_at", "cleared_value", "window_start",
        "window_end", "acknowledged_by", "acknowledged_at", "note")}, "rule_name": rule.name, "kpi": rule.kpi,
        "node_id": rule.node_id, "condition": rule.condition, "threshold": rule.threshold})


def _raise(tx, rule, shown, bounds, now):
    alert = Alert(id=uuid.uuid4(), rule_id=rule.id, status="raised", raised_at=now, raised_value=shown,
                  window_start=bounds[0], window_end=bounds[1])
    rule.raised = True
    tx.session.add(alert)
    tx.flush()
    out = _dump(alert, rule)
    tx.emit(events.ALERT("raised"), alert.id, out, actor="reporting_service")
    tx.audit("raise", ALERT, alert.id, new=out, actor="reporting_service")
    return out


def _clear(tx, rule, shown, now):
    rule.raised = False
    alert = tx.session.execute(select(Alert).where(Alert.rule_id == rule.id, Alert.status == "raised")
                               .with_for_update()).scalars().first()
    if alert is None:
        return None
    alert.status, alert.cleared_at, alert.cleared_value = "cleared", now, shown
    tx.flush()
    out = _dump(alert, rule)
    tx.emit(events.ALERT("cleared"), alert.id, out, actor="reporting_service")
    tx.audit("clear", ALERT, alert.id, new=out, actor="reporting_service")
    return out


def acknowledge(tx, caller, alert_id, data):
    alert = fetch(tx.session, Alert.id, alert_id, "alert", lock=True)
    if alert.acknowledged_at is not None:
        raise errors.Conflict(f"alert {alert_id} was acknowledged by {alert.acknowledged_by}",
                              {"acknowledged_by": alert.acknowledged_by})
    alert.acknowledged_by, alert.acknowledged_at, alert.note = caller.actor, utcnow(), data["note"]
    tx.flush()
    out = _dump(alert, tx.session.get(AlertRule, alert.rule_id))
    tx.emit(events.ALERT("acknowledged"), alert.id, out)
    tx.audit("acknowledge", ALERT, alert.id, new=out, reason=data["note"])
    return out


def get(session, alert_id):
    alert = fetch(session, Alert.id, alert_id, "alert")
    return _dump(alert, session.get(AlertRule, alert.rule_id))


def list_page(session, query):
    stmt = select(Alert, AlertRule).join(AlertRule, AlertRule.id == Alert.rule_id)
    if query.get("status"):
        stmt = stmt.where(Alert.status == query["status"])
    if query.get("rule_id"):
        stmt = stmt.where(Alert.rule_id == query["rule_id"])
    keys = [(Alert.raised_at, paging.time_key, lambda row: row[0].raised_at),
            (Alert.id, paging.uuid_key, lambda row: row[0].id)]
    return paging.page(session, stmt, keys, query, lambda rows: [_dump(a, r) for a, r in rows], descending=True,
                       scalars=False)
