"""Master data from the ERP or PLM: parts (MaterialDefinition), lots (MaterialLot) and the equipment hierarchy
(Equipment), each with Process (all new), Change (all known) and Sync (make the MES match).

The whole message is checked against the MES first (every unknown or clashing reference in one error), then
written through the owners' RPCs, each write idempotent or a no-op when repeated: a message that stopped
half-way (an owner down: 503, logged as failed) is completed by sending it again."""
from collections import defaultdict

from mes_common import errors
from integration_service import b2mml

PARTS, LOTS, EQUIPMENT = ("MaterialDefinition",), ("MaterialLot",), ("Equipment", "EquipmentInformation")
NOUNS = PARTS + LOTS + EQUIPMENT + ("MaterialInformation",)
PART_TYPE = "manufactured"   # B2MML carries no make/buy: an ERP part is made here unless ?part_type= says otherwise
# ISA-95 equipment levels (B2MML EquipmentElementLevel) → the MES's six
LEVELS = {"enterprise": "enterprise", "site": "site", "area": "area",
          "workcenter": "work_center", "processcell": "work_center", "productionline": "work_center",
          "productionunit": "work_center", "storagezone": "work_center", "workcell": "work_center",
          "workunit": "work_unit", "unit": "work_unit", "storageunit": "work_unit",
          "equipmentmodule": "equipment", "controlmodule": "equipment", "equipment": "equipment"}
# B2MML lot status words (free text in V0700) → the MES's lot statuses
LOT_STATUSES = {"released": "released", "available": "released", "approved": "released", "quarantine": "quarantine",
                "blocked": "quarantine", "onhold": "quarantine", "hold": "quarantine", "received": "received",
                "rejected": "rejected", "expired": "expired"}


def _problem(problems, where, message):
    problems[where].append(message)


def _raise(problems, what):
    if problems:
        raise errors.RuleViolated(f"{len(problems)} problem(s) with the {what}: nothing written", dict(problems))


def apply(ctx, message, row_id):
    """What the message touched ([{type, id, number, action}])."""
    touched = []
    nouns = message.nouns
    has = {b2mml._name(n) for n in nouns}
    if has & {"MaterialDefinition", "MaterialInformation"}:
        definitions = [d for d in b2mml.read_material_definitions(_only(nouns, "MaterialDefinition"), message.version)]
        touched += parts(ctx, message.verb, definitions)
    if has & {"MaterialLot", "MaterialInformation"}:
        lots_in = b2mml.read_material_lots(_only(nouns, "MaterialLot"), message.version)
        touched += lots(ctx, message.verb, lots_in, row_id)
    if has & set(EQUIPMENT):
        touched += equipment(ctx, message.verb, b2mml.read_equipment(nouns, message.version))
    return touched


def _only(nouns, name):
    """The nouns of `name`, and those inside MaterialInformation (a MaterialInformation may hold both)."""
    found = []
    for noun in nouns:
        if b2mml._name(noun) == name:
            found.append(noun)
        elif b2mml._name(noun) == "MaterialInformation":
            found += [child for child in noun if isinstance(child.tag, str) and b2mml._name(child) == name]
    return found


def _modes(verb):
    """(may create, may change) of a verb."""
    return {None: (True, False), "Process": (True, False), "Change": (False, True), "Sync": (True, True)}[verb]


# -- parts ---------------------------------------------------------------------------------------------------------

def parts(ctx, verb, definitions):
    if not definitions:
        return []
    create, change = _modes(verb)
    known = ctx.material.find_parts({"part_numbers": [d.id for d in definitions]})
    problems = defaultdict(list)
    for d in definitions:
        where = f"MaterialDefinition[{d.id}]/ID"
        if d.id in known and not change:
            _problem(problems, where, f"part {d.id} exists already (send Change or Sync)")
        elif d.id not in known and not create:
            _problem(problems, where, f"no part {d.id}")
    _raise(problems, "material definitions")
    touched = []
    for d in definitions:
        values = {"name": (d.description or d.id)[:200], "uom": (d.base_unit or "ea")[:16]}
        part = known.get(d.id)
        if part is None:
            part = ctx.material.create_part({"part_number": d.id, "type": ctx.part_type or PART_TYPE, **values})
            action = "created"
        elif any(part.get(k) != v for k, v in values.items() if k != "uom" or d.base_unit):
            part = ctx.material.update_part(part["id"], values if d.base_unit else {"name": values["name"]})
            action = "changed"
        else:
            action = "unchanged"
        touched.append({"type": "part", "id": part["id"], "number": d.id, "action": action})
    return touched


# -- lots ----------------------------------------------------------------------------------------------------------

def _lot_status(lot, problems):
    if lot.status is None:
        return None
    status = LOT_STATUSES.get(lot.status.replace(" ", "").replace("_", "").lower())
    if status is None:
        _problem(problems, f"MaterialLot[{lot.id}]/Status",
                 f"{lot.status!r}: the MES knows {', '.join(sorted(set(LOT_STATUSES)))}")
    return status


def _existing_lot(ctx, number, part=None):
    """The lot of this number (of this part: lot numbers are unique per part)."""
    query = {"lot_number": number, "limit": 50, **({"part_id": part["id"]} if part else {})}
    items = [lot for lot in ctx.material.list_lots(query)["items"] if lot["lot_number"] == number]
    return items[0] if len(items) == 1 or (part and items) else None


def lots(ctx, verb, found, row_id):
    if not found:
        return []
    create, change = _modes(verb)
    numbers = sorted({lot.material_definition_id for lot in found if lot.material_definition_id})
    known_parts = ctx.material.find_parts({"part_numbers": numbers}) if numbers else {}
    locations = {}
    problems = defaultdict(list)
    plan = []
    for lot in found:
        where = f"MaterialLot[{lot.id}]"
        part = known_parts.get(lot.material_definition_id)
        if part is None:
            _problem(problems, f"{where}/MaterialDefinitionID", f"no part numbered {lot.material_definition_id!r}"
                     if lot.material_definition_id else "missing: the lot's part")
            continue
        existing = _existing_lot(ctx, lot.id, part)
        status = _lot_status(lot, problems)
        if existing is not None:
            if not change:
                _problem(problems, f"{where}/ID", f"lot {lot.id} exists already (send Change or Sync)")
            plan.append((lot, existing, status, None, None))
            continue
        if not create:
            _problem(problems, f"{where}/ID", f"no lot {lot.id}")
            continue
        if lot.quantity is None or lot.quantity <= 0:
            _problem(problems, f"{where}/Quantity", "missing or not above 0: a new lot needs its quantity")
        location = _location(ctx, lot.storage_location, locations)
        if location is None:
            _problem(problems, f"{where}/StorageLocation", f"no storage location coded {lot.storage_location!r}"
                     if lot.storage_location else "missing: where the lot is")
        plan.append((lot, None, status, part, location))
    _raise(problems, "material lots")
    touched = []
    for lot, existing, status, part, location in plan:
        if existing is None:
            made = ctx.material.receive_lot({
                "part_id": part["id"], "quantity": float(lot.quantity), "location_id": location["id"],
                "lot_number": lot.id, "reference": f"B2MML message {row_id}",
                "idempotency_key": f"b2mml-lot:{part['part_number']}:{lot.id}"[:200]})
            lot_out, action = made.get("lot", made), "created"
            if status and status != lot_out["status"]:
                lot_out = ctx.material.set_lot_status(lot_out["id"], {"status": status, "reason": "ERP lot status"})
        elif status and status != existing["status"]:
            lot_out, action = ctx.material.set_lot_status(existing["id"], {"status": status,
                                                                            "reason": "ERP lot status"}), "changed"
        else:
            lot_out, action = existing, "unchanged"
        touched.append({"type": "lot", "id": lot_out["id"], "number": lot.id, "action": action})
    return touched


def _location(ctx, code, cache):
    if not code:
        return None
    if code not in cache:
        items = ctx.material.list_locations({"code": code, "limit": 5})["items"]
        cache[code] = next((loc for loc in items if loc["code"] == code), None)
    return cache[code]


# -- equipment -----------------------------------------------------------------------------------------------------

def _level(equipment, problems):
    level = LEVELS.get((equipment.level or "").replace(" ", "").replace("_", "").lower())
    if level is None:
        _problem(problems, f"Equipment[{equipment.id}]/EquipmentLevel",
                 f"{equipment.level!r}: the MES takes Enterprise, Site, Area, WorkCenter (ProcessCell, ProductionLine, "
                 "ProductionUnit, StorageZone, WorkCell), WorkUnit (Unit, StorageUnit), EquipmentModule, ControlModule"
                 if equipment.level else "missing: the equipment's level")
    return level


def _parents_first(found):
    """The equipment with each node after its parent when the parent is in the message too (an
    EquipmentInformation may list them in any order)."""
    by_id, done, ordered = {e.id: e for e in found}, set(), []

    def visit(e, path=()):
        if e.id in done or e.id in path:
            return
        if e.parent_id in by_id:
            visit(by_id[e.parent_id], (*path, e.id))
        done.add(e.id)
        ordered.append(e)
    for e in found:
        visit(e)
    return ordered


def equipment(ctx, verb, found):
    """Create or rename the nodes top down. A node is known by its code under its parent's code (codes are
    unique among siblings); a parent named by HierarchyScope must be in the MES or in the message."""
    if not found:
        return []
    create, change = _modes(verb)
    codes = sorted({e.id for e in found} | {e.parent_id for e in found if e.parent_id})
    in_mes = defaultdict(list)
    for node in ctx.resource.find_nodes({"codes": codes}):
        in_mes[node["code"]].append(node)
    problems = defaultdict(list)
    in_message = {e.id for e in found}

    def known(code, parent_code):
        return next((n for n in in_mes.get(code, ()) if (n["path_codes"][-2:-1] or [None])[0] == parent_code), None)

    plan = []
    for e in _parents_first(found):
        where = f"Equipment[{e.id}]"
        level = _level(e, problems)
        existing = known(e.id, e.parent_id)
        if e.parent_id and e.parent_id not in in_message and len(in_mes.get(e.parent_id, ())) != 1:
            _problem(problems, f"{where}/HierarchyScope", f"no equipment coded {e.parent_id!r} to put it under"
                     if not in_mes.get(e.parent_id) else f"{e.parent_id!r} names {len(in_mes[e.parent_id])} nodes "
                     "(codes are unique among siblings): send the hierarchy from its top")
        if existing is not None and not change:
            _problem(problems, f"{where}/ID", f"{e.id} exists already (send Change or Sync)")
        elif existing is None and not create:
            _problem(problems, f"{where}/ID", f"no equipment {e.id}")
        elif existing is not None and level and existing["level"] != level:
            _problem(problems, f"{where}/EquipmentLevel", f"{e.id} is a {existing['level']} in the MES, not a {level}")
        plan.append((e, level, existing))
    _raise(problems, "equipment")
    ids, touched = {}, []
    for e, level, existing in plan:
        name = (e.description or e.id)[:200]
        if existing is None:
            parent = ids.get(e.parent_id) or (in_mes[e.parent_id][0]["id"] if e.parent_id else None)
            node = ctx.resource.create_node({"level": level, "code": e.id, "name": name, "parent_id": parent})
            action = "created"
        elif existing["name"] != name:
            node, action = ctx.resource.update_node(existing["id"], {"name": name}), "changed"
        else:
            node, action = existing, "unchanged"
        ids[e.id] = node["id"]
        touched.append({"type": "equipment", "id": node["id"], "number": e.id, "action": action})
    return touched


# -- Get → Show ----------------------------------------------------------------------------------------------------

def show(ctx, message):
    """The named parts, lots or equipment (with what is under it) as a V0700 Show."""
    ids = [b2mml._text(n, message.version, "ID") for n in message.nouns]
    ids = [i for i in ids if i]
    noun = message.noun
    if noun in ("MaterialDefinition", "MaterialInformation"):
        found = ctx.material.find_parts({"part_numbers": ids}) if ids else {}
        elements = [b2mml.material_definition(found[i]) for i in ids if i in found]
        touched = [{"type": "part", "id": found[i]["id"], "number": i, "action": "shown"} for i in ids if i in found]
    elif noun == "MaterialLot":
        lots_found = [lot for lot in (_existing_lot(ctx, i) for i in ids) if lot is not None]   # (one per number)
        elements = [b2mml.material_lot(lot) for lot in lots_found]
        touched = [{"type": "lot", "id": lot["id"], "number": lot["lot_number"], "action": "shown"}
                   for lot in lots_found]
    else:
        nodes = ctx.resource.find_nodes({"codes": ids}) if ids else []
        elements = [b2mml.equipment(ctx.resource.get_tree(n["id"], {"max_depth": 3})) for n in nodes]
        touched = [{"type": "equipment", "id": n["id"], "number": n["code"], "action": "shown"} for n in nodes]
    if not elements:
        raise errors.NotFound(f"none of {', '.join(ids) or 'the named'} is in the MES", {"ID": ids})
    return touched, b2mml.to_bytes(b2mml.show(elements, request=message)).decode("utf-8")
