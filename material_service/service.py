"""Material service: parts, BOMs, inventory, lots, holds, serials, genealogy,
reservations, consumption and output.

Entrypoints only: validate with the schemas, run a use case in one unit of
work, refresh the reference cache after a commit that changed a part.
"""
from material_service import (boms, dispositions, genealogy, holds, inventory, locations, lots, parts, production,
                              reservations, serials)
from material_service import contract
from material_service.contract import schemas
from material_service.lookups import get
from material_service.models import AuditEntry, Base, Hold, InboxEvent, Location, OutboxEvent, Part
from mes_common.cache import ReferenceDataCache
from mes_common.db import UnitOfWork
from mes_common.events.handlers import event_handler
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from mes_common.service import ServiceBase



class MaterialService(ServiceBase):
    name = "material_service"

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry)
    cache = ReferenceDataCache()

    def _write(self, use_case, *args):
        """Run a use case in one unit of work; its answer once committed."""
        with self.uow() as tx:
            return use_case(tx, *args)

    def _part_written(self, use_case, *args):
        """A part use case; once committed, the part's summary goes to the
        reference cache (kind "part"), where other services read it."""
        with self.uow() as tx:
            part = use_case(tx, *args)
            out = parts.dump(tx.session, part)
        self.cache.set(contract.PART_KIND, out["id"], parts.summary(part))
        return out

    # ------------------------------------------------------------ parts

    @rpc
    def create_part(self, data):
        return self._part_written(parts.create, load(schemas.PartCreate(), data))

    @rpc
    def get_part(self, part_id):
        return parts.dump(self.uow.session, get(self.uow.session, Part, uuid_arg(part_id)))

    @rpc
    def list_parts(self, query=None):
        return parts.list_page(self.uow.session, load(schemas.PartListQuery(), query))

    @rpc
    def update_part(self, part_id, changes):
        return self._part_written(parts.update, uuid_arg(part_id), load(schemas.PartUpdate(), changes))

    @rpc
    def add_part_revision(self, part_id, data):
        return self._part_written(parts.add_revision, uuid_arg(part_id), load(schemas.RevisionCreate(), data))

    @rpc
    def find_parts(self, query):
        """{part number: summary} of the parts with these numbers (an ERP names parts by number)."""
        numbers = load(schemas.PartNumbersQuery(), query)["part_numbers"]
        return parts.find_by_number(self.uow.session, sorted(set(numbers)))

    @rpc
    def get_part_summaries(self, part_ids):
        """Display fields of many parts at once (for reference caches)."""
        return parts.summaries(self.uow.session, load(schemas.PartSummaryQuery(), {"ids": part_ids})["ids"])

    # ------------------------------------------------------------ BOMs

    @rpc
    def set_bom(self, part_id, data):
        return self._write(boms.set_bom, uuid_arg(part_id), load(schemas.BomSet(), data))

    @rpc
    def get_bom(self, part_id, query=None):
        return boms.get_bom(self.uow.session, uuid_arg(part_id), load(schemas.BomQuery(), query))

    @rpc
    def explode_bom(self, part_id, query=None):
        return boms.explode(self.uow.session, uuid_arg(part_id), load(schemas.ExplodeQuery(), query))

    @rpc
    def where_used(self, part_id):
        return boms.where_used(self.uow.session, uuid_arg(part_id))

    # ------------------------------------------------------------ locations

    @rpc
    def create_location(self, data):
        with self.uow() as tx:
            location = locations.create(tx, load(schemas.LocationCreate(), data))
        return locations.dump(location)

    @rpc
    def get_location(self, location_id):
        return locations.dump(get(self.uow.session, Location, uuid_arg(location_id)))

    @rpc
    def list_locations(self, query=None):
        return locations.list_page(self.uow.session, load(schemas.LocationListQuery(), query))

    # ------------------------------------------------------------ lots and inventory

    @rpc
    def receive_lot(self, data):
        return self._write(lots.receive, load(schemas.LotReceive(), data))

    @rpc
    def get_lot(self, lot_id):
        return lots.get_lot(self.uow.session, uuid_arg(lot_id))

    @rpc
    def list_lots(self, query=None):
        return lots.list_page(self.uow.session, load(schemas.LotListQuery(), query))

    @rpc
    def set_lot_status(self, lot_id, data):
        return self._write(lots.set_status, uuid_arg(lot_id), load(schemas.LotStatusChange(), data))

    @rpc
    def split_lot(self, lot_id, data):
        return self._write(lots.split, uuid_arg(lot_id), load(schemas.LotSplit(), data))

    @rpc
    def merge_lots(self, data):
        return self._write(lots.merge, load(schemas.LotMerge(), data))

    @rpc
    def move_inventory(self, data):
        return self._write(inventory.move, load(schemas.MoveRequest(), data))

    @rpc
    def issue_inventory(self, data):
        return self._write(inventory.issue, load(schemas.InventoryChange(), data))

    @rpc
    def adjust_inventory(self, data):
        return self._write(inventory.adjust, load(schemas.AdjustRequest(), data))

    @rpc
    def scrap_inventory(self, data):
        return self._write(inventory.scrap, load(schemas.InventoryChange(), data))

    @rpc
    def list_transactions(self, query=None):
        return inventory.list_transactions(self.uow.session, load(schemas.InventoryTransactionQuery(), query))

    @rpc
    def list_balances(self, query=None):
        return inventory.list_balances(self.uow.session, load(schemas.BalanceListQuery(), query))

    # ------------------------------------------------------------ holds

    @rpc
    def place_hold(self, data):
        with self.uow() as tx:
            hold = holds.place(tx, load(schemas.HoldCreate(), data))
            return holds.dump(tx.session, hold)

    @rpc
    def release_hold(self, hold_id, data):
        with self.uow() as tx:
            hold = holds.release(tx, uuid_arg(hold_id), load(schemas.HoldRelease(), data))
            return holds.dump(tx.session, hold)

    @rpc
    def get_hold(self, hold_id):
        return holds.dump(self.uow.session, get(self.uow.session, Hold, uuid_arg(hold_id)))

    @rpc
    def list_holds(self, query=None):
        return holds.list_page(self.uow.session, load(schemas.HoldListQuery(), query))

    # ------------------------------------------------------------ serials and genealogy

    @rpc
    def create_serials(self, data):
        return self._write(serials.create, load(schemas.SerialCreate(), data))

    @rpc
    def get_serial(self, serial_id):
        return serials.get_serial(self.uow.session, uuid_arg(serial_id))

    @rpc
    def list_serials(self, query=None):
        return serials.list_page(self.uow.session, load(schemas.SerialListQuery(), query))

    @rpc
    def assemble(self, data):
        return self._write(production.assemble, load(schemas.AssembleRequest(), data))

    @rpc
    def get_genealogy(self, query):
        return genealogy.trace(self.uow.session, load(schemas.GenealogyQuery(), query))

    # ------------------------------------------------------------ reservations

    @rpc
    def reserve(self, data):
        return self._write(reservations.reserve, load(schemas.ReserveRequest(), data))

    @rpc
    def release_reservation(self, idempotency_key, data=None):
        request = load(schemas.ReservationRelease(), {**(data or {}), "idempotency_key": idempotency_key})
        return self._write(reservations.release, request["idempotency_key"], request)

    @rpc
    def release_work_order_reservations(self, work_order_id, data=None):
        return self._write(reservations.release_work_order, uuid_arg(work_order_id, "work_order_id"),
                           load(schemas.ReservationReleaseBody(), data))

    @rpc
    def list_reservations(self, query=None):
        return reservations.list_page(self.uow.session, load(schemas.ReservationListQuery(), query))

    @rpc
    def check_availability(self, data):
        return reservations.availability(self.uow.session, load(schemas.AvailabilityRequest(), data)["items"])

    # ------------------------------------------------------------ consumption and output

    @rpc
    def consume(self, data):
        return self._write(production.consume, load(schemas.ConsumeRequest(), data))

    @rpc
    def produce_output(self, data):
        return self._write(production.produce_output, load(schemas.ProduceRequest(), data))

    @event_handler("work_order_service", "mes.work_order.output.reported")
    def on_output_reported(self, event):
        """The last operation's good quantity becomes output; the report id
        is the idempotency key (and the inbox drops a redelivered event)."""
        data = load(schemas.OutputReported(), event.data)
        data["idempotency_key"] = data.pop("report_id")
        production.produce_output(self.uow, data)

    # ------------------------------------------------------------ quality's decisions

    @event_handler("quality_service", "mes.quality.ncr.raised")
    def on_ncr_raised(self, event):
        """An NCR's lots and serials are held, with its number as the reference
        (its other items, an operation's work in process, are not material yet)."""
        ncr = event.data
        dispositions.hold(self.uow, ncr["number"], f"{ncr['number']}: {ncr['title']}"[:500],
                          [{"target_type": i["target_type"], "target_id": i["target_id"]} for i in ncr["items"]
                           if i["target_type"] in dispositions.MODELS])

    @event_handler("quality_service", "mes.quality.ncr.dispositioned")
    def on_ncr_dispositioned(self, event):
        """The MRB's signed disposition: scrap, return, release, per lot or serial."""
        ncr = event.data
        items = [{"target_type": i["target_type"], "target_id": i["target_id"],
                  "lines": [d for d in ncr["dispositions"] if d["target_id"] == i["target_id"]]} for i in ncr["items"]
                 if i["target_type"] in dispositions.MODELS]
        dispositions.dispose(self.uow, ncr["number"], f"{ncr['number']} disposition", items)

    @event_handler("quality_service", "mes.quality.ncr.cancelled")
    def on_ncr_cancelled(self, event):
        dispositions.release(self.uow, event.data["number"], f"{event.data['number']} cancelled")

    @event_handler("quality_service", "mes.quality.inspection.passed")
    def on_inspection_passed(self, event):
        """A lot that passed its receiving inspection is released for use."""
        inspection = event.data
        if inspection["kind"] == "receiving" and inspection.get("lot_id"):
            dispositions.accept_lot(self.uow, inspection["lot_id"],
                                    f"receiving inspection {inspection['number']} passed")
