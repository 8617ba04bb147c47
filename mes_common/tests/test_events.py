"""The event guarantees of ARCHITECTURE.md §4 against real RabbitMQ and PostgreSQL."""

import eventlet
import pytest
from kombu import Connection, Exchange
from nameko.testing.services import entrypoint_hook
from sqlalchemy import text

from mes_common import registry
from mes_common.events.dead_letters import dead_letter_count, list_dead_letters, replay_dead_letters
from mes_common.events.envelope import CloudEvent
from mes_common.events.outbox import outbox_status
from mes_common.events.topology import handler_queue_name
from mes_common.testing.fixtures import wait_until
from mes_common.tests.probe.models import OutboxEvent
from mes_common.tests.probe.services import HAPPENED, UNHEARD, ProbeConsumer, ProbeEmitter

QUEUE = handler_queue_name("probe_emitter", HAPPENED, "probe_consumer", "on_happened")


def effects(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT subject FROM effect ORDER BY id")).scalars().all()


def unpublished(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar()


@pytest.fixture
def consumer(probe_config, container_factory, probe_behaviour):
    container = container_factory(ProbeConsumer, probe_config)
    container.start()
    return container


@pytest.fixture
def emitter(probe_config, container_factory):
    container = container_factory(ProbeEmitter, probe_config)
    container.start()
    return container


def emit(emitter, subjects, type_=HAPPENED):
    with entrypoint_hook(emitter, "emit") as hook:
        return hook(subjects, type_)


def test_events_flow_from_outbox_to_effect(consumer, emitter, probe_engines):
    ids = emit(emitter, [f"s{i}" for i in range(20)])
    wait_until(lambda: len(effects(probe_engines["probe_consumer"])) == 20, message="20 effects")
    assert sorted(effects(probe_engines["probe_consumer"])) == sorted(f"s{i}" for i in range(20))
    wait_until(lambda: unpublished(probe_engines["probe_emitter"]) == 0, message="all marked published")
    with probe_engines["probe_consumer"].connect() as conn:
        inbox = conn.execute(text("SELECT event_id::text FROM inbox")).scalars().all()
    assert sorted(inbox) == sorted(ids)


def test_the_same_event_delivered_twice_has_one_effect(consumer, probe_config, probe_engines):
    event = CloudEvent.new(HAPPENED, "probe_emitter", "dup", {"subject": "dup"})
    exchange = Exchange("probe_emitter.events", type="topic", durable=True)
    with Connection(probe_config["AMQP_URI"]) as conn:
        producer = conn.Producer()
        for _ in range(3):
            producer.publish(event.to_dict(), exchange=exchange, routing_key=HAPPENED,
                             serializer="json", declare=[exchange])
    # a later, different event proves the three copies were all processed
    marker = CloudEvent.new(HAPPENED, "probe_emitter", "after", {"subject": "after"})
    with Connection(probe_config["AMQP_URI"]) as conn:
        conn.Producer().publish(marker.to_dict(), exchange=exchange, routing_key=HAPPENED, serializer="json")
    wait_until(lambda: "after" in effects(probe_engines["probe_consumer"]), message="marker effect")
    eventlet.sleep(0.3)
    assert effects(probe_engines["probe_consumer"]).count("dup") == 1


def test_failing_handler_is_retried_then_dead_lettered_and_replayable(
        consumer, emitter, probe_config, probe_engines, probe_behaviour):
    probe_behaviour["fail_subjects"].add("bad")
    emit(emitter, ["bad"])
    emit(emitter, ["good-1", "good-2"])
    # the others keep flowing while "bad" is retried
    wait_until(lambda: {"good-1", "good-2"} <= set(effects(probe_engines["probe_consumer"])),
               message="good events")
    amqp = probe_config["AMQP_URI"]
    wait_until(lambda: dead_letter_count(amqp, QUEUE) == 1, timeout=10, message="dead letter")
    [letter] = list_dead_letters(amqp, QUEUE)
    assert letter["type"] == HAPPENED and letter["subject"] == "bad"
    assert letter["attempts"] == 3  # the first try and two retries (RETRY_DELAYS_MS has two delays)
    assert "handler bug on bad" in letter["error"]
    assert dead_letter_count(amqp, QUEUE) == 1, "listing must not consume"
    assert "bad" not in effects(probe_engines["probe_consumer"])

    probe_behaviour["fail_subjects"].clear()  # the bug is fixed
    assert replay_dead_letters(amqp, QUEUE) == 1
    wait_until(lambda: "bad" in effects(probe_engines["probe_consumer"]), message="replayed effect")
    assert dead_letter_count(amqp, QUEUE) == 0


def test_a_consumer_whose_database_is_away_waits_for_it_and_never_dead_letters(
        consumer, emitter, probe_config, probe_engines, probe_behaviour):
    """(the drill's finding: a read model's database down for a minute dead-lettered what came meanwhile)
    Six failures for want of the database, three times what RETRY_DELAYS_MS allows a failing event."""
    probe_behaviour["unavailable"]["waits"] = 6
    emit(emitter, ["waits"])
    wait_until(lambda: "waits" in effects(probe_engines["probe_consumer"]), timeout=20, message="applied at last")
    assert probe_behaviour["unavailable"]["waits"] == 0
    assert dead_letter_count(probe_config["AMQP_URI"], QUEUE) == 0


def test_permanent_error_goes_straight_to_the_dlq(consumer, emitter, probe_config, probe_behaviour):
    probe_behaviour["permanent_subjects"].add("never")
    emit(emitter, ["never"])
    wait_until(lambda: dead_letter_count(probe_config["AMQP_URI"], QUEUE) == 1, message="dead letter")
    [letter] = list_dead_letters(probe_config["AMQP_URI"], QUEUE)
    assert letter["attempts"] == 1 and "cannot apply never" in letter["error"]


def test_poison_message_is_dead_lettered_not_retried(consumer, probe_config, probe_engines):
    exchange = Exchange("probe_emitter.events", type="topic", durable=True)
    with Connection(probe_config["AMQP_URI"]) as conn:
        conn.Producer().publish({"not": "a cloudevent"}, exchange=exchange, routing_key=HAPPENED,
                                serializer="json", declare=[exchange])
        conn.Producer().publish("garbage", exchange=exchange, routing_key=HAPPENED, serializer="json")
    wait_until(lambda: dead_letter_count(probe_config["AMQP_URI"], QUEUE) == 2, message="2 dead letters")
    errors_ = [d["error"] for d in list_dead_letters(probe_config["AMQP_URI"], QUEUE)]
    assert all(e.startswith("invalid envelope") for e in errors_)
    assert effects(probe_engines["probe_consumer"]) == []


@pytest.fixture
def awaited_emitter(probe_config, container_factory, monkeypatch):
    """The emitter, with UNHEARD declared consumed by some service (as a
    contract's CONSUMES would) although no queue is bound for it."""
    monkeypatch.setattr(registry, "awaited_event_types", lambda: frozenset({UNHEARD}))
    container = container_factory(ProbeEmitter, probe_config)
    container.start()
    return container


def test_unroutable_awaited_event_stays_in_outbox_and_is_an_alarm(awaited_emitter, probe_engines, caplog):
    # a consumer is expected, but no queue is bound for UNHEARD
    [event_id] = emit(awaited_emitter, ["lonely"], UNHEARD)
    engine = probe_engines["probe_emitter"]

    def failing():
        status = outbox_status(engine, OutboxEvent, frozenset({UNHEARD}))
        return status if status["failing"] and status["failing"][0]["attempts"] >= 2 else None
    status = wait_until(failing, timeout=10, message="a retried unroutable event")
    assert status["pending"] == 1 and status["parked"] == []
    assert status["failing"][0]["type"] == UNHEARD
    assert status["failing"][0]["error"].startswith("unroutable")
    assert any("unroutable" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    # once a consumer binds a queue, the retry delivers it
    assert unpublished(engine) == 1


def test_event_nobody_consumes_yet_is_parked_quietly(emitter, probe_engines, caplog):
    """No contract consumes UNHEARD: it waits in the outbox without an ERROR
    line, counted as parked, and is retried (published once a consumer binds)."""
    emit(emitter, ["lonely"], UNHEARD)
    engine = probe_engines["probe_emitter"]

    def parked():
        status = outbox_status(engine, OutboxEvent, registry.awaited_event_types())
        with engine.connect() as conn:
            retried = conn.execute(text("SELECT max(attempts) FROM outbox WHERE published_at IS NULL")).scalar()
        return status if status["parked"] and (retried or 0) >= 2 else None
    status = wait_until(parked, timeout=10, message="a parked, retried event")
    assert status["failing"] == [] and status["parked"] == [{"type": UNHEARD, "count": 1}]
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


def test_rpc_to_a_service_that_is_not_running_fails_fast_with_unavailable(probe_config, container_factory):
    from mes_common import errors
    from mes_common.rpc import RpcClient
    from mes_common.service import ServiceBase
    from mes_common.rpc import rpc

    class Caller(ServiceBase):
        name = "caller"
        absent = RpcClient("absent_service", timeout=1)
        consumer = RpcClient("probe_consumer", timeout=1)

        @rpc
        def call_absent(self):
            return self.absent.ping()

        @rpc
        def call_stopped(self):
            return self.consumer.ping()

    config = {**probe_config}
    container = container_factory(Caller, config)
    container.start()
    # a consumer that ran once and stopped: its queue exists, nobody consumes it
    stopped = container_factory(ProbeConsumer, config)
    stopped.start()
    stopped.stop()
    for method in ("call_absent", "call_stopped"):
        started = eventlet.hubs.get_hub().clock()
        with entrypoint_hook(container, method) as hook:
            with pytest.raises(errors.Unavailable):
                hook()
        assert eventlet.hubs.get_hub().clock() - started < 3
