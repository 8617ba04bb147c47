"""The route tables, without servers: each handler built from a table is run
with nameko's worker_factory (its RPC clients are mocks) on a real werkzeug
request, and must call its service's RPC with the arguments the table says."""
import uuid
from types import SimpleNamespace

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.auth import Principal
from gateway.http import ROUTES
from gateway.routing import Routes, install
from gateway.service import Gateway
from mes_common import errors, registry

pytestmark = pytest.mark.fast

PERSON = Principal(actor="paula", user_id=str(uuid.uuid4()), session_id=str(uuid.uuid4()),
                   permissions=frozenset(), kind="user")
MACHINE = Principal(actor="erp", user_id=PERSON.user_id, kind="api_token", token_id="t1")


def request(method="GET", path="/", query=None, body=None, principal=PERSON):
    builder = EnvironBuilder(method=method, path=path, query_string=query, json=body)
    built = Request(builder.get_environ())
    built.principal = principal
    return built


@pytest.fixture
def gateway():
    """The Gateway with mocked dependencies; `services[name]` is one mock per service."""
    worker = worker_factory(Gateway)
    clients = {}
    worker.services.__getitem__.side_effect = lambda name: clients.setdefault(name, SimpleNamespace())
    worker.clients = clients
    return worker


def rpc(gateway, service, method, answer=None):
    """The mock of `service.method`, answering `answer`."""
    from unittest.mock import Mock
    mock = Mock(return_value=answer)
    setattr(gateway.clients.setdefault(service, SimpleNamespace()), method, mock)
    return mock


def test_a_path_id_is_checked_and_forwarded(gateway):
    node_id = str(uuid.uuid4())
    get_node = rpc(gateway, "resource_service", "get_node", {"id": node_id})
    assert gateway.get_node(request(), node_id=node_id.upper()) == {"id": node_id}
    get_node.assert_called_once_with(node_id)
    with pytest.raises(errors.ValidationFailed) as exc:
        gateway.get_node(request(), node_id="WC-10")
    assert exc.value.details == {"node_id": ["Not a valid UUID."]}


def test_the_body_is_forwarded_after_the_path_ids(gateway):
    node_id = str(uuid.uuid4())
    update = rpc(gateway, "resource_service", "update_node", {})
    gateway.update_node(request("PATCH", body={"name": "5-axis DMU", "version": 1}), node_id=node_id)
    update.assert_called_once_with(node_id, {"name": "5-axis DMU", "version": 1})


def test_the_query_arrives_as_the_types_its_schema_documents(gateway):
    list_nodes = rpc(gateway, "resource_service", "list_nodes", {"items": [], "next_cursor": None})
    gateway.list_nodes(request(query="level=site&active=true&limit=5"))
    list_nodes.assert_called_once_with({"level": "site", "active": True, "limit": 5})
    # what does not convert stays text: the service's schema refuses it, naming the field
    gateway.list_nodes(request(query="active=yes&limit=1e400"))
    assert list_nodes.call_args.args == ({"active": "yes", "limit": "1e400"},)


def test_a_repeated_query_parameter_is_refused_unless_it_is_a_list(gateway):
    rpc(gateway, "work_order_service", "list_work_orders")
    with pytest.raises(errors.ValidationFailed) as exc:
        gateway.list_work_orders(request(query="status=completed&status=created"))
    assert exc.value.details == {"status": ["give this parameter once"]}


def test_a_route_can_shape_its_arguments(gateway):
    lot_id = str(uuid.uuid4())
    move = rpc(gateway, "material_service", "move_inventory", {})
    gateway.move_inventory(request("POST", body={"quantity": 2, "to_location_id": "x"}), lot_id=lot_id)
    move.assert_called_once_with({"quantity": 2, "to_location_id": "x", "lot_id": lot_id})
    release = rpc(gateway, "material_service", "release_reservation", {})
    gateway.release_reservation(request("POST", body={"idempotency_key": "k-1", "reason": "done"}))
    release.assert_called_once_with("k-1", {"idempotency_key": "k-1", "reason": "done"})


def test_own_account_routes_act_on_the_caller_and_refuse_api_tokens(gateway):
    confirm = rpc(gateway, "auth_service", "confirm_totp", {})
    gateway.confirm_totp(request("POST", body={"code": "123456"}))
    confirm.assert_called_once_with(PERSON.user_id, {"code": "123456"}, PERSON.session_id)
    with pytest.raises(errors.Forbidden):
        gateway.confirm_totp(request("POST", body={"code": "123456"}, principal=MACHINE))
    assert confirm.call_count == 1


def test_a_204_route_answers_no_content(gateway):
    logout = rpc(gateway, "auth_service", "logout", {"ignored": True})
    assert gateway.logout(request("POST")) == (204, None)
    logout.assert_called_once_with(PERSON.user_id, PERSON.session_id)


def test_a_body_that_is_not_a_json_object_is_refused_before_any_call(gateway):
    create = rpc(gateway, "resource_service", "create_node")
    bad = request("POST")
    bad.get_data = lambda cache=True: b"[1, 2]"
    with pytest.raises(errors.ValidationFailed) as exc:
        gateway.create_node(bad)
    assert exc.value.details == {"body": ["expected an object"]}
    create.assert_not_called()


def test_every_registered_service_with_a_route_table_is_served():
    served = {route.path.split("/")[3] for route in ROUTES if route.path.startswith("/api/v1/")}
    for spec in registry.SERVICES:
        module = __import__(f"gateway.routes.{spec.name.removesuffix('_service')}", fromlist=["routes"])
        assert module.routes.service == spec.name
        assert {entry.path.split("/")[3] for entry in module.routes.entries} <= served


def test_two_routes_with_one_name_are_refused():
    table = Routes("resource_service", tags=["x"], prefix="/api/v1/x")
    table.get("/a", "get_node", permission="resource:read", summary="clash")

    class Clash:
        get_node = None

    with pytest.raises(ValueError, match="get_node"):
        install(Clash, [table])


def test_a_hand_written_route_declares_every_rpc_it_makes():
    """The gateway's broker login may publish only the declared RPCs
    (gateway.routes.rpc_targets): an undeclared call would be refused at run time."""
    import ast
    import inspect
    import textwrap

    from gateway.routes import route_tables
    for table in route_tables():
        for entry in table.entries:
            if entry.handler is None:
                continue
            assert entry.calls, f"{entry.operation_id} declares no calls"
            tree = ast.parse(textwrap.dedent(inspect.getsource(entry.handler)))
            made = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Subscript) and isinstance(node.value.value, ast.Attribute)
                    and node.value.value.attr == "services"}
            declared = {call.split(".", 1)[1] for call in entry.calls}
            assert made <= declared, f"{entry.operation_id} calls {made - declared} without declaring them"


def test_the_gateway_may_call_what_its_routes_call_and_nothing_of_the_services_inner_workings():
    from gateway.routes import rpc_targets
    targets = set(rpc_targets())
    assert {"auth_service.login", "auth_service.set_roles", "auth_service.authenticate_api_token",
            "material_service.get_part_summaries", "work_order_service.verify_audit"} <= targets
    assert not {"auth_service.verify_signature", "auth_service.get_user_summaries",
                "material_service.on_output_reported"} & targets
