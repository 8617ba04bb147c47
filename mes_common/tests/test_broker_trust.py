"""Attack tests: the broker is not a full-trust boundary any more (issue 10, item 3).

Every process has a login of its own (mes_common.broker); a call without a
user is the platform's own only when its chain started at a service or at
`mes_cli`, by the broker's word, never because a header is missing or says
so; the gateway's login publishes only the RPCs its routes make; a service
publishes only to its own event exchange."""
import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Producer
from nameko.standalone.rpc import ClusterRpcProxy as UnidentifiedProxy
from nameko.testing.services import entrypoint_hook
from nameko.timer import timer

from mes_common import broker, errors
from mes_common.consumers import BROKER_ORIGIN, BROKER_USER
from mes_common.rpc import ClusterRpcProxy, RpcClient, rpc
from mes_common.service import TRUSTED, Caller, ServiceBase
from mes_common.testing import records
from mes_common.testing.fixtures import registered_classes

ADMIN_ROLES = ["admin"]


def as_login(config, process):
    return broker.as_process(config, process)


def new_admin(proxy):
    return proxy.auth_service.create_user({"username": "mallory", "display_name": "Mallory",
                                           "password": "quartz harbour lantern 1969", "roles": ADMIN_ROLES})


@pytest.fixture
def auth(mes_config, container_factory):
    container = container_factory(*registered_classes("auth_service"), as_login(mes_config, "auth_service"))
    container.start()
    return container


# ----------------------------------------------------------------- no user: trusted only by the broker's word

def test_a_gateway_login_call_without_a_user_cannot_create_an_administrator(mes_config, auth):
    """Attack: a stolen gateway login (or a gateway bug) calls a route's RPC with no
    user in the context: before, "no user_id" meant the trusted CLI."""
    with ClusterRpcProxy(as_login(mes_config, "gateway"), timeout=10) as proxy:
        with pytest.raises(errors.Forbidden) as refused:
            new_admin(proxy)
    assert refused.value.details == {"authorization": ["no user, and not a platform call"]}


def test_headers_cannot_make_a_call_trusted(mes_config, auth):
    """Attack: the same call claiming trust, a trusted origin and a trusted
    publisher in its headers."""
    forged = {TRUSTED: True, BROKER_ORIGIN: broker.login(mes_config, broker.CLI),
              BROKER_USER: broker.login(mes_config, "work_order_service")}
    with ClusterRpcProxy(as_login(mes_config, "gateway"), context_data=forged, timeout=10) as proxy:
        with pytest.raises(errors.Forbidden):
            new_admin(proxy)


def test_a_call_without_a_validated_login_is_not_trusted(mes_config, auth):
    """Attack: a client on a trusted login that sets no user-id (stock nameko):
    a missing broker word is not trust either."""
    with UnidentifiedProxy(mes_config, timeout=10) as proxy:
        with pytest.raises(errors.Forbidden):
            new_admin(proxy)


def test_the_operators_cli_is_trusted_and_audited_as_such(mes_config, auth, db_engines):
    with ClusterRpcProxy(mes_config, timeout=10) as proxy:   # mes_test_cli, with its user-id
        admin = new_admin(proxy)
    assert admin["roles"] == ADMIN_ROLES
    assert records.rows(db_engines["auth_service"], "SELECT via FROM audit_log WHERE entity_id = :e",
                        e=admin["id"]) == [(f"broker:{broker.login(mes_config, broker.CLI)}",)]


def test_a_signed_action_without_a_person_from_the_gateway_is_refused(mes_config, auth, container_factory):
    """Attack: releasing a work instruction through the gateway's login without a
    session, to skip its e-signature (the platform's own calls sign nothing)."""
    container = container_factory(*registered_classes("work_order_service"),
                                  as_login(mes_config, "work_order_service"))
    container.start()
    with ClusterRpcProxy(as_login(mes_config, "gateway"), timeout=10) as proxy:
        with pytest.raises(errors.Forbidden) as refused:
            proxy.work_order_service.release_work_instruction("WI-1", 1, {})
    assert "signed in" in refused.value.message
    # nor by naming a user without a session, nor with a user id that is no id
    for user in ("a9ba8d81-08aa-4d4e-99e9-535aa2f3aa9b", "not-a-uuid"):
        with ClusterRpcProxy(as_login(mes_config, "gateway"), context_data={"user_id": user}, timeout=10) as proxy:
            with pytest.raises(errors.Forbidden):
                proxy.work_order_service.release_work_instruction("WI-1", 1, {})


# ----------------------------------------------------------------- a chain of calls keeps its origin

class Inner(ServiceBase):
    """Stands in for the material service (its login may consume only its own queue)."""
    name = "material_service"

    @rpc
    def get_part(self, part_id):
        caller = Caller.from_context(self.context)
        return {"trusted": caller.trusted, "publisher": self.context.get(BROKER_USER),
                "origin": self.context.get(BROKER_ORIGIN)}


class Outer(ServiceBase):
    """Stands in for the resource service, calling the material service."""
    name = "resource_service"
    material = RpcClient("material_service")

    @rpc
    def get_node(self, node_id):
        return self.material.get_part(node_id)

    @timer(interval=3600)
    def tick(self):   # the service's own work (a timer, an event): no call started it
        return self.material.get_part("x")


@pytest.fixture
def chain(mes_config, container_factory):
    for cls in (Inner, Outer):
        container = container_factory(cls, as_login(mes_config, cls.name))
        container.start()
    return container


def test_a_users_request_stays_untrusted_when_a_service_passes_it_on(mes_config, chain):
    """Attack: the gateway's login asks a service that asks another: the second
    hop sees a service publishing, but the chain started at the gateway."""
    with ClusterRpcProxy(as_login(mes_config, "gateway"), timeout=10) as proxy:
        seen = proxy.resource_service.get_node("n1")
    assert seen == {"trusted": False, "publisher": broker.login(mes_config, "resource_service"),
                    "origin": broker.login(mes_config, "gateway")}


def test_the_cli_and_a_services_own_work_are_trusted_down_the_chain(mes_config, chain):
    with ClusterRpcProxy(mes_config, timeout=10) as proxy:
        assert proxy.resource_service.get_node("n1")["origin"] == broker.login(mes_config, broker.CLI)
        assert proxy.resource_service.get_node("n1")["trusted"] is True
    with entrypoint_hook(chain, "tick") as tick:
        assert tick() == {"trusted": True, "publisher": broker.login(mes_config, "resource_service"),
                          "origin": broker.login(mes_config, "resource_service")}


# ----------------------------------------------------------------- what each login may publish

def publish(config, process, exchange, routing_key):
    """Publish one message as `process`'s login, with its user-id, and wait for the confirm."""
    uri = broker.as_process(config, process)["AMQP_URI"]
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        producer = Producer(conn.channel())
        producer.publish({"args": [], "kwargs": {}}, exchange=exchange, routing_key=routing_key,
                         user_id=broker.login(config, process))


def declare(config, *exchanges):
    with Connection(config["AMQP_URI"]) as conn:     # mes_test_cli: may declare anything
        for exchange in exchanges:
            Exchange(exchange, type="topic", durable=True)(conn.channel()).declare()


def test_the_gateway_login_publishes_only_the_rpcs_of_its_routes(mes_config):
    """Attack: a stolen gateway login asks the auth service for what no route
    offers (verify_signature would bind a signature to any record)."""
    declare(mes_config, "nameko-rpc")
    publish(mes_config, "gateway", "nameko-rpc", "auth_service.set_roles")   # a route's: allowed
    for target in ("auth_service.verify_signature", "auth_service.get_user_summaries",
                   "material_service.on_output_reported", "auth_service.set_roles.extra"):
        with pytest.raises(AccessRefused) as refused:
            publish(mes_config, "gateway", "nameko-rpc", target)
        assert f"access to topic '{target}'" in str(refused.value)


def test_only_a_service_publishes_to_its_event_exchange(mes_config):
    """Attack: forging the auth service's events (a user's roles changed, say) from
    the gateway's or another service's login."""
    declare(mes_config, "auth_service.events")
    publish(mes_config, "auth_service", "auth_service.events", "mes.auth.user.updated")
    for process in ("gateway", "material_service"):
        with pytest.raises(AccessRefused):
            publish(mes_config, process, "auth_service.events", "mes.auth.user.updated")


def test_a_service_cannot_inject_retries_into_another_services_handler(mes_config):
    """Attack: a message on the retry exchange routed to another service's handler
    queue would be taken for a retried event."""
    declare(mes_config, "mes.retry")
    own = "replay.evt-auth_service-mes.auth.user.updated--material_service.on_user_updated"
    other = "replay.evt-auth_service-mes.auth.user.updated--work_order_service.on_user_updated"
    publish(mes_config, "material_service", "mes.retry", own)
    with pytest.raises(AccessRefused):
        publish(mes_config, "material_service", "mes.retry", other)
