"""Helpers other packages' tests (and the benchmarks) may use: the hand-worked
shift of ISO 22400 as the owners' events, and a canonical dump of a
generation of the model.

The shift (a Tuesday a week or two ago, UTC): planned 06:00–14:00 with a break
10:00–10:30 (PBT 450 min). One operation at 0.9 min a unit runs 06:00–10:00
and 10:30–14:00 (paused for the break); downtime 07:00–07:30 (JAM) and
12:00–12:15 (TOOL) while it runs (APT 405 min); three reports make 380 units,
361 good, 15 scrap, 4 rework. The equipment was set up 05:45–06:00 and went
down twice (the downtime); two inspections passed and one failed; one NCR was
raised; two work orders were due that day and one was completed in time.
"""
import datetime as dt
import uuid

from sqlalchemy import text

from mes_common.events.envelope import CloudEvent

def _last_tuesday(before=7):
    day = dt.date.today() - dt.timedelta(days=before)
    return day - dt.timedelta(days=(day.weekday() - 1) % 7)


DAY = _last_tuesday()   # recent: live intake computes the hours of the last 31 days a late event touches


def at(hh_mm, day=DAY):
    hour, minute = (int(x) for x in hh_mm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.timezone.utc)


def iso(instant):
    return instant.isoformat(timespec="microseconds")


class Story:
    """Envelopes as the owners' outboxes would hold them, each at its own time."""

    def __init__(self, tag):
        self.tag, self.events = tag, []

    def emit(self, source, type_, subject, data, when):
        event = CloudEvent.new(type_, source, str(subject), data, actor="alice")
        envelope = {**event.to_dict(), "time": iso(when)}
        self.events.append(envelope)
        return envelope


def _node(node_id, level, code, parent, created):
    return {"id": str(node_id), "level": level, "code": code, "name": code.title(), "description": None,
            "parent_id": str(parent) if parent else None, "depth": 0, "active": True, "version": 1,
            "created_at": iso(created), "updated_at": iso(created)}


def _operation(ids, status, when, tag, report=None):
    return {"id": ids["operation"], "sequence": 10, "name": "Mill", "work_center_id": ids["wc"],
            "work_center_code": f"WC-{tag}", "status": status, "run_time": 0.9, "setup_time": 15.0,
            "work_order_id": ids["wo"], "work_order_number": f"WO-{tag}", "part_id": ids["part"],
            "part_number": f"P-{tag}", "at": iso(when), **({"report": report} if report is not None else {})}


def _order(ids, key, status, completed=None):
    operation = ids["operation"] if key == "wo" else ids["operation2"]
    return {"id": ids[key], "number": f"{key.upper()}-{ids['tag']}", "part_id": ids["part"],
            "due_date": DAY.isoformat(),
            "part_number": f"P-{ids['tag']}", "status": status, "completed_at": iso(completed) if completed else None,
            "quantity": 400.0, "operations": [{"id": operation, "sequence": 10, "work_center_id": ids["wc"],
                                                "run_time": 0.9, "setup_time": 15.0, "status": "ready"}]}


def hand_worked_shift(tag):
    """(Story, ids) of the shift in the module's docstring."""
    s = Story(tag)
    ids = {k: str(uuid.uuid4()) for k in ("site", "area", "wc", "operation", "operation2", "wo", "wo2",
                                                    "part", "ncr")}
    ids["tag"] = tag
    created = at("00:00", DAY - dt.timedelta(days=20))
    s.emit("resource_service", "mes.resource.site.created", ids["site"],
           _node(ids["site"], "site", f"SITE-{tag}", None, created), created)
    s.emit("resource_service", "mes.resource.area.created", ids["area"],
           _node(ids["area"], "area", f"AREA-{tag}", ids["site"], created), created)
    s.emit("resource_service", "mes.resource.work_center.created", ids["wc"],
           _node(ids["wc"], "work_center", f"WC-{tag}", ids["area"], created), created)
    calendar_set = at("00:00", DAY - dt.timedelta(days=1))
    s.emit("resource_service", "mes.resource.calendar.changed", ids["site"], {
        "node_id": ids["site"], "name": "one shift", "timezone": "UTC", "version": 1, "updated_at": iso(calendar_set),
        "shifts": [{"weekday": d, "name": "early", "starts": "06:00", "ends": "14:00",
                    "breaks": [{"starts": "10:00", "ends": "10:30"}]} for d in range(5)]}, calendar_set)
    for key in ("wo", "wo2"):
        s.emit("work_order_service", "mes.work_order.work_order.released", ids[key], _order(ids, key, "released"),
               at("05:00"))
    previous = None
    for state, when, reason in (("setup", "05:45", None), ("running", "06:00", None), ("down", "07:00", "jam"),
                                ("running", "07:30", None), ("down", "12:00", "tool"), ("running", "12:15", None),
                                ("idle", "14:00", None)):
        state_id = str(uuid.uuid4())
        data = {"id": state_id, "node_id": ids["wc"], "state": state, "reason": reason, "started_at": iso(at(when)),
                "ended_at": None, "reported_by": "alice",
                "previous": {**previous, "ended_at": iso(at(when))} if previous else None}
        s.emit("resource_service", "mes.resource.equipment_state.changed", ids["wc"], data, at(when))
        previous = {k: v for k, v in data.items() if k != "previous"}
    s.emit("work_order_service", "mes.work_order.operation.started", ids["operation"],
           _operation(ids, "running", at("06:00"), tag), at("06:00"))
    for reason, start, end in (("JAM", "07:00", "07:30"), ("TOOL", "12:00", "12:15")):
        downtime = {"id": str(uuid.uuid4()), "work_center_id": ids["wc"], "reason_code": reason,
                    "started_at": iso(at(start)), "ended_at": None}
        s.emit("work_order_service", "mes.work_order.downtime.recorded", downtime["id"], downtime, at(start))
        s.emit("work_order_service", "mes.work_order.downtime.ended", downtime["id"],
               {**downtime, "ended_at": iso(at(end))}, at(end))
    reports = (("09:00", 120, 5, 1, ["DIM"], "running"), ("11:45", 120, 6, 2, ["BURR", "DIM"], "running"),
               ("14:00", 121, 4, 1, ["DIM"], "completed"))
    for when, good, scrap, rework, reasons, status in reports[:1]:
        _report(s, ids, tag, when, good, scrap, rework, reasons, status)
    s.emit("work_order_service", "mes.work_order.operation.paused", ids["operation"],
           {**_operation(ids, "paused", at("10:00"), tag), "reason": "break"}, at("10:00"))
    s.emit("work_order_service", "mes.work_order.operation.resumed", ids["operation"],
           _operation(ids, "running", at("10:30"), tag), at("10:30"))
    for when, good, scrap, rework, reasons, status in reports[1:]:
        _report(s, ids, tag, when, good, scrap, rework, reasons, status)
    s.emit("work_order_service", "mes.work_order.work_order.completed", ids["wo"],
           _order(ids, "wo", "completed", at("14:00")), at("14:00"))
    for n, (verb, when) in enumerate((("passed", "09:05"), ("failed", "11:50"), ("passed", "13:00"))):
        inspection = {"id": str(uuid.uuid4()), "part_id": ids["part"], "operation_id": ids["operation"],
                      "completed_at": iso(at(when)), "status": verb}
        s.emit("quality_service", f"mes.quality.inspection.{verb}", inspection["id"], inspection, at(when))
    s.emit("quality_service", "mes.quality.ncr.raised", ids["ncr"], {
        "id": ids["ncr"], "number": f"NCR-{tag}", "part_id": ids["part"], "operation_id": ids["operation"],
        "defect_codes": ["DIM-OOT"], "created_at": iso(at("11:50")), "status": "open"}, at("11:50"))
    return s, ids


def _report(s, ids, tag, when, good, scrap, rework, reasons, status):
    report = {"id": str(uuid.uuid4()), "good": float(good), "scrap": float(scrap), "rework": float(rework),
              "reason_codes": reasons}
    s.emit("work_order_service", "mes.work_order.operation.completed", ids["operation"],
           _operation(ids, status, at(when), tag, report), at(when))


def canonical_dump(engine, schema=None):
    """Every fact and bucket of a generation, in a fixed order (stamps left
    out: they say which event, not what), to compare two models."""
    tables = {"equipment": "id", "calendar": "node_id, version", "calendar_exception": "id",
              "equipment_state": "id", "operation": "id", "operation_mark": "operation_id, at, kind",
              "operation_interval": "operation_id, kind, start", "quantity_report": "id", "downtime": "id",
              "inspection": "id", "ncr": "id", "work_order": "id", "bucket": "work_center_id, start, shift",
              "bucket_day": "work_center_id, day", "shift_instance": "work_center_id, label"}
    out = {}
    with engine.connect() as conn:
        schema = schema or conn.execute(text("SELECT coalesce((SELECT active FROM model_state), 'report_a')")).scalar()
        for table, order in tables.items():
            rows = conn.execute(text(f"SELECT * FROM {schema}.{table} ORDER BY {order}")).mappings().all()
            out[table] = [tuple(v for k, v in r.items() if k != "stamp") for r in rows]
    return out
