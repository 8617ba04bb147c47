"""What a QIF 3.0 document says, as the MES's plan and results hold it. Pure:
takes a parsed, schema-valid tree (mes_common.xml), does no I/O.

A characteristic is an item (balloon: `CharacteristicDesignator`, criticality,
drawing zone) of a nominal (`TargetValue`) of a definition (`Tolerance`
Max/Min around the target, or `ToleranceValue`, the zone of a form or
location tolerance: 0 up to it). Values are in the file's units (`FileUnits`:
linear, angular), unless the item carries the MES's own `mes:unit` attribute.
A characteristic with no tolerance (`NonTolerance`: a basic, measured or
reference dimension) is no inspection characteristic: it is listed as skipped.
"""
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

NS = "http://qifstandards.org/xsd/qif3"
Q = "{%s}" % NS
MES_ATTRIBUTE = "mes:"   # our own item attributes (AttributeStr name="mes:kind"), written by writer.py
ANGULAR = ("Angle", "AngleBetween", "AngleFrom", "AngleCoordinate", "UserDefinedAngular")
CRITICALITY = {"CRITICAL": "critical", "MAJOR": "major", "MINOR": "minor", "KEY": "key"}
DEFAULT_CRITICALITY = "major"   # a characteristic the file does not grade: a nonconformance of it is major


def _text(element, path):
    found = element.find(path) if element is not None else None
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _decimal(text):
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def qpid(tree):
    return _text(tree.getroot(), Q + "QPId")


def _units(root):
    primary = root.find(f"{Q}FileUnits/{Q}PrimaryUnits")
    return (_text(primary, f"{Q}LinearUnit/{Q}UnitName") or "mm",
            _text(primary, f"{Q}AngularUnit/{Q}UnitName") or "degree")


def _by_id(root, section):
    """The elements of a section (`CharacteristicDefinitions`...) by their id."""
    container = root.find(f"{Q}Characteristics/{Q}{section}")
    return {el.get("id"): el for el in (container.iterfind("*") if container is not None else ())}


def _type(element, suffix):
    """`DiameterCharacteristicItem` → `Diameter`."""
    return etree.QName(element).localname[:-len(suffix)]


def _words(type_name):
    """`DistanceBetween` → `Distance between`."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_name).split()
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else type_name


def _attributes(item):
    return {a.get("name")[len(MES_ATTRIBUTE):]: a.get("value")
            for a in item.iterfind(f"{Q}Attributes/{Q}AttributeStr") if (a.get("name") or "").startswith(MES_ATTRIBUTE)}


def product(tree):
    """The part the document is about, as it names it."""
    part = tree.getroot().find(f"{Q}Product/{Q}PartSet/{Q}Part")
    drawing = part.find(f"{Q}DefinitionExternal/{Q}PrintedDrawing") if part is not None else None
    return {"model_number": _text(part, f"{Q}ModelNumber"), "name": _text(part, f"{Q}Name"),
            "version": _text(part, f"{Q}Version"), "drawing_number": _text(drawing, f"{Q}DrawingNumber"),
            "drawing_version": _text(drawing, f"{Q}Version")}


def characteristics(tree):
    """(characteristics, skipped): each characteristic as the plan's contract
    takes it (CharacteristicIn) plus `designator` and `external_id`; skipped:
    {designator, type, reason} of those that cannot be inspected."""
    root = tree.getroot()
    linear, angular = _units(root)
    definitions, nominals = _by_id(root, "CharacteristicDefinitions"), _by_id(root, "CharacteristicNominals")
    features = {el.get("id"): _text(el, f"{Q}FeatureName") for el in root.iterfind(f"{Q}Features/{Q}FeatureItems/*")}
    items = root.find(f"{Q}Characteristics/{Q}CharacteristicItems")
    read, skipped = [], []
    for item in (items.iterfind("*") if items is not None else ()):   # elements only: comments are no items
        type_name = _type(item, "CharacteristicItem")
        designator = _text(item, f"{Q}CharacteristicDesignator/{Q}Designator") or _text(item, f"{Q}Name")
        nominal = nominals.get(_text(item, f"{Q}CharacteristicNominalId"))
        definition = definitions.get(_text(nominal, f"{Q}CharacteristicDefinitionId"))
        ours = _attributes(item)
        unit = _unit(item, linear, angular)
        tolerance = _tolerance(definition, _decimal(_text(nominal, f"{Q}TargetValue")), type_name)
        feature = features.get(_text(item, f"{Q}FeatureItemIds/{Q}Id"))
        entry = {"designator": designator, "external_id": _text(item, f"{Q}UUID") or item.get("id"),
                 "name": (_text(item, f"{Q}Description") or ours.get("name")
                          or " ".join(filter(None, (_words(type_name), feature)))),
                 "criticality": _criticality(item), "drawing_zone": _text(item, f"{Q}LocationOnDrawing/{Q}DrawingZone"),
                 "type": type_name}
        if type_name == "UserDefinedAttribute":
            read.append({**entry, "kind": ours.get("kind") or "attribute"})
        elif tolerance is None:
            skipped.append({"designator": designator, "type": type_name, "external_id": entry["external_id"],
                            "reason": "no tolerance (" + (_text(definition, f"{Q}NonTolerance") or "none given")
                                      + "): a reference dimension, not inspected"})
        else:
            read.append({**entry, "kind": "variable", "unit": unit, **tolerance})
    return read, skipped


def _unit(item, linear, angular):
    """The unit of an item's values: ours (`mes:unit`), else the file's angular or linear unit by its type."""
    return _attributes(item).get("unit") or (
        angular if _type(item, "CharacteristicItem").startswith(ANGULAR) else linear)


def _tolerance(definition, target, type_name):
    """{nominal, lower_tolerance, upper_tolerance} of a definition, None when it has no tolerance."""
    if definition is None:
        return None
    zone = _decimal(_text(definition, f"{Q}ToleranceValue"))
    if zone is not None and "Profile" in type_name:
        # a profile's measured value is a signed deviation from the true profile; its zone lies about it,
        # equally unless OuterDisposition says how much of it is outside the material
        outer = _decimal(_text(definition, f"{Q}OuterDisposition"))
        outer = zone / 2 if outer is None else outer
        return {"nominal": Decimal(0), "lower_tolerance": outer - zone, "upper_tolerance": outer}
    if zone is not None:   # form, orientation, location: the size of the deviation, from 0 up to the zone
        return {"nominal": Decimal(0), "lower_tolerance": None, "upper_tolerance": zone}
    tolerance = definition.find(f"{Q}Tolerance")
    if tolerance is None:
        return None
    high, low = _decimal(_text(tolerance, f"{Q}MaxValue")), _decimal(_text(tolerance, f"{Q}MinValue"))
    if (_text(tolerance, f"{Q}DefinedAsLimit") or "false") == "true":   # absolute limits, around the target
        if target is None:
            target = (high + low) / 2 if high is not None and low is not None else (high if high is not None else low)
        high = high - target if high is not None else None
        low = low - target if low is not None else None
    if high is None and low is None:
        return None
    return {"nominal": target if target is not None else Decimal(0), "lower_tolerance": low, "upper_tolerance": high}


def _criticality(item):
    level = (_text(item, f"{Q}CharacteristicDesignator/{Q}Criticality/{Q}LevelEnum")
             or _text(item, f"{Q}CharacteristicDesignator/{Q}Criticality/{Q}OtherLevel") or "")
    return CRITICALITY.get(level.upper(), DEFAULT_CRITICALITY)


def measurements(tree):
    """The measured characteristics of each `MeasurementResults`: {qpid,
    status, serial_number, preparer, measured: [{item_id, designator, value,
    unit, passed (the file's status: PASS, FAIL...), devices}]} (one per
    results instance)."""
    root = tree.getroot()
    linear, angular = _units(root)
    items = _by_id(root, "CharacteristicItems")
    devices = {el.get("id"): _text(el, f"{Q}Name") or _text(el, f"{Q}SerialNumber")
               for el in root.iterfind(f"{Q}MeasurementResources/{Q}MeasurementDevices/*")}
    results = root.find(f"{Q}Results")
    components = {el.get("id"): el for el in results.iterfind(f"{Q}ActualComponentSets/{Q}ActualComponentSet/*")} \
        if results is not None else {}
    out = []
    instances = results.iterfind(f"{Q}MeasurementResultsSet/{Q}MeasurementResults") if results is not None else ()
    for instance in instances:
        component = components.get(_text(instance, f"{Q}ActualComponentIds/{Q}Id"))
        measured = []
        for m in instance.iterfind(f"{Q}MeasuredCharacteristics/{Q}CharacteristicMeasurements/*"):
            item = items.get(_text(m, f"{Q}CharacteristicItemId"))
            measured.append({
                "item_id": _text(item, f"{Q}UUID") or (item.get("id") if item is not None else None),
                "designator": (_text(item, f"{Q}CharacteristicDesignator/{Q}Designator") or _text(item, f"{Q}Name"))
                if item is not None else None,
                "value": _decimal(_text(m, f"{Q}Value")),
                "unit": _unit(item, linear, angular) if item is not None else linear,
                "passed": _text(m, f"{Q}Status/{Q}CharacteristicStatusEnum"),
                "devices": [devices[i.text.strip()] for i in (item.iterfind(f"{Q}MeasurementDeviceIds/{Q}Id")
                                                               if item is not None else ())
                            if i.text and devices.get(i.text.strip())]})
        out.append({"qpid": _text(instance, f"{Q}ThisResultsInstanceQPId") or qpid(tree),
                    "status": _text(instance, f"{Q}InspectionStatus/{Q}InspectionStatusEnum"),
                    "serial_number": _text(component, f"{Q}SerialNumber"),
                    "preparer": _text(results, f"{Q}InspectionTraceability/{Q}ReportPreparer/{Q}Name"),
                    "measured": measured})
    return out
