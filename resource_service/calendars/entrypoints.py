"""RPC entrypoints of shift calendars and equipment states; mixed into
ResourceService, which provides `self.uow` and `self._caller()`."""
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from resource_service.calendars import use_cases as calendars
from resource_service.contract import calendars as schemas

planned_out, plan_out = schemas.PlannedTimeOut(), schemas.Interval(many=True)


class CalendarEntrypoints:

    @rpc
    def set_calendar(self, node_id, data):
        """A site's (or an area's, a work center's own) shift pattern, replaced as a whole."""
        node_id, data = uuid_arg(node_id), load(schemas.CalendarSet(), data)
        with self.uow() as tx:
            return calendars.dump_calendar(calendars.set_calendar(tx, node_id, data))

    @rpc
    def get_calendar(self, node_id):
        return calendars.dump_calendar(calendars.get_calendar(self.uow.session, uuid_arg(node_id)))

    @rpc
    def add_calendar_exception(self, node_id, data):
        node_id, data = uuid_arg(node_id), load(schemas.ExceptionCreate(), data)
        with self.uow() as tx:
            return calendars.add_exception(tx, self._caller(), node_id, data)

    @rpc
    def list_calendar_exceptions(self, node_id, query):
        return calendars.list_exceptions(self.uow.session, uuid_arg(node_id), load(schemas.ExceptionQuery(), query))

    @rpc
    def get_planned_time(self, work_center_id, query):
        """Planned busy time of a work center over [from, to), exact (ISO 22400 PBT)."""
        window = load(schemas.Window(), query)
        return planned_out.dump(calendars.planned_time(self.uow.session, uuid_arg(work_center_id), window))

    @rpc
    def plan_operations(self, data):
        """Operations placed one after another into working time (the forward schedule)."""
        return plan_out.dump(calendars.plan(self.uow.session, load(schemas.PlanRequest(), data)))

    @rpc
    def report_equipment_state(self, node_id, data):
        node_id, data = uuid_arg(node_id), load(schemas.StateReport(), data)
        with self.uow() as tx:
            return calendars.report_state(tx, self._caller(), node_id, data)

    @rpc
    def list_equipment_states(self, node_id, query=None):
        return calendars.list_states(self.uow.session, uuid_arg(node_id), load(schemas.StateQuery(), query))
