"""/api/v1/material: parts, BOMs, locations, lots and inventory, holds,
serials, assemblies, genealogy, reservations."""
from gateway.http import json_body, path_id, query_args, route
from material_service import schemas
from material_service.service import CACHE_KIND
from mes_common.errors import NotFound
from mes_common.rpc import RpcClient

TAGS = ["material"]
API = "/api/v1/material"
PARTS, LOTS, HOLDS, SERIALS = f"{API}/parts", f"{API}/lots", f"{API}/holds", f"{API}/serials"
RESERVATIONS, LOCATIONS = f"{API}/reservations", f"{API}/locations"
READ_ERRORS = (400, 404, 503)
READ, WRITE, INVENTORY, HOLD = "material:read", "material:write", "inventory:write", "material:hold"


class MaterialRoutes:
    """Mixed into the Gateway, which provides `self.cache` (ReferenceDataCache)."""

    material = RpcClient("material_service")

    # ------------------------------------------------------------ parts

    @route("POST", PARTS, summary="Create a part", tags=TAGS, body=schemas.PartCreate, response=schemas.PartOut,
           status=201, permission=WRITE)
    def create_part(self, request):
        """Unique part number; its first revision (default A) is current."""
        return self.material.create_part(json_body(request, schemas.PartCreate))

    @route("GET", PARTS, summary="List parts", tags=TAGS, query=schemas.PartListQuery, response=schemas.PartPage,
           permission=READ, error_codes=(400, 503))
    def list_parts(self, request):
        """Ordered by part number; filter by part number prefix, type and status."""
        return self.material.list_parts(query_args(request, schemas.PartListQuery))

    @route("GET", PARTS + "/<part_id>", summary="Get a part with its revisions", tags=TAGS,
           response=schemas.PartOut, permission=READ, error_codes=READ_ERRORS)
    def get_part(self, request, part_id):
        return self.material.get_part(path_id("part_id", part_id))

    @route("PATCH", PARTS + "/<part_id>", summary="Change a part", tags=TAGS, body=schemas.PartUpdate,
           response=schemas.PartOut, permission=WRITE)
    def update_part(self, request, part_id):
        """Give `version` to refuse the change if someone else changed the part meanwhile (409)."""
        return self.material.update_part(path_id("part_id", part_id), json_body(request, schemas.PartUpdate))

    @route("GET", PARTS + "/<part_id>/summary", summary="Display fields of a part (cached)", tags=TAGS,
           response=schemas.PartSummary, permission=READ, error_codes=READ_ERRORS)
    def get_part_summary(self, request, part_id):
        """Served from the reference-data cache, loaded from the material service on a miss."""
        part_id = path_id("part_id", part_id)
        summary = self.cache.get_or_load(
            CACHE_KIND, part_id, lambda: self.material.get_part_summaries([part_id]).get(part_id))
        if summary is None:
            raise NotFound(f"part {part_id} does not exist", {"id": part_id})
        return summary

    @route("POST", PARTS + "/<part_id>/revisions", summary="Add a revision (it becomes current)", tags=TAGS,
           body=schemas.RevisionCreate, response=schemas.PartOut, status=201, permission=WRITE)
    def add_part_revision(self, request, part_id):
        return self.material.add_part_revision(path_id("part_id", part_id),
                                                    json_body(request, schemas.RevisionCreate))

    @route("PUT", PARTS + "/<part_id>/bom", summary="Replace the BOM of a part revision", tags=TAGS,
           body=schemas.BomSet, response=schemas.BomOut, permission=WRITE)
    def set_bom(self, request, part_id):
        """Components with quantity per unit and effectivity dates. A component that would make the
        part its own ancestor is refused (422 naming it)."""
        return self.material.set_bom(path_id("part_id", part_id), json_body(request, schemas.BomSet))

    @route("GET", PARTS + "/<part_id>/bom", summary="The BOM of a part revision", tags=TAGS,
           query=schemas.BomQuery, response=schemas.BomOut, permission=READ, error_codes=READ_ERRORS)
    def get_bom(self, request, part_id):
        return self.material.get_bom(path_id("part_id", part_id), query_args(request, schemas.BomQuery))

    @route("GET", PARTS + "/<part_id>/bom/explode", summary="Multi-level BOM explosion", tags=TAGS,
           query=schemas.ExplodeQuery, response=schemas.ExplosionOut, permission=READ, error_codes=READ_ERRORS)
    def explode_bom(self, request, part_id):
        """Lines in effect at `at` (default today), depth first, and the requirements per part."""
        return self.material.explode_bom(path_id("part_id", part_id), query_args(request, schemas.ExplodeQuery))

    @route("GET", PARTS + "/<part_id>/where-used", summary="Where a part is used, all levels up", tags=TAGS,
           response=schemas.WhereUsedLine(many=True), permission=READ, error_codes=READ_ERRORS)
    def where_used(self, request, part_id):
        return self.material.where_used(path_id("part_id", part_id))

    # ------------------------------------------------------------ locations

    @route("POST", LOCATIONS, summary="Create a storage location", tags=TAGS, body=schemas.LocationCreate,
           response=schemas.LocationOut, status=201, permission=INVENTORY)
    def create_location(self, request):
        """Storage locations are kept by the store (inventory:write)."""
        return self.material.create_location(json_body(request, schemas.LocationCreate))

    @route("GET", LOCATIONS, summary="List storage locations", tags=TAGS, query=schemas.LocationListQuery,
           response=schemas.LocationPage, permission=READ, error_codes=(400, 503))
    def list_locations(self, request):
        return self.material.list_locations(query_args(request, schemas.LocationListQuery))

    @route("GET", LOCATIONS + "/<location_id>", summary="Get a storage location", tags=TAGS,
           response=schemas.LocationOut, permission=READ, error_codes=READ_ERRORS)
    def get_location(self, request, location_id):
        return self.material.get_location(path_id("location_id", location_id))

    # ------------------------------------------------------------ lots and inventory

    @route("POST", LOTS, summary="Receive a lot", tags=TAGS, body=schemas.LotReceive, response=schemas.LotOut,
           status=201, permission=INVENTORY)
    def receive_lot(self, request):
        """A new lot in status `received` at a location, with supplier lot, heat number, certificates
        and expiry. An `idempotency_key` makes a retried receipt count once."""
        return self.material.receive_lot(json_body(request, schemas.LotReceive))

    @route("GET", LOTS, summary="List lots", tags=TAGS, query=schemas.LotListQuery, response=schemas.LotPage,
           permission=READ, error_codes=(400, 503))
    def list_lots(self, request):
        return self.material.list_lots(query_args(request, schemas.LotListQuery))

    @route("GET", LOTS + "/<lot_id>", summary="Get a lot with its balances and holds", tags=TAGS,
           response=schemas.LotOut, permission=READ, error_codes=READ_ERRORS)
    def get_lot(self, request, lot_id):
        return self.material.get_lot(path_id("lot_id", lot_id))

    @route("POST", LOTS + "/<lot_id>/status", summary="Change a lot's status", tags=TAGS,
           body=schemas.LotStatusChange, response=schemas.LotOut, permission=INVENTORY)
    def set_lot_status(self, request, lot_id):
        """received → quarantine | released | rejected; quarantine → released | rejected;
        released → quarantine | expired. `consumed` follows from consumption."""
        return self.material.set_lot_status(path_id("lot_id", lot_id), json_body(request, schemas.LotStatusChange))

    @route("POST", LOTS + "/<lot_id>/split", summary="Split a lot into children", tags=TAGS,
           body=schemas.LotSplit, response=schemas.SplitOut, permission=INVENTORY)
    def split_lot(self, request, lot_id):
        """The children's quantities must sum to the parent's on-hand; the parent ends at 0."""
        return self.material.split_lot(path_id("lot_id", lot_id), json_body(request, schemas.LotSplit))

    @route("POST", LOTS + "/merge", summary="Merge compatible lots", tags=TAGS, body=schemas.LotMerge,
           response=schemas.MergeOut, status=201, permission=INVENTORY)
    def merge_lots(self, request):
        """Same part, status, heat number and expiry, none held; the sources end at 0."""
        return self.material.merge_lots(json_body(request, schemas.LotMerge))

    def _lot_change(self, request, lot_id, body_schema, rpc_name):
        body = json_body(request, body_schema)
        return getattr(self.material, rpc_name)({**body, "lot_id": path_id("lot_id", lot_id)})

    @route("POST", LOTS + "/<lot_id>/move", summary="Move stock of a lot to another location", tags=TAGS,
           body=schemas.MoveBody, response=schemas.InventoryResult, permission=INVENTORY)
    def move_inventory(self, request, lot_id):
        return self._lot_change(request, lot_id, schemas.MoveBody, "move_inventory")

    @route("POST", LOTS + "/<lot_id>/issue", summary="Issue stock of a lot", tags=TAGS,
           body=schemas.InventoryChangeBody, response=schemas.InventoryResult, permission=INVENTORY)
    def issue_inventory(self, request, lot_id):
        """Released, unheld material only (a held lot answers 409 naming the hold)."""
        return self._lot_change(request, lot_id, schemas.InventoryChangeBody, "issue_inventory")

    @route("POST", LOTS + "/<lot_id>/adjust", summary="Correct the stock of a lot (signed)", tags=TAGS,
           body=schemas.AdjustBody, response=schemas.InventoryResult, permission=INVENTORY)
    def adjust_inventory(self, request, lot_id):
        return self._lot_change(request, lot_id, schemas.AdjustBody, "adjust_inventory")

    @route("POST", LOTS + "/<lot_id>/scrap", summary="Scrap stock of a lot", tags=TAGS,
           body=schemas.InventoryChangeBody, response=schemas.InventoryResult, permission=INVENTORY)
    def scrap_inventory(self, request, lot_id):
        return self._lot_change(request, lot_id, schemas.InventoryChangeBody, "scrap_inventory")

    @route("GET", f"{API}/transactions", summary="The inventory ledger, newest first", tags=TAGS,
           query=schemas.InventoryTransactionQuery, response=schemas.InventoryTransactionPage, permission=READ,
           error_codes=(400, 503))
    def list_transactions(self, request):
        return self.material.list_transactions(query_args(request, schemas.InventoryTransactionQuery))

    @route("GET", f"{API}/balances", summary="On-hand balances by part, lot and location", tags=TAGS,
           query=schemas.BalanceListQuery, response=schemas.BalancePage, permission=READ, error_codes=(400, 503))
    def list_balances(self, request):
        return self.material.list_balances(query_args(request, schemas.BalanceListQuery))

    # ------------------------------------------------------------ holds

    @route("POST", HOLDS, summary="Place a hold on a lot or serial", tags=TAGS, body=schemas.HoldCreate,
           response=schemas.HoldOut, status=201, permission=HOLD)
    def place_hold(self, request):
        """Cascades to every descendant (split children, merge results, output made from it,
        assemblies it went into). Held material cannot be issued, reserved or consumed."""
        return self.material.place_hold(json_body(request, schemas.HoldCreate))

    @route("GET", HOLDS, summary="List holds", tags=TAGS, query=schemas.HoldListQuery, response=schemas.HoldPage,
           permission=READ, error_codes=(400, 503))
    def list_holds(self, request):
        return self.material.list_holds(query_args(request, schemas.HoldListQuery))

    @route("GET", HOLDS + "/<hold_id>", summary="Get a hold", tags=TAGS, response=schemas.HoldOut,
           permission=READ, error_codes=READ_ERRORS)
    def get_hold(self, request, hold_id):
        return self.material.get_hold(path_id("hold_id", hold_id))

    @route("POST", HOLDS + "/<hold_id>/release", summary="Release a hold and its cascade", tags=TAGS,
           body=schemas.HoldRelease, response=schemas.HoldOut, permission=HOLD)
    def release_hold(self, request, hold_id):
        return self.material.release_hold(path_id("hold_id", hold_id), json_body(request, schemas.HoldRelease))

    # ------------------------------------------------------------ serials, assemblies, genealogy

    @route("POST", SERIALS, summary="Create serials (one, a list, or a pattern)", tags=TAGS,
           body=schemas.SerialCreate, response=schemas.SerialsCreated, status=201, permission=INVENTORY)
    def create_serials(self, request):
        """`pattern` such as `SN-{00001..10000}` or `serial_numbers`; existing ones are refused (409)."""
        return self.material.create_serials(json_body(request, schemas.SerialCreate))

    @route("GET", SERIALS, summary="List serials", tags=TAGS, query=schemas.SerialListQuery,
           response=schemas.SerialPage, permission=READ, error_codes=(400, 503))
    def list_serials(self, request):
        return self.material.list_serials(query_args(request, schemas.SerialListQuery))

    @route("GET", SERIALS + "/<serial_id>", summary="Get a serial", tags=TAGS, response=schemas.SerialOut,
           permission=READ, error_codes=READ_ERRORS)
    def get_serial(self, request, serial_id):
        return self.material.get_serial(path_id("serial_id", serial_id))

    @route("POST", f"{API}/assemblies", summary="Assemble a serial or a lot quantity into a parent", tags=TAGS,
           body=schemas.AssembleRequest, response=schemas.AssemblyOut, status=201, permission=INVENTORY)
    def assemble(self, request):
        """Records the as-built genealogy link (child → parent)."""
        return self.material.assemble(json_body(request, schemas.AssembleRequest))

    @route("GET", f"{API}/genealogy", summary="Trace a lot or serial down or up its genealogy", tags=TAGS,
           query=schemas.GenealogyQuery, response=schemas.GenealogyOut, permission=READ, error_codes=READ_ERRORS)
    def get_genealogy(self, request):
        return self.material.get_genealogy(query_args(request, schemas.GenealogyQuery))

    # ------------------------------------------------------------ reservations

    @route("POST", RESERVATIONS, summary="Reserve a part quantity for a work order", tags=TAGS,
           body=schemas.ReserveRequest, response=schemas.ReservationOut, status=201, permission=INVENTORY)
    def reserve(self, request):
        """From released, unheld, unexpired lots, first expiring first, then first received first.
        The same `idempotency_key` again returns the same reservation. Short: 422 saying by how much."""
        return self.material.reserve(json_body(request, schemas.ReserveRequest))

    @route("GET", RESERVATIONS, summary="List reservations", tags=TAGS, query=schemas.ReservationListQuery,
           response=schemas.ReservationPage, permission=READ, error_codes=(400, 503))
    def list_reservations(self, request):
        return self.material.list_reservations(query_args(request, schemas.ReservationListQuery))

    @route("POST", RESERVATIONS + "/release", summary="Release a reservation by its idempotency key", tags=TAGS,
           body=schemas.ReservationRelease, response=schemas.ReservationOut, permission=INVENTORY)
    def release_reservation(self, request):
        """Idempotent; an unknown key leaves a tombstone so a late reserve with it reserves nothing."""
        body = json_body(request, schemas.ReservationRelease)
        return self.material.release_reservation(body["idempotency_key"], {"reason": body.get("reason")})

    @route("POST", f"{API}/availability", summary="Check what is available for a list of parts", tags=TAGS,
           body=schemas.AvailabilityRequest, response=schemas.AvailabilityLine(many=True), permission=READ)
    def check_availability(self, request):
        return self.material.check_availability(json_body(request, schemas.AvailabilityRequest))
