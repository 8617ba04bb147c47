"""The reporting service's public face: the only part of it that the gateway,
other services and other packages' tests import.

A read model (ARCHITECTURE.md §4): its facts come only from the events of work
order, material, quality and resource, and are rebuilt from their event logs
(`mes reporting rebuild`). What it owns: the KPI definitions (versioned), the
alert rules and alerts, and the period snapshots.

- `schemas`: RPC input and output schemas (the gateway's HTTP schemas too);
- `events`: what it publishes (alerts raised, cleared, acknowledged; definitions);
- here: its name, the KPIs of ISO 22400-2 it computes and the event types it consumes.
"""
from collections import namedtuple

from quality_service.contract import events as quality
from resource_service.contract import events as resource
from work_order_service.contract import events as work_order

SERVICE = "reporting_service"

# ISO 22400-2 elements, the components every KPI is computed from. Times are
# whole seconds, quantities exact decimals.
COMPONENTS = {
    "PBT": "planned busy time: the calendar's shifts less breaks, exceptions and planned maintenance (s)",
    "APT": "actual production time: the work center's operations running, less downtime (s)",
    "AUBT": "actual unit busy time: from an operation's start to its end, pauses included (s)",
    "AUST": "actual unit setup time: the work center or its units in state setup (s)",
    "ADET": "actual unit delay time: downtime recorded at the work center (s)",
    "PQ": "produced quantity: good + scrap + rework reported",
    "GQ": "good quantity", "SQ": "scrap quantity", "RQ": "rework quantity",
    "PRI_PQ": "planned run time per item × produced quantity, summed per report (s)",
    "IP": "inspected parts: inspections passed or failed", "GP": "good parts: inspections passed",
    "NCR": "nonconformance reports raised",
    "FE": "failure events: the equipment going down", "TBF": "time between failures: running (s)",
    "TTR": "time to repair: down (s)",
    "WO_DUE": "work orders due", "WO_ON_TIME": "of those, completed by their due date",
}

Kpi = namedtuple("Kpi", "name formula numerator denominator unit scale")
# value = product of the numerator's components × scale / product of the
# denominator's (their sum for SUMMED_DENOMINATORS), exact; `unit` is how it is shown
KPIS = {
    "availability": Kpi("Availability", "APT / PBT", ("APT",), ("PBT",), "%", 1),
    "effectiveness": Kpi("Effectiveness", "PRI × PQ / APT", ("PRI_PQ",), ("APT",), "%", 1),
    "quality_ratio": Kpi("Quality ratio", "GQ / PQ", ("GQ",), ("PQ",), "%", 1),
    # = availability × effectiveness × quality ratio, without rounding between them
    "oee_index": Kpi("OEE index", "Availability × Effectiveness × Quality ratio = PRI × GQ / PBT",
                     ("PRI_PQ", "GQ"), ("PBT", "PQ"), "%", 1),
    "first_pass_yield": Kpi("First pass yield", "GP / IP", ("GP",), ("IP",), "%", 1),
    "scrap_ratio": Kpi("Scrap ratio", "SQ / PQ", ("SQ",), ("PQ",), "%", 1),
    "rework_ratio": Kpi("Rework ratio", "RQ / PQ", ("RQ",), ("PQ",), "%", 1),
    "throughput_rate": Kpi("Throughput rate", "PQ / AUBT", ("PQ",), ("AUBT",), "units/h", 3600),
    "setup_rate": Kpi("Setup rate", "AUST / (APT + AUST)", ("AUST",), ("APT", "AUST"), "%", 1),
    "allocation_efficiency": Kpi("Allocation efficiency", "AUBT / PBT", ("AUBT",), ("PBT",), "%", 1),
    "mtbf": Kpi("Mean operating time between failures", "TBF / FE", ("TBF",), ("FE",), "min", "1/60"),
    "mttr": Kpi("Mean time to repair", "TTR / FE", ("TTR",), ("FE",), "min", "1/60"),
    "ncr_rate": Kpi("NCR rate", "NCR × 1000 / PQ", ("NCR",), ("PQ",), "‰", 1000),
    "schedule_adherence": Kpi("Schedule adherence", "WO_ON_TIME / WO_DUE", ("WO_ON_TIME",), ("WO_DUE",), "%", 1),
}
SUMMED_DENOMINATORS = ("setup_rate",)
RATIO_UNITS = ("%",)         # values are fractions, shown × 100
PERIODS = ("none", "hour", "shift", "day", "week", "month")
BY = ("work_center", "area", "site", "enterprise", "part")
PARETOS = ("downtime", "scrap", "ncr")
ALERT_WINDOWS = ("shift", "day", "hours")
BAND_COLOURS = ("red", "amber", "green")

# the events the facts come from, named by their owners' contracts
OPERATION_EVENTS = frozenset(work_order.operation(v) for v in work_order.OPERATION_VERBS)
WORK_ORDER_EVENTS = frozenset(work_order.work_order(v) for v in work_order.WORK_ORDER_VERBS
                              if v != "release_failed")
DOWNTIME_EVENTS = frozenset({work_order.DOWNTIME_RECORDED, work_order.DOWNTIME_ENDED})
QUALITY_EVENTS = frozenset({quality.INSPECTION("passed"), quality.INSPECTION("failed"), *quality.NCR.types})
EQUIPMENT_EVENTS = frozenset(resource.EVENT_TYPES)
RESOURCE_EVENTS = EQUIPMENT_EVENTS | {resource.calendar_event_type(v) for v in ("changed", "exception_added")} | {
    resource.equipment_state_event_type("changed")}
SOURCES = (work_order.SOURCE, quality.SOURCE, resource.SOURCE)

CONSUMES = OPERATION_EVENTS | WORK_ORDER_EVENTS | DOWNTIME_EVENTS | QUALITY_EVENTS | RESOURCE_EVENTS
