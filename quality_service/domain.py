"""Quality rules. Pure: no I/O, plain values in and out, unit-tested alone."""
from mes_common import errors


def normalize_code(code):
    """Codes are compared and stored in upper case: `item-1` and `ITEM-1` are one item."""
    return code.strip().upper()


def check_code_free(code, taken):
    if taken:
        raise errors.Conflict(f"code {code} is already used", {"code": ["already used"]})
