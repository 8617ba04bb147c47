"""The FAIR of a work order's first article (quality service) gathered from
the real work order, material and resource services: the routing's special
process as released, the lots consumed, the routing as the process reference."""
from mes_common.testing.fixtures import wait_until
from work_order_service.testing import build, new_order


def test_a_fair_lists_the_special_process_and_the_lots_of_its_first_article(rpc):
    """The routing's special process travels with the released order into form 2 of the first article's FAIR,
    beside the lot consumed (with its supplier data)."""
    anodize = {"specification": "MIL-A-8625 Type II", "code": "Class 1", "supplier_code": "ANO-7",
               "customer_approved": True}
    world = build(rpc, components=1, per=1, operations=2, last_special=anodize)
    order = rpc.wo.release_work_order(new_order(rpc, world, quantity=1)["id"])
    assert order["operations"][1]["special_process"] == anodize
    first, last = (op["id"] for op in order["operations"])
    rpc.wo.start_operation(order["id"], first)
    rpc.wo.consume_material(order["id"], first, {"items": [{"lot_id": world.lots[0]["id"], "quantity": 1}]})
    rpc.wo.complete_operation(order["id"], first, {"good": 1})
    rpc.wo.start_operation(order["id"], last)
    rpc.wo.complete_operation(order["id"], last, {"good": 1})
    wait_until(lambda: rpc.material.list_serials({"work_order_id": order["id"]})["items"], timeout=10,
               message="the output serial")
    fair = rpc.quality.create_fair({"work_order_id": order["id"]})
    assert [(r["kind"], r["name"], r["specification"], r["code"], r["supplier_code"], r["customer_approval"])
            for r in fair["form2"] if r["kind"] == "special_process"] == [
        ("special_process", "20 Operation 20", "MIL-A-8625 Type II", "Class 1", "ANO-7", "Yes")]
    materials = [r for r in fair["form2"] if r["kind"] == "material"]
    assert [r["code"] for r in materials] == [f"lot {world.lots[0]['lot_number']}"]
    assert (fair["form3"], fair["process_reference"]) == ([], f"{order['number']}: 10 Operation 10, 20 Operation 20")
