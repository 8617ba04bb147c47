"""Events the work order service publishes: its public contract.

Type `mes.work_order.<entity>.<verb>`, subject the entity id:

- `work_order.created|updated|released|release_failed|held|resumed|cancelled|completed|closed`:
  data = WorkOrderOut (with `changed: [field…]` on updated, `shortages` on
  release_failed when material was short, `routing: {id, version}` on released:
  the routing version the operations were copied from);
- `operation.started|paused|resumed|completed`: data = OperationOut plus
  `work_order_id`, `work_order_number`, `part_id`, `part_number`,
  `part_revision`, `work_order_quantity`, `at` (the instant of the change:
  the operation's clock runs from started/resumed to paused/completed;
  cancelling or closing an order pauses its running operations), and on
  completed the report
  (`report: {id, good, scrap, rework, reason_codes}`; an operation reports
  partial quantities, each report is one `completed` event: its `status`
  says whether the operation is done);
- `output.reported`: `{report_id, work_order_id, work_order_number,
  operation_id, part_id, quantity, serial_numbers|null, lot_number|null,
  location_id|null, work_order_quantity}` (material produces the output, keyed
  by report_id, and shares what the order consumed over its quantity);
- `downtime.recorded|ended`: data = DowntimeOut;
- `step.bought_off`: `{work_order_id, work_order_number, operation_id, step,
  values, note, by_id, by_name, at}`.
- `rework.created|started|completed`: data = ReworkOut (contract.rework): a
  rework operation made from a rework or repair line of an NCR's signed
  disposition (`disposition_id`), started and completed on the shop floor.
Work-instruction events are listed by their own module.
"""
SOURCE = "work_order_service"

WORK_ORDER_VERBS = ("created", "updated", "released", "release_failed", "held", "resumed", "cancelled",
                    "completed", "closed")
OPERATION_VERBS = ("started", "paused", "resumed", "completed")

OUTPUT_REPORTED = "mes.work_order.output.reported"
DOWNTIME_RECORDED = "mes.work_order.downtime.recorded"
DOWNTIME_ENDED = "mes.work_order.downtime.ended"
STEP_BOUGHT_OFF = "mes.work_order.step.bought_off"
REWORK_VERBS = ("created", "started", "completed")

EVENT_TYPES = (tuple(f"mes.work_order.work_order.{v}" for v in WORK_ORDER_VERBS)
               + tuple(f"mes.work_order.operation.{v}" for v in OPERATION_VERBS)
               + (OUTPUT_REPORTED, DOWNTIME_RECORDED, DOWNTIME_ENDED, STEP_BOUGHT_OFF)
               + tuple(f"mes.work_order.rework.{v}" for v in REWORK_VERBS))


def work_order(verb):
    assert verb in WORK_ORDER_VERBS, verb
    return f"mes.work_order.work_order.{verb}"


def operation(verb):
    assert verb in OPERATION_VERBS, verb
    return f"mes.work_order.operation.{verb}"


def rework(verb):
    assert verb in REWORK_VERBS, verb
    return f"mes.work_order.rework.{verb}"
