"""RPC entrypoints and event handlers of nonconformance reports; mixed into
QualityService, which provides `self.uow`, `self._caller()`, `self._part(id)`,
`self.material`, `self.work_order` and the signing helpers of ServiceBase."""
from decimal import Decimal

from mes_common import errors
from mes_common.events.handlers import event_handler
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from quality_service.contract import ncrs as schemas
from quality_service.inspections import use_cases as inspections
from quality_service.ncrs import use_cases as ncrs

MRB = "mrb:disposition"


class NcrEntrypoints:

    def _ncr_out(self, ncr):
        return ncrs.dump(self.uow.session, ncr)

    def _targets(self, items):
        """The lots and serials of a new NCR as material knows them (422 naming an
        unknown one), all of one part."""
        targets, parts = [], set()
        for index, item in enumerate(items):
            try:
                if item["target_type"] == "lot":
                    found = self.material.get_lot(str(item["target_id"]))
                    number, on_hand = found["lot_number"], Decimal(str(found["quantity"]))
                else:
                    found = self.material.get_serial(str(item["target_id"]))
                    number, on_hand = found["serial_number"], Decimal(1)
            except errors.NotFound:
                raise errors.RuleViolated(f"items.{index}.target_id: no {item['target_type']} {item['target_id']}",
                                          {f"items.{index}.target_id": [f"no {item['target_type']} with this id"]}) \
                    from None
            parts.add(str(found["part_id"]))
            quantity = item["quantity"] if item["quantity"] is not None else on_hand
            if item["target_type"] == "serial" and quantity != 1:
                raise errors.RuleViolated(f"items.{index}.quantity: a serial is one unit",
                                          {f"items.{index}.quantity": ["1 for a serial"]})
            targets.append({"target_type": item["target_type"], "target_id": item["target_id"],
                            "target_number": number, "quantity": quantity})
        if len(parts) > 1:
            raise errors.RuleViolated("items: an NCR is about one part; these are of several",
                                      {"items": ["lots and serials of one part"]})
        return targets, parts.pop()

    @rpc
    def raise_ncr(self, data):
        """Raise an NCR (or keep it a draft): its lots and serials are held in material."""
        data = load(schemas.NcrCreate(), data)
        targets, part_id = self._targets(data["items"])
        part = {**self._part(part_id), "id": part_id}
        if data["work_order_id"] is not None:
            order = self.work_order.get_work_order(str(data["work_order_id"]))
            data["work_order_number"] = order["number"]
            operation = next((op for op in order["operations"] if op["id"] == str(data["operation_id"])), None)
            data["operation_sequence"] = operation["sequence"] if operation else None
        with self.uow() as tx:
            ncr = ncrs.raise_(tx, self._caller(), data, part, targets)
        return self._ncr_out(ncr)

    @rpc
    def submit_ncr(self, ncr_id, data=None):
        """Raise a draft NCR."""
        ncr_id, data = uuid_arg(ncr_id, "ncr_id"), load(schemas.NcrSubmit(), data)
        with self.uow() as tx:
            return self._ncr_out(ncrs.submit(tx, ncr_id, data.get("version")))

    @rpc
    def get_ncr(self, ncr_id):
        return self._ncr_out(ncrs.get(self.uow.session, uuid_arg(ncr_id, "ncr_id")))

    @rpc
    def list_ncrs(self, query=None):
        return ncrs.list_page(self.uow.session, load(schemas.NcrListQuery(), query))

    @rpc
    def update_ncr(self, ncr_id, changes):
        ncr_id, changes = uuid_arg(ncr_id, "ncr_id"), load(schemas.NcrUpdate(), changes)
        with self.uow() as tx:
            return self._ncr_out(ncrs.update(tx, ncr_id, changes))

    @rpc
    def add_containment(self, ncr_id, data):
        ncr_id, data = uuid_arg(ncr_id, "ncr_id"), load(schemas.ContainmentAdd(), data)
        with self.uow() as tx:
            return self._ncr_out(ncrs.contain(tx, ncr_id, data["action"], data.get("version")))

    @rpc
    def set_disposition(self, ncr_id, data):
        """The MRB's proposed disposition: lines whose quantities sum to each item's."""
        ncr_id, data = uuid_arg(ncr_id, "ncr_id"), load(schemas.DispositionSet(), data)
        with self.uow() as tx:
            return self._ncr_out(ncrs.set_disposition(tx, ncr_id, data["lines"], data.get("version")))

    @rpc
    def approve_disposition(self, ncr_id, data=None):
        """An MRB member signs the disposition (approval); with the approvals it
        needs (two members when critical) material applies it."""
        caller = self._caller()
        if caller.permissions is not None and MRB not in caller.permissions:
            raise errors.Forbidden(f"approving a disposition needs the permission {MRB}",
                                   {"signature": [f"you do not hold {MRB}"]})
        self._require_signer("an MRB approval")   # unlike a release, no platform call stands in for the board
        ncr_id = uuid_arg(ncr_id, "ncr_id")
        data = self._load_signed(schemas.DispositionSign(), data)
        with self.uow() as tx:   # no transaction stays open during the auth service's check
            ncrs.check_signable(tx.session, ncr_id, data.get("version"))
        manifest = self._signature(ncrs.RECORD, ncr_id, ncrs.APPROVAL, data.get("signature"))
        with self.uow() as tx:
            ncr = ncrs.sign_disposition(tx, caller, ncr_id, data.get("version"), manifest)
        return self._ncr_out(ncr)

    @rpc
    def close_ncr(self, ncr_id, data):
        ncr_id, data = uuid_arg(ncr_id, "ncr_id"), load(schemas.NcrAction(), data)
        with self.uow() as tx:
            return self._ncr_out(ncrs.close(tx, ncr_id, data["reason"], data.get("version")))

    @rpc
    def cancel_ncr(self, ncr_id, data):
        ncr_id, data = uuid_arg(ncr_id, "ncr_id"), load(schemas.NcrAction(), data)
        with self.uow() as tx:
            return self._ncr_out(ncrs.cancel(tx, ncr_id, data["reason"], data.get("version")))

    # ------------------------------------------------------------ material's word on the holds

    @event_handler("material_service", "mes.material.lot.held")
    def on_lot_held(self, event):
        ncrs.hold_changed(self.uow, event.data, released=False)

    @event_handler("material_service", "mes.material.serial.held")
    def on_serial_held(self, event):
        ncrs.hold_changed(self.uow, event.data, released=False)

    @event_handler("material_service", "mes.material.lot.released")
    def on_lot_hold_released(self, event):
        ncrs.hold_changed(self.uow, event.data, released=True)

    @event_handler("material_service", "mes.material.serial.released")
    def on_serial_hold_released(self, event):
        ncrs.hold_changed(self.uow, event.data, released=True)

    # ------------------------------------------------------------ the work order service's word on the rework

    @event_handler("work_order_service", "mes.work_order.rework.created")
    def on_rework_created(self, event):
        ncrs.rework_changed(self.uow(), event.data)

    @event_handler("work_order_service", "mes.work_order.rework.started")
    def on_rework_started(self, event):
        ncrs.rework_changed(self.uow(), event.data)

    @event_handler("work_order_service", "mes.work_order.rework.completed")
    def on_rework_completed(self, event):
        """When the last rework of an NCR raised by an inspection is done, what was
        reworked is inspected again (its gate stays shut until that passes)."""
        tx = self.uow()
        ncr = ncrs.rework_changed(tx, event.data)
        if ncr is not None and ncr.inspection_id is not None and ncrs.rework_done(ncr):
            reworked = sum((d.quantity for d in ncr.dispositions if d.rework_status is not None), Decimal(0))
            inspections.reinspect(tx, self._caller(), ncr.inspection_id, reworked, f"rework:{ncr.id}")
