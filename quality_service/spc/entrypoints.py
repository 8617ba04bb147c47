"""RPC entrypoints of statistical process control; mixed into QualityService,
which provides `self.uow` and `self._caller()`."""
from mes_common.rpc import rpc
from mes_common.schemas import load
from quality_service.contract import spc as schemas
from quality_service.spc import use_cases as spc

chart_out = schemas.ChartOut(exclude=("points",))


class SpcEntrypoints:

    @rpc
    def get_spc_chart(self, query):
        """A characteristic's control chart: points, limits (frozen, else trial), rules broken, capability."""
        out = spc.chart(self.uow.session, load(schemas.ChartQuery(), query))
        return {**chart_out.dump(out), "points": out["points"]}

    @rpc
    def get_spc_chart_svg(self, query):
        """The same chart as an SVG picture (text)."""
        return spc.chart_svg(self.uow.session, load(schemas.ChartQuery(), query))

    @rpc
    def freeze_spc_limits(self, data):
        """Compute a chart's control limits from a baseline window and keep them until recomputed."""
        data = load(schemas.LimitsFreeze(), data)
        with self.uow() as tx:
            return spc.freeze(tx, self._caller(), data)

    @rpc
    def list_spc_violations(self, query=None):
        return spc.list_violations(self.uow.session, load(schemas.ViolationListQuery(), query))
