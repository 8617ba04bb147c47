"""RPC entrypoints of gauges and tools; mixed into ResourceService, which
provides `self.uow` and `self._caller()`."""
from mes_common.rpc import rpc
from mes_common.schemas import PageQuery, load, uuid_arg
from mes_common.timers import config_timer
from resource_service.contract import gauges as schemas
from resource_service.gauges import use_cases as gauges


class GaugeEntrypoints:

    @rpc
    def create_asset(self, data):
        """A gauge or a tool, in service (or due/overdue by its due date)."""
        data = load(schemas.AssetCreate(), data)
        with self.uow() as tx:
            return gauges.dump(gauges.create(tx, data))

    @rpc
    def update_asset(self, asset_id, changes):
        asset_id, changes = uuid_arg(asset_id), load(schemas.AssetUpdate(), changes)
        with self.uow() as tx:
            return gauges.dump(gauges.update(tx, asset_id, changes))

    @rpc
    def get_asset(self, asset_id):
        return gauges.dump(gauges.get(self.uow.session, uuid_arg(asset_id)))

    @rpc
    def list_assets(self, query=None):
        return gauges.list_page(self.uow.session, load(schemas.AssetListQuery(), query))

    @rpc
    def change_asset_status(self, asset_id, data):
        asset_id, data = uuid_arg(asset_id), load(schemas.AssetStatusChange(), data)
        with self.uow() as tx:
            return gauges.dump(gauges.change_status(tx, asset_id, data["status"], data["reason"]))

    @rpc
    def record_calibration(self, asset_id, data):
        """A calibration; as found failed: the suspect uses are counted, listed
        (list_suspect_uses) and announced."""
        asset_id, data = uuid_arg(asset_id), load(schemas.CalibrationRecord(), data)
        with self.uow() as tx:
            return gauges.dump_calibration(gauges.calibrate(tx, self._caller(), asset_id, data))

    @rpc
    def list_calibrations(self, asset_id, query=None):
        return gauges.list_calibrations(self.uow.session, uuid_arg(asset_id), load(PageQuery(), query))

    @rpc
    def list_asset_uses(self, asset_id, query=None):
        return gauges.list_uses(self.uow.session, uuid_arg(asset_id), load(schemas.AssetUseQuery(), query))

    @rpc
    def list_suspect_uses(self, calibration_id, query=None):
        return gauges.suspect_uses(self.uow.session, uuid_arg(calibration_id), load(PageQuery(), query))

    @rpc
    def use_assets(self, data):
        """Record the use of gauges or tools on a piece of work: all are fit for
        use, or 422 names each that is not (and nothing is recorded)."""
        data = load(schemas.AssetUseRecord(), data)
        with self.uow() as tx:
            return gauges.use(tx, data)

    @config_timer("ASSET_STATE_INTERVAL", default=60.0)
    def refresh_asset_states(self):
        """Due and overdue as the days pass (use never waits for this)."""
        while True:
            with self.uow() as tx:
                if gauges.refresh_states(tx, gauges.today()) < gauges.STATE_BATCH:
                    return
