"""/api/v1/quality: the quality service's routes (a route table: see gateway.routing)."""
from gateway.routing import SIGNED, SIGNED_ERRORS, Routes
from quality_service import contract
from quality_service.contract import inspections as i, plans as p

routes = Routes(contract.SERVICE, tags=["quality"], prefix="/api/v1/quality")
READ, WRITE, RECORD = "quality:read", "quality:write", "inspection:record"
PLANS, PLAN = "/plans", "/plans/<plan_id>"
CONTROL_POINTS, INSPECTIONS, INSPECTION = "/control-points", "/inspections", "/inspections/<inspection_id>"
PLAN_NUMBER = {"plan_number": p.PlanKey().fields["plan_number"]}

routes.post(PLANS, "create_plan", body=p.PlanCreate, response=p.PlanOut, status=201, permission=WRITE,
            summary="Create an inspection plan (revision 1, draft)",
            doc="Characteristics with balloon numbers, kind, criticality, tolerances and unit, gauge type, sampling "
                "(100 %, first piece, every n-th, Z1.4 AQL) and SPC. The part must exist (422).")
routes.get(PLANS, "list_plans", query=p.PlanListQuery, response=p.PlanPage, permission=READ,
           summary="List plan revisions", doc="By plan number and revision; filter by part, status, number prefix.")
routes.get(PLAN, "get_plan", response=p.PlanOut, permission=READ, summary="Get a plan revision",
           doc="With the signature manifestation of its release (`valid: false` if it changed since).")
routes.patch(PLAN, "update_plan", body=p.PlanUpdate, response=p.PlanOut, permission=WRITE,
             summary="Change a draft revision", doc="`characteristics` replaces them all. A released revision "
                                                     "never changes (422): revise it.")
routes.post(PLAN + "/release", "release_plan", body=p.PlanRelease, response=p.PlanOut, permission=WRITE,
            summary="Release a draft revision", error_codes=SIGNED_ERRORS,
            doc=SIGNED + "Meaning: approval. The released revision it replaces becomes superseded.")
routes.get("/plan-numbers/<plan_number>", "get_plan_revision", path_schemas=PLAN_NUMBER, query=p.PlanQuery,
           response=p.PlanOut, permission=READ, summary="Get a plan by number",
           doc="The released revision, or the one asked for (`revision`), else the newest.")
routes.post("/plan-numbers/<plan_number>/revisions", "revise_plan", path_schemas=PLAN_NUMBER, body=p.PlanRevise,
            response=p.PlanOut, status=201, permission=WRITE, summary="Start the next revision",
            doc="A draft copied from the released revision (one draft at a time: 409).")
routes.post(CONTROL_POINTS, "create_control_point", body=p.ControlPointCreate, response=p.ControlPointOut,
            status=201, permission=WRITE, summary="Say which plan applies where",
            doc="Receiving (lots of a part as they arrive), in-process at an operation, final at the last one. An "
                "inspection opens by itself when a lot arrives or the operation starts; a gating point stops the "
                "operation from completing until its inspection has passed.")
routes.get(CONTROL_POINTS, "list_control_points", query=p.ControlPointListQuery, response=p.ControlPointPage,
           permission=READ, summary="List control points")
routes.patch(CONTROL_POINTS + "/<control_point_id>", "update_control_point", body=p.ControlPointUpdate,
             response=p.ControlPointOut, permission=WRITE, summary="Gate or not, activate or deactivate")
routes.post(INSPECTIONS, "open_inspection", body=i.InspectionOpen, response=i.InspectionOut, status=201,
            permission=RECORD, summary="Open an inspection of a lot, a serial or an operation",
            doc="Under the plan's released revision; each characteristic's sample size and accept/reject numbers "
                "are drawn for the lot size when it opens.")
routes.get(INSPECTIONS, "list_inspections", query=i.InspectionListQuery, response=i.InspectionPage,
           permission=READ, summary="List inspections", doc="Newest first.")
routes.get(INSPECTION, "get_inspection", response=i.InspectionOut, permission=READ,
           summary="Get an inspection with its results")
routes.post(INSPECTION + "/results", "record_results", body=i.ResultsRecord, response=i.InspectionOut,
            permission=RECORD, summary="Record results (one sample or a batch)",
            doc="All or none. Values convert from their unit (422 when they cannot); a gauge must be calibrated "
                "and of the characteristic's type (422); a sample beyond the sampling or already recorded is "
                "refused (422, 409). Verdicts are computed; the inspection passes or fails when every "
                "characteristic is decided.")
routes.post(INSPECTION + "/cancel", "cancel_inspection", body=i.InspectionCancel, response=i.InspectionOut,
            permission=WRITE, summary="Cancel an open inspection (reason required)")
