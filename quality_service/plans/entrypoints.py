"""RPC entrypoints of inspection plans and control points; mixed into
QualityService, which provides `self.uow`, `self._caller()`, `self._part(id)`."""
from mes_common import signatures
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from quality_service.contract import plans as schemas
from quality_service.models import Signature
from quality_service.plans import use_cases as plans


class PlanEntrypoints:

    def _plan_out(self, plan):
        """The revision with the signature of its release, valid while it is as it was signed."""
        return plans.dump(plan, signatures.for_record(self.uow.session, Signature, plans.RECORD, plan.id,
                                                      plans.signed_content(plan)))

    @rpc
    def create_plan(self, data):
        """Revision 1 of a new plan number, as a draft."""
        data = load(schemas.PlanCreate(), data)
        part = self._part(data["part_id"])
        with self.uow() as tx:
            plan = plans.create(tx, self._caller(), data, part)
        return self._plan_out(plan)

    @rpc
    def update_plan(self, plan_id, changes):
        plan_id, changes = uuid_arg(plan_id, "plan_id"), load(schemas.PlanUpdate(), changes)
        with self.uow() as tx:
            plan = plans.update(tx, plan_id, changes)
        return self._plan_out(plan)

    @rpc
    def revise_plan(self, plan_number, data):
        """The next revision of `plan_number`: a draft copied from the released one."""
        plan_number = load(schemas.PlanKey(), {"plan_number": plan_number})["plan_number"]
        data = load(schemas.PlanRevise(), data)
        with self.uow() as tx:
            plan = plans.revise(tx, self._caller(), plan_number, data["change_note"])
        return self._plan_out(plan)

    @rpc
    def release_plan(self, plan_id, data=None):
        """Release a draft, signed (approval); the released revision it replaces is superseded."""
        plan_id = uuid_arg(plan_id, "plan_id")
        data = self._load_signed(schemas.PlanRelease(), data)
        with self.uow() as tx:   # no transaction stays open during the auth service's check
            plans.check_releasable(tx.session, plan_id, data.get("version"))
        manifest = self._signature(plans.RECORD, plan_id, signatures.APPROVAL, data.get("signature"))
        with self.uow() as tx:
            plan = plans.release(tx, self._caller(), plan_id, data.get("version"), manifest)
        return self._plan_out(plan)

    @rpc
    def get_plan(self, plan_id):
        return self._plan_out(plans.get(self.uow.session, uuid_arg(plan_id, "plan_id")))

    @rpc
    def get_plan_revision(self, plan_number, query=None):
        """A revision of a plan number: the released one by default, else the newest."""
        plan_number = load(schemas.PlanKey(), {"plan_number": plan_number})["plan_number"]
        query = load(schemas.PlanQuery(), query)
        return self._plan_out(plans.by_number(self.uow.session, plan_number, query["revision"]))

    @rpc
    def list_plans(self, query=None):
        return plans.list_page(self.uow.session, load(schemas.PlanListQuery(), query))

    # ------------------------------------------------------------ control points

    @rpc
    def create_control_point(self, data):
        data = load(schemas.ControlPointCreate(), data)
        part = self._part(data["part_id"])
        with self.uow() as tx:
            return plans.dump_control_point(plans.create_control_point(tx, self._caller(), data, part))

    @rpc
    def update_control_point(self, control_point_id, changes):
        point_id = uuid_arg(control_point_id, "control_point_id")
        changes = load(schemas.ControlPointUpdate(), changes)
        with self.uow() as tx:
            return plans.dump_control_point(plans.update_control_point(tx, point_id, changes))

    @rpc
    def list_control_points(self, query=None):
        return plans.list_control_points(self.uow.session, load(schemas.ControlPointListQuery(), query))
