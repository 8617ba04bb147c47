"""Schemathesis hooks for fuzzing the gateway (SCHEMATHESIS_HOOKS names this
module; test_fuzz.py loads it too).

A page cursor (`format: mes-cursor`) is valid only as a page's `next_cursor`:
no generator can invent one, so valid cases carry none; invalid cases still
send non-strings and overlong text, which must be refused."""
import schemathesis
from hypothesis import strategies as st

from mes_common.schemas import CURSOR_FORMAT

schemathesis.openapi.format(CURSOR_FORMAT, st.nothing())
