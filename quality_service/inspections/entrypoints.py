"""RPC entrypoints and event handlers of inspections; mixed into QualityService,
which provides `self.uow`, `self._caller()`, `self.material`, `self.resource`
and `self.work_order`."""
import hashlib

from sqlalchemy import select

from mes_common import errors
from mes_common.events.handlers import event_handler
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from quality_service.contract import inspections as schemas
from quality_service.inspections import use_cases as inspections
from quality_service.models import ControlPoint
from quality_service.plans import use_cases as plans


class InspectionEntrypoints:

    def _inspection_out(self, inspection, with_results=True):
        return inspections.dump(self.uow.session, inspection, with_results)

    # ------------------------------------------------------------ opening

    def _subject(self, data):
        """What an inspection opened by hand inspects, from the services that own it."""
        if data["lot_id"] is not None:
            lot = self.material.get_lot(str(data["lot_id"]))
            return {"part_id": lot["part_id"], "part_number": lot["part_number"], "lot_id": lot["id"],
                    "lot_number": lot["lot_number"], "supplier": lot.get("supplier"),
                    "quantity": data["quantity"] or inspections.whole_quantity(lot["quantity"])}
        if data["serial_id"] is not None:
            serial = self.material.get_serial(str(data["serial_id"]))
            return {"part_id": serial["part_id"], "part_number": serial.get("part_number") or "",
                    "serial_id": serial["id"], "serial_number": serial["serial_number"], "quantity": 1}
        order = self.work_order.get_work_order(str(data["work_order_id"]))
        operation = next((op for op in order["operations"] if op["id"] == str(data["operation_id"])), None)
        if operation is None:
            raise errors.RuleViolated(f"work order {order['number']} has no operation {data['operation_id']}",
                                      {"operation_id": ["not an operation of this work order"]})
        return {"part_id": order["part_id"], "part_number": order["part_number"], "work_order_id": order["id"],
                "work_order_number": order["number"], "operation_id": operation["id"],
                "operation_sequence": operation["sequence"],
                "quantity": data["quantity"] or inspections.whole_quantity(order["quantity"])}

    @rpc
    def open_inspection(self, data):
        """Open an inspection of a lot, a serial or an operation under the released plan."""
        data = load(schemas.InspectionOpen(), data)
        subject = {**self._subject(data), "kind": data["kind"]}
        with self.uow() as tx:
            plan = plans.released(tx.session, data["plan_number"])
            if str(plan.part_id) != str(subject["part_id"]):
                raise errors.RuleViolated(
                    f"plan {plan.plan_number} is for part {plan.part_number}, not {subject['part_number']}",
                    {"plan_number": [f"a plan of part {plan.part_number}"]})
            inspection = inspections.open_(tx, self._caller(), plan, subject)
        return self._inspection_out(inspection)

    @rpc
    def cancel_inspection(self, inspection_id, data):
        inspection_id, data = uuid_arg(inspection_id, "inspection_id"), load(schemas.InspectionCancel(), data)
        with self.uow() as tx:
            inspection = inspections.cancel(tx, inspection_id, data["reason"])
        return self._inspection_out(inspection)

    @rpc
    def get_inspection(self, inspection_id):
        return self._inspection_out(inspections.get(self.uow.session, uuid_arg(inspection_id, "inspection_id")))

    @rpc
    def list_inspections(self, query=None):
        return inspections.list_page(self.uow.session, load(schemas.InspectionListQuery(), query))

    @rpc
    def check_operation_gate(self, query):
        """Whether an operation may complete: every gating control point at it has its inspection passed."""
        return schemas.GateOut().dump(inspections.gate(self.uow.session, load(schemas.GateQuery(), query)))

    # ------------------------------------------------------------ results

    def _check_inspector(self, caller, plan):
        if not plan.inspector_skills or caller.user_id is None:
            return
        answer = self.resource.check_qualification({"user_id": str(caller.user_id),
                                                    "requirements": plan.inspector_skills})
        if not answer["qualified"]:
            messages = [s["message"] for s in answer["shortfalls"]]
            raise errors.RuleViolated(f"{caller.name} may not inspect to plan {plan.plan_number}: "
                                      f"{'; '.join(messages)}", {"inspector": messages})

    def _gauges(self, results):
        """The gauges the results name: {id: AssetOut}, or 422 for one that does not exist."""
        gauges = {}
        for gauge_id in sorted({r["gauge_id"] for r in results if r["gauge_id"] is not None}, key=str):
            try:
                gauges[gauge_id] = self.resource.get_asset(str(gauge_id))
            except errors.NotFound:
                raise errors.RuleViolated(f"gauge_id: no gauge {gauge_id}",
                                          {"gauge_id": [f"no gauge {gauge_id}"]}) from None
        return gauges

    def _use_gauges(self, caller, inspection, results, gauges):
        """Record the gauges' use against the inspection, each fit for use by the
        resource service's calibration rules (422 naming each that is not). Keyed
        by the samples and the gauges: a retried request counts its uses once."""
        if not gauges:
            return
        ids = [str(i) for i in gauges]
        request = ",".join(sorted(f"{r['characteristic']}.{r['sample']}" for r in results) + ids)
        key = f"inspection:{inspection.id}:{hashlib.sha256(request.encode()).hexdigest()[:24]}"
        try:
            self.resource.use_assets({"asset_ids": ids, "inspection_id": str(inspection.id),
                                      "user_id": caller.user_id and str(caller.user_id), "used_by": caller.name,
                                      "idempotency_key": key})
        except errors.RuleViolated as refused:
            problems = refused.details.get("asset_ids", [refused.message])
            raise errors.RuleViolated(f"gauge_id: {'; '.join(problems)}", {"gauge_id": problems}) from None

    @rpc
    def record_results(self, inspection_id, data):
        """Append results (one sample or a whole batch: all or none); the verdicts follow.
        Everything that can refuse them is asked before a gauge's use is recorded."""
        inspection_id, data = uuid_arg(inspection_id, "inspection_id"), load(schemas.ResultsRecord(), data)
        caller = self._caller()
        with self.uow() as tx:   # refused early, before any other service is asked
            inspection, plan = inspections.check_open(tx.session, inspection_id)
            inspections.check_results(plan, inspection, data["results"], {})
            inspections.check_not_recorded(tx.session, inspection, data["results"])
        self._check_inspector(caller, plan)
        gauges = self._gauges(data["results"])
        inspections.check_results(plan, inspection, data["results"], gauges)   # each gauge of its type
        self._use_gauges(caller, inspection, data["results"], gauges)
        with self.uow() as tx:
            inspection, recorded = inspections.record(tx, caller, inspection_id, data["results"], gauges)
            out = inspections.dump(tx.session, inspection)
        return {**out, "results": recorded}

    # ------------------------------------------------------------ opened by events

    @event_handler("material_service", "mes.material.lot.received")
    def on_lot_received(self, event):
        """A purchased lot of a part with a receiving control point: its inspection opens."""
        lot = event.data
        if lot.get("origin") != "receipt":
            return
        tx = self.uow()
        points = tx.session.execute(select(ControlPoint).where(
            ControlPoint.part_id == lot["part_id"], ControlPoint.kind == "receiving",
            ControlPoint.active.is_(True))).scalars().all()
        subject = {"kind": "receiving", "part_id": lot["part_id"], "part_number": lot["part_number"],
                   "lot_id": lot["id"], "lot_number": lot["lot_number"], "supplier": lot.get("supplier"),
                   "quantity": inspections.whole_quantity(lot.get("quantity_received") or lot["quantity"])}
        self._open_at(tx, points, subject, f"lot:{lot['id']}")

    @event_handler("work_order_service", "mes.work_order.operation.started")
    def on_operation_started(self, event):
        """An operation at an in-process or final control point: its inspection opens."""
        op = event.data
        if "part_id" not in op:   # an event of a work order service that did not say the part yet
            return
        tx = self.uow()
        points = [p for p in plans.control_points_at(tx.session, op["part_id"], op["part_revision"],
                                                     operation_sequence=op["sequence"]) if p.kind != "receiving"]
        subject = {"part_id": op["part_id"], "part_number": op["part_number"], "work_order_id": op["work_order_id"],
                   "work_order_number": op["work_order_number"], "operation_id": op["id"],
                   "operation_sequence": op["sequence"],
                   "quantity": inspections.whole_quantity(op["work_order_quantity"])}
        self._open_at(tx, points, subject, f"operation:{op['id']}")

    def _open_at(self, tx, points, subject, trigger):
        caller = self._caller()
        for point in points:
            plan = plans.released_or_none(tx.session, point.plan_number)
            if plan is None:   # the plan was withdrawn meanwhile: nothing to inspect against (the gate says so)
                continue
            inspections.open_(tx, caller, plan, {**subject, "kind": subject.get("kind") or point.kind},
                              control_point_id=point.id, trigger_key=f"{trigger}:{point.id}")
