"""A worker killed mid-saga, then restarted: a module of its own, as it
replaces the package stack's work order service (see conftest.py)."""
import eventlet
from mes_common.rpc import ClusterRpcProxy

from mes_common.testing.fixtures import wait_until
from work_order_service.testing import active_reservations, build, new_order, sagas


def test_killed_mid_saga_ends_compensated_after_restart(rpc, stack, replace_work_order_service, db):
    engine = db
    world = build(rpc, components=4, per=1, operations=1)
    wo = new_order(rpc, world, quantity=2)
    start = replace_work_order_service
    doomed = start(SAGA_STEP_DELAY=0.5, SAGA_LEASE_SECONDS=1)  # in place of the stack's
    with ClusterRpcProxy(stack.config, timeout=30) as proxy:
        proxy.work_order_service.release_work_order.call_async(wo["id"])
        wait_until(lambda: len(active_reservations(rpc, wo["id"])) >= 2, timeout=10, message="reservations")
        doomed.kill()  # mid-saga: some parts reserved, others not
    assert sagas(engine, wo["id"])[0]["state"] == "reserving"

    start(SAGA_LEASE_SECONDS=1)
    wait_until(lambda: sagas(engine, wo["id"])[0]["state"] == "compensated", timeout=15, message="recovery")
    eventlet.sleep(0.2)
    assert active_reservations(rpc, wo["id"]) == []
    assert rpc.wo.get_work_order(wo["id"])["status"] == "created"
