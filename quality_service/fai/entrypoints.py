"""RPC entrypoints of First Article Inspection reports; mixed into
QualityService, which provides `self.uow`, `self._caller()`, `self._part(id)`,
`self.material`, `self.resource`, `self.work_order` and the signing helpers
of ServiceBase.

What other services own is gathered here, before any transaction opens: the
serial, its work order (routing, buy-offs), its genealogy (the lots consumed
with their heat numbers and certificates, the detail parts), and the gauges
used with their calibration status."""
from mes_common import errors, signatures
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from quality_service.contract import fai as schemas
from quality_service.fai import use_cases as fai


class FaiEntrypoints:

    def _fai_out(self, fair):
        return fai.dump(self.uow.session, fair)

    def _fai_serial(self, serial_id):
        try:
            return self.material.get_serial(str(serial_id))
        except errors.NotFound:
            raise errors.RuleViolated(f"serial_id: no serial {serial_id}",
                                      {"serial_id": [f"no serial {serial_id}"]}) from None

    def _first_serial(self, work_order_id):
        """The first article of a work order: its output serial with the lowest number."""
        made = self.material.list_serials({"work_order_id": str(work_order_id), "limit": 500})["items"]
        if not made:
            raise errors.RuleViolated("work_order_id: the work order has made no serial yet",
                                      {"work_order_id": ["no output serial yet"]})
        return min(made, key=lambda s: (len(s["serial_number"]), s["serial_number"]))["id"]   # SN-9 before SN-10

    def _fai_sources(self, serial_id, plan_numbers):
        serial = self._fai_serial(serial_id)
        part = {**self._part(serial["part_id"]), "id": serial["part_id"]}
        order = self.work_order.get_work_order(str(serial["work_order_id"])) if serial.get("work_order_id") else None
        part_revision = order["part_revision"] if order else part["revision"]
        materials, details = self._fai_genealogy(serial)
        with self.uow() as tx:
            used = fai.plans_of(tx.session, part["id"], part_revision, plan_numbers)
            form3 = fai.first_article_results(tx.session, used, serial["id"], order["id"] if order else None)
            details = [{**d, "fair_number": fai.approved_fair_of(tx.session, d["part_number"])} for d in details]
            plan_numbers = [p.plan_number for p in used]
        gauges = {}
        for gauge_id in form3[3]:
            asset = self.resource.get_asset(gauge_id)
            gauges[gauge_id] = {"asset_number": asset["asset_number"], "next_due_on": asset["next_due_on"],
                                "calibration_status": "calibrated" if asset["usable"] else asset["problem"]}
        return {"serial": serial, "part": part, "part_revision": part_revision, "plan_numbers": plan_numbers,
                "work_order_id": order and order["id"], "work_order_number": order and order["number"],
                "process_reference": _process_reference(order), "materials": materials,
                "processes": _special_processes(order),
                "tests": _tests(order), "detail_parts": details, "form3_sources": form3}, gauges

    def _fai_genealogy(self, serial):
        """(the lots it was made from, with their supplier data; the serials of other parts in it)."""
        tree = self.material.get_genealogy({"target_type": "serial", "target_id": str(serial["id"]),
                                            "direction": "up"})
        materials, details = [], []
        for node in tree["nodes"]:
            if str(node["id"]) == str(serial["id"]):
                continue
            part = self._part(node["part_id"])
            if node["type"] == "lot":
                lot = self.material.get_lot(str(node["id"]))
                materials.append({"part_number": part["part_number"], "part_name": part["name"],
                                  "lot_number": lot["lot_number"], "heat_number": lot.get("heat_number"),
                                  "supplier": lot.get("supplier"), "supplier_lot": lot.get("supplier_lot"),
                                  "certificates": lot.get("certificates") or []})
            else:
                details.append({"part_number": part["part_number"], "part_name": part["name"],
                                "part_type": part["type"], "serial_or_lot": node["number"]})
        return materials, details

    @rpc
    def create_fair(self, data):
        """A FAIR of a serial, its forms gathered from the MES (a draft)."""
        data = load(schemas.FaiCreate(), data)
        serial_id = data["serial_id"] or self._first_serial(data["work_order_id"])
        sources, gauges = self._fai_sources(serial_id, data["plan_numbers"])
        with self.uow() as tx:
            return self._fai_out(fai.create(tx, self._caller(), data, sources, gauges))

    @rpc
    def refresh_fair(self, fair_id, data=None):
        """Gather the forms again (results recorded, NCRs raised since); a rejected FAIR becomes a draft."""
        fair_id, data = uuid_arg(fair_id, "fair_id"), load(schemas.FaiUpdate(), data or {})
        with self.uow() as tx:
            fair = fai.get(tx.session, fair_id)
            serial_id, plan_numbers = fair.serial_id, list(fair.plan_numbers)
        sources, gauges = self._fai_sources(serial_id, plan_numbers)
        with self.uow() as tx:
            return self._fai_out(fai.refresh(tx, fair_id, data.get("version"), sources, gauges))

    @rpc
    def update_fair(self, fair_id, changes):
        fair_id, changes = uuid_arg(fair_id, "fair_id"), load(schemas.FaiUpdate(), changes)
        with self.uow() as tx:
            return self._fai_out(fai.update(tx, fair_id, changes))

    @rpc
    def get_fair(self, fair_id):
        return self._fai_out(fai.get(self.uow.session, uuid_arg(fair_id, "fair_id")))

    @rpc
    def list_fairs(self, query=None):
        return fai.list_page(self.uow.session, load(schemas.FaiListQuery(), query))

    @rpc
    def submit_fair(self, fair_id, data=None):
        """The preparer signs (authorship) and sends it to review."""
        fair_id = uuid_arg(fair_id, "fair_id")
        data = self._load_signed(schemas.FaiSign(), data)
        with self.uow() as tx:   # no transaction stays open during the auth service's check
            fai.check_submittable(tx.session, fair_id, data.get("version"))
        manifest = self._signature(fai.RECORD, fair_id, signatures.AUTHORSHIP, data.get("signature"))
        with self.uow() as tx:
            return self._fai_out(fai.submit(tx, self._caller(), fair_id, data.get("version"), manifest))

    @rpc
    def approve_fair(self, fair_id, data=None):
        """A reviewer other than the preparer approves it (approval); it never changes after."""
        fair_id = uuid_arg(fair_id, "fair_id")
        self._require_signer("an FAI approval")
        data = self._load_signed(schemas.FaiSign(), data)
        with self.uow() as tx:
            fai.check_approvable(tx.session, fair_id, data.get("version"), self._caller().user_id)
        manifest = self._signature(fai.RECORD, fair_id, signatures.APPROVAL, data.get("signature"))
        with self.uow() as tx:
            return self._fai_out(fai.approve(tx, self._caller(), fair_id, data.get("version"), manifest))

    @rpc
    def reject_fair(self, fair_id, data):
        fair_id, data = uuid_arg(fair_id, "fair_id"), load(schemas.FaiReject(), data)
        with self.uow() as tx:
            return self._fai_out(fai.reject(tx, fair_id, data["reason"], data.get("version")))

    @rpc
    def get_fair_html(self, fair_id):
        """The three forms as a printable page: {filename, content}."""
        return fai.report_html(self.uow.session, uuid_arg(fair_id, "fair_id"))

    @rpc
    def get_fair_pdf(self, fair_id):
        """The three forms as a PDF: {filename, content_base64}."""
        return fai.report_pdf(self.uow.session, uuid_arg(fair_id, "fair_id"))

    @rpc
    def get_fair_xlsx(self, fair_id):
        """The three forms as a workbook: {filename, content_base64}."""
        return fai.report_xlsx(self.uow.session, uuid_arg(fair_id, "fair_id"))


def _process_reference(order):
    """Form 1 field 9: the work order and its routing's operations as released."""
    if order is None:
        return None
    steps = ", ".join(f"{op['sequence']} {op['name']}" for op in order["operations"])
    return f"{order['number']}: {steps}"[:200]


def _special_processes(order):
    """Form 2's special processes: the order's operations its routing marks as such."""
    return [{"name": f"{op['sequence']} {op['name']}", **op["special_process"]}
            for op in (order or {}).get("operations", []) if op.get("special_process")]


def _tests(order):
    """Form 2's functional tests: the work-instruction steps bought off with their values."""
    if order is None:
        return []
    tests = []
    for op in order["operations"]:
        instruction = op.get("work_instruction") or {}
        steps = instruction.get("steps") or []
        for buy_off in op.get("buy_offs") or []:
            title = steps[buy_off["step"]]["title"] if buy_off["step"] < len(steps) else f"step {buy_off['step']}"
            values = ", ".join(f"{k} {v}" for k, v in sorted(buy_off["values"].items()))
            tests.append({"name": f"{op['sequence']} {op['name']}: {title}",
                          "procedure": f"{instruction.get('code')} v{instruction.get('version')} step "
                                       f"{buy_off['step']}",
                          "result": f"{values} ({buy_off['by_name']})"})
    return tests
