"""The material routes over real HTTP: the gateway, the auth service and the
material service in containers, callers holding the built-in roles'
permissions. One stack serves the module; each test makes its own data."""
import secrets
import uuid
from types import SimpleNamespace

import pytest
import requests

from auth_service.contract.permissions import BUILTIN_ROLES
from gateway.service import Gateway
from auth_service.testing import bearer
from mes_common.testing.fixtures import service_stack, wait_until
from mes_common.testing.fixtures import registered_classes

AuthService, MaterialService = registered_classes("auth_service", "material_service")

API = "/api/v1/material"


@pytest.fixture(scope="module")
def stack(base_config, service_databases, _engines, cache_prefix):
    with service_stack("material_http", (AuthService, MaterialService, Gateway), base_config=base_config,
                       service_databases=service_databases, engines=_engines, cache_prefix=cache_prefix) as running:
        config = running.config
        base = f"http://{config['WEB_SERVER_ADDRESS']}"
        # until the gateway's copy of the revoked sessions is in sync, it asks the auth
        # service, which knows none of these test tokens' sessions
        ready = {"Authorization": bearer(config, ["material:read"])}
        wait_until(lambda: requests.get(f"{base}{API}/locations", headers=ready, timeout=5).status_code == 200,
                   message="the gateway in sync with the revoked sessions")
        yield SimpleNamespace(config=config, base=base)


class Caller:
    """requests on the gateway as someone holding one built-in role."""

    def __init__(self, stack, role):
        self.base = stack.base
        self.session = requests.Session()
        self.session.headers["Authorization"] = bearer(stack.config, sorted(BUILTIN_ROLES[role][1]), roles=(role,),
                                                       name=role)

    def __getattr__(self, method):
        return lambda path, **kwargs: self.session.request(method.upper(), self.base + API + path, timeout=15,
                                                           **kwargs)


@pytest.fixture(scope="module")
def people(stack):
    callers = {role: Caller(stack, role) for role in ("planner", "store_keeper", "operator", "quality_engineer")}
    yield SimpleNamespace(**callers)
    for caller in callers.values():  # idle keep-alive connections would hold up the gateway's stop
        caller.session.close()


def created(response):
    assert response.status_code == 201, response.text
    return response.json()


def test_roles_drive_a_lot_from_receipt_to_hold(people):
    tag = secrets.token_hex(3).upper()
    part = created(people.planner.post("/parts", json={"part_number": f"P-{tag}", "name": "Rib", "type": "raw",
                                                       "lot_controlled": True}))
    stores = created(people.store_keeper.post("/locations", json={"code": f"ST-{tag}", "name": "Stores"}))
    receipt = {"part_id": part["id"], "quantity": 12, "location_id": stores["id"], "heat_number": "H9"}

    refused = people.operator.post("/lots", json=receipt)
    assert refused.status_code == 403 and refused.json()["details"] == {"permission": "inventory:write"}
    assert people.store_keeper.post("/parts", json={"part_number": f"X-{tag}", "name": "x", "type": "raw"}
                                    ).status_code == 403
    lot = created(people.store_keeper.post("/lots", json=receipt))
    released = people.store_keeper.post(f"/lots/{lot['id']}/status", json={"status": "released", "reason": "ok"})
    assert released.status_code == 200 and released.json()["available"] == 12
    assert people.operator.get(f"/lots/{lot['id']}").json()["lot_number"] == lot["lot_number"]
    assert people.operator.get(f"/parts/{part['id']}/summary").json()["part_number"] == f"P-{tag}"

    assert people.store_keeper.post("/holds", json={"target_type": "lot", "target_id": lot["id"],
                                                    "reason": "x"}).status_code == 403
    hold = created(people.quality_engineer.post("/holds", json={"target_type": "lot", "target_id": lot["id"],
                                                                "reason": "NCR-12"}))
    issued = people.store_keeper.post(f"/lots/{lot['id']}/issue", json={"quantity": 1, "reason": "kit"})
    assert issued.status_code == 409
    assert issued.json()["details"] == {"hold_id": hold["id"], "target_type": "lot", "target_id": lot["id"],
                                        "reason": "NCR-12"}
    lifted = people.quality_engineer.post(f"/holds/{hold['id']}/release", json={"reason": "MRB accepted"})
    assert lifted.status_code == 200 and lifted.json()["status"] == "released"
    moved = people.store_keeper.post(f"/lots/{lot['id']}/issue", json={"quantity": 2, "reason": "kit"})
    assert moved.status_code == 200 and moved.json()["lot"]["quantity"] == 10

    short = people.store_keeper.post("/reservations", json={"work_order_id": str(uuid.uuid4()),
                                                           "part_id": part["id"], "quantity": 15,
                                                           "idempotency_key": f"k-{tag}"})
    assert short.status_code == 422
    assert short.json()["message"] == f"part P-{tag} is short by 5 (needs 15, 10 available)"
    ledger = people.operator.get("/transactions", params={"lot_id": lot["id"]}).json()["items"]
    assert [t["type"] for t in ledger] == ["issue", "receive"]


def test_error_shapes(people):
    missing = people.operator.get(f"/parts/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    malformed = people.operator.get("/lots/not-a-uuid")
    assert malformed.status_code == 400 and "lot_id" in malformed.json()["details"]
    bad = people.store_keeper.post("/lots", json={"part_id": str(uuid.uuid4()), "quantity": "ten",
                                                  "location_id": "nowhere"})
    assert bad.status_code == 400
    assert set(bad.json()["details"]) == {"quantity", "location_id"}
    unknown = people.store_keeper.post("/lots", json={"part_id": str(uuid.uuid4()), "quantity": 1,
                                                      "location_id": str(uuid.uuid4())})
    assert unknown.status_code == 422 and "part_id" in unknown.json()["details"]
    explode = people.operator.get(f"/parts/{uuid.uuid4()}/bom/explode", params={"levels": "0"})
    assert explode.status_code == 400 and "levels" in explode.json()["details"]
    cursor = people.operator.get("/lots", params={"cursor": "not a cursor"})
    assert cursor.status_code == 400 and "cursor" in cursor.json()["details"]
    genealogy = people.operator.get("/genealogy", params={"target_type": "pallet", "target_id": str(uuid.uuid4())})
    assert genealogy.status_code == 400 and "target_type" in genealogy.json()["details"]
