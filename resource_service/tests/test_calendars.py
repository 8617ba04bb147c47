"""Shift calendars and equipment states in a real resource service: PostgreSQL,
RabbitMQ, Redis. One container serves the module; each test builds a plant
of its own."""
import datetime as dt
import secrets

import pytest
from sqlalchemy import text

from mes_common import errors
from mes_common.rpc import ClusterRpcProxy
from mes_common.testing.fixtures import service_stack
from resource_service.service import ResourceService

WEEKDAYS = [0, 1, 2, 3, 4]
TWO_SHIFTS = [{"weekdays": WEEKDAYS, "name": "early", "starts": "06:00", "ends": "14:00",
               "breaks": [{"starts": "10:00", "ends": "10:30"}]},
              {"weekdays": WEEKDAYS, "name": "late", "starts": "14:00", "ends": "22:00",
               "breaks": [{"starts": "18:00", "ends": "18:30"}]}]
WEEK = {"from": "2026-12-06T23:00:00Z", "to": "2026-12-13T23:00:00Z"}   # Monday 00:00 .. Monday 00:00, Paris


@pytest.fixture(scope="module")
def rpc(base_config, service_databases, _engines, cache_prefix):
    with service_stack("calendars", (ResourceService,), base_config=base_config, service_databases=service_databases,
                       engines=_engines, cache_prefix=cache_prefix) as running, \
            ClusterRpcProxy(running.config, timeout=10, context_data={"actor": "planner"}) as proxy:
        yield proxy.resource_service


@pytest.fixture
def plant(rpc):
    ent = rpc.create_node({"level": "enterprise", "code": f"E-{secrets.token_hex(3)}", "name": "Acme"})
    site = rpc.create_node({"level": "site", "code": "TLS", "name": "Toulouse", "parent_id": ent["id"]})
    area = rpc.create_node({"level": "area", "code": "MACH", "name": "Machining", "parent_id": site["id"]})
    wc = rpc.create_node({"level": "work_center", "code": "WC-10", "name": "Mill", "parent_id": area["id"]})
    other = rpc.create_node({"level": "work_center", "code": "WC-20", "name": "Bench", "parent_id": area["id"]})
    machine = rpc.create_node({"level": "work_unit", "code": "M-1", "name": "DMU 50", "parent_id": wc["id"]})
    return {"site": site, "wc": wc, "other": other, "machine": machine}


def test_planned_time_of_a_week_with_breaks_a_holiday_and_an_override_equals_a_hand_computation(rpc, plant):
    rpc.set_calendar(plant["site"]["id"], {"name": "Toulouse two shifts", "timezone": "Europe/Paris",
                                           "shifts": TWO_SHIFTS})
    rpc.add_calendar_exception(plant["site"]["id"], {"kind": "holiday", "name": "Plant holiday",
                                                     "date": "2026-12-09"})   # Wednesday, for the whole site
    rpc.add_calendar_exception(plant["wc"]["id"], {"kind": "shutdown", "name": "Spindle change",
                                                   "starts_at": "2026-12-11T12:00:00Z",
                                                   "ends_at": "2026-12-11T14:00:00Z"})
    # WC-20 works its own calendar: the early shift only, no break
    rpc.set_calendar(plant["other"]["id"], {"name": "Bench", "timezone": "Europe/Paris", "shifts": [
        {"weekdays": WEEKDAYS, "name": "early", "starts": "06:00", "ends": "14:00"}]})
    mill = rpc.get_planned_time(plant["wc"]["id"], WEEK)
    bench = rpc.get_planned_time(plant["other"]["id"], WEEK)
    # by hand: 2 × 7.5 h × 5 days = 75 h - Wednesday 15 h - shutdown 2 h = 58 h; bench: 8 h × 4 days = 32 h
    assert (mill["seconds"], mill["minutes"], mill["calendar_node_id"]) == (58 * 3600, 58 * 60, plant["site"]["id"])
    assert (bench["seconds"], bench["calendar_node_id"]) == (32 * 3600, plant["other"]["id"])
    assert mill["intervals"][0] == {"start": "2026-12-07T05:00:00+00:00", "end": "2026-12-07T09:00:00+00:00"}


def test_the_forward_plan_skips_non_working_time(rpc, plant):
    rpc.set_calendar(plant["site"]["id"], {"name": "Toulouse", "timezone": "Europe/Paris", "shifts": TWO_SHIFTS})
    # Friday 21:00 local: 90 minutes at WC-10 (60 tonight, 30 on Monday), then 30 minutes at WC-20
    plan = rpc.plan_operations({"start_at": "2026-12-11T20:00:00Z", "operations": [
        {"work_center_id": plant["wc"]["id"], "minutes": 90}, {"work_center_id": plant["other"]["id"], "minutes": 30}]})
    assert plan == [{"start": "2026-12-11T20:00:00+00:00", "end": "2026-12-14T05:30:00+00:00"},
                    {"start": "2026-12-14T05:30:00+00:00", "end": "2026-12-14T06:00:00+00:00"}]


@pytest.mark.parametrize("shifts, timezone, field", [
    ([{"weekdays": [0], "name": "a", "starts": "06:00", "ends": "14:00"},
      {"weekdays": [0], "name": "b", "starts": "13:00", "ends": "20:00"}], "Europe/Paris", "shifts.1"),
    ([{"weekdays": [0], "name": "a", "starts": "06:00", "ends": "14:00",
       "breaks": [{"starts": "15:00", "ends": "15:30"}]}], "Europe/Paris", "shifts.0.breaks.0"),
    ([], "Mars/Olympus_Mons", "timezone"),
])
def test_bad_calendars_are_refused_naming_the_field(rpc, plant, shifts, timezone, field):
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.set_calendar(plant["site"]["id"], {"name": "x", "timezone": timezone, "shifts": shifts})
    assert field in refused.value.details


def test_a_calendar_change_is_versioned_and_announced(rpc, plant, _engines):
    first = rpc.set_calendar(plant["site"]["id"], {"name": "one", "timezone": "Europe/Paris", "shifts": TWO_SHIFTS})
    second = rpc.set_calendar(plant["site"]["id"], {"name": "two", "timezone": "Europe/Paris",
                                                    "shifts": TWO_SHIFTS[:1], "version": first["version"]})
    assert (second["version"], len(second["shifts"])) == (first["version"] + 1, 5)
    with pytest.raises(errors.Conflict):
        rpc.set_calendar(plant["site"]["id"], {"name": "stale", "timezone": "UTC", "shifts": [], "version": 1})
    with _engines["resource_service"].connect() as conn:
        types = conn.execute(text("SELECT type FROM outbox WHERE subject = :s AND type LIKE 'mes.resource.calendar.%'"),
                             {"s": plant["site"]["id"]}).scalars().all()
    assert types == ["mes.resource.calendar.changed"] * 2


def test_equipment_states_follow_each_other_and_each_change_is_announced(rpc, plant, _engines):
    machine = plant["machine"]["id"]
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    at = lambda minutes: (now - dt.timedelta(minutes=minutes)).isoformat()  # noqa: E731
    rpc.report_equipment_state(machine, {"state": "setup", "at": at(60)})
    rpc.report_equipment_state(machine, {"state": "running", "at": at(45)})
    with pytest.raises(errors.RuleViolated) as no_reason:
        rpc.report_equipment_state(machine, {"state": "down", "at": at(20)})
    assert "reason" in no_reason.value.details
    rpc.report_equipment_state(machine, {"state": "down", "reason": "spindle alarm", "at": at(20)})
    with pytest.raises(errors.RuleViolated) as early:
        rpc.report_equipment_state(machine, {"state": "idle", "at": at(30)})   # before the open state began
    assert "at" in early.value.details
    states = rpc.list_equipment_states(machine)["items"]
    assert [(s["state"], s["started_at"], s["ended_at"]) for s in states] == [
        ("setup", at(60), at(45)), ("running", at(45), at(20)), ("down", at(20), None)]
    with _engines["resource_service"].connect() as conn:
        data = conn.execute(text("SELECT envelope->'data' FROM outbox WHERE subject = :s "
                                 "AND type = 'mes.resource.equipment_state.changed' ORDER BY id"),
                            {"s": machine}).scalars().all()
    assert [(d["state"], d["previous"] and d["previous"]["state"]) for d in data] == [
        ("setup", None), ("running", "setup"), ("down", "running")]
    with pytest.raises(errors.RuleViolated):
        rpc.report_equipment_state(plant["site"]["id"], {"state": "running"})   # a site has no state
