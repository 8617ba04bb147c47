"""Rules of inspections and results. Pure: no I/O.

A result's conformity and a characteristic's verdict are computed here, never
typed: a variable value is converted to the characteristic's unit (exactly, in
Decimal) and compared with its limits, limits included; a characteristic
fails as soon as its nonconforming samples reach the reject number and passes
once every sample is in with at most the accept number nonconforming.
"""
import functools
from decimal import Decimal

from mes_common import errors
from mes_common.rules import StateMachine

OPEN, PASSED, FAILED, CANCELLED = "open", "passed", "failed", "cancelled"
INSPECTION = StateMachine("inspection", {OPEN: (PASSED, FAILED, CANCELLED), PASSED: (), FAILED: (), CANCELLED: ()})
PASS, FAIL = "pass", "fail"


@functools.cache
def _units():
    import pint   # its registry takes a moment to build: once, when the first unit is converted
    return pint.UnitRegistry(non_int_type=Decimal)


def check_unit(unit, field="unit"):
    """The unit as pint knows it, or 422 naming `field` (the contract's pattern
    keeps brackets and such out; what pint's parser makes of the rest, it says)."""
    try:
        return _units().Unit(unit)
    except Exception:  # noqa: BLE001 - pint's parser raises many kinds (tokenizer, arithmetic) on odd text
        raise errors.RuleViolated(f"{field}: {unit!r} is not a unit", {field: [f"{unit!r} is not a unit"]}) \
            from None


def convert(value, unit, to_unit, field="unit"):
    """`value` in `unit` expressed in `to_unit` (Decimal), or 422 naming `field`
    when the two do not convert (mm to kg)."""
    import pint
    if unit is None or unit == to_unit:
        return value
    check_unit(unit, field)
    try:
        return Decimal(_units().Quantity(value, unit).to(to_unit).magnitude)
    except pint.errors.DimensionalityError:
        raise errors.RuleViolated(f"{field}: {unit} does not convert to {to_unit}",
                                  {field: [f"{unit} does not convert to {to_unit}"]}) from None


def limits(nominal, lower_tolerance, upper_tolerance):
    """(lower limit, upper limit), None where there is none."""
    if nominal is None:
        return None, None
    return (nominal + lower_tolerance if lower_tolerance is not None else None,
            nominal + upper_tolerance if upper_tolerance is not None else None)


def in_tolerance(value, lower, upper):
    return (lower is None or value >= lower) and (upper is None or value <= upper)


def gauge_fits(gauge_type, asset_type):
    """A gauge fits a characteristic whose gauge type its own type contains
    (`micrometer` fits `micrometer 0-25 mm`), case aside."""
    return gauge_type.casefold() in asset_type.casefold()


def verdict(sample_size, measured, nonconforming, accept, reject):
    """pass, fail or None (not decided yet)."""
    if nonconforming >= reject:
        return FAIL
    if measured >= sample_size:
        return PASS if nonconforming <= accept else FAIL
    return None


def outcome(verdicts):
    """The inspection's status once every characteristic is decided, else None."""
    if any(v is None for v in verdicts):
        return None
    return FAILED if FAIL in verdicts else PASSED


def check_result(characteristic, result, sample_size):
    """Problems of one result against its characteristic ({field: [message]}):
    the sample number within the sampling, and the fields its kind takes."""
    problems = []
    if result["sample"] > sample_size:
        problems.append(("sample", f"characteristic {characteristic.number} takes {sample_size} sample(s) from "
                                   f"this lot; sample {result['sample']} is beyond"))
    if characteristic.kind == "variable":
        if result["value"] is None:
            problems.append(("value", f"characteristic {characteristic.number} is measured: give value"))
        if result["passed"] is not None or result["defects"] is not None:
            problems.append(("passed", f"characteristic {characteristic.number} is measured, not pass/fail"))
        if characteristic.gauge_type and result["gauge_id"] is None:
            problems.append(("gauge_id", f"characteristic {characteristic.number} is measured with a "
                                         f"{characteristic.gauge_type}: name the gauge"))
    else:
        if result["passed"] is None:
            problems.append(("passed", f"characteristic {characteristic.number} is {characteristic.kind}: "
                                       "give passed"))
        if result["value"] is not None or result["unit"] is not None:
            problems.append(("value", f"characteristic {characteristic.number} is {characteristic.kind}: no value"))
    return problems
