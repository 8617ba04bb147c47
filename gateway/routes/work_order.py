"""/api/v1 routes of the work order service: work orders, execution, dispatch
lists, downtime, rework operations, work instructions."""
from gateway.routing import SIGNED, SIGNED_ERRORS, Routes
from work_order_service import contract
from work_order_service.contract import instructions as wi, rework as rw, schemas as s

routes = Routes(contract.SERVICE, tags=["work orders"], prefix="/api/v1")
READ, WRITE, RELEASE, EXECUTE = "work_order:read", "work_order:write", "work_order:release", "work_order:execute"
ORDERS = "/work-orders"
ORDER = ORDERS + "/<work_order_id>"
OPERATION = ORDER + "/operations/<operation_id>"
DOWNTIME = "/downtime"

routes.post(ORDERS, "create_work_order", body=s.WorkOrderCreate, response=s.WorkOrderOut, status=201,
            permission=WRITE, summary="Create a work order",
            doc="Number generated (WO-000001) unless the ERP gives one. Part, site and work center must exist (422 "
                "naming the field); their names are cached on the order.")
routes.get(ORDERS, "list_work_orders", query=s.WorkOrderListQuery, response=s.WorkOrderPage, permission=READ,
           error_codes=(400, 503), summary="List work orders",
           doc="Newest first; items without operations and status history.")
routes.get(ORDER, "get_work_order", response=s.WorkOrderOut, permission=READ,
           summary="Get a work order with its operations and status history")
routes.patch(ORDER, "update_work_order", body=s.WorkOrderUpdate, response=s.WorkOrderOut, permission=WRITE,
             summary="Change quantity, due date or priority (while created)")
routes.post(ORDER + "/release", "release_work_order", body=s.ReleaseRequest, response=s.WorkOrderOut,
            permission=RELEASE, summary="Release: snapshot the routing, reserve the material",
            doc="All or nothing: when material is short (422 naming every short part and by how much) or anything "
                "fails, every reservation is given back and the order stays created with `release_error`.")
routes.post(ORDER + "/hold", "hold_work_order", body=s.HoldRequest, response=s.WorkOrderOut, permission=WRITE,
            summary="Put on hold (reason required)", doc="Running operations are paused.")
routes.post(ORDER + "/resume", "resume_work_order", body=s.ResumeRequest, response=s.WorkOrderOut, permission=WRITE,
            summary="Resume a held order")
routes.post(ORDER + "/cancel", "cancel_work_order", body=s.CancelRequest, response=s.WorkOrderOut, permission=WRITE,
            summary="Cancel (material reservations are released)")
routes.post(ORDER + "/close", "close_work_order", body=s.CloseRequest, response=s.WorkOrderOut, permission=WRITE,
            summary="Close a completed order", error_codes=SIGNED_ERRORS, doc=SIGNED + "Meaning: approval.")
routes.post(ORDER + "/schedule", "schedule_work_order", body=s.ScheduleRequest, response=s.ScheduleOut,
            permission=WRITE, summary="Forward-schedule the operations",
            doc="Each operation starts when the previous ends; duration = setup + run × quantity.")
routes.get(ORDER + "/schedule", "get_schedule", response=s.ScheduleOut, permission=READ,
           summary="The planned start and end of each operation")
routes.get(ORDER + "/variance", "get_variance", response=s.VarianceOut, permission=READ,
           summary="Plan vs actual: quantities and minutes")
routes.get("/work-centers/<work_center_id>/dispatch-list", "get_dispatch_list", query=s.DispatchQuery,
           response=s.DispatchPage, permission=READ, error_codes=(400, 503),
           summary="What to work on at a work center",
           doc="Ready, running and paused operations of released and in-progress orders, by priority, due date, "
               "planned start.")
routes.post(OPERATION + "/start", "start_operation", body=s.StartOperation, response=s.WorkOrderOut,
            permission=EXECUTE, summary="Start an operation (you are its operator)")
routes.post(OPERATION + "/pause", "pause_operation", body=s.PauseOperation, response=s.WorkOrderOut,
            permission=EXECUTE, summary="Pause a running operation")
routes.post(OPERATION + "/resume", "resume_operation", body=s.ResumeOperation, response=s.WorkOrderOut,
            permission=EXECUTE, summary="Resume a paused operation")
routes.post(OPERATION + "/complete", "complete_operation", body=s.CompleteOperation, response=s.WorkOrderOut,
            permission=EXECUTE, summary="Report good, scrap and rework",
            doc="Quantities accumulate. An operation cannot complete more good than the previous one has (422). The "
                "last operation's good is the output (serials generated `<WO number>-0001…` for a serial-controlled "
                "part unless given); the order completes when the last operation has made its quantity.")
routes.post(OPERATION + "/consume", "consume_material", body=s.ConsumeMaterial, response=s.ConsumptionOut,
            permission=EXECUTE, summary="Consume lots or serials against the operation",
            doc="A held lot or serial answers 409 naming the hold.")
routes.post(OPERATION + "/buy-offs", "buy_off_step", body=s.BuyOffRequest, response=s.BuyOffOut, permission=EXECUTE,
            summary="Buy off a step of the frozen work instruction", error_codes=SIGNED_ERRORS,
            doc=SIGNED + "Meaning: responsibility. Values are checked against the step's fields (400 naming "
                         "`values.<field>`); each step once (409).")
routes.post(DOWNTIME, "record_downtime", body=s.DowntimeCreate, response=s.DowntimeOut, status=201,
            permission=EXECUTE, summary="Record downtime")
routes.get(DOWNTIME, "list_downtime", query=s.DowntimeListQuery, response=s.DowntimePage, permission=READ,
           summary="List downtime")
routes.post(DOWNTIME + "/<downtime_id>/end", "end_downtime", body=s.DowntimeEnd, response=s.DowntimeOut,
            permission=EXECUTE, summary="End an open downtime")

# ------------------------------------------------------------ rework operations

REWORK = "/rework-operations"
routes.get(REWORK, "list_rework_operations", query=rw.ReworkListQuery, response=rw.ReworkPage, permission=READ,
           error_codes=(400, 503), summary="List rework operations",
           doc="Newest first. One is made for each rework or repair line of an NCR's signed MRB disposition.")
routes.get(REWORK + "/<rework_id>", "get_rework_operation", response=rw.ReworkOut, permission=READ,
           summary="Get a rework operation")
routes.post(REWORK + "/<rework_id>/start", "start_rework_operation", body=rw.ReworkStart, response=rw.ReworkOut,
            permission=EXECUTE, summary="Start a rework (you are its operator)",
            doc="Refused (422 naming each skill) when you lack a qualification the operation the units came from "
                "requires, unless overridden; a rework of material from outside names its work center here.")
routes.post(REWORK + "/<rework_id>/complete", "complete_rework_operation", body=rw.ReworkComplete,
            response=rw.ReworkOut, permission=EXECUTE, summary="Complete a rework",
            doc="The NCR's line shows it; when the NCR's last rework is done, the units are inspected again "
                "(the inspection that failed, reopened under its plan), and the operation's gate opens when that "
                "passes.")

# ------------------------------------------------------------ work instructions

INSTRUCTION_TAGS, AUTHOR = ["work instructions"], "work_instruction:write"
INSTRUCTIONS = "/work-instructions"
INSTRUCTION = INSTRUCTIONS + "/<code>"
CODE_PATH = {"code": wi.WorkInstructionKey().fields["code"]}  # validated by the service as this field

routes.post(INSTRUCTIONS, "create_work_instruction", body=wi.WorkInstructionCreate,
            response=wi.WorkInstructionVersionOut, status=201, permission=AUTHOR,
            summary="Create a work instruction (version 1, draft)",
            doc="Steps with their data-collection fields: names unique within a step; type number, text, boolean or "
                "choice; `choices` for a choice; `min` ≤ `max` for a number (400 naming "
                "`steps.<i>.fields.<j>.<key>` otherwise). A code used already is a 409: revise it.",
            tags=INSTRUCTION_TAGS)
routes.get(INSTRUCTIONS, "list_work_instructions", query=wi.WorkInstructionListQuery, response=wi.WorkInstructionPage,
           permission=READ, error_codes=(400, 503), summary="List work instruction versions",
           doc="Ordered by code then version; filter by code prefix and status.", tags=INSTRUCTION_TAGS)
routes.get(INSTRUCTION, "get_work_instruction", query=wi.WorkInstructionQuery, response=wi.WorkInstructionVersionOut,
           permission=READ, summary="Get a work instruction version",
           doc="The version asked for, by default the newest one whatever its status.", tags=INSTRUCTION_TAGS,
           path_schemas=CODE_PATH)
routes.post(INSTRUCTION + "/revisions", "revise_work_instruction", body=wi.WorkInstructionRevise,
            response=wi.WorkInstructionVersionOut, status=201, permission=AUTHOR,
            summary="Revise: the next version, as a draft",
            doc="The released version stays in force until the new one is released.", tags=INSTRUCTION_TAGS,
            path_schemas=CODE_PATH)
routes.post(INSTRUCTION + "/versions/<version>/release", "release_work_instruction", body=wi.WorkInstructionRelease,
            response=wi.WorkInstructionVersionOut, permission=AUTHOR, summary="Release a draft version",
            error_codes=SIGNED_ERRORS,
            doc=SIGNED + "Meaning: approval. Released versions never change; the older versions become obsolete. "
                "Work orders released from now on freeze this version into their operations.", tags=INSTRUCTION_TAGS,
            path_schemas={**CODE_PATH, "version": wi.WorkInstructionVersionKey().fields["version"]})
