"""A B2MML schedule as work orders (pure): the work order service's import payload, from the requests the
reader took out of the document and what the MES knows of the parts and work centers they name.

Every problem of every request is collected, so the ERP learns in one answer all that it must fix (an unknown
part, two unknown work centers: one 422 with three entries)."""
from collections import defaultdict
from decimal import Decimal

from mes_common import errors

MAX_SEQUENCE = 99_999
MAX_MINUTES = Decimal(10_000_000)   # the work order service's bound on setup and run time


def part_numbers(schedules):
    """The part numbers the requests name (the produced material, else the product segment)."""
    return sorted({n for s in schedules for r in s.requests if (n := _part_number(r))})


def work_center_codes(schedules):
    return sorted({seg.work_center_code for s in schedules for r in s.requests for seg in r.segments
                   if seg.work_center_code})


def _part_number(request):
    return request.part_number or request.product_segment_id


def _where(version, request, *path):
    name = "ProductionRequest" if version == "V0600" else "OperationsRequest"
    return "/".join((f"{name}[{request.id}]", *path))


def sequences(segments):
    """The operation sequence of each segment: its number when it is one above the last (0010 → 10), else the
    last + 1 (a nested 0020-10 → 21), so the operations keep their document order and their ERP numbers."""
    found, last = [], 0
    for segment in segments:
        number = segment.id.strip() if segment.id else ""
        last = int(number) if number.isdigit() and last < int(number) <= MAX_SEQUENCE else last + 1
        found.append(last)
    return found


def _minutes(duration):
    return Decimal(int(duration.total_seconds() * 1_000_000)) / Decimal(60_000_000)


def _work_center(nodes, code, site_id):
    """The one work center of `code` (in `site_id` when several sites have one), or (None, why)."""
    candidates = [n for n in nodes.get(code, []) if n["active"]]
    if site_id is not None and len(candidates) > 1:
        candidates = [n for n in candidates if n["site_id"] == site_id]
    if not candidates:
        return None, f"no active work center coded {code!r}"
    if len(candidates) > 1:
        return None, f"{code!r} names a work center in {len(candidates)} places: " + \
            ", ".join("/".join(n["path_codes"]) for n in candidates)
    return candidates[0], None


def orders(schedules, version, parts, work_centers, site=None, sites=()):
    """The `orders` of work_order.import_work_orders for these schedules. `parts`: {part number: summary};
    `work_centers`: {code: [FoundNode of level work_center]}; `site`: the site named by the sender (a FoundNode),
    else `sites`: the MES's sites (one is taken when it is the only one). RuleViolated lists every problem."""
    problems = defaultdict(list)
    found = []
    for schedule in schedules:
        for request in schedule.requests:
            order = _order(request, version, parts, work_centers, site, sites, problems)
            if order is not None:
                found.append(order)
    if problems:
        raise errors.RuleViolated(f"{sum(map(len, problems.values()))} reference(s) of the schedule are not in the "
                                  "MES: nothing imported", dict(problems))
    return found


def _order(request, version, parts, work_centers, site, sites, problems):
    number = _part_number(request)
    part = parts.get(number) if number else None
    if part is None:
        where = _where(version, request, "MaterialDefinitionID" if request.part_number else "ProductSegmentID")
        problems[where].append(f"no part numbered {number!r}" if number else "no part named: nothing to make")
    elif part["status"] != "active":
        problems[_where(version, request, "MaterialDefinitionID")].append(f"part {number} is {part['status']}")
    site_id = site["id"] if site else None
    operations = []
    for segment, sequence in zip(request.segments, sequences(request.segments)):
        at = _where(version, request, f"SegmentRequirement[{segment.id}]", "EquipmentRequirement/EquipmentID")
        if not segment.work_center_code:
            problems[at].append("missing: the work center of the operation")
            continue
        node, why = _work_center(work_centers, segment.work_center_code, site_id)
        if node is None:
            problems[at].append(why)
            continue
        if site_id is None:
            site_id = node["site_id"]   # the first operation's site: the others must be in it
        elif node["site_id"] != site_id:
            problems[at].append(f"{segment.work_center_code} is not in the order's site")
            continue
        try:
            run = (_minutes(segment.duration) / request.quantity if segment.duration and request.quantity
                   else Decimal(0)).quantize(Decimal("0.000001"))
        except ArithmeticError:
            run = MAX_MINUTES + 1
        if run > MAX_MINUTES or (segment.setup and _minutes(segment.setup) > MAX_MINUTES):
            problems[at.rsplit("/", 2)[0] + "/Duration"].append("more than 10,000,000 minutes a unit")
            continue
        operations.append({"sequence": sequence, "name": (segment.description or segment.process_segment_id
                                                          or f"Operation {segment.id}")[:200],
                           "work_center_id": node["id"],
                           "setup_time": float(_minutes(segment.setup)) if segment.setup else 0.0,
                           "run_time": float(run),
                           "process_segment_id": segment.process_segment_id})
    if site_id is None:
        if len(sites) == 1:
            site_id = sites[0]["id"]
        else:
            problems[_where(version, request)].append(
                "no site: the request has no operation and the MES has several sites (name one: ?site=CODE)")
    if request.due is None:
        problems[_where(version, request, "EndTime")].append("missing: the due time (EndTime or LatestEndTime)")
    priority = None
    if request.priority is not None:
        if request.priority != request.priority.to_integral_value() or not 1 <= request.priority <= 999:
            problems[_where(version, request, "Priority")].append(f"{request.priority}: a whole number 1 to 999")
        else:
            priority = int(request.priority)
    if part is None or site_id is None or request.due is None:
        return None
    # JSON types: the payload crosses the broker and the work order service validates it with its contract
    return {"number": request.id, "part_id": part["id"], "quantity": float(request.quantity),
            "due_date": request.due.date().isoformat(),
            "planned_start": request.start.isoformat() if request.start else None, "priority": priority or 500,
            "site_id": site_id, "description": request.description, "operations": operations}
