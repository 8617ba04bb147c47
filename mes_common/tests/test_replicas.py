"""Several instances of one service against the same database and broker
(docs/architecture.md, "Replicas"): a read model's stream is applied in order by
one instance at a time and fails over; a stream queue of an older release is
declared anew without losing its messages."""
import pytest
from kombu import Connection
from nameko.testing.services import entrypoint_hook
from nameko.standalone.events import get_event_exchange
from sqlalchemy import text

from mes_common.events.stream import stream_queue_name
from mes_common.events.topology import events_config, handler_queue
from mes_common.testing.fixtures import wait_until
from mes_common.tests.probe.services import ProbeEmitter, ProbeStream

QUEUE = stream_queue_name("probe_emitter", "probe_stream", "on_probe")


def applied(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT subject FROM effect WHERE consumer = 'stream' ORDER BY id")).scalars().all()


@pytest.fixture
def config(probe_config, probe_database_urls):
    probe_config["DATABASE_URLS"]["probe_stream"] = probe_database_urls["probe_consumer"]
    return probe_config


@pytest.fixture
def emitter(config, container_factory):
    container = container_factory(ProbeEmitter, config)
    container.start()
    return container


def emit(emitter, subjects):
    with entrypoint_hook(emitter, "emit") as hook:
        hook(subjects)


def test_two_instances_apply_a_stream_in_order_and_one_takes_over(config, container_factory, emitter,
                                                                  probe_engines):
    first, second = container_factory(ProbeStream, config), container_factory(ProbeStream, config)
    first.start()
    second.start()
    subjects = [f"s{i:03d}" for i in range(400)]
    for start in range(0, 400, 20):   # 20 commits, each published in one go
        emit(emitter, subjects[start:start + 20])
    engine = probe_engines["probe_consumer"]
    wait_until(lambda: len(applied(engine)) == 400, timeout=20, message="400 applied")
    # two competing consumers would each take every other delivery and commit their batches side by side
    assert applied(engine) == subjects

    first.kill()   # the active one dies: the broker hands the stream to the other
    emit(emitter, ["after-1", "after-2"])
    wait_until(lambda: applied(engine)[-2:] == ["after-1", "after-2"], timeout=20, message="taken over")
    assert len(applied(engine)) == 402


def test_a_stream_queue_of_an_older_release_is_declared_anew_with_its_messages(config, container_factory,
                                                                                emitter, probe_engines):
    exchange = get_event_exchange("probe_emitter", config)
    old = handler_queue(QUEUE, exchange, "#", events_config(config)["delivery_limit"])   # no single active consumer
    with Connection(config["AMQP_URI"]) as conn:
        old(conn.channel()).declare()
    emit(emitter, ["waiting-1", "waiting-2", "waiting-3"])
    with Connection(config["AMQP_URI"]) as conn:
        wait_until(lambda: conn.channel().queue_declare(QUEUE, passive=True).message_count == 3,
                   message="3 waiting in the old queue")

    stream = container_factory(ProbeStream, config)
    stream.start()
    engine = probe_engines["probe_consumer"]
    wait_until(lambda: applied(engine) == ["waiting-1", "waiting-2", "waiting-3"], timeout=20,
               message="the waiting events applied")
    emit(emitter, ["new"])
    wait_until(lambda: applied(engine)[-1:] == ["new"], message="new events still routed")
    with Connection(config["AMQP_URI"]) as conn:
        # declared anew: the new arguments are accepted as equivalent, the holding queue is gone
        handler_queue(QUEUE, exchange, "#", events_config(config)["delivery_limit"], True)(conn.channel()).declare()
        with pytest.raises(Exception, match="NOT_FOUND"):
            conn.channel().queue_declare(f"{QUEUE}.upgrade", passive=True)


def test_periodic_work_takes_turns_across_instances(probe_engines):
    """The reporting clock's guard: while one instance's transaction holds the turn, another's tick skips."""
    from sqlalchemy.orm import Session
    from mes_common.db import take_turn
    engine = probe_engines["probe_consumer"]
    with Session(engine) as first, Session(engine) as second:
        assert take_turn(first, "probe.clock") is True
        assert take_turn(second, "probe.clock") is False
        assert take_turn(second, "probe.other") is True
        first.commit()   # the turn ends with the transaction
        second.rollback()
        assert take_turn(second, "probe.clock") is True
