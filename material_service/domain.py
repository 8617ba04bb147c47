"""Material rules. Pure: no I/O, plain data in and out, unit-tested alone."""
import decimal
import re
from collections import deque, namedtuple

from mes_common import errors
from mes_common.rules import StateMachine
from material_service.contract import MAX_SERIALS

# Lot status machine (the received → quarantine → released → consumed / expired / rejected)
LOT_STATES = StateMachine("lot", {
    "received": ("quarantine", "released", "rejected"),
    "quarantine": ("released", "rejected"),
    "released": ("quarantine", "expired", "consumed"),
    "consumed": (),
    "expired": (),
    "rejected": (),
})

MAX_BOM_DEPTH = 30
ZERO = decimal.Decimal(0)

def fmt_qty(value):
    """A quantity as people write it: 10, 2.5 (not 10.000000)."""
    value = decimal.Decimal(value)
    if value == value.to_integral_value():
        return str(value.quantize(decimal.Decimal(1)))
    return format(value.normalize(), "f")

# ------------------------------------------------------------------ parts

def check_part_usable(part_number, status, field="part_id"):
    if status == "obsolete":
        raise errors.RuleViolated(f"part {part_number} is obsolete", {field: ["the part is obsolete"]})

def check_new_revision(revision, existing):
    if revision in existing:
        raise errors.Conflict(f"revision {revision} already exists", {"revision": ["already exists"]})

# ------------------------------------------------------------------ lots

def check_lot_transition(lot_number, current, new):
    LOT_STATES.check(current, new, lot_number)

def check_lot_usable(lot_number, status, action):
    """Issue and consumption take released material only."""
    if status != "released":
        raise errors.RuleViolated(f"lot {lot_number} is {status}: only released lots can be {action}",
                                  {"lot_id": [f"lot is {status}"]})

def expired(expiry_date, today):
    """Usable through its expiry date, not after."""
    return expiry_date is not None and expiry_date < today

def check_not_expired(lot_number, expiry_date, today):
    if expired(expiry_date, today):
        raise errors.RuleViolated(f"lot {lot_number} expired on {expiry_date.isoformat()}",
                                  {"lot_id": [f"expired on {expiry_date.isoformat()}"]})

def check_on_hand(lot_number, on_hand, quantity, where="", field="quantity"):
    """No negative on-hand."""
    if quantity > on_hand:
        at = f" at {where}" if where else ""
        raise errors.RuleViolated(f"lot {lot_number}: only {fmt_qty(on_hand)} on hand{at}, "
                                  f"{fmt_qty(quantity)} requested",
                                  {field: [f"only {fmt_qty(on_hand)} on hand"], "on_hand": float(on_hand)})

def check_unreserved(lot_number, free, quantity, where="", field="quantity"):
    """What others reserved stays theirs: take only the unreserved part."""
    if quantity > free:
        at = f" at {where}" if where else ""
        raise errors.RuleViolated(f"lot {lot_number}: only {fmt_qty(free)} unreserved{at}, "
                                  f"{fmt_qty(quantity)} requested",
                                  {field: [f"only {fmt_qty(free)} unreserved"], "unreserved": float(free)})

def check_not_reserved(lot_number, reserved, action):
    if reserved > 0:
        raise errors.RuleViolated(f"lot {lot_number} has {fmt_qty(reserved)} reserved: release the "
                                  f"reservations before it can be {action}", {"lot_id": ["lot has reservations"]})

def check_split(lot_number, on_hand, quantities):
    total = sum(quantities, ZERO)
    if total != on_hand:
        raise errors.RuleViolated(
            f"the children of lot {lot_number} must sum to its {fmt_qty(on_hand)} on hand (they sum to "
            f"{fmt_qty(total)})", {"children": [f"quantities sum to {fmt_qty(total)}, not {fmt_qty(on_hand)}"]})

# what lots must share to be merged
MERGE_ATTRIBUTES = ("part_id", "status", "heat_number", "expiry_date")

def check_merge(lots):
    """Merge compatible lots only: same part, status, heat number and expiry.
    `lots`: [{"lot_number", "part_id", "status", "heat_number", "expiry_date"}]."""
    first = lots[0]
    for lot in lots[1:]:
        for attribute in MERGE_ATTRIBUTES:
            if lot[attribute] != first[attribute]:
                raise errors.RuleViolated(
                    f"lots {first['lot_number']} and {lot['lot_number']} cannot be merged: different "
                    f"{attribute.replace('_', ' ')} ({first[attribute]} / {lot[attribute]})",
                    {"lot_ids": [f"different {attribute}"]})
    if first["status"] in ("consumed", "expired", "rejected"):
        raise errors.RuleViolated(f"{first['status']} lots cannot be merged", {"lot_ids": [first["status"]]})

def merged_attribute(values):
    """A merged lot keeps an attribute its sources agree on, else none."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None

def generated_lot_number(n):
    return f"LOT-{n:06d}"

# ------------------------------------------------------------------ holds

def hold_conflict(hold_id, target_type, target_id, number, reason):
    """Held material used anyway: 409 naming the hold."""
    return errors.Conflict(f"{target_type} {number} is on hold {hold_id}: {reason}",
                           {"hold_id": str(hold_id), "target_type": target_type, "target_id": str(target_id),
                            "reason": reason})

# ------------------------------------------------------------------ serials

_PATTERN = re.compile(r"^([^{}]*)\{(\d{1,9})\.\.(\d{1,9})\}([^{}]*)$")

def expand_serial_pattern(pattern, limit=MAX_SERIALS):
    """`SN-{00001..10000}` → SN-00001 … SN-10000. A leading zero on either
    bound pads every number to the wider bound, as shell brace expansion does."""
    match = _PATTERN.fullmatch(pattern)
    if match is None:
        raise errors.ValidationFailed("invalid serial pattern",
                                      {"pattern": ["expected PREFIX{first..last}SUFFIX, e.g. SN-{00001..10000}"]})
    prefix, start, end, suffix = match.groups()
    first, last = int(start), int(end)
    if first > last:
        raise errors.ValidationFailed("invalid serial pattern", {"pattern": ["the first number exceeds the last"]})
    if last - first + 1 > limit:
        raise errors.ValidationFailed(f"at most {limit} serials at once",
                                      {"pattern": [f"expands to {last - first + 1} serials, at most {limit}"]})
    padded = (len(start) > 1 and start[0] == "0") or (len(end) > 1 and end[0] == "0")
    width = max(len(start), len(end)) if padded else 0
    return [f"{prefix}{n:0{width}d}{suffix}" for n in range(first, last + 1)]

def duplicates(values):
    seen, dup = set(), []
    for value in values:
        if value in seen:
            dup.append(value)
        seen.add(value)
    return dup

def output_serial_numbers(work_order_number, start, count):
    """Serials generated for a work order's output: <WO number>-0001, ..."""
    return [f"{work_order_number}-{n:04d}" for n in range(start, start + count)]

def check_serial_count(numbers, count, field="serial_numbers"):
    if len(numbers) != count:
        raise errors.RuleViolated(f"{len(numbers)} serial numbers for a quantity of {count}",
                                  {field: [f"give exactly {count} serial numbers"]})
    repeated = duplicates(numbers)
    if repeated:
        raise errors.ValidationFailed("serial numbers repeat", {field: [f"repeated: {', '.join(repeated[:20])}"]})

def refuse_serial_numbers(part_number, field="serial_numbers"):
    raise errors.RuleViolated(f"part {part_number} is not serial-controlled: its output is a lot",
                              {field: ["only for a serial-controlled part"]})

def check_serial_usable(serial_number, status, action):
    if status != "available":
        raise errors.RuleViolated(f"serial {serial_number} is {status}: it cannot be {action}",
                                  {"serial_id": [f"serial is {status}"]})

def check_whole(quantity, field="quantity"):
    if quantity != quantity.to_integral_value():
        raise errors.RuleViolated("a serial-controlled part is counted in whole units",
                                  {field: ["must be a whole number for a serial-controlled part"]})

# ------------------------------------------------------------------ genealogy

def check_no_genealogy_cycle(parent, child, descendants_of_parent):
    """Assembling `child` into `parent` (a link child → parent) must not make
    material its own ancestor: the child cannot be the parent or made from it."""
    if parent == child or child in descendants_of_parent:
        raise errors.RuleViolated("the child is the parent or was made from it: that would be a cycle",
                                  {"parent": ["is made from the child"]})

# ------------------------------------------------------------------ reservations

Candidate = namedtuple("Candidate", "lot_id location_id expiry_date received_at lot_number location_code available")
Allocation = namedtuple("Allocation", "lot_id location_id quantity")

def fefo_order(candidates):
    """First expiring first (no expiry last), then first received first."""
    return sorted(candidates, key=lambda c: (c.expiry_date is None, c.expiry_date or 0, c.received_at,
                                             c.lot_number, c.location_code))

def allocate(candidates, required):
    """Allocations covering `required` from `candidates` in FEFO then FIFO
    order, or None when they do not suffice (see `shortage`)."""
    allocations, left = [], required
    for candidate in fefo_order(candidates):
        if left <= 0:
            break
        take = min(candidate.available, left)
        if take > 0:
            allocations.append(Allocation(candidate.lot_id, candidate.location_id, take))
            left -= take
    return allocations if left <= 0 else None

def shortage(part_id, part_number, required, available):
    """{part_id, part_number, required, available, short} of one part."""
    short = max(required - available, ZERO)
    return {"part_id": str(part_id), "part_number": part_number, "required": float(required),
            "available": float(available), "short": float(short)}

def short_error(part_id, part_number, required, available):
    detail = shortage(part_id, part_number, required, available)
    return errors.RuleViolated(
        f"part {part_number} is short by {fmt_qty(required - available)} "
        f"(needs {fmt_qty(required)}, {fmt_qty(available)} available)", detail)

def plan_consumption(quantity, own_reserved, unreserved):
    """How much of a consumption comes out of the work order's own
    reservation (first) and how much out of unreserved stock."""
    from_reservation = min(quantity, own_reserved)
    return from_reservation, quantity - from_reservation

# ------------------------------------------------------------------ BOMs

def check_bom_lines(part_id, lines):
    """No component twice with overlapping effectivity, never the part itself.
    `lines`: [{"part_id", "effective_from", "effective_to"}] in input order."""
    seen = {}
    for i, line in enumerate(lines):
        if line["part_id"] == part_id:
            raise errors.RuleViolated("a part cannot be a component of itself",
                                      {f"components.{i}.part_id": ["is the part itself"]})
        for j in seen.get(line["part_id"], ()):
            if _overlap(lines[j], line):
                raise errors.RuleViolated(
                    "the same component appears twice with overlapping effectivity",
                    {f"components.{i}.part_id": [f"repeats components.{j} with overlapping dates"]})
        seen.setdefault(line["part_id"], []).append(i)

def _overlap(a, b):
    starts_before_b_ends = a["effective_from"] is None or b["effective_to"] is None or \
        a["effective_from"] <= b["effective_to"]
    b_starts_before_a_ends = b["effective_from"] is None or a["effective_to"] is None or \
        b["effective_from"] <= a["effective_to"]
    return starts_before_b_ends and b_starts_before_a_ends

def find_cycle(parent, components, children_of):
    """The shortest path parent → component → … → parent if adding
    `components` under `parent` closes a loop in the BOM graph
    (`children_of`: id → set of ids); None if it does not."""
    queue = deque((component, [parent, component]) for component in components)
    visited = set()
    while queue:
        node, path = queue.popleft()
        if node == parent:
            return path
        if node in visited:
            continue
        visited.add(node)
        queue.extend((child, path + [child]) for child in children_of.get(node, ()))
    return None

def effective(line, at):
    return (line["effective_from"] is None or line["effective_from"] <= at) and \
        (line["effective_to"] is None or at <= line["effective_to"])

def explode(root, quantity, boms, levels=None):
    """Multi-level explosion, depth first (an indented BOM).

    `boms`: part id → [{"part_id", "quantity", "uom", "position"}] (the lines
    in effect); returns lines [{level, parent_part_id, part_id, quantity_per,
    quantity, uom}] and requirements [{part_id, quantity, uom}] summed per part
    over those lines."""
    lines = []

    def walk(part, extended, level, path):
        if levels is not None and level > levels:
            return
        if level > MAX_BOM_DEPTH:
            raise errors.RuleViolated(f"the BOM is deeper than {MAX_BOM_DEPTH} levels", {"levels": ["too deep"]})
        for line in sorted(boms.get(part, ()), key=lambda l: l["position"]):
            child = line["part_id"]
            if child in path:
                raise errors.RuleViolated("the BOM contains a cycle", {"part_id": [str(child)]})
            qty = line["quantity"] * extended
            lines.append({"level": level, "parent_part_id": part, "part_id": child,
                          "quantity_per": line["quantity"], "quantity": qty, "uom": line["uom"]})
            walk(child, qty, level + 1, path | {child})

    walk(root, quantity, 1, {root})
    requirements = {}
    for line in lines:
        req = requirements.setdefault(line["part_id"], {"part_id": line["part_id"], "quantity": ZERO,
                                                        "uom": line["uom"]})
        req["quantity"] += line["quantity"]
    return lines, list(requirements.values())
