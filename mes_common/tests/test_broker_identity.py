"""Which process called: the broker login a request was published with, as
RabbitMQ validated it (the AMQP user-id property), reaches the callee's worker
context; a header cannot claim it."""
import pytest
from amqp.exceptions import PreconditionFailed
from kombu import Connection, Exchange, Producer
from nameko.standalone.rpc import ClusterRpcProxy as UnidentifiedProxy
from nameko.testing.services import entrypoint_hook

from mes_common.infra import amqp_parts
from mes_common.rpc import ClusterRpcProxy, RpcClient, rpc
from mes_common.service import ServiceBase


class Callee(ServiceBase):
    name = "identity_callee"


class Calling:
    name = "identity_caller"
    callee = RpcClient("identity_callee")

    @rpc
    def ask(self):
        return self.callee.ping()


@pytest.fixture
def callee(mes_config, container_factory):
    container = container_factory(Callee, mes_config)
    container.start()
    return container


def test_a_service_knows_the_broker_login_of_its_caller(mes_config, container_factory, callee):
    caller = container_factory(Calling, mes_config)
    caller.start()
    with entrypoint_hook(caller, "ask") as ask:
        assert ask()["caller"] == amqp_parts(mes_config["AMQP_URI"])[2]   # the login it connected with


def test_a_header_cannot_claim_a_broker_login(mes_config, callee):
    """Attack: a client puts the login of a trusted process in the call's headers."""
    with UnidentifiedProxy(mes_config, context_data={"broker_user": "mes_auth"}, timeout=10) as proxy:
        assert proxy.identity_callee.ping()["caller"] is None   # published without a validated user-id
    with ClusterRpcProxy(mes_config, context_data={"broker_user": "mes_auth"}, timeout=10) as proxy:
        assert proxy.identity_callee.ping()["caller"] == amqp_parts(mes_config["AMQP_URI"])[2]


def test_the_broker_refuses_a_message_that_claims_another_login(mes_config):
    """Attack: a client publishing as another process (the user-id property)."""
    with Connection(mes_config["AMQP_URI"], transport_options={"confirm_publish": True}) as conn:
        producer = Producer(conn.channel(), exchange=Exchange("nameko-rpc", type="topic", durable=True))
        with pytest.raises(PreconditionFailed) as exc:
            producer.publish({"args": [], "kwargs": {}}, routing_key="identity_callee.ping", user_id="mes_auth",
                             declare=[producer.exchange])
        assert "user_id property set to 'mes_auth'" in str(exc.value)
