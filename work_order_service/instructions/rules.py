"""Work-instruction rules. Pure: no I/O.

A work instruction is versioned by code: draft → released → obsolete.
Releasing a version makes every older version obsolete, so at most one
version of a code is released and a released version never changes again
(the database refuses it too, migration 0002). Each step carries the
data-collection fields an operator fills in when buying the step off.
"""
import math

from mes_common import errors
from mes_common.rules import StateMachine, refuse
from work_order_service.contract import FIELD_TYPES

INSTRUCTION_STATES = StateMachine("work instruction", {
    "draft": ("released", "obsolete"),   # obsolete: superseded by the release of a newer version
    "released": ("obsolete",),
    "obsolete": (),
})
MAX_TEXT_VALUE = 2000


def check_transition(code, version, current, target):
    INSTRUCTION_STATES.check(current, target, f"{code} version {version}")


# ------------------------------------------------------------ field definitions

def check_steps(steps):
    """Field definitions that make sense: names unique within a step, a known
    type, choices for (and only for) a choice, min/max for (and only for) a
    number with min ≤ max. Errors are named `steps.<i>.fields.<j>.<key>`.

    What the contract's schema also says (which keys go with which type) is
    invalid input (400); relations it cannot say (a name used twice, min above
    max) are broken rules (422) when they are all that is wrong."""
    if not steps:
        raise errors.ValidationFailed("a work instruction needs at least one step",
                                      {"steps": ["at least one step is required"]})
    problems, relations = {}, set()
    for i, step in enumerate(steps):
        seen = {}
        for j, field in enumerate(step.get("fields") or []):
            where = f"steps.{i}.fields.{j}"
            name, type_ = field.get("name"), field.get("type")
            if name in seen:
                problems[f"{where}.name"] = [f"{name!r} is already field {seen[name]} of this step"]
                relations.add(f"{where}.name")
            else:
                seen[name] = j
            if type_ not in FIELD_TYPES:
                problems[f"{where}.type"] = [f"must be one of {', '.join(FIELD_TYPES)}"]
                continue
            choices = field.get("choices")
            if type_ == "choice":
                if not choices:
                    problems[f"{where}.choices"] = ["a choice field needs at least one choice"]
                elif len(set(choices)) != len(choices):
                    problems[f"{where}.choices"] = ["choices must be unique"]
            elif choices is not None:
                problems[f"{where}.choices"] = ["only a choice field has choices"]
            low, high = field.get("min"), field.get("max")
            if type_ == "number":
                if low is not None and high is not None and low > high:
                    problems[f"{where}.max"] = [f"must not be less than min ({low:g})"]
                    relations.add(f"{where}.max")
            else:
                for key in ("min", "max", "unit"):
                    if field.get(key) is not None:
                        problems[f"{where}.{key}"] = [f"only a number field has {key}"]
    refuse("invalid steps", problems, relations)


def normalize_steps(steps):
    """Steps as stored (JSON): every key present, absent options as null."""
    return [{"title": step["title"], "text": step.get("text") or "",
             "fields": [{"name": f["name"], "type": f["type"], "required": bool(f.get("required")),
                         "unit": f.get("unit"), "min": f.get("min"), "max": f.get("max"),
                         "choices": list(f["choices"]) if f.get("choices") is not None else None}
                        for f in step.get("fields") or []]}
            for step in steps]


# ------------------------------------------------------------ buy-off values

def validate_buy_off(frozen_step, values):
    """The values an operator gives when buying off `frozen_step` (a step of
    a frozen work instruction), checked against its field definitions and
    returned cleaned (only the fields given, JSON-able). ValidationFailed
    names every offending field as `values.<field>`."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise errors.ValidationFailed("values must be an object of field name -> value",
                                      {"values": ["expected an object"]})
    definitions = {f["name"]: f for f in frozen_step.get("fields") or []}
    problems, cleaned = {}, {}
    for name in values:
        if name not in definitions:
            known = ", ".join(definitions) or "none"
            problems[f"values.{name}"] = [f"not a field of this step (fields: {known})"]
    for name, field in definitions.items():
        value = values.get(name)
        if value is None or (field["type"] == "text" and isinstance(value, str) and not value.strip()):
            if field.get("required"):
                problems[f"values.{name}"] = ["a value is required"]
            continue
        try:
            cleaned[name] = _value(field, value)
        except ValueError as exc:
            problems[f"values.{name}"] = [str(exc)]
    if problems:
        raise errors.ValidationFailed(f"invalid buy-off values: {', '.join(problems)}", problems)
    return cleaned


def _value(field, value):
    type_ = field["type"]
    if type_ == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError("must be a number")
        low, high = field.get("min"), field.get("max")
        unit = f" {field['unit']}" if field.get("unit") else ""
        if low is not None and value < low:
            raise ValueError(f"must be at least {low:g}{unit}")
        if high is not None and value > high:
            raise ValueError(f"must be at most {high:g}{unit}")
        return value
    if type_ == "boolean":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if type_ == "choice":
        if not isinstance(value, str) or value not in field["choices"]:
            raise ValueError(f"must be one of {', '.join(field['choices'])}")
        return value
    if not isinstance(value, str):  # text
        raise ValueError("must be text")
    if len(value) > MAX_TEXT_VALUE:
        raise ValueError(f"must be at most {MAX_TEXT_VALUE} characters")
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("must not contain NUL characters or lone surrogates")
    return value
