"""/api/v1/material: parts, BOMs, locations, lots and inventory, holds,
serials, assemblies, genealogy, reservations."""
from gateway.routing import READ_ERRORS, Routes
from material_service import contract
from material_service.contract import schemas as s

routes = Routes(contract.SERVICE, tags=["material"], prefix="/api/v1/material")
PARTS, LOTS, HOLDS, SERIALS, RESERVATIONS, LOCATIONS = (
    "/parts", "/lots", "/holds", "/serials", "/reservations", "/locations")
READ, WRITE, INVENTORY, HOLD = "material:read", "material:write", "inventory:write", "material:hold"


def lot_change(call):
    """The lot of the path goes into the inventory change the RPC takes."""
    return ({**call.payload, "lot_id": call.path["lot_id"]},)


routes.post(PARTS, "create_part", body=s.PartCreate, response=s.PartOut, status=201, permission=WRITE,
            summary="Create a part", doc="Unique part number; its first revision (default A) is current.")
routes.get(PARTS, "list_parts", query=s.PartListQuery, response=s.PartPage, permission=READ, summary="List parts",
           doc="Ordered by part number; filter by part number prefix, type and status.")
routes.get(PARTS + "/<part_id>", "get_part", response=s.PartOut, permission=READ,
           summary="Get a part with its revisions")
routes.patch(PARTS + "/<part_id>", "update_part", body=s.PartUpdate, response=s.PartOut, permission=WRITE,
             summary="Change a part",
             doc="Give `version` to refuse the change if someone else changed the part meanwhile (409).")
routes.cached_summary(PARTS + "/<part_id>/summary", "get_part_summary", kind=contract.PART_KIND,
                      rpc="get_part_summaries", what="part", response=s.PartSummary, permission=READ,
                      summary="Display fields of a part (cached)")
routes.post(PARTS + "/<part_id>/revisions", "add_part_revision", body=s.RevisionCreate, response=s.PartOut,
            status=201, permission=WRITE, summary="Add a revision (it becomes current)")
routes.put(PARTS + "/<part_id>/bom", "set_bom", body=s.BomSet, response=s.BomOut, permission=WRITE,
           summary="Replace the BOM of a part revision",
           doc="Components with quantity per unit and effectivity dates. A component that would make the part its "
               "own ancestor is refused (422 naming it).")
routes.get(PARTS + "/<part_id>/bom", "get_bom", query=s.BomQuery, response=s.BomOut, permission=READ,
           summary="The BOM of a part revision")
routes.get(PARTS + "/<part_id>/bom/explode", "explode_bom", query=s.ExplodeQuery, response=s.ExplosionOut,
           permission=READ, summary="Multi-level BOM explosion",
           doc="Lines in effect at `at` (default today), depth first, and the requirements per part.")
routes.get(PARTS + "/<part_id>/where-used", "where_used", response=s.WhereUsedLine(many=True), permission=READ,
           summary="Where a part is used, all levels up")
routes.post(LOCATIONS, "create_location", body=s.LocationCreate, response=s.LocationOut, status=201,
            permission=INVENTORY, summary="Create a storage location",
            doc="Storage locations are kept by the store (inventory:write).")
routes.get(LOCATIONS, "list_locations", query=s.LocationListQuery, response=s.LocationPage, permission=READ,
           summary="List storage locations")
routes.get(LOCATIONS + "/<location_id>", "get_location", response=s.LocationOut, permission=READ,
           summary="Get a storage location")
routes.post(LOTS, "receive_lot", body=s.LotReceive, response=s.LotOut, status=201, permission=INVENTORY,
            summary="Receive a lot",
            doc="A new lot in status `received` at a location, with supplier lot, heat number, certificates and "
                "expiry. An `idempotency_key` makes a retried receipt count once.")
routes.get(LOTS, "list_lots", query=s.LotListQuery, response=s.LotPage, permission=READ, summary="List lots")
routes.get(LOTS + "/<lot_id>", "get_lot", response=s.LotOut, permission=READ,
           summary="Get a lot with its balances and holds")
routes.post(LOTS + "/<lot_id>/status", "set_lot_status", body=s.LotStatusChange, response=s.LotOut,
            permission=INVENTORY, summary="Change a lot's status",
            doc="received → quarantine | released | rejected; quarantine → released | rejected; released → "
                "quarantine | expired. `consumed` follows from consumption.")
routes.post(LOTS + "/<lot_id>/split", "split_lot", body=s.LotSplit, response=s.SplitOut, permission=INVENTORY,
            summary="Split a lot into children",
            doc="The children's quantities must sum to the parent's on-hand; the parent ends at 0.")
routes.post(LOTS + "/merge", "merge_lots", body=s.LotMerge, response=s.MergeOut, status=201, permission=INVENTORY,
            summary="Merge compatible lots",
            doc="Same part, status, heat number and expiry, none held; the sources end at 0.")
routes.post(LOTS + "/<lot_id>/move", "move_inventory", body=s.MoveBody, response=s.InventoryResult,
            permission=INVENTORY, summary="Move stock of a lot to another location", args=lot_change)
routes.post(LOTS + "/<lot_id>/issue", "issue_inventory", body=s.InventoryChangeBody, response=s.InventoryResult,
            permission=INVENTORY, summary="Issue stock of a lot",
            doc="Released, unheld material only (a held lot answers 409 naming the hold).", args=lot_change)
routes.post(LOTS + "/<lot_id>/adjust", "adjust_inventory", body=s.AdjustBody, response=s.InventoryResult,
            permission=INVENTORY, summary="Correct the stock of a lot (signed)", args=lot_change)
routes.post(LOTS + "/<lot_id>/scrap", "scrap_inventory", body=s.InventoryChangeBody, response=s.InventoryResult,
            permission=INVENTORY, summary="Scrap stock of a lot", args=lot_change)
routes.get("/transactions", "list_transactions", query=s.InventoryTransactionQuery,
           response=s.InventoryTransactionPage, permission=READ, summary="The inventory ledger, newest first")
routes.get("/balances", "list_balances", query=s.BalanceListQuery, response=s.BalancePage, permission=READ,
           summary="On-hand balances by part, lot and location")
routes.post(HOLDS, "place_hold", body=s.HoldCreate, response=s.HoldOut, status=201, permission=HOLD,
            summary="Place a hold on a lot or serial",
            doc="Cascades to every descendant (split children, merge results, output made from it, assemblies it "
                "went into). Held material cannot be issued, reserved or consumed.")
routes.get(HOLDS, "list_holds", query=s.HoldListQuery, response=s.HoldPage, permission=READ, summary="List holds")
routes.get(HOLDS + "/<hold_id>", "get_hold", response=s.HoldOut, permission=READ, summary="Get a hold")
routes.post(HOLDS + "/<hold_id>/release", "release_hold", body=s.HoldRelease, response=s.HoldOut, permission=HOLD,
            summary="Release a hold and its cascade")
routes.post(SERIALS, "create_serials", body=s.SerialCreate, response=s.SerialsCreated, status=201,
            permission=INVENTORY, summary="Create serials (one, a list, or a pattern)",
            doc="`pattern` such as `SN-{00001..10000}` or `serial_numbers`; existing ones are refused (409).")
routes.get(SERIALS, "list_serials", query=s.SerialListQuery, response=s.SerialPage, permission=READ,
           summary="List serials")
routes.get(SERIALS + "/<serial_id>", "get_serial", response=s.SerialOut, permission=READ, summary="Get a serial")
routes.post("/assemblies", "assemble", body=s.AssembleRequest, response=s.AssemblyOut, status=201,
            permission=INVENTORY, summary="Assemble a serial or a lot quantity into a parent",
            doc="Records the as-built genealogy link (child → parent).")
routes.get("/genealogy", "get_genealogy", query=s.GenealogyQuery, response=s.GenealogyOut, permission=READ,
           error_codes=READ_ERRORS, summary="Trace a lot or serial down or up its genealogy")
routes.post(RESERVATIONS, "reserve", body=s.ReserveRequest, response=s.ReservationOut, status=201,
            permission=INVENTORY, summary="Reserve a part quantity for a work order",
            doc="From released, unheld, unexpired lots, first expiring first, then first received first. The same "
                "`idempotency_key` again returns the same reservation. Short: 422 saying by how much.")
routes.get(RESERVATIONS, "list_reservations", query=s.ReservationListQuery, response=s.ReservationPage,
           permission=READ, summary="List reservations")
routes.post(RESERVATIONS + "/release", "release_reservation", body=s.ReservationRelease, response=s.ReservationOut,
            permission=INVENTORY, summary="Release a reservation by its idempotency key",
            doc="Idempotent; an unknown key leaves a tombstone so a late reserve with it reserves nothing.",
            args=lambda call: (call.payload.get("idempotency_key"), call.payload))
routes.post("/availability", "check_availability", body=s.AvailabilityRequest, response=s.AvailabilityLine(many=True),
            permission=READ, summary="Check what is available for a list of parts")

