"""A person at the console in a browser: sign in as they would (by the labels
they read), go to screens, and check each screen (axe-core: no serious or
critical violation) and photograph it."""
import re

from playwright.sync_api import expect

TIMEOUT_MS = 15_000
VIEWPORT = {"width": 1280, "height": 800}
TABLET = {"width": 800, "height": 1280}
SERIOUS = ("serious", "critical")


class Console:
    def __init__(self, browser, system, artifacts, viewport=VIEWPORT):
        self.context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="UTC")
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.base = system.base
        self.artifacts = artifacts
        self.errors = []   # script errors on the page: a test fails on any
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.checked = []

    def close(self):
        self.context.close()

    def open(self, hash_path=""):
        self.page.goto(f"{self.base}/console{('#/' + hash_path) if hash_path else ''}")
        return self

    def go(self, hash_path):
        """Navigate inside the console (as a link would) and wait for the screen."""
        self.page.evaluate("path => { location.hash = path; }", f"#/{hash_path}")
        self.settled()
        return self

    def settled(self):
        """No screen loading and no request of the console's in flight (api.js counts them)."""
        expect(self.page.locator("main#main p.loading")).to_have_count(0)
        expect(self.page.locator("html")).to_have_attribute("data-busy", "0")

    def label(self, text, exact=True):
        return self.page.get_by_label(text, exact=exact)

    def button(self, name, exact=True):
        return self.page.get_by_role("button", name=name, exact=exact)

    def sign_in(self, username, password, totp=None, new_password=None):
        """The sign-in page: what the server asks for next is answered (a code, a new password)."""
        page = self.page
        if not page.url.startswith(f"{self.base}/console"):
            self.open()
        self.label("User name").fill(username)
        self.label("Password").fill(password)
        self.button("Sign in").click()
        if new_password is not None:
            expect(self.label("New password")).to_be_visible()
            self.label("Password").fill(password)
            self.label("New password").fill(new_password)
            self.label("New password again").fill(new_password)
            self.button("Sign in").click()
        if totp is not None:
            expect(self.label("One-time code")).to_be_visible()
            self.label("One-time code").fill(totp() if callable(totp) else totp)
            self.button("Sign in").click()
        return self

    def signed_in(self, name):
        expect(self.page.locator("header .who .user")).to_have_text(name)
        self.settled()
        return self

    def check(self, name):
        """axe-core on the screen as it is now; then its picture."""
        from axe_playwright_python.sync_playwright import Axe
        self.settled()
        results = Axe().run(self.page)
        serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
        self.shot(name)
        self.checked.append(name)
        assert not serious, f"{name}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in serious)
        assert not self.errors, f"{name}: script errors {self.errors}"

    def shot(self, name):
        path = self.artifacts / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def dialog(self):
        return self.page.locator("dialog[open]")

    def sign(self, password, totp=None):
        """The e-signature dialog: what it shows before signing, then the manifestation."""
        dialog = self.dialog()
        expect(dialog.get_by_role("heading", name="Electronic signature")).to_be_visible()
        dialog.get_by_label("Password", exact=True).fill(password)
        if totp is not None:
            dialog.get_by_label("One-time code").fill(totp)
        dialog.get_by_role("button", name=re.compile("^Sign")).click()
        expect(dialog.locator(".signed-mark")).to_have_text("Signed")
        return dialog
