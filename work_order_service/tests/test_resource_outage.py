"""The resource service stopped under a running work order service: a module of
its own, as it replaces the package stack's resource service (see conftest.py)."""
import time

import pytest

from mes_common import errors
from mes_common.testing.fixtures import wait_until
from work_order_service.testing import build, new_order, new_tag


def test_a_start_that_must_ask_the_resource_service_is_refused_quickly_while_it_is_down(rpc, replace_service):
    skill = rpc.resource.create_skill({"code": f"SK-{new_tag()}", "name": "Torque tightening"})
    world = build(rpc, components=1, operations=2, first_requires=[{"skill": skill["code"], "min_level": 1}])
    wo = rpc.wo.release_work_order(new_order(rpc, world, quantity=1)["id"])
    first = wo["operations"][0]["id"]
    replace_service.stop("resource_service")
    started = time.monotonic()
    with pytest.raises(errors.Unavailable):
        rpc.wo.start_operation(wo["id"], first)
    assert time.monotonic() - started < 5   # no consumer: refused at once, not after the RPC deadline
    assert rpc.wo.get_work_order(wo["id"])["operations"][0]["status"] == "ready"
    replace_service.start("resource_service")

    def refused_as_unqualified():   # back (once the probe sees its consumer): the check runs, alice lacks the skill
        try:
            rpc.wo.start_operation(wo["id"], first)
        except errors.Unavailable:
            return None
        except errors.RuleViolated as refused:
            return refused.details
    assert "operator" in wait_until(refused_as_unqualified, timeout=15, message="the resource service back")
