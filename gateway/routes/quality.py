"""/api/v1/quality: the quality service's routes (a route table: see gateway.routing)."""
from gateway.routing import SIGNED, SIGNED_ERRORS, Routes
from quality_service import contract
from quality_service.contract import capas as c, fai as f, inspections as i, ncrs as n, plans as p, qif as q, spc as s

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

# ------------------------------------------------------------ nonconformance and MRB

NCRS, NCR = "/ncrs", "/ncrs/<ncr_id>"
NCR_WRITE, MRB = "ncr:write", "mrb:disposition"

routes.post(NCRS, "raise_ncr", body=n.NcrCreate, response=n.NcrOut, status=201, permission=NCR_WRITE,
            summary="Raise a nonconformance report",
            doc="Its lots and serials are held in material (with their genealogy children), the NCR number as the "
                "hold's reason; `hold_status` is `pending` until material confirms (it lands when material is "
                "back). `draft: true` keeps it a draft: nothing held until submitted. A failed inspection of a lot "
                "or serial raises its NCR by itself.")
routes.get(NCRS, "list_ncrs", query=n.NcrListQuery, response=n.NcrPage, permission=READ, summary="List NCRs",
           doc="Newest first; filter by status, source, part.")
routes.get(NCR, "get_ncr", response=n.NcrOut, permission=READ, summary="Get an NCR",
           doc="With its items and holds, the disposition, the MRB's signature manifestations (`valid: false` if "
               "the NCR changed after they signed) and its status history.")
routes.patch(NCR, "update_ncr", body=n.NcrUpdate, response=n.NcrOut, permission=NCR_WRITE,
             summary="Change an NCR's title, description, severity or defect codes",
             doc="Until the MRB signs its disposition (422 afterwards).")
routes.post(NCR + "/submit", "submit_ncr", body=n.NcrSubmit, response=n.NcrOut, permission=NCR_WRITE,
            summary="Raise a draft NCR (its material is held)")
routes.post(NCR + "/containment", "add_containment", body=n.ContainmentAdd, response=n.NcrOut,
            permission=NCR_WRITE, summary="Record a containment action",
            doc="An open NCR becomes contained (as it does by itself when material confirms every hold).")
routes.put(NCR + "/disposition", "set_disposition", body=n.DispositionSet, response=n.NcrOut, permission=MRB,
           summary="Propose the MRB disposition",
           doc="Lines of use-as-is, rework, repair, scrap, return to vendor, regrade; for each lot or serial they "
               "sum to its quantity (422). Use-as-is and repair need a justification, and customer approval when "
               "the NCR is critical. Replaced until the first approval.")
routes.post(NCR + "/disposition/approvals", "approve_disposition", body=n.DispositionSign, response=n.NcrOut,
            permission=MRB, summary="Approve the disposition (MRB member, signed)", error_codes=SIGNED_ERRORS,
            doc=SIGNED + "Meaning: approval. One approval per member (409 for a second); a critical NCR needs two "
                         "members. With the approvals it needs the NCR is dispositioned and material applies it: "
                         "scrap transactions, returns, the holds released, each with the NCR as reference.")
routes.post(NCR + "/close", "close_ncr", body=n.NcrAction, response=n.NcrOut, permission=NCR_WRITE,
            summary="Close a dispositioned NCR", doc="Once material has applied every line (422 naming those "
                                                     "still pending).")
routes.post(NCR + "/cancel", "cancel_ncr", body=n.NcrAction, response=n.NcrOut, permission=NCR_WRITE,
            summary="Cancel an NCR before its disposition is approved", doc="Its holds are released.")

# ------------------------------------------------------------ CAPA

CAPAS, CAPA = "/capas", "/capas/<capa_id>"

routes.post(CAPAS, "open_capa", body=c.CapaCreate, response=c.CapaOut, status=201, permission=WRITE,
            summary="Open a CAPA on one or more NCRs",
            doc="Root cause by 5-why or a fishbone category; actions, an effectiveness check, then closure.")
routes.get(CAPAS, "list_capas", query=c.CapaListQuery, response=c.CapaPage, permission=READ, summary="List CAPAs")
routes.get(CAPA, "get_capa", response=c.CapaOut, permission=READ, summary="Get a CAPA",
           doc="With its actions and the signature manifestations of its effectiveness check and closure.")
routes.patch(CAPA, "update_capa", body=c.CapaUpdate, response=c.CapaOut, permission=WRITE,
             summary="Change an open CAPA (root cause, owner, due date ...)")
routes.post(CAPA + "/actions", "add_capa_action", body=c.ActionCreate, response=c.CapaOut, status=201,
            permission=WRITE, summary="Add an action (owner, due date)")
routes.post(CAPA + "/actions/<number>/done", "complete_capa_action", body=c.ActionDone, response=c.CapaOut,
            permission=WRITE, path_schemas={"number": c.ActionKey().fields["number"]},
            summary="Mark an action done, with its evidence")
routes.post(CAPA + "/effectiveness", "sign_capa_effectiveness", body=c.EffectivenessSign, response=c.CapaOut,
            permission=WRITE, summary="Sign the effectiveness check", error_codes=SIGNED_ERRORS,
            doc=SIGNED + "Meaning: verification. Every action must be done and the root cause stated (422 naming "
                         "what is missing); `effective: false` keeps the CAPA open for more actions.")
routes.post(CAPA + "/close", "close_capa", body=c.CapaClose, response=c.CapaOut, permission=WRITE,
            summary="Close an effective CAPA", error_codes=SIGNED_ERRORS, doc=SIGNED + "Meaning: approval.")
routes.post(CAPA + "/cancel", "cancel_capa", body=c.CapaCancel, response=c.CapaOut, permission=WRITE,
            summary="Cancel a CAPA (reason required)")

# ------------------------------------------------------------ SPC

CHART_ERRORS = (400, 404, 422, 503)
CHART_DOC = ("Its points in the order their inspections opened (the latest `limit`), the frozen limits (else trial "
             "limits of the points shown), every run rule they break and, for measurements, Cp, Cpk, Pp and Ppk "
             "with the sample count.")

routes.get("/spc/chart", "get_spc_chart", query=s.ChartQuery, response=s.ChartOut, permission=READ,
           error_codes=CHART_ERRORS, summary="Control chart of a characteristic", doc=CHART_DOC)
routes.get("/spc/chart.svg", "get_spc_chart_svg", query=s.ChartQuery, media_type="image/svg+xml", permission=READ,
           error_codes=CHART_ERRORS, summary="Control chart of a characteristic, as a picture (SVG)",
           doc="The chart of `GET /spc/chart` drawn: limits dashed, points that break a rule in red.")
routes.post("/spc/limits", "freeze_spc_limits", body=s.LimitsFreeze, response=s.FrozenLimitsOut, status=201,
            permission=WRITE, summary="Freeze a chart's control limits from a baseline",
            doc="From the latest `baseline` points (20 at least: 422). From then on each result recorded is judged "
                "against them: a broken run rule is stored, announced (mes.quality.spc.violation) and, when the "
                "characteristic's `spc.opens_ncr` says so, raises an NCR on the inspected lot or serial.")
routes.get("/spc/violations", "list_spc_violations", query=s.ViolationListQuery, response=s.ViolationPage,
           permission=READ, summary="Run rules broken against frozen limits", doc="Newest first.")

# ------------------------------------------------------------ QIF 3.0

XML, QIF_MAX = "application/xml", 20 * 1024 * 1024
QIF_IMPORT_ERRORS = (400, 404, 409, 413, 422, 503)
QIF_IMPORT = ("The body is the QIF document (UTF-8, at most 20 MB). It is checked against the official QIF 3.0 "
              "schema first (400 with the line and message of the first error; a DOCTYPE or an entity is refused), "
              "then fitted to the MES (422 naming what does not fit), and kept verbatim with what it made. A "
              "document (its QPId) is applied once: importing it again answers what the first import did "
              "(`replayed`).")

routes.post("/qif/plans", "import_qif_plan", query=q.QifPlanImport, body_media_type=XML, max_body=QIF_MAX,
            response=q.QifImportOut, status=201, permission=WRITE, error_codes=QIF_IMPORT_ERRORS,
            summary="Import a QIF plan as an inspection plan (a draft)",
            doc=QIF_IMPORT + " Balloons from `CharacteristicDesignator`, nominal and tolerances from the nominals "
                             "and definitions, criticality, units; a characteristic with no tolerance is listed in "
                             "`skipped`. A released plan gets a new draft revision; releasing it is a signature.")
routes.post("/qif/results", "import_qif_results", query=q.QifResultsImport, body_media_type=XML, max_body=QIF_MAX,
            response=q.QifImportOut, status=201, permission=RECORD, error_codes=QIF_IMPORT_ERRORS,
            summary="Import QIF results as an inspection of a lot or serial",
            doc=QIF_IMPORT + " Measurements are matched to the released plan's characteristics by balloon, then by "
                             "QIF item id; the MES computes the verdicts, and `mismatches` lists where the file's "
                             "own status says otherwise.")
routes.get("/qif/plans/<plan_id>", "export_qif_plan", media_type=XML, permission=READ,
           summary="A plan revision as a QIF 3.0 document (a file)")
routes.get("/qif/inspections/<inspection_id>", "export_qif_results", media_type=XML, permission=READ,
           summary="An inspection (its plan and results) as a QIF 3.0 document (a file)")
routes.get("/qif/documents/<document_id>", "get_qif_document", media_type=XML, permission=READ,
           summary="An imported QIF document as it came in")

# ------------------------------------------------------------ First Article Inspection (AS9102 Rev C)

FAIRS, FAIR = "/fai", "/fai/<fair_id>"
routes.post(FAIRS, "create_fair", body=f.FaiCreate, response=f.FaiOut, status=201, permission=WRITE,
            summary="Make the FAIR of a serial (a draft)",
            doc="Its forms are gathered from the MES: form 1 from the part, the work order and its routing, and the "
                "detail parts in the serial's genealogy with their approved FAIRs; form 2 from the lots consumed "
                "(supplier lot, heat number, certificates) and the buy-offs' recorded values; form 3 from the released "
                "plans of the part revision and the first article's inspections (results, gauges and their "
                "calibration, NCR numbers). A partial FAI names its reason and the FAIR it completes.")
routes.get(FAIRS, "list_fairs", query=f.FaiListQuery, response=f.FaiPage, permission=READ, summary="List FAIRs",
           doc="Newest first.")
routes.get(FAIR, "get_fair", response=f.FaiOut, permission=READ, summary="Get a FAIR with its three forms")
routes.patch(FAIR, "update_fair", body=f.FaiUpdate, response=f.FaiOut, permission=WRITE,
             summary="Change form 1's stated fields (a draft)")
routes.post(FAIR + "/refresh", "refresh_fair", body=f.FaiUpdate, response=f.FaiOut, permission=WRITE,
            summary="Gather the forms again", doc="A draft (or a rejected FAIR, which becomes a draft).")
routes.post(FAIR + "/submit", "submit_fair", body=f.FaiSign, response=f.FaiOut, permission=WRITE,
            error_codes=SIGNED_ERRORS, summary="Sign as preparer and send to review",
            doc=SIGNED + "Meaning: authorship. The forms are frozen from then on.")
routes.post(FAIR + "/approve", "approve_fair", body=f.FaiSign, response=f.FaiOut, permission=WRITE,
            error_codes=SIGNED_ERRORS, summary="Approve (another person than the preparer)",
            doc=SIGNED + "Meaning: approval. Refused (422) while a characteristic has no result, fails without an "
                         "NCR number, or a detail part has no approved FAIR; the preparer cannot approve (409).")
routes.post(FAIR + "/reject", "reject_fair", body=f.FaiReject, response=f.FaiOut, permission=WRITE,
            summary="Reject a FAIR in review (reason required)")
routes.get(FAIR + "/report.html", "get_fair_html", media_type="text/html", permission=READ,
           summary="The three AS9102 forms as a printable page")
routes.get(FAIR + "/report.pdf", "get_fair_pdf", media_type="application/pdf", permission=READ,
           summary="The three AS9102 forms as a PDF (a page per form)")
routes.get(FAIR + "/report.xlsx", "get_fair_xlsx", permission=READ,
           media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           summary="The three AS9102 forms as an Excel workbook (a sheet per form)")
