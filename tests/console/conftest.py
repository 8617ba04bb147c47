"""Browser tests of the shop-floor console: Playwright drives Debian's Chromium
(`make test` installs it as root; the browser Playwright would download is not
reachable here) against every MES process under the supervisor. Each screen a
test visits is checked with axe-core and photographed into the artifacts
directory (MES_TEST_ARTIFACTS, default var/test-artifacts/console)."""
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-quic",
                 # this machine's network is closed: no calls home, no component updates
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path():
    path = os.environ.get("MES_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium when run as root "
                    "(else: apt-get install chromium, or set MES_CHROMIUM to a Chromium binary)")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts():
    directory = Path(os.environ.get("MES_TEST_ARTIFACTS") or ROOT / "var" / "test-artifacts" / "console")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
