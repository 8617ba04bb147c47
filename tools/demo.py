"""`make demo`: load the README's plant into a running MES, over the gateway's
HTTP API as a UI would: the equipment hierarchy, a planner, a store keeper, an
operator and a quality engineer, parts with a BOM, a released work instruction
and routing, received and released lots, a work order in progress (first
operation done, second running), one waiting to be released, and a lot on hold.

    make run          # in one terminal
    make demo         # in another (MES_ADMIN_PASSWORD, default the README's)

The administrator is created first when there is none, and enrols an
authenticator (the admin role requires MFA): the demo keeps its secret in
var/demo/ and prints the URI to add it to an authenticator app. An
administrator enrolled elsewhere passes a current code in MES_ADMIN_TOTP.
Loading twice does nothing the second time (the demo's parts exist already).
"""
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import requests

ROOT = Path(__file__).resolve().parents[1]
BASE = os.environ.get("MES_URL", "http://127.0.0.1:8000").rstrip("/") + "/api/v1"
ADMIN = os.environ.get("MES_ADMIN_USERNAME", "admin")
ADMIN_PASSWORD = os.environ.get("MES_ADMIN_PASSWORD", "harbour lantern quartz 1969")
FIRST_PASSWORD, PASSWORD = "temporary pumpkin violin 7", "amber cobalt tulips whistle 42"
SECRETS = Path(os.environ.get("MES_DEMO_STATE") or ROOT / "var" / "demo")
PEOPLE = [("planner", "paula", "Paula Planner"), ("store_keeper", "stan", "Stan Storekeeper"),
          ("operator", "owen", "Owen Operator"), ("quality_engineer", "quinn", "Quinn Quality")]


class Refused(Exception):
    pass


class Client:
    """One signed-in person: `call(method, path, json)` returns the JSON answer or raises Refused."""

    def __init__(self, token, who, password=None):
        self.session, self.who = requests.Session(), who
        self.session.headers["Authorization"] = f"Bearer {token}"
        # what they type to sign a record (a release, a buy-off): 21 CFR 11.200
        self.signed = {"signature": {"username": who, "password": password}}

    def call(self, method, path, body=None, expect=(200, 201)):
        response = self.session.request(method, BASE + path, json=body, timeout=30)
        if response.status_code not in expect:
            raise Refused(f"{self.who}: {method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None


def login(username, password, new_password=None, totp=None):
    body = {"username": username, "password": password, **({"new_password": new_password} if new_password else {}),
            **({"totp": totp} if totp else {})}
    response = requests.post(f"{BASE}/auth/login", json=body, timeout=30)
    return response.status_code, response.json()


def admin_login():
    """The administrator's sign-in with their second factor: MES_ADMIN_TOTP, else the
    authenticator secret the demo kept when it enrolled them (waiting for the next
    30 s step when this one's code was used already)."""
    status, answer = login(ADMIN, ADMIN_PASSWORD)
    if status != 401 or "totp" not in answer.get("details", {}):
        return status, answer
    if os.environ.get("MES_ADMIN_TOTP"):
        return login(ADMIN, ADMIN_PASSWORD, totp=os.environ["MES_ADMIN_TOTP"])
    secret = SECRETS / f"{ADMIN}.totp"
    if not secret.exists():
        raise Refused(f"{ADMIN} has MFA: run with MES_ADMIN_TOTP=<the code your authenticator shows>")
    totp = pyotp.TOTP(secret.read_text().strip())
    status, answer = login(ADMIN, ADMIN_PASSWORD, totp=totp.now())
    if status == 401:
        time.sleep(30 - time.time() % 30 + 0.5)
        status, answer = login(ADMIN, ADMIN_PASSWORD, totp=totp.now())
    return status, answer


def enrol(answer):
    """Enrol the administrator's authenticator at their first sign-in; the secret is kept for later runs."""
    me = {"Authorization": f"Bearer {answer['access_token']}"}
    enrolment = requests.post(f"{BASE}/auth/me/mfa/totp", headers=me, timeout=30).json()
    SECRETS.mkdir(parents=True, exist_ok=True)
    secret = SECRETS / f"{ADMIN}.totp"
    secret.touch(mode=0o600)
    secret.write_text(enrolment["secret"])
    confirmed = requests.post(f"{BASE}/auth/me/mfa/totp/confirm", headers=me, timeout=30,
                              json={"code": pyotp.TOTP(enrolment["secret"]).now()}).json()
    print(f"{ADMIN} enrolled in MFA (the admin role requires it); add it to an authenticator app:\n"
          f"  {enrolment['provisioning_uri']}\n  (secret kept in {secret})")
    return confirmed["tokens"]


def admin_client():
    status, answer = admin_login()
    if status == 401:
        print(f"no administrator {ADMIN!r} can sign in: creating one (mes create-admin)")
        subprocess.run([str(ROOT / ".venv/bin/mes"), "create-admin", "--username", ADMIN,
                        "--display-name", "Ada Admin"], check=True, env={**os.environ,
                                                                          "MES_ADMIN_PASSWORD": ADMIN_PASSWORD})
        status, answer = admin_login()
    if status != 200:
        raise Refused(f"the administrator cannot sign in ({status}): {answer.get('message')}")
    if answer.get("mfa_enrolment_required"):
        answer = enrol(answer)
    return Client(answer["access_token"], ADMIN)


def person(admin, role, username, name):
    admin.call("POST", "/auth/users", {"username": username, "display_name": name, "roles": [role],
                                       "password": FIRST_PASSWORD}, expect=(201, 409))
    status, answer = login(username, PASSWORD)
    if status != 200:  # first sign-in: the administrator's password must be changed
        status, answer = login(username, FIRST_PASSWORD, PASSWORD)
    if status != 200:
        raise Refused(f"{username} cannot sign in ({status}): {answer.get('message')}")
    return Client(answer["access_token"], username, PASSWORD)


def node(admin, level, code, name, parent=None):
    body = {"level": level, "code": code, "name": name, **({"parent_id": parent} if parent else {})}
    return admin.call("POST", "/resource/nodes", body)["id"]


def load():
    admin = admin_client()
    if any(p["part_number"] == "BRK-100" for p in admin.call("GET", "/material/parts?part_number=BRK-100")["items"]):
        print("the demo is loaded already (part BRK-100 exists): nothing to do")
        return
    ent = node(admin, "enterprise", "ACME", "Acme Aero")
    site = node(admin, "site", "TLS", "Toulouse", ent)
    area = node(admin, "area", "MACH", "Machining", site)
    mill_wc = node(admin, "work_center", "WC-10", "5-axis cell", area)
    bench = node(admin, "work_center", "WC-20", "Assembly bench", area)
    planner, keeper, operator, _ = (person(admin, *p) for p in PEOPLE)
    admin.call("POST", "/resource/skills", {"code": "TORQUE", "name": "Torque tightening of threaded fasteners",
                                            "levels": ["trainee", "qualified", "trainer"],
                                            "recertification_days": 365})
    certified = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    admin.call("POST", "/resource/qualifications", {
        "user_id": operator.call("GET", "/auth/me")["id"], "skill": "TORQUE", "level": 2, "certified_on": certified,
        "certificate_ref": "CERT-TQ-0042", "assessor": "J. Okafor"})

    bar = planner.call("POST", "/material/parts", {"part_number": "BAR-7075", "name": "7075 bar stock", "uom": "kg",
                                                   "type": "raw", "lot_controlled": True})["id"]
    bolt = planner.call("POST", "/material/parts", {"part_number": "BOLT-M6", "name": "M6 bolt",
                                                    "type": "purchased", "lot_controlled": True})["id"]
    bracket = planner.call("POST", "/material/parts", {"part_number": "BRK-100", "name": "Wing bracket",
                                                       "type": "assembly", "serial_controlled": True})["id"]
    planner.call("PUT", f"/material/parts/{bracket}/bom", {"components": [
        {"part_id": bar, "quantity": 2.5, "uom": "kg"}, {"part_id": bolt, "quantity": 4}]})
    planner.call("POST", "/work-instructions", {"code": "WI-ASSY", "title": "Assemble the bracket", "steps": [
        {"title": "Torque the bolts", "text": "10 N·m each", "fields": [
            {"name": "torque", "type": "number", "required": True, "unit": "N·m", "min": 8, "max": 12}]}]})
    planner.call("POST", "/work-instructions/WI-ASSY/versions/1/release", planner.signed)
    routing = planner.call("POST", "/resource/routings", {"part_id": bracket, "part_revision": "A", "operations": [
        {"sequence": 10, "name": "Mill", "work_center_id": mill_wc, "setup_time": 30, "run_time": 12},
        {"sequence": 20, "name": "Assemble", "work_center_id": bench, "setup_time": 10, "run_time": 5,
         "required_skills": [{"skill": "TORQUE", "min_level": 2}], "work_instruction_code": "WI-ASSY"}]})["id"]
    planner.call("POST", f"/resource/routings/{routing}/release", {"version": 1, **planner.signed})

    rack = keeper.call("POST", "/material/locations", {"code": "RM-01", "name": "Raw material rack 1"})["id"]
    bar_lot = keeper.call("POST", "/material/lots", {
        "part_id": bar, "quantity": 40, "location_id": rack, "supplier": "Alcoa", "supplier_lot": "AL-2231",
        "heat_number": "H-7731", "certificates": ["CoC-2231"], "expiry_date": "2030-01-01"})["id"]
    bolt_lot = keeper.call("POST", "/material/lots", {"part_id": bolt, "quantity": 100, "location_id": rack,
                                                      "supplier": "Bossard"})["id"]
    spare_lot = keeper.call("POST", "/material/lots", {"part_id": bolt, "quantity": 50, "location_id": rack,
                                                       "supplier": "Würth"})["id"]
    for lot in (bar_lot, bolt_lot, spare_lot):
        keeper.call("POST", f"/material/lots/{lot}/status", {"status": "released",
                                                             "reason": "incoming inspection passed"})
    admin.call("POST", "/material/holds", {"target_type": "lot", "target_id": spare_lot,
                                           "reason": "supplier certificate under review"})

    order = planner.call("POST", "/work-orders", {"part_id": bracket, "quantity": 5, "due_date": "2026-12-31",
                                                  "priority": 100, "site_id": site, "work_center_id": mill_wc})
    planner.call("POST", f"/work-orders/{order['id']}/release", {})
    planner.call("POST", f"/work-orders/{order['id']}/schedule", {"start_at": "2026-12-01T07:00:00Z"})
    mill, assemble = (op["id"] for op in planner.call("GET", f"/work-orders/{order['id']}")["operations"])
    ops = f"/work-orders/{order['id']}/operations"
    operator.call("POST", f"{ops}/{mill}/start", {})
    operator.call("POST", f"{ops}/{mill}/consume", {"items": [{"lot_id": bar_lot, "quantity": 12.5}]})
    operator.call("POST", f"{ops}/{mill}/complete", {"good": 5})
    operator.call("POST", f"{ops}/{assemble}/start", {})
    waiting = planner.call("POST", "/work-orders", {"part_id": bracket, "quantity": 3, "due_date": "2027-01-15",
                                                    "site_id": site, "work_center_id": mill_wc})

    print(f"demo loaded: plant ACME > TLS > MACH > WC-10, WC-20; administrator {ADMIN}; people "
          f"{', '.join(p[1] for p in PEOPLE)} "
          f"(password {PASSWORD!r}); parts BAR-7075, BOLT-M6, BRK-100 with a BOM; routing and WI-ASSY released;\n"
          f"lots on RM-01 (one held); {order['number']} in progress (Mill done, Assemble running), "
          f"{waiting['number']} waiting for release. Sign in at {BASE.rsplit('/api', 1)[0]}/docs")


if __name__ == "__main__":
    try:
        load()
    except Refused as exc:
        sys.exit(f"demo: {exc}")
    except requests.RequestException as exc:
        sys.exit(f"demo: {exc}\nIs the MES running (`make run`)?")
