"""Broker outages lose nothing and apply nothing twice (ARCHITECTURE.md §4).

Runs the probe services against a private RabbitMQ node (ThrowawayRabbit):
the shared broker on 5672 is never stopped. While the node is down the
emitter keeps committing (the outbox holds the events); when it returns the
relay drains the outbox and the consumer, whose container lived through the
outage, applies every event exactly once.
"""
import copy
import os
import socket
import time

import pytest
from kombu import Connection
from kombu.message import Message
from nameko.testing.services import entrypoint_hook
from sqlalchemy import text

from mes_common.events.topology import handler_queue_name
from mes_common.testing.broker import ThrowawayRabbit, rabbitmq_available
from mes_common.testing.fixtures import wait_until
from mes_common.tests.probe.services import HAPPENED, ProbeConsumer, ProbeEmitter

available, reason = rabbitmq_available()
pytestmark = pytest.mark.skipif(not available and os.environ.get("CI") != "true",
                                reason=f"no throwaway RabbitMQ node here: {reason}")

QUEUE = handler_queue_name("probe_emitter", HAPPENED, "probe_consumer", "on_happened")
DRAIN_TIMEOUT = 90


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def node():
    rabbit = ThrowawayRabbit()
    try:
        rabbit.start()
        yield rabbit
    finally:
        rabbit.cleanup()


@pytest.fixture
def outage_config(probe_config, node):
    """probe_config on the private node; the node up and the handler queue empty."""
    node.start()  # no-op when running; brings it back if an earlier test left it down
    config = copy.deepcopy(probe_config)
    config["AMQP_URI"] = node.amqp_uri
    config["vhost"] = "/"
    with Connection(node.amqp_uri) as conn:
        channel = conn.channel()
        try:
            channel.queue_purge(QUEUE)
        except Exception:  # not declared yet on this node
            pass
    yield config
    _close_pooled_connections(node.amqp_uri)


def _close_pooled_connections(amqp_uri):
    from kombu.pools import connections
    port = int(amqp_uri.rsplit(":", 1)[1].split("/")[0])
    for key, pool in list(connections.items()):
        if isinstance(key, tuple) and port in key:
            pool.force_close_all()


@pytest.fixture
def start(outage_config, container_factory):
    def start_service(cls):
        container = container_factory(cls, outage_config)
        container.start()
        return container
    return start_service


# ------------------------------------------------------------------- helpers

def emit(emitter, subjects):
    with entrypoint_hook(emitter, "emit") as hook:
        return hook(subjects, HAPPENED)


def effect_subjects(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT subject FROM effect")).scalars().all()


def outbox_counts(engine):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM outbox")).one()


def assert_alive(*containers):
    for container in containers:
        assert not container._died.ready(), (
            f"the {container.service_name} container died (see its CRITICAL log record)")
        assert container._being_killed is False


def await_exactly_once(engines, expected, started, label, containers=()):
    """Wait until every expected subject has an effect; report and assert the figures.
    Fails at once if one of `containers` died (nothing would drain then)."""
    consumer_db, emitter_db = engines["probe_consumer"], engines["probe_emitter"]

    def drained():
        assert_alive(*containers)
        return set(effect_subjects(consumer_db)) >= expected and outbox_counts(emitter_db)[1] == 0
    try:
        wait_until(drained, timeout=DRAIN_TIMEOUT, interval=0.2, message=f"{label}: all effects")
    finally:
        seconds = time.monotonic() - started
        applied = effect_subjects(consumer_db)
        lost = expected - set(applied)
        duplicates = len(applied) - len(set(applied))
        unpublished = outbox_counts(emitter_db)[1]
        print(f"\n[{label}] emitted={len(expected)} applied={len(applied)} lost={len(lost)} "
              f"duplicates={duplicates} unpublished={unpublished} drain_s={seconds:.2f}")
    time.sleep(0.5)  # a late duplicate would show up now
    applied = effect_subjects(consumer_db)
    assert set(applied) == expected, f"lost {len(expected - set(applied))}, unexpected {set(applied) - expected}"
    assert len(applied) == len(expected), f"{len(applied) - len(expected)} duplicated effects"
    assert outbox_counts(emitter_db)[1] == 0
    return seconds


def outage_scenario(node, start, engines, how, calls, per_call):
    consumer = start(ProbeConsumer)   # declares and binds the quorum queue
    emitter = start(ProbeEmitter)
    emitter_db = engines["probe_emitter"]

    sanity = {f"{how}-warmup-{i}" for i in range(5)}
    emit(emitter, sorted(sanity))
    wait_until(lambda: set(effect_subjects(engines["probe_consumer"])) >= sanity,
               timeout=20, message="warm-up effects")

    getattr(node, how)()              # stop(): clean shutdown; kill(): SIGKILL
    assert not node.running

    down = set()
    committed_at = time.monotonic()
    for call in range(calls):
        subjects = [f"{how}-down-{call}-{i}" for i in range(per_call)]
        ids = emit(emitter, subjects)  # commits although the broker is down
        assert len(ids) == per_call
        down.update(subjects)
    commit_s = time.monotonic() - committed_at
    total, pending = outbox_counts(emitter_db)
    assert pending == len(down), f"{pending} unpublished, expected {len(down)}"
    assert total == len(down) + len(sanity)
    assert_alive(consumer, emitter)

    restarted_at = time.monotonic()
    node.start()
    boot_s = time.monotonic() - restarted_at
    back_at = time.monotonic()
    print(f"\n[{how}] committed {len(down)} events in {commit_s:.2f} s with the broker down; "
          f"node back after {boot_s:.2f} s")
    await_exactly_once(engines, sanity | down, back_at, f"broker {how}", (consumer, emitter))
    assert_alive(consumer, emitter)

    # the containers still work normally after the outage
    after = {f"{how}-after-{i}" for i in range(3)}
    emit(emitter, sorted(after))
    wait_until(lambda: set(effect_subjects(engines["probe_consumer"])) >= after,
               timeout=20, message="effects after the outage")


# --------------------------------------------------------------------- tests

def test_events_committed_while_broker_is_down_are_published_when_it_returns(
        node, start, probe_engines):
    outage_scenario(node, start, probe_engines, "stop", calls=100, per_call=10)


def test_consumer_survives_a_broker_restart_without_losing_queued_events(
        node, start, probe_engines):
    consumer = start(ProbeConsumer)   # declares the queue, then goes away
    consumer.stop()
    emitter = start(ProbeEmitter)

    subjects = {f"queued-{i}" for i in range(200)}
    for chunk in range(0, 200, 20):
        emit(emitter, [f"queued-{i}" for i in range(chunk, chunk + 20)])
    wait_until(lambda: outbox_counts(probe_engines["probe_emitter"])[1] == 0, timeout=30,
               message="outbox published to the queue")
    assert effect_subjects(probe_engines["probe_consumer"]) == []

    node.stop()
    node.start()
    assert_alive(emitter)
    with Connection(node.amqp_uri) as conn:
        _, waiting, _ = conn.channel().queue_declare(QUEUE, passive=True)
    print(f"\n[restart] {waiting} events waiting in {QUEUE} after the broker restart")
    assert waiting == 200

    started = time.monotonic()
    consumer = start(ProbeConsumer)
    await_exactly_once(probe_engines, subjects, started, "queued across restart",
                       (consumer, emitter))
    assert_alive(consumer, emitter)


def test_broker_killed_hard(node, start, probe_engines):
    outage_scenario(node, start, probe_engines, "kill", calls=30, per_call=10)


def test_broker_killed_while_draining(node, start, probe_engines):
    consumer = start(ProbeConsumer)
    emitter = start(ProbeEmitter)
    subjects = set()
    for call in range(10):
        batch = [f"mid-{call}-{i}" for i in range(100)]
        emit(emitter, batch)
        subjects.update(batch)
    # kill while the relay still publishes (unconfirmed publishes) and the consumer
    # applies (acks in flight): at-least-once on both sides, the inbox dedups
    wait_until(lambda: outbox_counts(probe_engines["probe_emitter"])[1] < len(subjects),
               timeout=20, interval=0.01, message="relay under way")
    node.kill()
    print(f"\n[mid] killed with {len(effect_subjects(probe_engines['probe_consumer']))} applied, "
          f"{outbox_counts(probe_engines['probe_emitter'])[1]} unpublished")
    node.start()
    await_exactly_once(probe_engines, subjects, time.monotonic(), "killed mid-drain",
                       (consumer, emitter))
    assert_alive(consumer, emitter)


def test_connection_lost_while_acking_does_not_kill_the_consumer(node, start, probe_engines,
                                                                  monkeypatch):
    """Deterministic form of the race above: the connection drops exactly when a
    handler acks. nameko's ack_message swallows only amqp's ConnectionError, so
    the socket error used to kill the consumer container."""
    real_ack, dropped = Message.ack, []

    def ack_on_a_dying_connection(message, *args, **kwargs):
        if not dropped:
            dropped.append(message.delivery_tag)
            message.channel.connection.transport.sock.shutdown(socket.SHUT_RDWR)
        return real_ack(message, *args, **kwargs)
    monkeypatch.setattr(Message, "ack", ack_on_a_dying_connection)

    consumer = start(ProbeConsumer)
    emitter = start(ProbeEmitter)
    subjects = {f"ack-{i}" for i in range(20)}
    emit(emitter, sorted(subjects))
    await_exactly_once(probe_engines, subjects, time.monotonic(), "connection lost on ack",
                       (consumer, emitter))
    assert dropped, "no ack met a dropped connection"
    assert_alive(consumer, emitter)


def test_connection_lost_while_answering_an_rpc_does_not_kill_the_service(node, start, outage_config,
                                                                           monkeypatch):
    """The same race on an RPC entrypoint: the request's ack meets a dead
    connection. The service must live on and answer the next call."""
    from mes_common.rpc import ClusterRpcProxy

    real_ack, dropped = Message.ack, []

    def ack_on_a_dying_connection(message, *args, **kwargs):
        if not dropped and message.delivery_info.get("routing_key", "").startswith("probe_emitter."):
            dropped.append(message.delivery_tag)
            message.channel.connection.transport.sock.shutdown(socket.SHUT_RDWR)
        return real_ack(message, *args, **kwargs)
    monkeypatch.setattr(Message, "ack", ack_on_a_dying_connection)

    emitter = start(ProbeEmitter)
    with ClusterRpcProxy(outage_config, timeout=5) as proxy:
        proxy.probe_emitter.emit(["first"])  # its reply goes out before the ack
        wait_until(lambda: dropped, timeout=5, message="the RPC ack meeting a dropped connection")

        def answers():
            try:
                return proxy.probe_emitter.ping()["ok"]
            except Exception:
                return False
        wait_until(answers, timeout=20, message="the service answering again")
    assert_alive(emitter)
