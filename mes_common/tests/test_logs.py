"""Log records as operators read them (no servers)."""
import logging
import sys
from types import SimpleNamespace

import pytest

from mes_common import errors
from mes_common.logs import ContextFilter

pytestmark = pytest.mark.fast


def worker_failure(exc):
    """The record nameko.containers makes when a worker raises `exc`."""
    worker_ctx = SimpleNamespace(service_name="resource_service", entrypoint=SimpleNamespace(method_name="get_node"))
    try:
        raise exc
    except Exception:
        exc_info = sys.exc_info()
    return logging.LogRecord("nameko.containers", logging.WARNING, __file__, 1,
                             "(expected) error handling worker %s: %s", (worker_ctx, exc), exc_info)


def test_an_expected_4xx_is_one_info_line_with_its_code():
    record = worker_failure(errors.NotFound("equipment node 42 does not exist", {"id": "42"}))
    assert ContextFilter().filter(record)
    assert (record.levelno, record.levelname, record.exc_info) == (logging.INFO, "INFO", None)
    assert record.getMessage() == "resource_service.get_node answered not_found (404): " \
                                  "equipment node 42 does not exist"


@pytest.mark.parametrize("exc", [errors.Unavailable("the database is unavailable"), RuntimeError("a bug")])
def test_a_real_failure_keeps_its_level_and_traceback(exc):
    record = worker_failure(exc)
    assert ContextFilter().filter(record)
    assert record.levelno == logging.WARNING and record.exc_info is not None
