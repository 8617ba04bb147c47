"""B2MML in: a message is read and checked (nothing is stored for a document that is no valid B2MML), claimed
under its idempotency key, applied through the owners' contracts, and answered; the log keeps it verbatim with
the answer and what it touched.

Schedules become work orders in ONE call of the work order service (one transaction: all or none); master data
(parts, lots, equipment) is checked whole first, then written through the owners' RPCs one by one, each
idempotent, so a message that failed half-way (an owner down) is completed by sending it again."""
import logging
import re
from collections import defaultdict
from dataclasses import dataclass

from mes_common import errors
from integration_service import b2mml, master_data, messages, schedules

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/xml"
IMPORT_MODE = {None: "create", "Process": "create", "Change": "change", "Sync": "sync"}
SCHEDULE_NOUNS = ("OperationsSchedule", "OperationsRequest")
CANCELLABLE, ENDED = ("created", "released", "on_hold"), ("cancelled", "closed", "completed")


@dataclass
class Context:
    """What applying a message needs: the owners' RPC clients and who sends."""
    work_order: object
    material: object
    resource: object
    standards_dir: str
    correlation_id: str | None = None
    actor: str | None = None
    site_code: str | None = None
    part_type: str | None = None
    permissions: frozenset | None = None   # the caller's (an API token's scope); None: the platform's own call

    def options(self):
        """What the sender asked besides the document (kept with the message: a replay asks it again)."""
        return {k: v for k, v in (("site", self.site_code), ("part_type", self.part_type)) if v}


def receive(uow, ctx, document, idempotency_key=None):
    """The answer (B2MML text) to an inbound document; the first answer for a repeat."""
    if not isinstance(document, str) or not document.strip():
        raise errors.ValidationFailed("the body is not a B2MML document", {"body": ["an XML document (UTF-8)"]})
    message = b2mml.read(document, ctx.standards_dir)   # 400/413 here: nothing is stored
    if message.verb in b2mml.ANSWERS:
        raise errors.ValidationFailed(f"{message.element_name} is an answer, not a request",
                                      {"body": [f"{message.verb}: the MES takes Process, Change, Cancel, Sync, Get"]})
    _authorize(ctx, message)
    digest = messages.payload_hash(document)
    row_id, held = messages.claim(uow, {
        "kind": "b2mml", "version": message.version, "noun": message.noun, "verb": message.verb,
        "document_id": (message.message_id or "")[:200] or None, "sender": (message.sender or "")[:200] or None,
        "idempotency_key": messages.key_of(message, digest, idempotency_key), "payload_hash": digest,
        "correlation_id": ctx.correlation_id, "actor": ctx.actor, "content_type": CONTENT_TYPE,
        "options": ctx.options(), "payload": document})
    if held is not None:
        return messages.again(held, digest).answer
    return apply(uow, ctx, row_id, message)


def replay(uow, ctx, message_id):
    """Apply again an inbound message that was rejected or failed: it takes its key back (409 when an accepted
    copy holds it now) and is recorded with its new outcome."""
    with uow() as tx:
        row = messages.get_row(tx.session, message_id, lock=True)
        if row.direction != messages.IN or not (row.status in (messages.REJECTED, messages.FAILED)
                                                or messages.stale(row)):
            raise errors.Conflict(f"message {message_id} is {row.direction} and {row.status}: only a rejected or "
                                  "failed inbound message is applied again", {"status": [row.status]})
        holder = messages.key_holder(tx.session, row.idempotency_key)
        if holder is not None:
            raise errors.Conflict(f"message {holder} with the same key is {messages.ACCEPTED} or being processed",
                                  {"idempotency_key": [f"held by message {holder}"]})
        row.status, row.error = messages.PROCESSING, None
        document, options = row.payload, row.options
    ctx.site_code, ctx.part_type = options.get("site"), options.get("part_type")
    message = b2mml.read(document, ctx.standards_dir)
    _authorize(ctx, message)
    return apply(uow, ctx, message_id, message)


# what a caller needs, beside integration:write, to change what a noun changes (its owner's permission: a
# token that may send B2MML must not do through it what the owner's own routes would refuse it)
PERMISSIONS = {"OperationsSchedule": "work_order:write", "OperationsRequest": "work_order:write",
               "MaterialDefinition": "material:write", "MaterialLot": "inventory:write",
               "MaterialInformation": "material:write", "Equipment": "resource:write",
               "EquipmentInformation": "resource:write"}


def _authorize(ctx, message):
    needed = PERMISSIONS.get(message.noun)
    if message.noun == "MaterialInformation" and any(b2mml._name(c) == "MaterialLot" for n in message.nouns
                                                     for c in n):
        needed = {"material:write", "inventory:write"}
    needed = {needed} if isinstance(needed, str) else needed or set()
    if message.verb == "Get" or ctx.permissions is None:
        return
    missing = sorted(needed - ctx.permissions)
    if missing:
        raise errors.Forbidden(f"a {message.verb or 'plain'} {message.noun_element} needs {', '.join(missing)}",
                               {"permissions": missing})


def apply(uow, ctx, row_id, message):
    """Apply a claimed message and record the outcome, whatever happens: the answer, or the error raised after
    it is logged (a row left `processing` would hold its key for good)."""
    outcome = (messages.FAILED, 500, None, {"error": "internal", "message": "interrupted", "details": {}}, ())
    try:
        touched, answer = _dispatch(ctx, message, row_id)
        outcome = (messages.ACCEPTED, 200, answer, None, touched)
        return answer
    except errors.MesError as exc:
        status = messages.FAILED if isinstance(exc, errors.Unavailable) else messages.REJECTED
        outcome = (status, exc.http_status, _rejection(message, row_id, exc), exc.to_dict(), ())
        raise
    except Exception as exc:
        log.exception("B2MML message %s failed", row_id)
        outcome = (messages.FAILED, 500, None, {"error": "internal", "message": str(exc)[:500], "details": {}}, ())
        raise
    finally:
        status, http_status, answer, error, touched = outcome
        messages.finish(uow, row_id, status, http_status, answer=answer, error=error, touched=touched)


def _rejection(message, row_id, exc):
    """The Rejected answer kept in the log, or None when B2MML has no answer for this noun (a ConfirmBOD...)."""
    try:
        return _answer(message, row_id, error=exc)
    except ValueError:
        return None


def _answer(message, row_id, error=None, nouns=None):
    """Acknowledge (Respond for a Change) as text, its BODID the log's id of the message: the ERP can ask for it.
    Sync, Cancel and a plain document get an Acknowledge too (ISA-95 asks none): the sender learns the outcome."""
    if message.verb == "Change":
        tree = b2mml.respond(message, error=error, bod_id=str(row_id))
    else:
        tree = b2mml.acknowledge(message, error=error, bod_id=str(row_id))
    return b2mml.to_bytes(tree).decode("utf-8")


def _dispatch(ctx, message, row_id):
    """(touched, answer) of a message, by noun."""
    noun = message.noun
    if noun in SCHEDULE_NOUNS:
        if message.verb == "Get":
            return show_work_orders(ctx, message)
        touched = import_schedules(ctx, message, row_id)
    elif noun in master_data.NOUNS:
        _verb(message, (None, "Process", "Change", "Sync", "Get"))
        if "Delete" in message.actions:
            raise errors.RuleViolated("the MES does not delete master data from the ERP",
                                      {"body": ["actionCode Delete: set the part inactive or the lot's status"]})
        if message.verb == "Get":
            return master_data.show(ctx, message)
        touched = master_data.apply(ctx, message, row_id)
    else:
        raise errors.RuleViolated(f"the MES takes no {message.noun_element}",
                                  {"body": [f"{message.noun_element}: the MES takes {', '.join(SUPPORTED)}"]})
    return touched, _answer(message, row_id)


def _verb(message, allowed):
    if message.verb not in allowed:
        raise errors.RuleViolated(f"the MES does not take {message.verb} for {message.noun_element}",
                                  {"body": [f"{message.verb}{message.noun_element}: the MES takes "
                                            f"{', '.join(v or 'a plain noun' for v in allowed)}"]})


SUPPORTED = ("OperationsSchedule (V0600 ProductionSchedule)", "MaterialDefinition", "MaterialLot",
             "MaterialInformation", "Equipment", "EquipmentInformation")


def source(message, row_id):
    return f"b2mml {message.sender or '?'} {message.message_id or row_id}"[:200]


def import_schedules(ctx, message, row_id):
    found = b2mml.read_schedules(message)
    if message.verb == "Cancel" or (message.verb == "Sync" and "Delete" in message.actions):
        return cancel(ctx, message, found, row_id)
    numbers = schedules.part_numbers(found)
    parts = ctx.material.find_parts({"part_numbers": numbers}) if numbers else {}
    codes = schedules.work_center_codes(found)
    by_code = defaultdict(list)
    for node in ctx.resource.find_nodes({"codes": codes, "level": "work_center"}) if codes else ():
        by_code[node["code"]].append(node)
    site, sites = _site(ctx), ()
    if site is None and any(not r.segments for s in found for r in s.requests):
        sites = ctx.resource.list_nodes({"level": "site", "active": True, "limit": 2})["items"]
    orders = schedules.orders(found, message.version, parts, by_code, site, [{"id": s["id"]} for s in sites])
    try:
        result = ctx.work_order.import_work_orders({"orders": orders, "mode": IMPORT_MODE[message.verb],
                                                    "source": source(message, row_id)})
    except (errors.RuleViolated, errors.Conflict, errors.ValidationFailed) as exc:
        raise _in_document_terms(exc, orders, message.version) from None
    return [{"type": "work_order", "id": o["id"], "number": o["number"], "action": o["action"],
             **({"reason": o["reason"]} if o.get("reason") else {})} for o in result["orders"]]


_ORDER_FIELD = re.compile(r"^orders\[(\d+)\]\.?(.*)$")


def _flat(details, prefix=""):
    """Marshmallow's nested errors ({"orders": {"0": {"number": [...]}}}) as paths (orders[0].number)."""
    flat = {}
    for key, value in details.items():
        path = f"{prefix}[{key}]" if str(key).isdigit() else f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flat(value, path))
        else:
            flat[path] = value
    return flat
_ELEMENT = {"number": "ID", "part_id": "MaterialDefinitionID", "quantity": "Quantity", "due_date": "EndTime",
            "planned_start": "StartTime", "priority": "Priority", "description": "Description"}


def _in_document_terms(exc, orders, version):
    """The work order service's refusal with its fields named as the document's elements
    (orders[3].number → OperationsRequest[WO-7]/ID), so the ERP sees where to look."""
    request = "ProductionRequest" if version == b2mml.V0600 else "OperationsRequest"
    details = {}
    for where, messages_ in _flat(exc.details).items():
        found = _ORDER_FIELD.match(where)
        if found and int(found[1]) < len(orders):
            head = f"{request}[{orders[int(found[1])]['number']}]"
            field = found[2].split(".")[0].split("[")[0]
            where = f"{head}/{_ELEMENT[field]}" if field in _ELEMENT else f"{head}/{found[2]}" if found[2] else head
        details[where] = messages_
    return type(exc)(exc.message, details)


def _site(ctx):
    """The site the sender named (?site=CODE), or None."""
    if not ctx.site_code:
        return None
    found = ctx.resource.find_nodes({"codes": [ctx.site_code], "level": "site"})
    if len(found) != 1:
        raise errors.RuleViolated(f"site: {ctx.site_code!r} names {len(found)} sites",
                                  {"site": [f"no site coded {ctx.site_code!r}" if not found else "ambiguous"]})
    return found[0]


def cancel(ctx, message, found, row_id):
    """Cancel the named orders: all must exist (one 422 naming the unknown); those already ended are kept."""
    numbers = list(dict.fromkeys(r.id for s in found for r in s.requests))   # each once, in document order
    existing = {o["number"]: o for o in ctx.work_order.find_work_orders({"numbers": numbers})}
    name = "ProductionRequest" if message.version == b2mml.V0600 else "OperationsRequest"
    problems = {f"{name}[{n}]/ID": ["no such work order"] for n in numbers if n not in existing}
    problems.update({f"{name}[{n}]/ID": [f"{existing[n]['status']}: work has started; hold it on the shop floor"]
                     for n in numbers if n in existing and existing[n]["status"] not in CANCELLABLE + ENDED})
    if problems:   # every order checked before the first is cancelled
        raise errors.RuleViolated(f"{len(problems)} work order(s) cannot be cancelled: nothing cancelled", problems)
    touched = []
    for number in numbers:
        order = existing[number]
        if order["status"] in ENDED:
            touched.append({"type": "work_order", "id": order["id"], "number": number, "action": "kept",
                            "reason": order["status"]})
            continue
        done = ctx.work_order.cancel_work_order(order["id"], {"reason": f"cancelled by {source(message, row_id)}"})
        touched.append({"type": "work_order", "id": done["id"], "number": number, "action": "cancelled"})
    return touched


def show_work_orders(ctx, message):
    """Get → Show: the named work orders as V0700 OperationsSchedule/OperationsRequest."""
    found = b2mml.read_schedules(message)
    numbers = [r.id for s in found for r in s.requests]
    summaries = ctx.work_order.find_work_orders({"numbers": numbers}) if numbers else []
    orders = [ctx.work_order.get_work_order(s["id"]) for s in summaries]
    tree = b2mml.show([b2mml.operations_schedule(orders, schedule_id=found[0].id if found else None)],
                      request=message)
    return ([{"type": "work_order", "id": o["id"], "number": o["number"], "action": "shown"} for o in orders],
            b2mml.to_bytes(tree).decode("utf-8"))
