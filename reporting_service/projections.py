"""What each event says about production: pure functions from a CloudEvent to
facts (rows of the model's fact tables), no I/O.

Each row is keyed by its owner's id (or by what makes it unique, such as an
operation's clock mark), and rows that several events describe are merged by
the store in an order-free way (the newest event's version wins a record;
marks and reports only add), so any order of the same events, or the same
event twice, gives the same facts; the buckets are then computed from the
facts (domain.buckets).
"""
from dataclasses import dataclass, field
from decimal import Decimal

from mes_common.events.projections import Projections, version
from reporting_service.contract import CONSUMES, EQUIPMENT_EVENTS, OPERATION_EVENTS, WORK_ORDER_EVENTS
from quality_service.contract import events as quality
from resource_service.contract import events as resource
from work_order_service.contract import events as work_order


@dataclass
class Facts:
    event: object
    rows: dict = field(default_factory=dict)   # table name -> [row]

    def add(self, table, **row):
        self.rows.setdefault(table, []).append(row)


projects = Projections(CONSUMES, Facts)   # @projects(type) below: one function per event type
project = projects.project


def _decimal(value):
    return Decimal(str(value)) if value is not None else Decimal(0)


# ------------------------------------------------------------------ work order

@projects(*OPERATION_EVENTS)
def operation_changed(f, data):
    """The operation (its work center, part, standard) and its clock: started
    and resumed start it, paused stops it, and completed stops it when the
    operation is done (a partial report leaves it running)."""
    f.add("operation", id=data["id"], work_order_id=data["work_order_id"], work_center_id=data["work_center_id"],
          part_id=data["part_id"], part_number=data.get("part_number") or "", run_time=_decimal(data["run_time"]),
          stamp=version(f.event))
    at = data.get("at") or f.event.time
    verb = f.event.type.rsplit(".", 1)[1]
    if verb in ("started", "resumed"):
        f.add("operation_mark", operation_id=data["id"], at=at, kind="start")
    elif verb == "paused" or (verb == "completed" and data["status"] == "completed"):
        f.add("operation_mark", operation_id=data["id"], at=at, kind="stop")
    report = data.get("report") if verb == "completed" else None
    if report:
        f.add("quantity_report", id=report["id"], operation_id=data["id"], work_center_id=data["work_center_id"],
              part_id=data["part_id"], at=at, good=_decimal(report["good"]), scrap=_decimal(report["scrap"]),
              rework=_decimal(report["rework"]),
              reason_code=(report.get("reason_codes") or [None])[0],
              unit_seconds=_decimal(data["run_time"]) * 60)


@projects(*WORK_ORDER_EVENTS)
def work_order_changed(f, data):
    """The order (its due date and completion) and its operations' work centers
    and standards, known from its creation on."""
    f.add("work_order", id=data["id"], number=data["number"], part_id=data["part_id"], due_date=data["due_date"],
          status=data["status"], completed_at=data.get("completed_at"), stamp=version(f.event))
    for op in data.get("operations") or []:
        f.add("operation", id=op["id"], work_order_id=data["id"], work_center_id=op["work_center_id"],
              part_id=data["part_id"], part_number=data.get("part_number") or "", run_time=_decimal(op["run_time"]),
              stamp=version(f.event))


@projects(work_order.DOWNTIME_RECORDED, work_order.DOWNTIME_ENDED)
def downtime(f, data):
    f.add("downtime", id=data["id"], work_center_id=data["work_center_id"], reason_code=data["reason_code"],
          started_at=data["started_at"], ended_at=data.get("ended_at"))


# ------------------------------------------------------------------ quality

@projects(quality.INSPECTION("passed"), quality.INSPECTION("failed"))
def inspection_closed(f, data):
    f.add("inspection", id=data["id"], part_id=data.get("part_id"), operation_id=data.get("operation_id"),
          passed=f.event.type == quality.INSPECTION("passed"), at=data.get("completed_at") or f.event.time,
          stamp=version(f.event))


@projects(*quality.NCR.types)
def ncr_changed(f, data):
    f.add("ncr", id=data["id"], number=data["number"], part_id=data["part_id"], operation_id=data.get("operation_id"),
          defect_codes=list(data.get("defect_codes") or []), raised_at=data["created_at"],
          cancelled=data["status"] == "cancelled", stamp=version(f.event))


# ------------------------------------------------------------------ resource

@projects(*EQUIPMENT_EVENTS)
def equipment_changed(f, data):
    f.add("equipment", id=data["id"], level=data["level"], code=data["code"], name=data["name"],
          parent_id=data.get("parent_id"), created_at=data["created_at"], stamp=version(f.event))


@projects(resource.calendar_event_type("changed"))
def calendar_changed(f, data):
    """A calendar counts from the time it was set: last month's planned time
    stays what it was when this month's calendar changes."""
    f.add("calendar", node_id=data["node_id"], version=data["version"], valid_from=data["updated_at"],
          timezone=data["timezone"], shifts=data["shifts"])


@projects(resource.calendar_event_type("exception_added"))
def calendar_exception(f, data):
    f.add("calendar_exception", id=data["id"], node_id=data["node_id"], starts_at=data["starts_at"],
          ends_at=data["ends_at"])


@projects(resource.equipment_state_event_type("changed"))
def equipment_state(f, data):
    previous = data.get("previous")
    if previous:
        f.add("equipment_state", id=previous["id"], node_id=previous["node_id"], state=previous["state"],
              started_at=previous["started_at"], ended_at=previous["ended_at"])
    f.add("equipment_state", id=data["id"], node_id=data["node_id"], state=data["state"],
          started_at=data["started_at"], ended_at=data.get("ended_at"))
