"""The shop-floor console in a real browser (issue 18), against every MES process.

The people of a plant do their work through the console only: a planner
releases a work order, an operator runs it at the terminal (scanning lots,
buying off a step with an e-signature), a quality engineer raises an NCR on
the output and two MRB members, signing in for the first time (their own
password, then an authenticator enrolled from the QR code), sign its
disposition; the genealogy graph of the output serial reaches the bar lot and
the OEE dashboard shows what the reporting API says. Then what goes wrong: an
operator without the skill, a session that ends under someone's hands. Every
screen passes axe-core and is photographed (MES_TEST_ARTIFACTS).
"""
import datetime as dt
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pyotp
import pytest
from playwright.sync_api import expect

from auth_service import testing as auth_testing
from auth_service.testing import create_admin
from mes_common.testing.fixtures import wait_until
from tests.console.helpers import TABLET, Console
from tests.harness import API, INITIAL_PASSWORD, PASSWORD, Person, hire, running_system, sign_in
from tests.test_shop_floor import build_model

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "gateway" / "console"
ADMIN_PASSWORD = "orchard telescope walnut 5521"
MRB_NEW_PASSWORD = "quarry velvet pelican 2088"


@pytest.fixture(scope="module")
def floor(base_config, service_databases, cache_prefix, tmp_path_factory):
    with running_system("console", base_config, service_databases, cache_prefix, tmp_path_factory) as running:
        system = running.system
        # an administrator of our own, whose second factor the browser can give (recovery codes)
        user = create_admin(system.config, username="ada", password=ADMIN_PASSWORD)
        tokens, _totp, codes = auth_testing.sign_in(system.post, "ada", ADMIN_PASSWORD)
        admin = Person(system, tokens["access_token"], user["id"], "ada")
        people = SimpleNamespace(
            admin=admin, admin_codes=list(codes),
            planner=hire(system, admin, "planner", "Paula Planner"),
            store_keeper=hire(system, admin, "store_keeper", "Stan Storekeeper"),
            operator=hire(system, admin, "operator", "Owen Operator"),
            rookie=hire(system, admin, "operator", "Rita Rookie"),
            quality=hire(system, admin, "quality_engineer", "Quinn Quality"))
        model = build_model(people)
        people.quality.post(f"{API}/resource/qualifications", 201, json={
            "user_id": people.operator.id, "skill": "TORQUE", "level": 2,
            "certified_on": dt.date.today().isoformat()})
        # the MRB members exist; they sign in for the first time in the browser
        mrb = []
        for name in ("Mara Board", "Milo Review"):
            username = f"mrb{len(mrb)}{user['id'][:4]}"
            admin.post(f"{API}/auth/users", 201, json={"username": username, "display_name": name,
                                                       "password": INITIAL_PASSWORD, "roles": ["mrb_member"]})
            mrb.append(SimpleNamespace(username=username, name=name))
        for person in (people.planner, people.operator, people.rookie, people.quality):
            person.username = person.get(f"{API}/auth/me")["username"]
        yield SimpleNamespace(system=system, people=people, mrb=mrb, **model, state={})


@pytest.fixture
def console(request, browser, floor, artifacts):
    consoles = []

    def open_console(**kwargs):
        c = Console(browser, floor.system, artifacts, **kwargs)
        consoles.append(c)
        return c.open()
    yield open_console
    report = getattr(request.node, "rep_call", None)
    for index, c in enumerate(consoles):
        if report is not None and report.failed:   # what each person saw when it failed
            print(f"\nscreen {index}: {c.shot(f'failed-{request.node.name}-{index}')}; script errors: {c.errors}")
        c.close()


def test_the_console_is_served_by_the_gateway_with_a_strict_policy(floor):
    page = floor.system.get("/console")
    assert page.status_code == 200 and 'src="/console/js/app.js"' in page.text and "<script>" not in page.text
    csp = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["connect-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    script = floor.system.get("/console/js/app.js")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    again = floor.system.get("/console/js/app.js", headers={"If-None-Match": script.headers["ETag"]})
    assert again.status_code == 304
    assert floor.system.get("/console/../service.py").status_code == 404
    assert floor.system.get("/console/js/../../static.py").status_code == 404
    assert floor.system.get("/", allow_redirects=False).headers["Location"] == "/console"


def test_every_text_the_console_shows_is_in_the_catalogue():
    catalogue = json.loads((CONSOLE_DIR / "i18n" / "en.json").read_text())
    used = set()
    for path in (CONSOLE_DIR / "js").rglob("*.js"):
        code = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("//"))
        used |= set(re.findall(r'\bt\(\s*"([a-z_0-9.]+)"', code))
        used |= set(re.findall(r'"(nav\.[a-z_]+)"', code))
    assert used, "no t() calls found: the pattern is out of date"
    assert sorted(used - set(catalogue)) == []
    # no markup in a text: they are inserted as text, never parsed
    assert [k for k, v in catalogue.items() if "<" in v] == []


def test_a_planner_releases_a_work_order(floor, console):
    planner = floor.people.planner
    order = planner.post(f"{API}/work-orders", 201, json={
        "part_id": floor.bracket["id"], "quantity": 2, "due_date": "2026-12-31", "priority": 50,
        "site_id": floor.site["id"], "work_center_id": floor.mill["id"]})
    floor.state["order"] = order
    c = console().sign_in(planner.username, PASSWORD).signed_in("Paula Planner")
    c.go("work-orders")
    c.check("work-orders")
    c.page.get_by_role("link", name=order["number"]).click()
    expect(c.page.get_by_role("heading", name=f"Work order {order['number']}")).to_be_visible()
    c.button("Release").click()
    expect(c.page.locator(".card .badge").first).to_have_text("Released")
    expect(c.page.get_by_role("cell", name="Mill", exact=True)).to_be_visible()
    c.check("work-order-released")
    assert planner.get(f"{API}/work-orders/{order['id']}")["status"] == "released"


def test_an_operator_runs_it_at_the_terminal_scanning_lots_and_signing_the_buy_off(floor, console):
    order, operator = floor.state["order"], floor.people.operator
    c = console().sign_in(operator.username, PASSWORD).signed_in("Owen Operator")
    expect(c.page.get_by_role("heading", name="Choose this terminal's work center")).to_be_visible()
    c.check("terminal-work-centers")
    c.page.get_by_role("link", name=re.compile("WC-10")).click()
    expect(c.page.get_by_role("link", name=order["number"])).to_be_visible()
    c.check("terminal-dispatch-list")
    c.page.get_by_role("link", name=order["number"]).click()
    c.button("Start").click()
    c.dialog().get_by_role("button", name="Start").click()
    expect(c.page.locator(".op-head .badge")).to_have_text("Running")
    # the bar lot, scanned into the consumption field (a scanner types it and Enter)
    scan = c.label("Lot or serial")
    scan.fill(floor.bar_lot["lot_number"])
    scan.press("Enter")
    c.label(re.compile(r"^Quantity \(available"), exact=False).fill("5")
    c.check("terminal-consumption")
    c.button("Book consumption").click()
    expect(c.page.locator("#notices")).to_contain_text("1 item(s) consumed")
    c.button("Report quantities").click()
    c.dialog().get_by_label("Good", exact=True).fill("2")
    c.dialog().get_by_role("button", name="Report").click()
    expect(c.page.locator(".op-head .badge")).to_have_text("Completed")

    # the assembly at WC-20: bolts through the page's own scan field, the step's torque, the signature
    c.page.get_by_role("link", name="Dispatch list").click()
    c.page.get_by_role("link", name="Other work center").click()
    c.page.get_by_role("link", name=re.compile("WC-20")).click()
    c.page.get_by_role("link", name=order["number"]).click()
    c.button("Start").click()
    c.dialog().get_by_role("button", name="Start").click()
    expect(c.page.locator(".op-head .badge")).to_have_text("Running")
    header_scan = c.page.get_by_label("Scan or type a lot, serial or work order number")
    header_scan.fill(floor.bolt_lot["lot_number"])
    header_scan.press("Enter")
    c.label(re.compile(r"^Quantity \(available"), exact=False).fill("8")
    c.button("Book consumption").click()
    expect(c.page.locator("#notices")).to_contain_text("1 item(s) consumed")
    torque = c.label("torque (N·m)")
    torque.fill("14")   # out of tolerance: said as typed, nothing sent
    expect(c.page.get_by_text("must be at most 12 N·m")).to_be_visible()
    torque.fill("10.5")
    expect(c.page.get_by_text("must be at most 12 N·m")).to_have_count(0)
    c.check("terminal-operation")
    c.button("Buy off this step").click()
    dialog = c.dialog()
    expect(dialog).to_contain_text("Responsibility")
    expect(dialog).to_contain_text("Torque the bolts")
    c.shot("e-signature-dialog")
    c.sign(PASSWORD)
    expect(dialog).to_contain_text("Owen Operator (")
    expect(dialog.locator("dl.facts")).to_contain_text("UTC")   # the signature's time names its zone
    c.check("e-signature-manifestation")
    dialog.get_by_role("button", name="Done").click()
    expect(c.page.locator("li.step.done")).to_contain_text("10.5")
    c.button("Report quantities").click()
    c.dialog().get_by_label("Good", exact=True).fill("2")
    c.dialog().get_by_role("button", name="Report").click()
    expect(c.page.locator(".op-head .badge")).to_have_text("Completed")

    done = operator.get(f"{API}/work-orders/{order['id']}")
    assert done["status"] == "completed" and done["quantity_completed"] == 2
    buy_off = done["operations"][1]["buy_offs"][0]
    assert buy_off["values"] == {"torque": 10.5} and buy_off["signatures"][0]["printed_name"] == "Owen Operator"
    serials = wait_until(lambda: (lambda items: items if len(items) == 2 else None)(
        operator.get(f"{API}/material/serials", params={"work_order_id": order["id"]})["items"]),
        timeout=15, message="the output serials in material")
    floor.state["serials"] = sorted(serials, key=lambda s: s["serial_number"])


def test_a_quality_engineer_raises_an_ncr_and_two_mrb_members_sign_its_disposition(floor, console):
    serial = floor.state["serials"][0]
    quality = floor.people.quality
    c = console().sign_in(quality.username, PASSWORD).signed_in("Quinn Quality")
    c.go("quality/ncrs/new")
    c.label("Title").fill("Burr on the bracket flange")
    c.label("Description").fill("A burr 0.3 mm high along the flange edge, found at final visual check.")
    c.label("Severity").select_option("critical")
    c.label("Lot or serial").fill(serial["serial_number"])
    c.label("Lot or serial").press("Enter")
    expect(c.page.locator(".consume-item")).to_contain_text(serial["serial_number"])
    c.check("ncr-new")
    c.page.locator("form.form").get_by_role("button", name="Raise an NCR").click()
    expect(c.page.get_by_role("heading", name=re.compile("Burr on the bracket flange"))).to_be_visible()
    expect(c.page.get_by_text("0 of 2")).to_be_visible()
    ncr_id = c.page.url.rsplit("/", 1)[1]
    floor.state["ncr_id"] = ncr_id

    for index, member in enumerate(floor.mrb):
        m = console()
        # first sign-in: their own password, then an authenticator from the QR code
        m.sign_in(member.username, INITIAL_PASSWORD, new_password=MRB_NEW_PASSWORD)
        expect(m.page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
        expect(m.page.get_by_role("img", name="QR code to add the MES to an authenticator app")).to_be_visible()
        m.check(f"mfa-enrolment-{index}")
        secret = m.page.locator("code.secret").inner_text()
        m.label("Code from the app").fill(pyotp.TOTP(secret).now())
        m.button("Confirm").click()
        expect(m.page.locator("ol.recovery-codes code")).to_have_count(10)
        codes = m.page.locator("ol.recovery-codes code").all_inner_texts()
        m.check(f"mfa-recovery-codes-{index}")
        m.label("I have stored my recovery codes").check()
        m.button("Continue").click()
        m.signed_in(member.name)
        m.go(f"quality/ncrs/{ncr_id}")
        if index == 0:
            m.button("Propose the disposition").click()
            m.dialog().get_by_label("Decision").select_option("scrap")
            m.dialog().get_by_role("button", name="Save the disposition").click()
            expect(m.page.get_by_role("cell", name="Scrap", exact=True)).to_be_visible()
        m.button("Approve the disposition").click()
        # the first signature of a session takes the second factor: a recovery code
        m.sign(MRB_NEW_PASSWORD, totp=codes[0])
        m.dialog().get_by_role("button", name="Done").click()
        expect(m.page.get_by_text(f"{index + 1} of 2")).to_be_visible()
        m.check(f"ncr-approved-{index}")
    ncr = quality.get(f"{API}/quality/ncrs/{ncr_id}")
    assert ncr["status"] == "dispositioned"
    assert sorted(s["printed_name"] for s in ncr["signatures"]) == ["Mara Board", "Milo Review"]


def test_the_genealogy_graph_of_the_output_serial_shows_the_bar_lot(floor, console):
    serial = floor.state["serials"][0]
    c = console().sign_in(floor.people.quality.username, PASSWORD).signed_in("Quinn Quality")
    scan = c.page.get_by_label("Scan or type a lot, serial or work order number")
    scan.fill(serial["serial_number"])
    scan.press("Enter")
    expect(c.page.get_by_role("heading", name=f"Serial {serial['serial_number']}")).to_be_visible()
    c.page.get_by_role("link", name="Genealogy").click()
    graph = c.page.locator(".graph svg")
    expect(graph.locator(".node.root")).to_contain_text(serial["serial_number"])
    bar_lot = graph.locator("[data-type='lot']", has_text=floor.bar_lot["lot_number"])
    if bar_lot.count() == 0:    # deeper than the first view: expand the nodes on the way
        c.button("Expand all").click()
    expect(bar_lot).to_be_visible()
    expect(graph.locator(".node.root")).to_have_class(re.compile("ncr"))   # the NCR raised on it
    c.check("genealogy-graph")
    # a click on the work order opens (or closes) its operations; another click undoes it
    work_order = graph.locator("[data-type='work_order']")
    if work_order.get_attribute("aria-expanded") == "true":
        work_order.click()
    expect(work_order).to_have_attribute("aria-expanded", "false")
    expect(graph.locator("[data-type='operation']")).to_have_count(0)
    work_order.click()
    expect(work_order).to_have_attribute("aria-expanded", "true")
    expect(graph.locator("[data-type='operation']")).to_have_count(2)
    c.check("genealogy-graph-expanded")
    c.page.get_by_role("link", name="As-built record").click()
    expect(c.page.get_by_text(floor.bar_lot["lot_number"]).first).to_be_visible()
    c.check("as-built")
    c.page.get_by_role("link", name="Recall").click()
    expect(c.page.get_by_role("button", name="Download CSV")).to_be_visible()
    with c.page.expect_download() as download:
        c.button("Download CSV").click()
    assert serial["serial_number"] in Path(download.value.path()).read_text()
    c.check("recall")


def test_the_oee_dashboard_shows_the_reporting_apis_numbers(floor, console):
    planner = floor.people.planner
    order = floor.state["order"]
    hour = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    window = {"from": (hour - dt.timedelta(days=7)).isoformat(), "to": (hour + dt.timedelta(hours=1)).isoformat(),
              "node_id": floor.bench["id"]}
    wait_until(lambda: planner.get(f"{API}/reports/kpis", params=window)["total"]["components"]["GQ"] == "2",
               timeout=20, message="the assembly in the reporting model")
    c = console().sign_in(planner.username, PASSWORD).signed_in("Paula Planner")
    c.go(f"reports?node_id={floor.bench['id']}&days=7")
    tiles = c.page.locator(".kpis")
    expect(tiles).to_be_visible()
    shown_window = {"from": tiles.get_attribute("data-from"), "to": tiles.get_attribute("data-to"),
                    "node_id": floor.bench["id"]}
    api = planner.get(f"{API}/reports/kpis", params={**shown_window, "kpis": ["oee_index", "availability",
                                                                              "effectiveness", "quality_ratio"]})
    for key in ("oee_index", "availability", "effectiveness", "quality_ratio"):
        expect(c.page.locator(f"[data-kpi='{key}'] .value")).to_have_text(api["total"]["kpis"][key]["display"])
    expect(c.page.get_by_role("img", name="OEE trend by day")).to_be_visible()
    expect(c.page.get_by_role("img", name="Downtime by reason")).to_be_visible()
    c.check("oee-dashboard")
    assert order["number"]


def test_an_operator_without_the_skill_sees_the_servers_refusal(floor, console):
    planner = floor.people.planner
    order = planner.post(f"{API}/work-orders", 201, json={
        "part_id": floor.bracket["id"], "quantity": 1, "due_date": "2026-12-31", "site_id": floor.site["id"]})
    planner.post(f"{API}/work-orders/{order['id']}/release", json={})
    ops = planner.get(f"{API}/work-orders/{order['id']}")["operations"]
    operator = floor.people.operator
    base = f"{API}/work-orders/{order['id']}/operations/{ops[0]['id']}"
    operator.post(f"{base}/start", json={})
    operator.post(f"{base}/complete", json={"good": 1})
    c = console().sign_in(floor.people.rookie.username, PASSWORD).signed_in("Rita Rookie")
    c.go(f"terminal/{floor.bench['id']}/{order['id']}/{ops[1]['id']}")
    c.button("Start").click()
    c.dialog().get_by_role("button", name="Start").click()
    refusal = c.dialog().locator(".form-error")
    expect(refusal).to_contain_text("TORQUE")
    c.check("terminal-not-qualified")
    assert planner.get(f"{API}/work-orders/{order['id']}")["operations"][1]["status"] == "ready"


def test_an_expired_session_returns_to_the_sign_in_page_and_keeps_what_was_typed(floor, console):
    admin, planner = floor.people.admin, floor.people.planner
    order = planner.post(f"{API}/work-orders", 201, json={
        "part_id": floor.bracket["id"], "quantity": 3, "due_date": "2026-12-31", "site_id": floor.site["id"]})
    planner.post(f"{API}/work-orders/{order['id']}/release", json={})
    c = console().sign_in(planner.username, PASSWORD).signed_in("Paula Planner")
    c.go(f"work-orders/{order['id']}")
    c.button("Put on hold").click()
    reason = "Waiting for the customer's drawing revision C"
    c.dialog().get_by_label("Reason").fill(reason)
    admin.request("DELETE", f"{API}/auth/users/{planner.id}/sessions", 200)   # the session ends under them
    wait_until(lambda: planner.request("GET", f"{API}/auth/me").status_code == 401, timeout=10,
               message="the planner's sessions ended at the gateway")
    c.dialog().get_by_role("button", name="Put on hold").click()
    expect(c.page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(c.page.get_by_role("alert")).to_contain_text("Your session has ended")
    expect(c.label("User name")).to_have_value(planner.username)
    c.check("session-expired")
    c.label("Password").fill(PASSWORD)
    c.button("Sign in").click()
    # back where they were: the request went on with what they had typed
    expect(c.page.locator(".card .badge").first).to_have_text("On hold")
    held = admin.get(f"{API}/work-orders/{order['id']}")
    assert held["status"] == "on_hold" and held["hold_reason"] == reason
    planner.token = sign_in(floor.system, planner.username, PASSWORD).token   # for the tests after this one


def test_a_refused_action_shows_the_servers_message(floor, console):
    """A held lot cannot be consumed: the operator reads the server's reason, not a blank page."""
    keeper, operator, planner = floor.people.store_keeper, floor.people.operator, floor.people.planner
    lot = keeper.post(f"{API}/material/lots", 201, json={"part_id": floor.bar["id"], "quantity": 10,
                                                         "location_id": floor.store["id"]})
    keeper.post(f"{API}/material/lots/{lot['id']}/status", json={"status": "released", "reason": "ok"})
    floor.people.quality.post(f"{API}/material/holds", 201, json={"target_type": "lot", "target_id": lot["id"],
                                                                   "reason": "certificate missing"})
    order = planner.post(f"{API}/work-orders", 201, json={
        "part_id": floor.bracket["id"], "quantity": 1, "due_date": "2026-12-31", "site_id": floor.site["id"]})
    planner.post(f"{API}/work-orders/{order['id']}/release", json={})
    op = planner.get(f"{API}/work-orders/{order['id']}")["operations"][0]
    operator.post(f"{API}/work-orders/{order['id']}/operations/{op['id']}/start", json={})
    c = console().sign_in(operator.username, PASSWORD).signed_in("Owen Operator")
    c.go(f"terminal/{floor.mill['id']}/{order['id']}/{op['id']}")
    c.label("Lot or serial").fill(lot["lot_number"])
    c.label("Lot or serial").press("Enter")
    c.label(re.compile(r"^Quantity \(available"), exact=False).fill("1")
    c.button("Book consumption").click()
    expect(c.page.locator("form.consume .form-error")).to_contain_text("hold")
    c.check("terminal-refused")


def test_every_other_screen_for_an_administrator_and_on_a_tablet(floor, console):
    codes = floor.people.admin_codes
    c = console().sign_in("ada", ADMIN_PASSWORD, totp=codes.pop()).signed_in("ada")
    screens = ["material/lots", f"material/lots/{floor.bar_lot['id']}", "material/serials", "material/holds",
               "material/ledger", "quality/inspections", "quality/fai", f"quality/ncrs/{floor.state['ncr_id']}",
               "quality/ncrs", "trace", "admin/users", f"admin/users/{floor.people.operator.id}", "admin/roles",
               "admin/audit?service=work_order_service", "account"]
    for screen in screens:
        c.go(screen)
        c.check(f"admin-{screen.split('?')[0]}")
    c.go("admin/audit?service=work_order_service")
    c.button("Verify the chain").click()
    expect(c.page.get_by_text(re.compile(r"The chain is intact: \d+ entries verified"))).to_be_visible()
    # the menu shows what the permissions allow: an operator has no administration
    o = console().sign_in(floor.people.operator.username, PASSWORD).signed_in("Owen Operator")
    assert o.page.locator("nav.menu a").all_inner_texts() == ["Terminal", "Work orders", "Material", "Quality",
                                                              "My account"]
    tablet = console(viewport=TABLET).sign_in(floor.people.operator.username, PASSWORD).signed_in("Owen Operator")
    tablet.go(f"terminal/{floor.bench['id']}")
    tablet.check("tablet-dispatch-list")


def test_the_readme_shows_the_console():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    pictures = re.findall(r"!\[[^\]]+\]\((docs/console/[a-z0-9-]+\.png)\)", readme)
    assert len(pictures) >= 2
    for picture in pictures:
        assert (Path(__file__).resolve().parents[2] / picture).stat().st_size > 10_000
