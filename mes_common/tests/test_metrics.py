"""Prometheus metrics of a process (mes_common.metrics), scraped over HTTP from
its /metrics listener while real events flow, fail and are dead-lettered."""
import pytest
import requests
from nameko.testing.services import entrypoint_hook
from prometheus_client.parser import text_string_to_metric_families

from mes_common import metrics
from mes_common.events.dead_letters import dead_letter_count
from mes_common.events.topology import handler_queue_name
from mes_common.testing.fixtures import free_port, wait_until
from mes_common.tests.probe.services import HAPPENED, ProbeConsumer, ProbeEmitter

QUEUE = handler_queue_name("probe_emitter", HAPPENED, "probe_consumer", "on_happened")


def scrape(port):
    """{(name, frozenset(labels)): value} of every sample the listener answers."""
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=15)
    assert response.status_code == 200
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def port(probe_config, monkeypatch):
    """The process's listener: started by the first container that names a port."""
    if metrics._listener is None:
        probe_config["METRICS"] = {"PORT": free_port()}
        return probe_config["METRICS"]["PORT"]
    return metrics._listener[0]


def test_events_rpc_and_outbox_are_counted_and_scraped(port, probe_config, container_factory, probe_engines,
                                                       probe_behaviour, monkeypatch):
    monkeypatch.setattr(metrics, "DLQ_READ_EVERY", 0.0)
    emitter = container_factory(ProbeEmitter, probe_config)
    consumer = container_factory(ProbeConsumer, probe_config)
    emitter.start()
    consumer.start()
    before = scrape(port)
    probe_behaviour["permanent_subjects"].add("never")

    with entrypoint_hook(emitter, "emit") as emit:
        emit(["a", "b", "c", "never"])
    wait_until(lambda: dead_letter_count(probe_config["AMQP_URI"], QUEUE) == 1, message="dead letter")
    wait_until(lambda: value(scrape(port), "mes_events_consumed_total", service="probe_consumer",
                             handler="on_happened", type=HAPPENED)
               - value(before, "mes_events_consumed_total", service="probe_consumer", handler="on_happened",
                       type=HAPPENED) == 3, message="3 consumed")
    # read at the scrape: nothing waits in the outbox once the relay marked them
    wait_until(lambda: ("mes_outbox_pending", frozenset({("service", "probe_emitter")})) in scrape(port)
               and value(scrape(port), "mes_outbox_pending", service="probe_emitter") == 0, message="outbox empty")
    after = scrape(port)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    # exactly once: a relay that failed after publishing would publish them again from its sweep
    assert grew("mes_events_published_total", service="probe_emitter", type=HAPPENED) == 4
    assert grew("mes_events_dead_lettered_total", service="probe_consumer", handler="on_happened",
                type=HAPPENED) == 1
    assert value(after, "mes_dead_letter_queue_messages", service="probe_consumer", queue=f"{QUEUE}.dlq") == 1
    assert grew("mes_rpc_requests_total", service="probe_emitter", method="emit", outcome="ok") == 1
    assert grew("mes_rpc_request_duration_seconds_count", service="probe_emitter", method="emit") == 1
    assert value(after, "mes_db_pool_size", service="probe_emitter") >= 1
    assert ("process_cpu_seconds_total", frozenset()) in after   # CPU per process, for the drill


def test_a_failing_handler_counts_its_retries(port, probe_config, container_factory, probe_behaviour):
    emitter = container_factory(ProbeEmitter, probe_config)
    consumer = container_factory(ProbeConsumer, probe_config)
    emitter.start()
    consumer.start()
    before = scrape(port)
    probe_behaviour["fail_subjects"].add("flaky")
    with entrypoint_hook(emitter, "emit") as emit:
        emit(["flaky"])
    labels = {"service": "probe_consumer", "handler": "on_happened", "type": HAPPENED}
    wait_until(lambda: value(scrape(port), "mes_events_retried_total", **labels)
               - value(before, "mes_events_retried_total", **labels) >= 1, message="a retry counted")


def test_the_listener_answers_a_liveness_probe(port, probe_config, container_factory):
    container_factory(ProbeEmitter, probe_config).start()
    response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    assert response.status_code == 200 and response.text == "ok\n"
