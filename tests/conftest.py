"""Shared helpers of the system tests (tests/)."""
import pytest


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (`item.rep_setup`, `item.rep_call`)
    so fixtures can tell whether the test failed (and print process logs)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
