"""Gauges and tools in a real resource service: PostgreSQL, RabbitMQ, Redis.

One container serves the module; each test registers assets of its own."""
import datetime as dt
import secrets
import uuid

import eventlet
import pytest
from nameko.containers import get_container_cls
from nameko.testing.services import entrypoint_hook
from sqlalchemy import text

from mes_common import broker, errors
from mes_common.rpc import ClusterRpcProxy
from mes_common.testing.fixtures import service_stack
from resource_service.service import ResourceService

TODAY = dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture(scope="module")
def stack(base_config, service_databases, _engines, cache_prefix):
    with service_stack("gauges", (ResourceService,), base_config=base_config, service_databases=service_databases,
                       engines=_engines, cache_prefix=cache_prefix) as running, \
            ClusterRpcProxy(running.config, timeout=10, context_data={"actor": "metrology"}) as proxy:
        yield {"rpc": proxy.resource_service, "engine": _engines["resource_service"],
               "container": running.containers[-1], "config": running.config}


@pytest.fixture(scope="module")
def rpc(stack):
    return stack["rpc"]


def days(n):
    return (TODAY + dt.timedelta(days=n)).isoformat()


def gauge(rpc, **extra):
    body = {"asset_number": f"TW-{secrets.token_hex(3)}", "kind": "gauge", "type": "torque wrench 2-20 N·m",
            "calibration_interval_days": 180, "last_calibrated_on": days(-100), "next_due_on": days(80), **extra}
    return rpc.create_asset(body)


def use(rpc, *assets, operation=None):
    return rpc.use_assets({"asset_ids": [a["id"] for a in assets], "work_order_number": "WO-000042",
                           "operation_id": operation or str(uuid.uuid4()), "operation_sequence": 20,
                           "used_by": "Olga Operator"})


def event_types(engine, asset_id):
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT type FROM outbox WHERE type LIKE 'mes.resource.asset.%' AND subject = :s ORDER BY id"),
            {"s": str(asset_id)})]


@pytest.mark.parametrize("change, field, error", [
    ({"next_due_on": None}, "next_due_on", errors.ValidationFailed),          # an interval needs the due date
    ({"calibration_interval_days": -1}, "calibration_interval_days", errors.ValidationFailed),
    ({"kind": "spanner"}, "kind", errors.ValidationFailed),
    ({"location_id": str(uuid.uuid4())}, "location_id", errors.RuleViolated),
])
def test_bad_input_is_refused_naming_the_field(rpc, change, field, error):
    with pytest.raises(error) as refused:
        gauge(rpc, **change)
    assert field in refused.value.details


def test_an_overdue_gauge_cannot_be_used_and_the_refusal_names_it_and_its_due_date(rpc, stack):
    good, overdue = gauge(rpc), gauge(rpc, next_due_on=days(-1))
    soon = gauge(rpc, next_due_on=days(5))   # within the 14 days' warning
    assert [(a["status"], a["usable"]) for a in (good, overdue, soon)] == [
        ("in_service", True), ("overdue", False), ("due", True)]
    with pytest.raises(errors.RuleViolated) as refused:
        use(rpc, good, overdue)
    assert refused.value.details == {"asset_ids": [
        f"gauge {overdue['asset_number']} is overdue for calibration since {days(0)} (due {days(-1)})"]}
    assert rpc.list_asset_uses(good["id"])["items"] == []           # nothing recorded
    [recorded] = use(rpc, soon)
    assert (recorded["work_order_number"], recorded["used_by"]) == ("WO-000042", "Olga Operator")
    with pytest.raises(errors.Conflict):
        gauge(rpc, asset_number=good["asset_number"])


def test_a_calibration_interval_in_uses_ends_with_its_last_use(rpc, stack):
    tool = rpc.create_asset({"asset_number": f"CR-{secrets.token_hex(3)}", "kind": "tool", "type": "crimper",
                             "calibration_interval_uses": 2})
    use(rpc, tool)
    use(rpc, tool)
    assert rpc.get_asset(tool["id"])["status"] == "overdue"
    with pytest.raises(errors.RuleViolated) as refused:
        use(rpc, tool)
    assert "2 uses of 2" in refused.value.details["asset_ids"][0]
    assert event_types(stack["engine"], tool["id"]).count("mes.resource.asset.overdue") == 1


def test_a_gauge_found_out_of_tolerance_lists_exactly_the_uses_since_its_last_good_calibration(rpc, stack):
    wrench = gauge(rpc)
    use(rpc, wrench)                                   # before the last good calibration: not suspect
    good = rpc.record_calibration(wrench["id"], {"calibrated_on": days(0), "as_found": "pass", "as_left": "pass",
                                                 "certificate_number": "CAL-1", "lab": "Metrology lab"})
    assert (good["next_due_on"], good["suspect_uses"]) == (days(180), 0)
    suspects = [use(rpc, wrench)[0]["id"] for _ in range(3)]
    failed = rpc.record_calibration(wrench["id"], {"calibrated_on": days(0), "as_found": "fail", "as_left": "pass",
                                                   "certificate_number": "CAL-2", "notes": "read 12 % high"})
    assert failed["suspect_uses"] == 3
    listed = rpc.list_suspect_uses(failed["id"])["items"]
    assert [u["id"] for u in listed] == suspects
    assert rpc.list_suspect_uses(good["id"])["items"] == []
    after = rpc.get_asset(wrench["id"])
    assert (after["status"], after["uses_since_calibration"], after["next_due_on"]) == ("in_service", 0, days(180))
    with stack["engine"].connect() as conn:
        data = conn.execute(text("SELECT envelope->'data' FROM outbox WHERE type = 'mes.resource.asset.out_of_tolerance' "
                                 "AND subject = :s"), {"s": wrench["id"]}).scalar_one()
    assert (data["suspect_uses"], [u["id"] for u in data["uses"]], data["calibration"]["id"]) == (
        3, suspects, failed["id"])
    # left out of tolerance: quarantined, and refused
    rpc.record_calibration(wrench["id"], {"calibrated_on": days(0), "as_found": "fail", "as_left": "fail"})
    assert rpc.get_asset(wrench["id"])["status"] == "quarantined"
    with pytest.raises(errors.RuleViolated) as refused:
        use(rpc, wrench)
    assert "quarantined" in refused.value.details["asset_ids"][0]


def test_people_send_it_out_quarantine_and_retire_it(rpc, stack):
    wrench = gauge(rpc)
    out = rpc.change_asset_status(wrench["id"], {"status": "out_for_calibration", "reason": "annual calibration"})
    assert (out["status"], out["usable"]) == ("out_for_calibration", False)
    back = rpc.change_asset_status(wrench["id"], {"status": "in_service", "reason": "not sent after all"})
    assert back["status"] == "in_service"
    lapsed = gauge(rpc, next_due_on=days(-3))
    rpc.change_asset_status(lapsed["id"], {"status": "quarantined", "reason": "dropped"})
    with pytest.raises(errors.RuleViolated) as refused:   # not current: a calibration puts it back
        rpc.change_asset_status(lapsed["id"], {"status": "in_service", "reason": "looks fine"})
    assert "record a calibration" in refused.value.message
    rpc.change_asset_status(wrench["id"], {"status": "retired", "reason": "worn"})
    with pytest.raises(errors.RuleViolated):
        rpc.change_asset_status(wrench["id"], {"status": "in_service", "reason": "found again"})
    assert event_types(stack["engine"], wrench["id"]) == [
        "mes.resource.asset.created"] + ["mes.resource.asset.status_changed"] * 3


def test_the_state_timer_moves_each_asset_once_even_on_two_instances_at_once(rpc, stack):
    wrench = gauge(rpc, next_due_on=days(30))
    with stack["engine"].begin() as conn:   # the days pass: its due date is now tomorrow, then yesterday
        conn.execute(text("UPDATE asset SET next_due_on = :d WHERE id = :i"), {"d": days(1), "i": wrench["id"]})

    def run_timers():
        second = get_container_cls(stack["config"])(ResourceService,
                                                    broker.as_process(stack["config"], "resource_service"))
        second.start()
        try:
            def tick(container):
                with entrypoint_hook(container, "refresh_asset_states") as refresh:
                    refresh()
            for run in [eventlet.spawn(tick, c) for c in (stack["container"], second)]:
                run.wait()
        finally:
            second.kill()
    run_timers()
    assert rpc.get_asset(wrench["id"])["status"] == "due"
    with stack["engine"].begin() as conn:
        conn.execute(text("UPDATE asset SET next_due_on = :d WHERE id = :i"), {"d": days(-1), "i": wrench["id"]})
    run_timers()
    assert rpc.get_asset(wrench["id"])["status"] == "overdue"
    moves = [t for t in event_types(stack["engine"], wrench["id"]) if t.endswith((".due", ".overdue"))]
    assert moves == ["mes.resource.asset.due", "mes.resource.asset.overdue"]


def test_a_retried_use_with_its_key_counts_once_and_the_key_serves_one_set_of_assets(rpc, stack):
    tool = rpc.create_asset({"asset_number": f"CR-{secrets.token_hex(3)}", "kind": "tool", "type": "crimper",
                             "calibration_interval_uses": 5})
    other = gauge(rpc)
    request = {"asset_ids": [tool["id"]], "operation_id": str(uuid.uuid4()), "used_by": "Olga Operator",
               "idempotency_key": f"wo-start:{uuid.uuid4()}"}
    first = rpc.use_assets(request)
    assert rpc.use_assets(request) == first   # the retry of a start whose answer was lost
    assert rpc.get_asset(tool["id"])["uses_since_calibration"] == 1
    assert len(rpc.list_asset_uses(tool["id"])["items"]) == 1
    with pytest.raises(errors.Conflict) as refused:
        rpc.use_assets({**request, "asset_ids": [other["id"]]})
    assert refused.value.details == {"idempotency_key": ["used for other assets"]}


def test_a_new_interval_moves_the_state_at_once(rpc):
    tool = rpc.create_asset({"asset_number": f"CR-{secrets.token_hex(3)}", "kind": "tool", "type": "crimper",
                             "calibration_interval_uses": 3})
    use(rpc, tool)
    use(rpc, tool)
    shorter = rpc.update_asset(tool["id"], {"calibration_interval_uses": 2})
    assert (shorter["status"], shorter["usable"]) == ("overdue", False)
    longer = rpc.update_asset(tool["id"], {"calibration_interval_uses": 10})
    assert (longer["status"], longer["usable"], longer["problem"]) == ("in_service", True, None)
    use(rpc, tool)   # usable again: the stored state does not hold it back
    wrench = gauge(rpc, next_due_on=days(10), due_warning_days=14)
    assert wrench["status"] == "due"
    assert rpc.update_asset(wrench["id"], {"due_warning_days": 5})["status"] == "in_service"


def test_a_calibration_older_than_the_last_one_is_refused(rpc):
    wrench = gauge(rpc)
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.record_calibration(wrench["id"], {"calibrated_on": days(-101), "as_found": "pass", "as_left": "pass"})
    assert list(refused.value.details) == ["calibrated_on"]
    assert rpc.get_asset(wrench["id"])["next_due_on"] == days(80)
