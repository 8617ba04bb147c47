"""Shared helpers of the system tests (tests/)."""
import pytest

from tests.harness import live_systems


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (`item.rep_setup`, `item.rep_call`)
    so fixtures can tell whether the test failed (and print process logs)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _logs_on_failure(request):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for system in live_systems:
            print(f"\n===== process logs of the system at {system.base} =====\n{system.log_tail()}")
