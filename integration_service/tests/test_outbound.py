"""What goes out, against a local HTTP receiver that is down, slow, refusing or accepting: webhooks arrive once
the receiver is back, in order and signed; a refused message is parked and replayed; a completed work order's
performance document arrives, valid, with its lots and serials."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lxml import etree

from mes_common import errors
from mes_common.testing.fixtures import free_port, wait_until
from integration_service import b2mml
from integration_service.contract import webhooks
from integration_service.tests.test_b2mml import STANDARDS
from work_order_service.testing import build, new_order

B2 = {"b": b2mml.NAMESPACES[b2mml.V0700]}


class Receiver:
    """A local endpoint whose behaviour a test sets: not listening (down), `slow` (answers after the sender's
    timeout), `refuse` (400), `accept` (200, recorded)."""

    def __init__(self):
        self.port, self.mode, self.received, self.server = free_port(), "accept", [], None
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def start(self, mode="accept"):
        self.mode = mode
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.mode == "slow":
                    time.sleep(2)
                status = {"accept": 200, "refuse": 400, "slow": 503}[receiver.mode]
                if status == 200:
                    receiver.received.append((dict(self.headers), body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def endpoint(rpc):
    """`endpoint(data)` makes an endpoint, paused after the test (the stack is shared: its receiver goes)."""
    made = []

    def make(data):
        made.append(rpc.create_endpoint(data))
        return made[-1]
    yield make
    for one in made:
        rpc.update_endpoint(one["id"], {"active": False})


def _events_of(receiver, subject):
    """The CloudEvents received about `subject`, each once (a repeat of a webhook-id is dropped, as a receiver
    does), in arrival order, with their headers and body."""
    seen, found = set(), []
    for headers, body in receiver.received:
        event = json.loads(body)
        if event.get("subject") == subject and headers["webhook-id"] not in seen:
            seen.add(headers["webhook-id"])
            found.append((event, headers, body))
    return found


def _outbound(rpc, endpoint_id):
    return rpc.list_messages({"endpoint_id": endpoint_id, "direction": "out", "limit": 100})["items"]


def _world(services, tag):
    r = services.resource
    ent = r.create_node({"level": "enterprise", "code": f"E-{tag}", "name": "Acme"})
    site = r.create_node({"level": "site", "code": f"S-{tag}", "name": "Toulouse", "parent_id": ent["id"]})
    part = services.material.create_part({"part_number": f"P-{tag}", "name": "Rib", "type": "manufactured"})
    return site, part


def test_a_webhook_receiver_down_for_a_while_gets_every_event_in_order_and_signed(rpc, services, tag, receiver,
                                                                                 endpoint):
    hook = endpoint({"name": f"hook-{tag}", "kind": "webhook", "url": receiver.url,
                                "event_types": ["mes.work_order.work_order.*"]})
    secret = hook["signing_secret"]
    assert secret.startswith("whsec_") and "signing_secret" not in rpc.get_endpoint(hook["id"])
    with pytest.raises(errors.RuleViolated):   # a webhook's secret is the MES's to make (rotate-secret)
        rpc.update_endpoint(hook["id"], {"secret": "hunter2"})
    site, part = _world(services, tag)
    wo = services.wo.create_work_order({"part_id": part["id"], "quantity": 5, "due_date": "2026-12-31",
                                        "site_id": site["id"]})
    for quantity in (6, 7, 8):
        services.wo.update_work_order(wo["id"], {"quantity": quantity})

    # down: refused connections, retried with backoff
    wait_until(lambda: any(m["attempts"] >= 2 for m in _outbound(rpc, hook["id"])), timeout=20,
               message="retries while the receiver is down")
    receiver.start("slow")   # then too slow: the sender's timeout, and again later
    wait_until(lambda: any("Timeout" in (m["last_error"] or "") for m in _outbound(rpc, hook["id"])), timeout=20,
               message="a timed-out attempt")
    receiver.mode = "accept"
    wait_until(lambda: len(_events_of(receiver, wo["id"])) == 4, timeout=30, message="every event delivered")

    events = _events_of(receiver, wo["id"])
    assert [(e["type"].rsplit(".", 1)[1], e["data"]["quantity"]) for e, _, _ in events] == [
        ("created", 5), ("updated", 6), ("updated", 7), ("updated", 8)]
    for event, headers, body in events:
        assert headers["Content-Type"] == "application/cloudevents+json" and event["specversion"] == "1.0"
        assert webhooks.verify(secret, headers, body) == headers["webhook-id"]
        with pytest.raises(webhooks.InvalidSignature):   # another secret: the receiver can tell
            webhooks.verify(webhooks.new_secret(), headers, body)
        with pytest.raises(webhooks.InvalidSignature):   # a changed body too
            webhooks.verify(secret, headers, body.replace(b'"quantity"', b'"Quantity"'))
    # the receiver has the last body a moment before the sender records the answer
    wait_until(lambda: [m["status"] for m in _outbound(rpc, hook["id"])] == ["delivered"] * 4, timeout=10,
               message="every message recorded as delivered")
    assert max(m["attempts"] for m in _outbound(rpc, hook["id"])) >= 3


def test_a_refused_message_is_parked_holds_its_successors_and_goes_again_on_replay(rpc, services, tag, receiver,
                                                                                  endpoint):
    hook = endpoint({"name": f"hook-{tag}", "kind": "webhook", "url": receiver.url,
                                "event_types": ["mes.work_order.work_order.created",
                                                "mes.work_order.work_order.updated"]})
    receiver.start("refuse")
    site, part = _world(services, tag)
    wo = services.wo.create_work_order({"part_id": part["id"], "quantity": 5, "due_date": "2026-12-31",
                                        "site_id": site["id"]})
    wait_until(lambda: [m["status"] for m in _outbound(rpc, hook["id"])] == ["parked"], timeout=20,
               message="the refused message parked")
    services.wo.update_work_order(wo["id"], {"quantity": 9})
    wait_until(lambda: len(_outbound(rpc, hook["id"])) == 2, timeout=10, message="the second message queued")
    time.sleep(1)   # the second waits behind the parked one: not sent, though the receiver would refuse it
    assert sorted(m["status"] for m in _outbound(rpc, hook["id"])) == ["parked", "pending"]
    assert [m["attempts"] for m in _outbound(rpc, hook["id"]) if m["status"] == "pending"] == [0]
    assert rpc.get_endpoint(hook["id"])["parked"] == 1

    receiver.mode = "accept"
    parked = next(m for m in _outbound(rpc, hook["id"]) if m["status"] == "parked")
    assert parked["http_status"] == 400 and "400" in parked["last_error"]
    assert rpc.replay_message(parked["id"])["status"] == "pending"
    wait_until(lambda: len(_events_of(receiver, wo["id"])) == 2, timeout=10, message="both delivered")
    assert [e["type"].rsplit(".", 1)[1] for e, _, _ in _events_of(receiver, wo["id"])] == ["created", "updated"]


def test_a_completed_work_order_sends_its_performance_document_with_lots_and_serials(rpc, services, tag, receiver,
                                                                                     endpoint):
    erp = endpoint({"name": f"erp-{tag}", "kind": "b2mml", "url": receiver.url,
                               "nouns": ["OperationsPerformance"], "auth_header": "Authorization",
                               "secret": f"Bearer erp-{tag}"})
    old = endpoint({"name": f"erp6-{tag}", "kind": "b2mml", "url": receiver.url + "/v6",
                               "nouns": ["OperationsPerformance"], "b2mml_version": "V0600"})
    assert "secret" not in rpc.get_endpoint(erp["id"]) and rpc.get_endpoint(erp["id"])["has_secret"] is True
    receiver.start("accept")
    world = build(services, components=2, per=1, operations=2, serial=True)
    wo = services.wo.release_work_order(new_order(services, world, quantity=2)["id"])
    op10, op20 = (o["id"] for o in wo["operations"])
    services.wo.start_operation(wo["id"], op10, {})
    services.wo.consume_material(wo["id"], op10, {"items": [{"lot_id": lot["id"], "quantity": 2}
                                                            for lot in world.lots]})
    services.wo.complete_operation(wo["id"], op10, {"good": 2})
    services.wo.start_operation(wo["id"], op20, {})
    serials = [f"SN-1-{tag}", f"SN-2-{tag}"]
    assert services.wo.complete_operation(wo["id"], op20, {"good": 2, "serial_numbers": serials})["status"] == \
        "completed"

    def documents():
        return [(h, etree.fromstring(b)) for h, b in receiver.received
                if h.get("Content-Type") == "application/xml" and wo["number"].encode() in b]
    wait_until(lambda: len(documents()) == 2, timeout=20, message="the performance documents")
    (headers, doc), = [(h, d) for h, d in documents() if etree.QName(d).namespace == B2["b"]]
    assert headers["Authorization"] == f"Bearer erp-{tag}"
    b2mml.validate_v0700(etree.ElementTree(doc), STANDARDS)
    assert etree.QName(doc).localname == "ProcessOperationsPerformance"
    assert doc.xpath("string(//b:OperationsPerformance/b:ID)", namespaces=B2) == wo["number"]
    consumed = doc.xpath("//b:MaterialActual[b:MaterialUse='Consumed']/b:MaterialLotID/text()", namespaces=B2)
    assert sorted(consumed) == sorted(lot["lot_number"] for lot in world.lots)
    produced = doc.xpath("//b:MaterialActual[b:MaterialUse='Produced']//b:MaterialSubLotID/text()", namespaces=B2)
    assert sorted(produced) == serials
    assert doc.xpath("//b:SegmentResponse/b:EquipmentActual/b:EquipmentID/text()", namespaces=B2)[:2] == [
        world.wcs[0]["code"], world.wcs[1]["code"]]

    (_, v6), = [(h, d) for h, d in documents() if etree.QName(d).namespace == b2mml.NAMESPACES[b2mml.V0600]]
    assert etree.QName(v6).localname == "ProcessProductionPerformance"
    assert len(v6.xpath("//v:MaterialProducedActual", namespaces={"v": b2mml.NAMESPACES[b2mml.V0600]})) == 1
    sent = _outbound(rpc, erp["id"])
    assert [(m["status"], m["noun"], m["document_id"]) for m in sent] == [("delivered", "OperationsPerformance",
                                                                           wo["number"])]
    assert {t["number"] for t in sent[0]["touched"]} >= {wo["number"], *serials}
    assert _outbound(rpc, old["id"])[0]["status"] == "delivered"
