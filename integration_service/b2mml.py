"""ISA-95 B2MML documents an ERP sends to the MES, read into plain values, and
the V0700 answers the MES sends back. Pure: takes trees from the hardened
parser (mes_common.xml.parse), reads no file but the official schemas
(validate_v0700), reaches no database and no network.

Two versions arrive. V0700 (namespace http://www.mesa.org/xml/B2MML, ISA-95
2018 names: OperationsSchedule/OperationsRequest) is validated against the
official XSDs. V0600 (http://www.mesa.org/xml/B2MML-V0600, ISA-95 2010 names:
ProductionSchedule/ProductionRequest), whose schemas the MES does not ship, is
checked by structure only: by the readers below, which need what they read.

Reading is tolerant where ERPs differ and the meaning does not: identifiers
are stripped of surrounding blanks (xsd:normalizedString keeps them), a
quantity may be written in any decimal or exponent form ("0.4E1"), a time
without a zone is UTC, the work may sit in nested segments. It is strict where
a guess would make wrong work: a quantity that is no number, a duration in
months or years (no fixed length), a setup time in an unknown unit. Every
problem of a document is reported at once: one ValidationFailed (400) whose
details name each element, as `OperationsRequest[WO-1]/SegmentRequirement[0010]/Duration`
(a position, `[#2]`, where the element has no ID). A document read correctly
whose content contradicts itself (an end before the start, the same order or
operation twice, a quantity of 0 or less to make) is a RuleViolated (422) with
details of the same shape.

ISO 8601 durations are parsed here (parse_duration): the isodate package is
not installed, and xsd:duration needs only PnYnMnDTnHnMnS.
"""
import copy
import functools
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from lxml import etree

from mes_common import errors, xml

V0600, V0700 = "V0600", "V0700"
NAMESPACES = {V0600: "http://www.mesa.org/xml/B2MML-V0600", V0700: "http://www.mesa.org/xml/B2MML"}
VERSION_OF = {namespace: version for version, namespace in NAMESPACES.items()}
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
SOAP_ENVELOPES = {"http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope"}
REQUESTS = ("Process", "Change", "Cancel", "Sync", "Get")   # what a sender asks of the MES
ANSWERS = ("Acknowledge", "Respond", "Show")                # what comes back
VERBS = REQUESTS + ANSWERS
NO_QUANTITY_NEEDED = ("Cancel", "Get")   # these name the schedule; they carry no order to make
# the V0600 (ISA-95 2010) names of nouns V0700 (ISA-95 2018) renamed
V0700_NOUN = {"ProductionSchedule": "OperationsSchedule", "ProductionRequest": "OperationsRequest",
              "ProductionPerformance": "OperationsPerformance", "ProductionResponse": "OperationsResponse",
              "ProductionCapability": "OperationsCapability", "ProductDefinition": "OperationsDefinition",
              "ProductSegment": "OperationsSegment", "ProductInformation": "OperationsDefinitionInformation"}
SCHEDULE = {V0600: "ProductionSchedule", V0700: "OperationsSchedule"}
REQUEST = {V0600: "ProductionRequest", V0700: "OperationsRequest"}
PRODUCED = {"produced", "material produced"}   # MaterialUse of what a request makes (by- and co-products are not it)
SETUP_TIME = "setuptime"   # the parameter's ID, compared without case, blanks, '_' and '-'
# a setup time given as a bare number is in minutes, unless its Value/UnitOfMeasure says otherwise
SECONDS_PER = {"": 60, "s": 1, "sec": 1, "second": 1, "seconds": 1, "min": 60, "mins": 60, "minute": 60,
               "minutes": 60, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600, "hur": 3600}
BASE_UNIT_PROPERTIES = {"baseunitofmeasure", "baseunit", "unitofmeasure", "uom"}   # MaterialDefinitionProperty IDs
MES_LOGICAL_ID = "MES"
DEFAULT_RELEASE_ID = "1.0"   # an answer's releaseID when the request gave none (B2MML fixes no value)
MAX_REASONS = 100            # an answer lists at most this many problems


# -- results -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    version: str                  # "V0600" | "V0700"
    noun: str                     # the V0700 name: "OperationsSchedule" for a V0600 ProductionSchedule too
    noun_element: str             # the noun as the document spells it ("ProductionSchedule")
    verb: str | None              # "Process", "Change", "Cancel", "Sync", "Get" (or an answer's); None: a plain noun
    message_id: str | None        # ApplicationArea/BODID, else the first noun's ID
    bod_id: str | None            # ApplicationArea/BODID alone
    sender: str | None            # ApplicationArea/Sender/LogicalID (else ComponentID)
    created: datetime | None      # ApplicationArea/CreationDateTime, UTC
    release_id: str | None        # the root's releaseID
    actions: tuple                # the verb's ActionCriteria/ActionExpression actionCodes ("Add", "Delete"...)
    acknowledge: str | None       # when the sender wants an answer: acknowledgeCode/responseCode/ConfirmationCode
    element_name: str             # the document's root element as spelled ("ProcessProductionSchedule")
    nouns: tuple                  # the noun elements, in document order


@dataclass(frozen=True)
class Segment:
    id: str
    description: str | None
    process_segment_id: str | None
    work_center_code: str | None  # EquipmentRequirement/EquipmentID
    duration: timedelta | None
    setup: timedelta | None       # parameter SetupTime
    parent_id: str | None         # the operation a nested one belongs to


@dataclass(frozen=True)
class Request:
    id: str                       # the work order number
    description: str | None
    part_number: str | None       # MaterialDefinitionID of the produced material
    product_segment_id: str | None
    quantity: Decimal | None      # None only where no quantity is needed (Cancel, Get)
    unit: str | None
    start: datetime | None
    due: datetime | None
    priority: Decimal | None
    segments: tuple               # of Segment, nested ones flattened in document order


@dataclass(frozen=True)
class Schedule:
    id: str | None
    requests: tuple               # of Request


@dataclass(frozen=True)
class MaterialDefinition:
    id: str
    description: str | None
    base_unit: str | None


@dataclass(frozen=True)
class MaterialLot:
    id: str
    material_definition_id: str | None
    quantity: Decimal | None
    unit: str | None
    storage_location: str | None
    status: str | None


@dataclass(frozen=True)
class Equipment:
    id: str
    description: str | None
    level: str | None             # Enterprise, Site, Area, WorkCenter, WorkUnit, ProcessCell, ProductionLine...
    parent_id: str | None         # the enclosing Equipment, else the innermost HierarchyScope (V0600: Location)


class _Problems:
    """What is wrong with a document, by element, raised together."""

    def __init__(self):
        self.details = {}

    def add(self, where, message):
        self.details.setdefault(where, []).append(message)

    def raise_any(self, what, error=errors.ValidationFailed):
        if self.details:
            count = sum(len(messages) for messages in self.details.values())
            where, messages = next(iter(self.details.items()))
            raise error(f"{what} has {count} problem{'s' if count > 1 else ''}; the first: {where}: {messages[0]}",
                        self.details)


# -- values --------------------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?")
_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
                       r"(Z|[+-]\d{2}:?\d{2})?")
_DURATION = re.compile(r"(-)?P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+(?:[.,]\d+)?)D)?"
                       r"(?:T(?=\d)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?")
_MICROSECONDS = {"W": 604_800_000_000, "D": 86_400_000_000, "H": 3_600_000_000, "M": 60_000_000, "S": 1_000_000}


def parse_decimal(text):
    """A number in any decimal or exponent form ("25", "+25.0", "0.4E1" → 4): no NaN, no
    infinity, no thousands separator (a ',' may be one or a decimal comma: refused, not guessed)."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        raise ValueError("not a number")
    value = Decimal(text)
    if value and not -15 <= value.adjusted() <= 15:
        raise ValueError("out of range")
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value   # 1E+3 → 1000


def parse_datetime(text):
    """An xsd:dateTime (a date alone is its midnight) as an aware UTC datetime. A time without a zone
    is taken as UTC: the document names no other, and guessing the plant's zone would shift every date
    near midnight; a sender in another zone must write its offset."""
    match = _DATETIME.fullmatch(text.strip())
    if not match:
        raise ValueError("not a date and time (YYYY-MM-DDThh:mm:ss with an optional zone)")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    hour, minute, second = int(hour or 0), int(minute or 0), int(second or 0)
    next_day = hour == 24 and minute == second == 0 and not (fraction or "").strip("0")   # 24:00:00 ends a day
    try:
        value = datetime(int(year), int(month), int(day), 0 if next_day else hour, minute, second,
                         int((fraction or "0")[:6].ljust(6, "0")))
        value += timedelta(days=1) if next_day else timedelta()
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
            return value.replace(tzinfo=timezone(sign * offset)).astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a valid date and time ({exc})") from None
    return value.replace(tzinfo=timezone.utc)


def parse_duration(text):
    """An ISO 8601 / xsd:duration, PnYnMnDTnHnMnS (also PnW, and a fraction on D, H, M or S), as a timedelta.
    Years and months other than 0 are refused: they have no fixed length."""
    match = _DURATION.fullmatch(text.strip().upper())
    if not match:
        raise ValueError("not an ISO 8601 duration (PnDTnHnMnS)")
    sign, years, months, *parts = match.groups()
    if int(years or 0) or int(months or 0):
        raise ValueError("a duration in years or months has no fixed length; give days, hours, minutes")
    total = sum(Decimal(part.replace(",", ".")) * _MICROSECONDS[unit]
                for part, unit in zip(parts, "WDHMS") if part is not None)
    try:
        return timedelta(microseconds=int(-total if sign else total))
    except OverflowError:
        raise ValueError("out of range") from None


def parse_setup(text, unit=None):
    """A setup time: an ISO 8601 duration ("PT45M"), or a bare number of minutes ("45"; of seconds or hours when
    the parameter's UnitOfMeasure is s/sec/min/h/hr/HUR...)."""
    text = text.strip()
    if text.upper().lstrip("-").startswith("P"):
        return parse_duration(text)
    factor = SECONDS_PER.get((unit or "").strip().lower())
    if factor is None:
        raise ValueError(f"unit {unit!r} is no unit of time (s, min, h)")
    try:
        return timedelta(microseconds=int(parse_decimal(text) * factor * 1_000_000))
    except OverflowError:
        raise ValueError("out of range") from None


# -- elements ------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=512)
@functools.lru_cache(maxsize=1024)   # the readers ask the same few paths thousands of times a document
def _path(version, path):
    """`SegmentRequirement/ID` in the version's namespace, as find() takes it."""
    return "/".join(f"{{{NAMESPACES[version]}}}{step}" for step in path.split("/"))


def _find(element, version, path):
    return element.find(_path(version, path)) if element is not None else None


def _findall(element, version, path):
    return element.findall(_path(version, path)) if element is not None else []


def _value(element):
    """The element's own text, stripped: None when absent, empty or xsi:nil (comments inside are skipped)."""
    if element is None or element.get(XSI_NIL) in ("true", "1"):
        return None
    text = ((element.text or "") + "".join(child.tail or "" for child in element)).strip()
    return text or None


def _text(element, version, path):
    return _value(_find(element, version, path))


def _name(element):
    return etree.QName(element).localname


def _version(element, version=None):
    """The element's B2MML version: its namespace's (400 when it is in none, or not in `version`'s)."""
    found = VERSION_OF.get(etree.QName(element).namespace)
    if found is None or (version is not None and found != version):
        expected = NAMESPACES.get(version) or " or ".join(NAMESPACES.values())
        raise errors.ValidationFailed(f"{_name(element)} is not in the B2MML namespace {expected}",
                                      {"body": [f"{_name(element)} in "
                                                f"{etree.QName(element).namespace or 'no namespace'}"]})
    return found


def _root(tree):
    return tree.getroot() if isinstance(tree, etree._ElementTree) else tree


def _elements(nouns):
    return [nouns] if isinstance(nouns, etree._Element) else list(nouns)


def _parsed(problems, where, text, parse, *args):
    """`parse(text)`, or None with the problem noted at `where`."""
    if text is None:
        return None
    try:
        return parse(text, *args)
    except ValueError as exc:
        problems.add(where, f"{text!r}: {exc}")
        return None


def _quantity(requirement, version):
    """(text, unit) of the first Quantity that says how many: its QuantityString (QuantityValueType), or its own
    text as some ERPs write it. Further quantities (the same amount in other units) are not read."""
    quantities = _findall(requirement, version, "Quantity")
    for quantity in quantities:
        string = _find(quantity, version, "QuantityString")
        text = _value(string) if string is not None else _value(quantity)
        if text is not None:
            return text, _text(quantity, version, "UnitOfMeasure")
    return None, (_text(quantities[0], version, "UnitOfMeasure") if quantities else None)


def _innermost(element, version, *names):
    """The EquipmentID of the narrowest scope: a HierarchyScope's nested HierarchyScope..., a V0600 Location's
    nested Location... (the first of `names` the element has)."""
    for name in names:
        scope, found = _find(element, version, name), None
        while scope is not None:
            found = _text(scope, version, "EquipmentID") or found
            scope = _find(scope, version, name)
        if found:
            return found
    return None


# -- transport and message -----------------------------------------------------------------------------------------

def find_documents(tree):
    """Every outermost B2MML element (V0600 or V0700) in `tree`, in document order, whatever wraps them: nothing,
    a SOAP 1.1/1.2 Envelope (its Body only), an OAGIS envelope, an MTConnect Assets response..."""
    root = _root(tree)
    if etree.QName(root).namespace in SOAP_ENVELOPES and etree.QName(root).localname == "Envelope":
        root = next((child for child in root if isinstance(child.tag, str) and _name(child) == "Body"), None)
        if root is None:
            return []
    found, stack = [], [root]
    while stack:   # depth first, in document order, not below a B2MML element
        element = stack.pop()
        if etree.QName(element).namespace in VERSION_OF:
            found.append(element)
        else:
            stack.extend(reversed([child for child in element if isinstance(child.tag, str)]))
    return found


def find_document(tree):
    """(element, version) of the first B2MML document in `tree` (400 naming `body` when there is none)."""
    documents = find_documents(tree)
    if not documents:
        namespaces = sorted({etree.QName(e).namespace or "no namespace" for e in _root(tree).iter(etree.Element)
                             if "mesa.org/xml/B2MML" in (etree.QName(e).namespace or "")
                             and etree.QName(e).namespace not in VERSION_OF})
        hint = f"; found {', '.join(namespaces)}, which is not supported" if namespaces else ""
        raise errors.ValidationFailed(
            f"no B2MML V0600 or V0700 document in the body{hint}",
            {"body": [f"an element in {' or '.join(NAMESPACES.values())}{hint}"]})
    return documents[0], VERSION_OF[etree.QName(documents[0]).namespace]


def read_message(element):
    """What the document is (Message): verb and noun, who sent it, which message, its noun elements."""
    version = _version(element)
    name = _name(element)
    data_area = _find(element, version, "DataArea")
    verb = next((v for v in VERBS if name.startswith(v) and len(name) > len(v)), None) \
        if data_area is not None else None   # a plain ProcessSegment is a noun, not Process + Segment
    if verb is None:
        nouns, noun_name, verb_element, area = (element,), name, None, None
    else:
        noun_name = name[len(verb):]
        verb_element, area = _find(data_area, version, verb), _find(element, version, "ApplicationArea")
        nouns = tuple(_findall(data_area, version, noun_name))
        problems = _Problems()
        if verb_element is None:
            problems.add(f"{name}/DataArea/{verb}", "missing: the verb of the message")
        if not nouns:
            problems.add(f"{name}/DataArea/{noun_name}", "missing: the message carries nothing")
        problems.raise_any(f"the {name} message")
    sender = _text(area, version, "Sender/LogicalID") or _text(area, version, "Sender/ComponentID")
    created = _text(area, version, "CreationDateTime")
    try:
        created = parse_datetime(created) if created else None
    except ValueError:
        created = None   # the header's time decides nothing: not a reason to refuse the work
    actions = tuple(a.get("actionCode").strip() for a in verb_element.iter(_path(version, "ActionExpression"))
                    if a.get("actionCode")) if verb_element is not None else ()
    acknowledge = ((verb_element.get("acknowledgeCode") or verb_element.get("responseCode"))
                   if verb_element is not None else None) or _text(area, version, "Sender/ConfirmationCode")
    return Message(version=version, noun=V0700_NOUN.get(noun_name, noun_name) if version == V0600 else noun_name,
                   noun_element=noun_name, verb=verb,
                   message_id=_text(area, version, "BODID") or _text(nouns[0], version, "ID"),
                   bod_id=_text(area, version, "BODID"), sender=sender,
                   created=created, release_id=(element.get("releaseID") or "").strip() or None, actions=actions,
                   acknowledge=acknowledge, element_name=name, nouns=nouns)


def read(raw, standards_dir=None, max_bytes=xml.MAX_BYTES):
    """The Message of a request's body: parsed safely, found in its wrapper, and a V0700 document checked
    against its official schema when `standards_dir` is given (V0600 is checked by the readers)."""
    element, version = find_document(xml.parse(raw, max_bytes=max_bytes))
    if version == V0700 and standards_dir is not None:
        validate_v0700(element, standards_dir)
    return read_message(element)


# -- schedules -----------------------------------------------------------------------------------------------------

def read_schedule(noun, version=None, require_quantity=True):
    """The Schedule of an OperationsSchedule / ProductionSchedule (or of a bare OperationsRequest /
    ProductionRequest). A quantity is required unless `require_quantity` is false (a Cancel, a Get)."""
    problems, rules = _Problems(), _Problems()
    schedule = _read_schedule(noun, _version(noun, version), require_quantity, problems, rules)
    problems.raise_any(f"the {_name(noun)} {schedule.id or ''}".rstrip())
    rules.raise_any(f"the {_name(noun)} {schedule.id or ''}".rstrip(), errors.RuleViolated)
    return schedule


def read_schedules(message):
    """The Schedules of a message, every problem of all of them reported together."""
    problems, rules = _Problems(), _Problems()
    schedules = [_read_schedule(noun, message.version, message.verb not in NO_QUANTITY_NEEDED, problems, rules)
                 for noun in message.nouns]
    problems.raise_any(f"the {message.element_name} {message.message_id or ''}".rstrip())
    rules.raise_any(f"the {message.element_name} {message.message_id or ''}".rstrip(), errors.RuleViolated)
    return schedules


def _read_schedule(noun, version, require_quantity, problems, rules):
    name = _name(noun)
    if name == SCHEDULE[version]:
        schedule_id, elements = _text(noun, version, "ID"), _findall(noun, version, REQUEST[version])
    elif name == REQUEST[version]:
        schedule_id, elements = None, [noun]
    else:
        raise errors.ValidationFailed(f"a {name} is no {SCHEDULE[version]}",
                                      {"body": [f"{name}: expected {SCHEDULE[version]} or {REQUEST[version]}"]})
    requests = []
    for position, element in enumerate(elements, 1):
        request_id = _text(element, version, "ID")
        where = f"{REQUEST[version]}[{request_id or f'#{position}'}]"
        requests.append(_read_request(element, version, request_id, where, require_quantity, problems, rules))
    _unique(rules, REQUEST[version], [r.id for r in requests], "the same work order twice in one schedule")
    return Schedule(id=schedule_id, requests=tuple(requests))


def _read_request(element, version, request_id, where, require_quantity, problems, rules):
    if request_id is None:
        problems.add(f"{where}/ID", "missing: the work order number")
    produced = _produced(element, version)
    quantity = unit = None
    if produced is None:
        if require_quantity:
            problems.add(f"{where}/{_produced_name(version)}", "missing: nothing to make, so no quantity")
    else:
        text, unit = _quantity(produced, version)
        at = f"{where}/{_name(produced)}/Quantity"
        if text is None and require_quantity:
            problems.add(at, "missing: how many to make")
        quantity = _parsed(problems, at, text, parse_decimal)
        if quantity is not None and quantity <= 0 and require_quantity:
            rules.add(at, f"{quantity}: must be greater than 0")
    start = _parsed(problems, f"{where}/StartTime", _text(element, version, "StartTime"), parse_datetime)
    due = _parsed(problems, f"{where}/EndTime", _text(element, version, "EndTime"), parse_datetime)
    # the request's own times, else its segments' earliest start and latest end
    starts, ends = _segment_times(element, version, where, problems)
    start = start or (min(starts) if starts else None)
    due = due or (max(ends) if ends else None)
    if start and due and due < start:
        rules.add(f"{where}/EndTime", f"{due.isoformat()} is before the start {start.isoformat()}")
    segments = _read_segments(element, version, where, problems)
    _unique(rules, f"{where}/SegmentRequirement", [s.id for s in segments], "the same operation twice in one request")
    return Request(id=request_id, description=_text(element, version, "Description"),
                   part_number=_text(produced, version, "MaterialDefinitionID"),
                   product_segment_id=_product_segment_id(element, version), quantity=quantity, unit=unit,
                   start=start, due=due,
                   priority=_parsed(problems, f"{where}/Priority", _text(element, version, "Priority"), parse_decimal),
                   segments=tuple(segments))


def _produced_name(version):
    return "SegmentRequirement/" + ("MaterialProducedRequirement" if version == V0600
                                    else "MaterialRequirement[MaterialUse='Produced']")


def _produced(request, version):
    """The first requirement, in document order over the request's segments at any depth, for the material the
    request makes: V0600 MaterialProducedRequirement, or a MaterialRequirement whose MaterialUse is Produced."""
    produced, requirement = _path(version, "MaterialProducedRequirement"), _path(version, "MaterialRequirement")
    for segment in request.iter(_path(version, "SegmentRequirement")):
        for child in segment:
            if child.tag == produced or (child.tag == requirement
                                         and (_text(child, version, "MaterialUse") or "").lower() in PRODUCED):
                return child
    return None


def _product_segment_id(request, version):
    """What the request is made by: its OperationsDefinitionID (V0700) / ProductProductionRuleID (V0600), else its
    OperationsSegmentID / ProductSegmentID, else the ProductSegmentID / OperationsDefinitionID of its first segment
    (V0600 senders put it there)."""
    for path in ("OperationsDefinitionID", "ProductProductionRuleID", "OperationsSegmentID", "ProductSegmentID",
                 "SegmentRequirement/ProductSegmentID", "SegmentRequirement/OperationsDefinitionID"):
        found = _text(request, version, path)
        if found:
            return found
    return None


def _segment_times(request, version, where, problems):
    starts, ends = [], []
    for segment in request.iter(_path(version, "SegmentRequirement")):
        at = f"{where}/SegmentRequirement[{_segment_id(segment, version) or '#'}]"
        for path, into in (("EarliestStartTime", starts), ("LatestEndTime", ends)):
            found = _parsed(problems, f"{at}/{path}", _text(segment, version, path), parse_datetime)
            if found:
                into.append(found)
    return starts, ends


def _segment_id(segment, version):
    return (_text(segment, version, "ID") or _text(segment, version, "ProcessSegmentID")
            or _text(segment, version, "OperationsSegmentID"))


def _operations(parent, version, parent_id):
    """(segment, parent_id) of every operation under `parent`, depth first in document order. A segment that only
    groups others (it has nested segments and no equipment) is no operation itself: its nested ones are."""
    for segment in _findall(parent, version, "SegmentRequirement"):
        nested = _findall(segment, version, "SegmentRequirement")
        if nested and not _findall(segment, version, "EquipmentRequirement"):
            yield from _operations(segment, version, parent_id)
        else:
            yield segment, parent_id
            yield from _operations(segment, version, _segment_id(segment, version))


def _read_segments(request, version, where, problems):
    segments = []
    for position, (element, parent_id) in enumerate(_operations(request, version, None), 1):
        segment_id = _segment_id(element, version)
        at = f"{where}/SegmentRequirement[{segment_id or f'#{position}'}]"
        if segment_id is None:
            problems.add(f"{at}/ID", "missing: the operation's number")
        duration = _parsed(problems, f"{at}/Duration", _text(element, version, "Duration"), parse_duration)
        setup = _setup(element, version, at, problems)
        for label, value in (("Duration", duration), ("SetupTime", setup)):
            if value is not None and value < timedelta(0):
                problems.add(f"{at}/{label}", "must not be negative")
        work_center = next(filter(None, (_text(e, version, "EquipmentID")
                                         for e in _findall(element, version, "EquipmentRequirement"))), None)
        segments.append(Segment(id=segment_id, description=_text(element, version, "Description"),
                                process_segment_id=_text(element, version, "ProcessSegmentID"),
                                work_center_code=work_center, duration=duration, setup=setup, parent_id=parent_id))
    return segments


def _setup(segment, version, at, problems):
    """The segment's own SetupTime parameter (not its nested segments'): V0700 SegmentParameter (or a Parameter in
    it), V0600 ProductionParameter/Parameter; its first Value's ValueString (or text) and UnitOfMeasure."""
    candidates = [p for top in (*_findall(segment, version, "SegmentParameter"),
                                *_findall(segment, version, "ProductionParameter"))
                  for p in top.iter(_path(version, "SegmentParameter"), _path(version, "Parameter"))]
    for parameter in candidates:
        if re.sub(r"[\s_-]", "", (_text(parameter, version, "ID") or "").lower()) == SETUP_TIME:
            value = _find(parameter, version, "Value")
            string = _find(value, version, "ValueString")
            text = _value(string) if string is not None else _value(value)
            return _parsed(problems, f"{at}/SetupTime", text, parse_setup, _text(value, version, "UnitOfMeasure"))
    return None


def _unique(rules, where, ids, why):
    seen = set()
    for found in ids:
        if found is not None and found in seen:
            rules.add(f"{where}[{found}]", why)
        seen.add(found)


# -- master data ---------------------------------------------------------------------------------------------------

def _members(nouns, version, name, collection):
    """(element, version) of each `name` in `nouns`: the element itself, or each in a `collection` (…Information)."""
    for noun in _elements(nouns):
        found = _version(noun, version)
        if _name(noun) == name:
            yield noun, found
        elif _name(noun) == collection:
            yield from ((member, found) for member in _findall(noun, found, name))
        else:
            raise errors.ValidationFailed(f"a {_name(noun)} is no {name}",
                                          {"body": [f"{_name(noun)}: expected {name} or {collection}"]})


def read_material_definitions(nouns, version=None):
    """The MaterialDefinitions of MaterialDefinition (or MaterialInformation) elements. A base unit is the
    MaterialDefinitionProperty BaseUnitOfMeasure (or BaseUnit, UnitOfMeasure, UoM): its ValueString, else its
    Value/UnitOfMeasure; B2MML has no element of its own for it."""
    problems, found = _Problems(), []
    for position, (element, v) in enumerate(_members(nouns, version, "MaterialDefinition", "MaterialInformation"), 1):
        definition_id = _text(element, v, "ID")
        if definition_id is None:
            problems.add(f"MaterialDefinition[#{position}]/ID", "missing: the part number")
        found.append(MaterialDefinition(id=definition_id, description=_text(element, v, "Description"),
                                        base_unit=_base_unit(element, v)))
    problems.raise_any("the material definitions")
    _raise_duplicates("MaterialDefinition", [d.id for d in found])
    return found


def _base_unit(definition, version):
    for prop in _findall(definition, version, "MaterialDefinitionProperty"):
        if (_text(prop, version, "ID") or "").lower() in BASE_UNIT_PROPERTIES:
            return _text(prop, version, "Value/ValueString") or _text(prop, version, "Value/UnitOfMeasure")
    return None


def read_material_lots(nouns, version=None):
    """The MaterialLots of MaterialLot (or MaterialInformation) elements. The lot's first Quantity is read, its
    sublots are not. StorageLocation is an identifier (V0600, V0700), or a Location in it."""
    problems, found = _Problems(), []
    for position, (element, v) in enumerate(_members(nouns, version, "MaterialLot", "MaterialInformation"), 1):
        lot_id = _text(element, v, "ID")
        where = f"MaterialLot[{lot_id or f'#{position}'}]"
        if lot_id is None:
            problems.add(f"{where}/ID", "missing: the lot number")
        text, unit = _quantity(element, v)
        storage = _find(element, v, "StorageLocation")
        found.append(MaterialLot(id=lot_id, material_definition_id=_text(element, v, "MaterialDefinitionID"),
                                 quantity=_parsed(problems, f"{where}/Quantity", text, parse_decimal), unit=unit,
                                 storage_location=_value(storage) or _text(storage, v, "Location"),
                                 status=_text(element, v, "Status")))
    problems.raise_any("the material lots")
    _raise_duplicates("MaterialLot", [lot.id for lot in found])
    return found


def read_equipment(nouns, version=None):
    """The Equipment of Equipment (or EquipmentInformation) elements, nested ones flattened after their parent.
    The level is EquipmentLevel/EquipmentElementLevel or /EquipmentLevel (its OtherValue for "Other"; a bare
    EquipmentLevel text is taken too); the parent the enclosing Equipment, else the innermost HierarchyScope (V0600
    also Location); EquipmentLevel/EquipmentID (the equipment itself) is not read."""
    problems, found = _Problems(), []
    for element, v in _members(nouns, version, "Equipment", "EquipmentInformation"):
        _walk_equipment(element, v, None, problems, found)
    problems.raise_any("the equipment")
    _raise_duplicates("Equipment", [e.id for e in found])
    return found


def _walk_equipment(element, version, parent_id, problems, found):
    equipment_id = _text(element, version, "ID")
    if equipment_id is None:
        problems.add(f"Equipment[#{len(found) + 1}]/ID", "missing: the equipment's code")
    if parent_id is None:
        parent_id = _innermost(element, version, "HierarchyScope", "Location")
        parent_id = None if parent_id == equipment_id else parent_id
    found.append(Equipment(id=equipment_id, description=_text(element, version, "Description"),
                           level=_level(element, version), parent_id=parent_id))
    for child in _findall(element, version, "Equipment"):
        _walk_equipment(child, version, equipment_id, problems, found)


def _level(element, version):
    # V0700's HierarchyScopeType names the level EquipmentElementLevel or (ISA-95 2018) EquipmentLevel
    level = next((found for found in (_find(element, version, "EquipmentLevel/EquipmentElementLevel"),
                                      _find(element, version, "EquipmentLevel/EquipmentLevel"),
                                      _find(element, version, "EquipmentLevel")) if found is not None), None)
    text = _value(level)
    if text == "Other":   # the enumeration's escape: the level's own name is in OtherValue
        return (level.get("OtherValue") or "").strip() or text
    return text


def _raise_duplicates(name, ids):
    rules = _Problems()
    _unique(rules, name, ids, "given twice in one message")
    rules.raise_any(f"the {name} list", errors.RuleViolated)


# -- answers (V0700) -----------------------------------------------------------------------------------------------

def _el(parent, name, text=None, **attributes):
    element = etree.SubElement(parent, f"{{{NAMESPACES[V0700]}}}{name}", **attributes)
    if text is not None:
        element.text = text
    return element


def _timestamp(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _application_area(parent, name, sender, receiver, created, bod_id):
    area = _el(parent, name)
    if sender:
        _el(_el(area, "Sender"), "LogicalID", sender)
    if receiver:
        _el(_el(area, "Receiver"), "LogicalID", receiver)
    _el(area, "CreationDateTime", _timestamp(created))
    if bod_id:
        _el(area, "BODID", bod_id)
    return area


def _document(verb, noun, release_id, sender, receiver, bod_id, now):
    """(root, DataArea, verb element) of a new V0700 verb document."""
    root = etree.Element(f"{{{NAMESPACES[V0700]}}}{verb}{noun}", nsmap={None: NAMESPACES[V0700]},
                         releaseID=release_id or DEFAULT_RELEASE_ID)
    _application_area(root, "ApplicationArea", sender, receiver, now or datetime.now(timezone.utc),
                      bod_id or str(uuid.uuid4()))
    data_area = _el(root, "DataArea")
    return root, data_area, _el(data_area, verb)


def _original(verb_element, message):
    """The request's ApplicationArea, as the answer's OriginalApplicationArea (only when it had one: its
    CreationDateTime is required)."""
    if message is not None and message.created is not None:
        _application_area(verb_element, "OriginalApplicationArea", message.sender, None, message.created,
                          message.bod_id)


def _criteria(verb_element, message, action, reasons, description):
    """ResponseCriteria: what the answer says of the request's nouns (actionCode Accepted, Modified, Rejected)
    and, with its ChangeStatus, why."""
    criteria = _el(verb_element, "ResponseCriteria")
    selected = (f"/{message.element_name}/DataArea/{message.noun_element}" if message.verb
                else f"/{message.element_name}")
    _el(criteria, "ResponseExpression", selected, actionCode=action)
    status = _el(criteria, "ChangeStatus")
    _el(status, "Code", action)
    if description:
        _el(status, "Description", description)
    reasons = list(reasons)
    for reason in reasons[:MAX_REASONS]:
        _el(status, "Reason", reason)
    if len(reasons) > MAX_REASONS:
        _el(status, "Reason", f"and {len(reasons) - MAX_REASONS} more")


def _reasons(error, reasons):
    """An error's details as reasons ("field: message"), after the given ones."""
    details = error.details if error is not None else {}
    return [*reasons, *(f"{where}: {m}" for where, messages in details.items() for m in messages)]


def _echo(noun, version):
    """The noun as the answer names it: its V0700 element with its ID (and a schedule's request IDs)."""
    name = _name(noun)
    echo = etree.Element(f"{{{NAMESPACES[V0700]}}}{V0700_NOUN.get(name, name) if version == V0600 else name}")
    _el(echo, "ID", _text(noun, version, "ID") or "")
    if name == SCHEDULE[version]:
        for request in _findall(noun, version, REQUEST[version]):
            _el(_el(echo, "OperationsRequest"), "ID", _text(request, version, "ID") or "")
    return echo


def _answer(verb, message, action, nouns, reasons, error, sender, bod_id, now, release_id):
    if f"{verb}{message.noun}" not in SCHEMAS:
        raise ValueError(f"B2MML V0700 has no {verb}{message.noun}")
    root, data_area, verb_element = _document(verb, message.noun, release_id or message.release_id, sender,
                                              message.sender, bod_id, now)
    _original(verb_element, message)
    _criteria(verb_element, message, action, _reasons(error, reasons), error.message if error is not None else None)
    for noun in ([copy.deepcopy(n) for n in _elements(nouns)] if nouns is not None
                 else [_echo(n, message.version) for n in message.nouns]):
        data_area.append(noun)
    return etree.ElementTree(root)


def acknowledge(message, accepted=True, reasons=(), error=None, sender=MES_LOGICAL_ID, bod_id=None, now=None,
                release_id=None):
    """The V0700 Acknowledge<noun> of a Process message (ISA-95 Part 5 answers Process with Acknowledge, Change
    with Respond, Get with Show; Sync and Cancel with none): a new BODID and CreationDateTime, the request's
    ApplicationArea as OriginalApplicationArea, Accepted or Rejected with the reasons (an `error`'s message and
    details), and the nouns' IDs echoed (a schedule's request IDs too). A V0600 request is answered in V0700 too:
    the MES writes one version, the one it can validate."""
    rejected = error is not None or not accepted
    return _answer("Acknowledge", message, "Rejected" if rejected else "Accepted", None, reasons, error, sender,
                   bod_id, now, release_id)


def respond(message, action="Accepted", nouns=None, reasons=(), error=None, sender=MES_LOGICAL_ID, bod_id=None,
            now=None, release_id=None):
    """The V0700 Respond<noun> of a Change message: `action` Accepted, Modified (pass the `nouns` as the MES
    changed them, V0700 elements) or Rejected; without `nouns` the request's IDs are echoed."""
    if action not in ("Accepted", "Modified", "Rejected"):
        raise ValueError(f"a Respond is Accepted, Modified or Rejected, not {action}")
    return _answer("Respond", message, "Rejected" if error is not None else action, nouns, reasons, error, sender,
                   bod_id, now, release_id)


def show(nouns, request=None, sender=MES_LOGICAL_ID, bod_id=None, now=None, release_id=None):
    """The V0700 Show<noun> answering a Get (`request`, its Message) with `nouns`: V0700 elements of one noun."""
    nouns = _elements(nouns)
    names = {_name(n) for n in nouns}
    if not nouns or len(names) != 1 or any(etree.QName(n).namespace != NAMESPACES[V0700] for n in nouns):
        raise ValueError("a Show carries one or more V0700 elements of one noun")
    noun = names.pop()
    if f"Show{noun}" not in SCHEMAS:
        raise ValueError(f"B2MML V0700 has no Show{noun}")
    root, data_area, verb_element = _document("Show", noun, release_id or (request.release_id if request else None),
                                              sender, request.sender if request else None, bod_id, now)
    _original(verb_element, request)
    for element in nouns:
        data_area.append(copy.deepcopy(element))
    return etree.ElementTree(root)


def to_bytes(tree):
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- writers of the MES's nouns ------------------------------------------------------------------------------------
# V0700 elements of what the MES holds (the services' JSON), for show(); each is valid against the official XSDs
# once in its Show document. Element order follows each type's xsd:sequence: the schema refuses any other.

# the MES's work order status → ISA-95's RequestState (its enumeration has a word for each). A created order is not
# yet released to the shop floor: Forecast, ISA-95's state of a request known but not to be executed yet.
REQUEST_STATES = {"created": "Forecast", "released": "Released", "in_progress": "Running", "on_hold": "Held",
                  "completed": "Completed", "closed": "Closed", "cancelled": "Cancelled"}
# the MES's equipment level → ISA-95's EquipmentElementLevel
EQUIPMENT_LEVELS = {"enterprise": "Enterprise", "site": "Site", "area": "Area", "work_center": "WorkCenter",
                    "work_unit": "WorkUnit"}
# MES words the enumerations lack, written as Other with this OtherValue (any other word: Other, the word itself).
# A machine is no level of ISA-95's role-based hierarchy.
OTHER_VALUES = {"equipment": "Equipment"}


def _noun(name):
    return etree.Element(f"{{{NAMESPACES[V0700]}}}{name}", nsmap={None: NAMESPACES[V0700]})


def _decimal(value):
    """A number of the JSON (a float) as the Decimal it reads as: 0.1 stays 0.1, not 0.1000000000000000055."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        number = None
    if number is None or not number.is_finite():
        raise ValueError(f"{value!r} is no number")
    return number


def _numeral(value):
    """A number as xsd:decimal text, without exponent or trailing zeros: 4.0 → "4", 1e-07 → "0.0000001"."""
    return format(_decimal(value).normalize(), "f")


def _duration(minutes):
    """Minutes as an xsd:duration in hours, minutes and seconds, to the millisecond: 90 → PT1H30M, 7.5 → PT7M30S
    (xsd:duration allows a fraction on the seconds only)."""
    seconds = (_decimal(minutes) * 60).quantize(Decimal("0.001"))
    sign, seconds = "-" if seconds < 0 else "", abs(seconds)
    hours, rest = divmod(seconds, 3600)
    whole_minutes, rest = divmod(rest, 60)
    parts = "".join(f"{_numeral(n)}{unit}" for n, unit in ((hours, "H"), (whole_minutes, "M"), (rest, "S")) if n)
    return f"{sign}PT{parts or '0S'}"


def _moment(value):
    """An ISO time of the JSON (or a datetime; without a zone: UTC) as a UTC xsd:dateTime."""
    moment = value if isinstance(value, datetime) else parse_datetime(value)
    return _timestamp(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))


def _code(parent, name, codes, word):
    """`word` as its code of an ISA-95 enumeration, else as Other, named in OtherValue."""
    code = codes.get(word)
    return _el(parent, name, code) if code else _el(parent, name, "Other", OtherValue=OTHER_VALUES.get(word, word))


def _descriptions(parent, *texts):
    for text in dict.fromkeys(filter(None, texts)):   # each once, in order
        _el(parent, "Description", text)


def _property(parent, name, property_id, value, data_type=None):
    """A parameter or property (ParameterType, …PropertyType: ID before Value) with one Value/ValueString."""
    element = _el(parent, name)
    _el(element, "ID", property_id)
    value_element = _el(element, "Value")
    _el(value_element, "ValueString", str(value))
    if data_type:
        _el(value_element, "DataType", data_type)
    return element


def _quantity_element(parent, quantity, unit):
    element = _el(parent, "Quantity")
    _el(element, "QuantityString", _numeral(quantity))
    if unit:
        _el(element, "UnitOfMeasure", unit)
    return element


def operations_schedule(orders, schedule_id=None):
    """The MES's work orders (the work order service's JSON) as an OperationsSchedule: an OperationsRequest per
    order, a SegmentRequirement per operation (released ones, else planned ones), and the part made as a
    MaterialRequirement Produced on the last one: V0700 has material in segments only. An order without operations
    gets one segment without ID that carries the part alone (the MES's reader, which needs an operation's number,
    does not take that one back)."""
    schedule = _noun("OperationsSchedule")
    _el(schedule, "ID", schedule_id or MES_LOGICAL_ID)
    for order in orders:
        _operations_request(_el(schedule, "OperationsRequest"), order)
    return schedule


def _operations_request(request, order):
    _el(request, "ID", order["number"])
    _descriptions(request, order.get("description"))
    _el(request, "OperationsType", "Production")
    if order.get("planned_start"):
        _el(request, "StartTime", _moment(order["planned_start"]))
    if order.get("due_date"):
        # a due date is a day, and the MES's planning counts an order late only when it ends after that day: the
        # request may end at the day's last second, which a reader takes back to the same date
        _el(request, "EndTime", f"{date.fromisoformat(str(order['due_date'])).isoformat()}T23:59:59Z")
    if order.get("priority") is not None:
        _el(request, "Priority", _numeral(order["priority"]))
    if order.get("status"):
        _code(request, "RequestState", REQUEST_STATES, order["status"])
    segments = [_segment_requirement(request, operation, order["quantity"])
                for operation in order.get("operations") or order.get("planned_operations") or ()]
    produced = _el(segments[-1] if segments else _el(request, "SegmentRequirement"), "MaterialRequirement")
    _el(produced, "MaterialDefinitionID", order["part_number"])
    _el(produced, "MaterialUse", "Produced")
    _quantity_element(produced, order["quantity"], order.get("uom"))
    if order.get("part_revision"):
        _property(produced, "MaterialRequirementProperty", "Revision", order["part_revision"])


def _segment_requirement(request, operation, quantity):
    segment = _el(request, "SegmentRequirement")
    _el(segment, "ID", f"{int(operation['sequence']):04d}")
    _descriptions(segment, operation.get("name"))
    if operation.get("process_segment_id"):
        _el(segment, "ProcessSegmentID", operation["process_segment_id"])
    for name, key in (("EarliestStartTime", "planned_start"), ("LatestEndTime", "planned_end")):
        if operation.get(key):
            _el(segment, name, _moment(operation[key]))
    if operation.get("run_time") is not None:   # minutes a unit: the run of the order's quantity
        _el(segment, "Duration", _duration(_decimal(operation["run_time"]) * _decimal(quantity)))
    if operation.get("setup_time") is not None:
        _property(segment, "SegmentParameter", "SetupTime", _duration(operation["setup_time"]), "duration")
    if operation.get("work_center_code"):
        _el(_el(segment, "EquipmentRequirement"), "EquipmentID", operation["work_center_code"])
    return segment


def material_definition(part):
    """A part (the material service's JSON) as a MaterialDefinition: its name (and description) as Descriptions,
    unit, revision, status and type as MaterialDefinitionProperty, B2MML having no element of its own for them."""
    element = _noun("MaterialDefinition")
    _el(element, "ID", part["part_number"])
    _descriptions(element, part.get("name"), part.get("description"))
    for property_id, key in (("BaseUnitOfMeasure", "uom"), ("Revision", "revision"), ("Status", "status"),
                             ("PartType", "type")):
        if part.get(key) is not None:
            _property(element, "MaterialDefinitionProperty", property_id, part[key])
    return element


def material_lot(lot):
    """A lot (the material service's JSON) as a MaterialLot: its quantity on hand, and as StorageLocation (an
    identifier in V0700) the location of its first balance. Status is an open code in B2MML: the MES's word."""
    element = _noun("MaterialLot")
    _el(element, "ID", lot["lot_number"])
    _el(element, "MaterialDefinitionID", lot["part_number"])
    if lot.get("status"):
        _el(element, "Status", lot["status"])
    if lot.get("balances"):
        _el(element, "StorageLocation", lot["balances"][0]["location_code"])
    _quantity_element(element, lot["quantity"], lot.get("uom"))
    return element


def equipment(node, children=()):
    """A node of the equipment hierarchy (the resource service's JSON) as an Equipment, with its level as
    EquipmentLevel (ISA-95 names the equipment itself there) and the nodes below it nested: `children`, else the
    node's own "children" (as the resource service's tree gives them), recursively."""
    element = _noun("Equipment")
    _equipment(element, node, children)
    return element


def _equipment(element, node, children):
    _el(element, "ID", node["code"])
    _descriptions(element, node.get("name"), node.get("description"))
    if node.get("level"):
        level = _el(element, "EquipmentLevel")
        _el(level, "EquipmentID", node["code"])
        _code(level, "EquipmentElementLevel", EQUIPMENT_LEVELS, node["level"])
    for child in children or node.get("children") or ():
        _equipment(_el(element, "Equipment"), child, ())


# -- V0600 out -----------------------------------------------------------------------------------------------------

# V0700 names → V0600's, for a performance document (ISA-95 2010 called operations "production")
_V0600_NAMES = {"OperationsPerformance": "ProductionPerformance", "OperationsResponse": "ProductionResponse",
                "OperationsRequestID": "ProductionRequestID", "SegmentData": "ProductionData"}
_V0600_ACTUALS = {"consumed": "MaterialConsumedActual", "produced": "MaterialProducedActual"}
_V0600_DROPPED = {"OperationsType"}   # V0600 performance has no such element


def as_v0600(tree):
    """A V0700 performance document in V0600's namespace and names, for an ERP that takes V0600 only: Production*
    for Operations*, MaterialConsumedActual / MaterialProducedActual for a MaterialActual of that use (its
    MaterialUse dropped). No V0600 schema is at hand: this is checked by the MES's V0600 reader, not by an XSD."""
    source = _root(tree)
    v0600 = NAMESPACES[V0600]

    def convert(element, parent):
        name = _name(element)
        if name in _V0600_DROPPED:
            return
        if name == "MaterialActual":
            use = (_text(element, V0700, "MaterialUse") or "").lower()
            name = _V0600_ACTUALS.get(use, name)
        elif name == "MaterialActualProperty" and _name(element.getparent()) == "MaterialActual":
            use = (_text(element.getparent(), V0700, "MaterialUse") or "").lower()
            name = f"{_V0600_ACTUALS[use]}Property" if use in _V0600_ACTUALS else name
        elif name == "MaterialUse" and (element.text or "").strip().lower() in _V0600_ACTUALS:
            return
        else:
            for old, new in _V0600_NAMES.items():
                name = name.replace(old, new) if name.endswith(old) else name
        tag = f"{{{v0600}}}{name}" if etree.QName(element).namespace == NAMESPACES[V0700] else element.tag
        copy_ = etree.Element(tag, nsmap={None: v0600}, attrib=dict(element.attrib)) if parent is None \
            else etree.SubElement(parent, tag, attrib=dict(element.attrib))
        copy_.text, copy_.tail = element.text, element.tail
        for child in element:
            if isinstance(child.tag, str):
                convert(child, copy_)
        return copy_

    return etree.ElementTree(convert(source, None))


# -- schemas -------------------------------------------------------------------------------------------------------

SCHEMA_DIR = "b2mml-v0700"   # under the standards directory (config STANDARDS_DIR)
# each XSD of B2MML V0700: the nouns it declares with their eight verb documents, and its other root elements
_DECLARED = {
    "B2MML-OperationsSchedule.xsd": (("OperationsSchedule",), ("OperationsRequest",)),
    "B2MML-OperationsPerformance.xsd": (("OperationsPerformance",), ("OperationsResponse",)),
    "B2MML-OperationsDefinition.xsd": (("OperationsDefinitionInformation", "OperationsDefinition",
                                        "OperationsSegment"), ()),
    "B2MML-OperationsCapability.xsd": (("OperationsCapabilityInformation", "OperationsCapability"), ()),
    "B2MML-OperationsEvent.xsd": (("OperationsEventInformation", "OperationsEventClass", "OperationsEventDefinition",
                                   "OperationsEvent"), ()),
    "B2MML-Material.xsd": (("MaterialInformation", "MaterialClass", "MaterialDefinition", "MaterialLot",
                            "MaterialSubLot"), ()),
    "B2MML-Equipment.xsd": (("EquipmentInformation", "Equipment", "EquipmentClass"), ()),
    "B2MML-Personnel.xsd": (("PersonnelInformation", "PersonnelClass", "Person"), ()),
    "B2MML-PhysicalAsset.xsd": (("PhysicalAssetInformation", "PhysicalAsset", "PhysicalAssetClass"), ()),
    "B2MML-ProcessSegment.xsd": (("ProcessSegmentInformation", "ProcessSegment"), ()),
    "B2MML-OperationalLocation.xsd": (("OperationalLocationInformation", "OperationalLocationClass",
                                       "OperationalLocation"), ()),
    "B2MML-ResourceRelationshipNetwork.xsd": (("ResourceRelationshipNetwork",
                                               "ResourceNetworkConnectionInformation"), ()),
    "B2MML-TestSpecification.xsd": (("TestSpecificationInformation", "TestSpecification"), ()),
    "B2MML-WorkAlert.xsd": (("WorkAlertInformation", "WorkAlertDefinition", "WorkAlert"), ()),
    "B2MML-WorkCalendar.xsd": (("WorkCalendarInformation", "WorkCalendar", "WorkCalendarDefinition"), ()),
    "B2MML-WorkCapability.xsd": (("WorkCapabilityInformation", "WorkCapability"), ()),
    "B2MML-WorkDefinition.xsd": (("WorkDefinitionInformation", "WorkMaster", "WorkDirective"), ()),
    "B2MML-WorkPerformance.xsd": (("WorkPerformance", "JobResponse", "JobResponseList"), ("WorkResponse",)),
    "B2MML-WorkRecord.xsd": (("WorkRecord",), ()),
    "B2MML-WorkSchedule.xsd": (("WorkSchedule", "JobList"), ("WorkRequest", "JobOrder")),
    "B2MML-WorkflowSpecification.xsd": (("WorkflowSpecificationInformation", "WorkflowSpecification",
                                         "WorkflowSpecificationType"), ()),
    "B2MML-TransactionProfile.xsd": ((), ("TransactionProfile", "GetTransactionProfile", "ShowTransactionProfile")),
    "B2MML-MasterDataProfile.xsd": ((), ("MasterDataProfile",)),
    "B2MML-ConfirmBOD.xsd": ((), ("ConfirmBOD",)),
}
# the root element of a V0700 document → the XSD (under the standards directory) that validates it
SCHEMAS = {name: f"{SCHEMA_DIR}/{xsd}" for xsd, (nouns, others) in _DECLARED.items()
           for name in (*nouns, *(verb + noun for verb in VERBS for noun in nouns), *others)}


def validate_v0700(document, standards_dir, field="body"):
    """`document` (a tree, or an element inside a wrapper) checked against the official XSD of its root element
    (400 naming `field` with the schema's first error; 400 when no V0700 schema declares the root)."""
    element = _root(document)
    name = _name(element)
    if etree.QName(element).namespace != NAMESPACES[V0700] or name not in SCHEMAS:
        raise errors.ValidationFailed(f"{name} is no B2MML V0700 document",
                                      {field: [f"{name} in {etree.QName(element).namespace or 'no namespace'}"]})
    tree = document if isinstance(document, etree._ElementTree) and element.getparent() is None \
        else etree.ElementTree(copy.deepcopy(element))   # a wrapped document is checked on its own
    return xml.validate(tree, xml.schema(Path(standards_dir) / SCHEMAS[name]), field=field,
                        namespace=NAMESPACES[V0700])
