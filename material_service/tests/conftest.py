"""Fixtures of the material service tests: the service in a real container
(PostgreSQL, RabbitMQ, Redis) and helpers that build a small plant.

One stack serves the whole package (a vhost, an emptied database and a
container cost seconds each time): every test makes its own parts and
locations under a tag of its own, so tests depend neither on each other nor
on their order, and look up only their own rows and events.
"""
import secrets
import uuid
from types import SimpleNamespace

import pytest
from mes_common.rpc import ClusterRpcProxy

from material_service.service import MaterialService
from mes_common.testing.fixtures import service_stack


@pytest.fixture(scope="package")
def stack(base_config, service_databases, _engines, cache_prefix):
    with service_stack("material", (MaterialService,), base_config=base_config, service_databases=service_databases,
                       engines=_engines, cache_prefix=cache_prefix) as running, \
            ClusterRpcProxy(running.config, timeout=30, context_data={"actor": "alice"}) as cluster:
        yield SimpleNamespace(config=running.config, db=_engines["material_service"], cluster=cluster)


@pytest.fixture
def rpc(stack):
    return stack.cluster.material_service


@pytest.fixture
def db(stack):
    return stack.db


@pytest.fixture
def plant(rpc):
    return Plant(rpc)


class Plant:
    """Parts, locations and lots of one test, their numbers and codes ending in its tag."""

    def __init__(self, rpc):
        self.rpc = rpc
        self.tag = secrets.token_hex(3).upper()
        self.stores = self.location("STORES")
        self.line = self.location("LINE")

    def location(self, code):
        return self.rpc.create_location({"code": f"{code}-{self.tag}", "name": code})

    def part(self, number, type_="raw", **fields):
        return self.rpc.create_part({"part_number": f"{number}-{self.tag}", "name": f"part {number}",
                                     "type": type_, **fields})

    def lot(self, part, quantity, status="released", location=None, **fields):
        lot = self.rpc.receive_lot({"part_id": part["id"], "quantity": quantity,
                                    "location_id": (location or self.stores)["id"], **fields})
        if status != "received":
            lot = self.rpc.set_lot_status(lot["id"], {"status": status, "reason": "incoming inspection"})
        return lot


def work_order():
    return str(uuid.uuid4())
