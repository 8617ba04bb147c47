"""The reporting model in a real container: events in through the broker (one
stream per source, in batches), KPIs, Paretos, snapshots, alerts and files
out; order- and duplicate-proof, rebuilt from event logs."""
import base64
import datetime as dt
import io
import random
import uuid
from decimal import Decimal
from fractions import Fraction

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from mes_common import errors
from mes_common.events.envelope import CloudEvent
from mes_common.testing.fixtures import wait_until
from mes_common.testing.records import EventLog, envelopes
from reporting_service import domain, projections, rebuild, store
from reporting_service.testing import DAY, Story, at, canonical_dump, hand_worked_shift, iso
from work_order_service.testing import publish

PUBLISHED = []


def send(stack, events):
    for envelope in events:
        publish(stack.config, envelope["source"], envelope)
        PUBLISHED.append(envelope)


def day_query(ids, **extra):
    return {"from": iso(at("00:00")), "to": iso(at("00:00", DAY + dt.timedelta(days=1))), "node_id": ids["wc"],
            **extra}


@pytest.fixture(scope="module")
def shift(stack):
    s, ids = hand_worked_shift(uuid.uuid4().hex[:6].upper())
    events = list(s.events)
    random.Random(3).shuffle(events)   # the owners' streams interleave in any order
    send(stack, events)
    rpc = stack.cluster.reporting_service

    def landed():
        try:
            total = rpc.get_kpis(day_query(ids))["total"]["components"]
        except errors.NotFound:   # the work center's event has not landed yet
            return False
        return total["PQ"] == "380" and total["PBT"] == 27000 and total["NCR"] == 1 and total["IP"] == 3
    wait_until(landed, timeout=30, message="the shift's events applied")
    return s, ids


def test_the_hand_worked_shift_through_the_broker_gives_every_kpi_exactly(rpc, shift):
    _, ids = shift
    answer = rpc.get_kpis(day_query(ids))
    c, kpis = answer["total"]["components"], answer["total"]["kpis"]
    assert (c["PBT"], c["APT"], c["ADET"], c["AUBT"], c["AUST"]) == (27000, 24300, 2700, 28800, 900)
    assert (c["PQ"], c["GQ"], c["SQ"], c["RQ"], c["PRI_PQ"]) == ("380", "361", "15", "4", "20520")
    assert (c["FE"], c["TBF"], c["TTR"], c["IP"], c["GP"], c["WO_DUE"], c["WO_ON_TIME"]) == (
        2, 435 * 60, 45 * 60, 3, 2, 2, 1)
    availability, effectiveness, quality = Fraction(405, 450), Fraction(9, 10) * 380 / 405, Fraction(361, 380)
    expected = {"availability": availability, "effectiveness": effectiveness, "quality_ratio": quality,
                "oee_index": availability * effectiveness * quality, "first_pass_yield": Fraction(2, 3),
                "scrap_ratio": Fraction(15, 380), "rework_ratio": Fraction(4, 380),
                "throughput_rate": Fraction(380 * 3600, 480 * 60), "setup_rate": Fraction(15, 420),
                "allocation_efficiency": Fraction(480, 450), "mtbf": Fraction(435, 2), "mttr": Fraction(45, 2),
                "ncr_rate": Fraction(1000, 380), "schedule_adherence": Fraction(1, 2)}
    assert set(kpis) == set(expected)
    for key, value in expected.items():
        assert Fraction(kpis[key]["exact"]) == value, key
        assert Decimal(kpis[key]["value"]) == (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
            Decimal("1e-10")), key
    assert (kpis["oee_index"]["display"], kpis["oee_index"]["band"]) == ("72.2 %", "amber")
    assert kpis["mttr"]["display"] == "22.5 min" and kpis["ncr_rate"]["display"] == "2.6 ‰"


def test_by_shift_area_and_part(rpc, shift):
    _, ids = shift
    shifts = rpc.get_kpis(day_query(ids, period="shift", kpis=["availability"]))["rows"]
    early = next(r for r in shifts if r["label"].endswith("early"))
    assert (early["components"]["PBT"], early["kpis"]["availability"]["exact"]) == (27000, "9/10")
    assert early["from"].endswith("06:00:00+00:00") and early["to"].endswith("14:00:00+00:00")
    area = rpc.get_kpis(day_query(ids, node_id=ids["site"], by="area", kpis=["oee_index"]))
    assert [(r["member"]["id"], r["kpis"]["oee_index"]["exact"]) for r in area["rows"]] == [(ids["area"], "361/500")]
    part = rpc.get_kpis(day_query(ids, part_id=ids["part"], kpis=["quality_ratio", "availability"]))["total"]
    assert part["kpis"]["quality_ratio"]["exact"] == "19/20" and part["kpis"]["availability"]["value"] is None
    hourly = rpc.get_kpis(day_query(ids, period="hour", kpis=["availability"]))["rows"]
    assert sum(r["components"]["APT"] for r in hourly) == 24300
    # 05:00 (setup) to 13:00, and 14:00 (the last report); what availability does not use is not read
    assert [r["label"][-5:] for r in hourly] == [f"{h:02d}:00" for h in range(5, 15)]
    assert set(hourly[0]["components"]) == {"PBT", "APT", "AUBT", "AUST", "ADET"}


def test_paretos_of_downtime_scrap_and_defects(rpc, shift):
    _, ids = shift
    downtime = rpc.get_pareto("downtime", day_query(ids))
    assert [(i["key"], i["value"], i["cumulative"]) for i in downtime["items"]] == [
        ("JAM", "30", "0.6666666667"), ("TOOL", "15", "1.0000000000")]
    scrap = rpc.get_pareto("scrap", day_query(ids))
    assert [(i["key"], i["value"]) for i in scrap["items"]] == [("DIM", "9"), ("BURR", "6")]
    assert [(i["key"], i["value"]) for i in rpc.get_pareto("ncr", day_query(ids))["items"]] == [("DIM-OOT", "1")]
    chart = rpc.get_pareto_svg("downtime", day_query(ids))
    assert chart.startswith("<svg") and chart.count('class="bar"') == 2


def test_the_period_files_hold_the_json_numbers(rpc, shift):
    _, ids = shift
    report = rpc.get_period_report(day_query(ids, period="hour"))
    workbook = load_workbook(io.BytesIO(base64.b64decode(
        rpc.get_period_report(day_query(ids, period="hour"), "xlsx")["content_base64"])))
    summary = [[c.value for c in row] for row in workbook["Summary"].iter_rows()]
    for key, value in report["total"]["kpis"].items():
        name = report["definitions"][key]["name"]
        row = next(r for r in summary if r[0] == name)
        cell = next(v for v in row[1:] if isinstance(v, float))
        assert cell == pytest.approx(float(Decimal(value["value"])), abs=1e-12), key
    page = rpc.get_period_report(day_query(ids, period="hour"), "html")["content"]
    for key, value in report["total"]["kpis"].items():
        assert f'data-kpi="{key}" data-value="{value["value"]}"' in page or \
               f'data-value="{value["value"]}" data-kpi="{key}"' in page, key
    assert "<svg" in page and "https://" not in page.replace("http://www.w3.org/2000/svg", "")
    csv_text = rpc.get_period_report(day_query(ids, period="hour"), "csv")["content"]
    assert report["total"]["kpis"]["oee_index"]["value"] in csv_text


def test_a_snapshot_keeps_the_definition_version_it_was_computed_with(rpc, shift):
    _, ids = shift
    snapshot = rpc.take_snapshot(day_query(ids, title="Last Tuesday"))
    before = rpc.get_definition("oee_index")
    changed = rpc.put_definition("oee_index", {"name": "OEE", "formula": "oee_index", "target": "0.70",
                                               "bands": [{"colour": "red", "below": "0.5"},
                                                         {"colour": "green", "from": "0.7"}],
                                               "decimals": 2, "version": before["version"]})
    assert changed["version"] == before["version"] + 1
    again = rpc.get_snapshot(snapshot["id"])
    assert again["definition_versions"]["oee_index"] == before["version"]
    assert again["report"]["definitions"]["oee_index"]["version"] == before["version"]
    assert again["report"]["total"]["kpis"]["oee_index"]["band"] == "amber"
    now = rpc.get_kpis(day_query(ids, kpis=["oee_index"]))["total"]["kpis"]["oee_index"]
    assert (now["display"], now["band"]) == ("72.20 %", "green")
    assert rpc.get_definition("oee_index", {"version": before["version"]})["target"] == before["target"]
    with pytest.raises(errors.Conflict):
        rpc.put_definition("oee_index", {"name": "OEE", "formula": "oee_index", "version": before["version"]})


def test_bad_queries_name_the_field(rpc, shift):
    _, ids = shift
    widened = rpc.get_kpis({**day_query(ids), "from": iso(at("06:30")), "to": iso(at("13:10")),
                            "kpis": ["availability"]})
    assert (widened["from"], widened["to"]) == (iso(at("06:00"))[:19] + "+00:00", iso(at("14:00"))[:19] + "+00:00")
    with pytest.raises(errors.RuleViolated) as raised:
        rpc.get_kpis({**day_query(ids), "to": iso(at("00:00", DAY - dt.timedelta(days=1)))})
    assert "to" in raised.value.details
    with pytest.raises(errors.ValidationFailed) as raised:
        rpc.get_kpis({**day_query(ids), "period": "fortnight"})
    assert "period" in raised.value.details
    with pytest.raises(errors.NotFound):
        rpc.get_kpis({**day_query(ids), "node_id": str(uuid.uuid4())})
    with pytest.raises(errors.RuleViolated):
        rpc.get_kpis({**day_query(ids), "timezone": "Mars/Olympus"})
    with pytest.raises(errors.ValidationFailed):
        rpc.get_pareto("weather", day_query(ids))


# ------------------------------------------------------------------ order, duplicates, rebuild

def _replay_into(db, generation, events, batch_sizes, now):
    sessions = sessionmaker(db)
    with sessions() as session, session.begin():
        store.clear(session, generation)
    start = 0
    while start < len(events):
        size = batch_sizes.pop(0) if batch_sizes else 5
        with sessions() as session, session.begin():
            store.apply(session, generation, [projections.project(CloudEvent.from_dict(e))
                                              for e in events[start:start + size]], now=now)
        start += size
    return canonical_dump(db, generation.schema)


def test_shuffled_and_duplicated_streams_give_the_same_facts_and_buckets(db):
    s, _ = hand_worked_shift("ORDER")
    now = at("00:00", DAY + dt.timedelta(days=2))
    with sessionmaker(db)() as session:
        scratch = store.active(session).other()
    in_order = _replay_into(db, scratch, list(s.events), [len(s.events)], now)
    assert len(in_order["bucket"]) >= 9 and len(in_order["quantity_report"]) == 3
    rng = random.Random(11)
    for _ in range(3):
        events = s.events + rng.sample(s.events, len(s.events) // 3)   # a third delivered twice
        rng.shuffle(events)
        assert _replay_into(db, scratch, events, [rng.randint(1, 6) for _ in range(40)], now) == in_order


def test_a_rebuild_from_the_event_logs_gives_the_live_model(stack, db, rpc, shift):
    wait_until(lambda: rpc.get_model_status()["facts"]["ncr"] >= 1, timeout=10, message="the live model")
    with sessionmaker(db)() as session, session.begin():   # the clock, as the rebuild's end will see it
        store.tick(session, store.active(session))
    live = canonical_dump(db)
    sources = {}
    for envelope in PUBLISHED:
        sources.setdefault(envelope["source"], []).append(envelope)
    before = rpc.get_model_status()["active"]
    done = rebuild.rebuild(sessionmaker(db), {name: EventLog(events) for name, events in sources.items()},
                           sources=sorted(sources))
    assert done["events"] == len(PUBLISHED) and not done["skipped"]
    after = rpc.get_model_status()
    assert after["active"] == done["generation"] != before and after["rebuilding"] is None
    rebuilt = canonical_dump(db)
    for table in live:   # the open intervals of other tests' stories grew with the clock: compare what is closed
        if table not in ("bucket", "bucket_day"):
            assert rebuilt[table] == live[table], table
    cutoff = at("00:00", DAY + dt.timedelta(days=1))
    closed = [r for r in live["bucket"] if r[1] < cutoff]   # (work_center_id, start, shift, …)
    assert closed and all(r in rebuilt["bucket"] for r in closed)


# ------------------------------------------------------------------ alerts

def _now_story(tag):
    """A work center of today with quality reports, for the alert test."""
    s = Story(tag)
    ids = {k: str(uuid.uuid4()) for k in ("wc", "operation", "wo", "part")}
    now = dt.datetime.now(dt.timezone.utc)
    node = {"id": ids["wc"], "level": "work_center", "code": f"WC-{tag}", "name": "Alert WC", "parent_id": None,
            "created_at": iso(now - dt.timedelta(hours=3))}
    s.emit("resource_service", "mes.resource.work_center.created", ids["wc"], node, now - dt.timedelta(hours=3))
    return s, ids, now


def _quality_report(s, ids, good, scrap, when):
    op = {"id": ids["operation"], "work_center_id": ids["wc"], "part_id": ids["part"], "part_number": "P",
          "work_order_id": ids["wo"], "run_time": 1.0, "status": "running", "at": iso(when),
          "report": {"id": str(uuid.uuid4()), "good": good, "scrap": scrap, "rework": 0, "reason_codes": ["DIM"]}}
    return s.emit("work_order_service", "mes.work_order.operation.completed", ids["operation"], op, when)


def test_an_alert_raises_once_and_clears_once_with_hysteresis(stack, db, rpc):
    tag = uuid.uuid4().hex[:6].upper()
    s, ids, now = _now_story(tag)
    send(stack, s.events)
    wait_until(lambda: rpc.get_model_status()["facts"]["equipment"] >= 1 and _known(db, ids["wc"]), timeout=10,
               message="the work center")
    rule = rpc.create_alert_rule({"name": f"quality {tag}", "kpi": "quality_ratio", "node_id": ids["wc"],
                                  "window": "hours", "hours": 4, "condition": "below", "threshold": "0.90",
                                  "hysteresis": "0.05"})
    # the ratio over the window: 50 % (raise), 90 % and 92.3 % (past the threshold, within the hysteresis),
    # 83.9 % (still raised: no second alert), 95.03 % (clear), 93.8 % (above the threshold: no new alert)
    good_total = produced = 0
    for good, scrap in ((50, 50), (850, 50), (300, 0), (0, 130), (3200, 0), (0, 60)):
        send(stack, [_quality_report(s, ids, good, scrap, now - dt.timedelta(minutes=30))])
        good_total, produced = good_total + good, produced + good + scrap
        expected = str(domain.decimal_of(Fraction(good_total, produced)))
        wait_until(lambda: _rule(rpc, rule["id"])["last_value"] == expected, timeout=15,
                   message=f"the rule evaluated at {expected}")
    alerts = rpc.list_alerts({"rule_id": rule["id"]})["items"]
    assert [(a["status"], a["raised_value"], a["cleared_value"]) for a in alerts] == [
        ("cleared", "0.5000000000", "0.9503239741")]
    raised = envelopes(db, "mes.reporting.alert.raised", alerts[0]["id"])
    cleared = envelopes(db, "mes.reporting.alert.cleared", alerts[0]["id"])
    assert len(raised) == 1 and len(cleared) == 1
    acknowledged = rpc.acknowledge_alert(alerts[0]["id"], {"note": "tool changed"})
    assert acknowledged["acknowledged_by"] == "alice"
    with pytest.raises(errors.Conflict):
        rpc.acknowledge_alert(alerts[0]["id"], {})


def _rule(rpc, rule_id):
    return next(r for r in rpc.list_alert_rules()["items"] if r["id"] == rule_id)


def _known(db, wc):
    with db.connect() as conn:
        schema = conn.execute(text("SELECT coalesce((SELECT active FROM model_state), 'report_a')")).scalar()
        return conn.execute(text(f"SELECT count(*) FROM {schema}.equipment WHERE id = :id"), {"id": wc}).scalar()
