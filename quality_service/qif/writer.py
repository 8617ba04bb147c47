"""An inspection plan, and an inspection's results, as QIF 3.0 documents that
validate against the official schema. Pure: builds the XML, does no I/O.

Each characteristic is a user-defined characteristic (QIF has a type per
GD&T symbol; the MES keeps none of them): linear, in the file's linear unit
(the plan's first length unit), angular in degrees, attribute for pass/fail.
Values whose unit is neither length nor angle (torque, temperature) are
written in their own unit, which the item's `mes:unit` attribute names; the
MES's kind and name travel as `mes:` attributes too, so a plan exported and
imported again (reader.py) comes back the same.
"""
import uuid
from decimal import Decimal

from lxml import etree

from quality_service.qif.reader import MES_ATTRIBUTE, NS

LENGTH, ANGLE = "[length]", "dimensionless"   # pint's dimensionalities (degree is dimensionless)
CRITICALITY = {"critical": "CRITICAL", "major": "MAJOR", "minor": "MINOR", "key": "KEY"}
SI = {"mm": ("meter", "0.001"), "m": ("meter", "1"), "cm": ("meter", "0.01"), "inch": ("meter", "0.0254"),
      "in": ("meter", "0.0254"), "um": ("meter", "0.000001")}


class _Ids:
    """QIF ids: unique positive integers within the document (`idMax` is the largest)."""

    def __init__(self):
        self.last = 0

    def next(self):
        self.last += 1
        return str(self.last)


def _el(parent, tag, text=None, **attrs):
    element = etree.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = str(text)
    return element


def _number(value):
    return format(Decimal(str(value)).normalize(), "f")


def document(qpid, application, ids):
    """An empty QIF document naming ASME Y14.5 as its drawing standard: (root, the standard's id)."""
    root = etree.Element(f"{{{NS}}}QIFDocument", nsmap={None: NS}, versionQIF="3.0.0", idMax="0")
    _el(root, "QPId", qpid or str(uuid.uuid4()))
    _el(_el(_el(root, "Header"), "Application"), "Name", application)
    standard_id = ids.next()
    standard = _el(_el(root, "StandardsDefinitions", n=1), "Standard", id=standard_id)
    _el(_el(standard, "Organization"), "StandardsOrganizationEnum", "ASME")
    _el(standard, "Designator", "Y14.5")
    return root, standard_id


def _units(root, linear):
    si_name, factor = SI.get(linear, ("meter", None))
    primary = _el(_el(root, "FileUnits"), "PrimaryUnits")
    angular = _el(primary, "AngularUnit")
    _el(angular, "SIUnitName", "radian")
    _el(angular, "UnitName", "degree")
    _el(_el(angular, "UnitConversion"), "Factor", "0.017453292519943")
    unit = _el(primary, "LinearUnit")
    _el(unit, "SIUnitName", si_name)
    _el(unit, "UnitName", linear)
    if factor:
        _el(_el(unit, "UnitConversion"), "Factor", factor)


def _product(root, ids, part_number, part_revision):
    """The part (QIF's model number is our part number, its version the part's
    revision) and its drawing, whose zones the items name: the drawing's id."""
    part = _el(_el(_el(root, "Product"), "PartSet", n=1), "Part", id=ids.next())
    _el(part, "ModelNumber", part_number)
    _el(part, "Version", part_revision)
    external = _el(part, "DefinitionExternal", id=ids.next(), n=1)
    drawing_id = ids.next()
    drawing = _el(external, "PrintedDrawing", id=drawing_id)
    _el(drawing, "Name", part_number)
    _el(drawing, "Version", part_revision)
    return drawing_id


def plan(qpid, plan, characteristics, convert, dimension, application="MES"):
    """The QIF plan of `plan` (PlanOut fields) with its `characteristics`
    (CharacteristicOut); `convert(value, unit, to)` and `dimension(unit)` come
    from the unit rules. Returns (root element, {characteristic number: (item
    id, the unit its values are written in)}, the document's ids)."""
    ids = _Ids()
    root, standard_id = document(qpid, application, ids)
    linear = next((c["unit"] for c in characteristics if c["unit"] and dimension(c["unit"]) == LENGTH), "mm")
    _units(root, linear)
    drawing_id = _product(root, ids, plan["part_number"], plan["part_revision"])
    block = _el(root, "Characteristics")
    _el(block, "FormalStandardId", standard_id)
    definitions = _el(block, "CharacteristicDefinitions", n=len(characteristics))
    nominals = _el(block, "CharacteristicNominals", n=len(characteristics))
    items = _el(block, "CharacteristicItems", n=len(characteristics))
    item_ids = {}
    for c in characteristics:
        kind, unit, values = _as_written(c, linear, convert, dimension)
        definition_id, nominal_id, item_id = ids.next(), ids.next(), ids.next()
        item_ids[c["number"]] = (item_id, _written_unit(kind, unit, linear))
        definition = _el(definitions, f"UserDefined{kind}CharacteristicDefinition", id=definition_id)
        if kind != "Attribute":
            tolerance = _el(definition, "Tolerance")
            for tag, value in (("MaxValue", values["upper"]), ("MinValue", values["lower"])):
                if value is not None:
                    _el(tolerance, tag, _number(value))
            _el(tolerance, "DefinedAsLimit", "false")
        _el(definition, "WhatToMeasure", c["name"])
        nominal = _el(nominals, f"UserDefined{kind}CharacteristicNominal", id=nominal_id)
        _el(nominal, "CharacteristicDefinitionId", definition_id)
        if kind != "Attribute":
            _el(nominal, "TargetValue", _number(values["nominal"]))
        item = _el(items, f"UserDefined{kind}CharacteristicItem", id=item_id)
        attributes = {"kind": c["kind"], **({"unit": unit} if unit else {})}
        group = _el(item, "Attributes", n=len(attributes))
        for name, value in attributes.items():
            _el(group, "AttributeStr", name=MES_ATTRIBUTE + name, value=value)
        _el(item, "Description", c["name"])
        _el(item, "Name", c["designator"] or c["number"])
        designator = _el(item, "CharacteristicDesignator")
        _el(designator, "Designator", c["designator"] or c["number"])
        _el(_el(designator, "Criticality"), "LevelEnum", CRITICALITY[c["criticality"]])
        _el(item, "CharacteristicNominalId", nominal_id)
        if c.get("drawing_zone"):
            location = _el(item, "LocationOnDrawing")
            _el(location, "DrawingId", drawing_id)
            _el(location, "DrawingZone", c["drawing_zone"])
    root.set("idMax", str(ids.last))
    return root, item_ids, ids


def _written_unit(kind, named, linear):
    """The unit a characteristic's values are written in (None: pass/fail)."""
    if kind == "Attribute":
        return None
    if named:
        return named
    return "degree" if kind == "Angular" else linear


def _as_written(c, linear, convert, dimension):
    """(QIF kind, the unit to name in mes:unit or None, {nominal, lower, upper} in the written unit)."""
    if c["kind"] != "variable":
        return "Attribute", None, {}
    values = {"nominal": c["nominal"], "lower": c["lower_tolerance"], "upper": c["upper_tolerance"]}
    dim = dimension(c["unit"])
    if dim == LENGTH:
        to, kind, named = linear, "Linear", None
    elif dim == ANGLE and convert(Decimal(1), c["unit"], "radian") != Decimal(1):   # degrees, minutes...
        to, kind, named = "degree", "Angular", None
    else:
        return "Linear", c["unit"], values
    # a tolerance is a difference: converted by the unit's factor, as the nominal (no offset units here)
    return kind, named, {k: convert(Decimal(str(v)), c["unit"], to) if v is not None else None
                         for k, v in values.items()}


def results(qpid, root, item_ids, ids, inspection, samples, convert):
    """Add the results of `inspection` (InspectionOut) to the QIF plan document
    `root` (what plan() made): one results instance per sample, one
    measurement per result, its value in the unit the plan wrote; `samples`:
    [{number: [(value in the characteristic's unit or None, unit, conforming)]}]."""
    block = _el(root, "Results")
    instances = _el(block, "MeasurementResultsSet", n=len(samples))
    items = {el.get("id"): el for el in root.iterfind(f"{{{NS}}}Characteristics/{{{NS}}}CharacteristicItems/*")}
    for index, by_characteristic in enumerate(samples):
        instance = _el(instances, "MeasurementResults", id=ids.next())
        _el(instance, "ThisResultsInstanceQPId", qpid if index == 0 else str(uuid.uuid5(uuid.UUID(qpid), str(index))))
        measured = _el(_el(instance, "MeasuredCharacteristics"), "CharacteristicMeasurements",
                       n=sum(len(v) for v in by_characteristic.values()))
        for number, rows in by_characteristic.items():
            item_id, written = item_ids[number]
            kind = etree.QName(items[item_id]).localname[len("UserDefined"):-len("CharacteristicItem")]
            for value, unit, conforming in rows:
                m = _el(measured, f"UserDefined{kind}CharacteristicMeasurement", id=ids.next())
                _el(_el(m, "Status"), "CharacteristicStatusEnum", "PASS" if conforming else "FAIL")
                _el(m, "CharacteristicItemId", item_id)
                if value is not None:
                    _el(m, "Value", _number(convert(value, unit, written)))
        conforming = all(row[2] for rows in by_characteristic.values() for row in rows)
        _el(_el(instance, "InspectionStatus"), "InspectionStatusEnum", "PASS" if conforming else "FAIL")
    _el(_el(block, "InspectionTraceability"), "ReportNumber", inspection["number"])
    root.set("idMax", str(ids.last))
    return root


def to_bytes(root):
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
