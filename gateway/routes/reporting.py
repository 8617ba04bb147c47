"""/api/v1/reports: the reporting read model (a route table: see gateway.routing)."""
from gateway.routing import Routes
from reporting_service import contract
from reporting_service.contract import schemas as s

routes = Routes(contract.SERVICE, tags=["reports"], prefix="/api/v1/reports")
READ, WRITE = "report:read", "report:write"
QUERY_ERRORS = (400, 404, 422, 503)   # a node not in the model: 404; `to` not after `from`, or too far: 422
KEY = {"key": s.DefinitionKey().fields["key"]}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCOPE_DOC = ("`from` and `to` widened to whole hours (at most 400 days; the answer says which); `node_id`: a "
             "work center, area, site or enterprise (default: every work center); `part_id`: one part (availability "
             "and OEE are then null: planned time is a work center's). Days, weeks and months are those of "
             "`timezone` (default: the calendar of the scope).")
KPI_DOC = ("Each KPI as ISO 22400-2 defines it, computed once from the summed components shown beside it (those of "
           "the KPIs asked, and the times; a month's OEE is not an average of days): `exact` is the fraction, "
           "`value` it rounded once to 10 places, `display` as its definition says. " + SCOPE_DOC)

routes.get("/kpis", "get_kpis_json", operation_id="get_kpis", encoded=True, query=s.KpiQuery, response=s.KpiReport,
           permission=READ, error_codes=QUERY_ERRORS,
           summary="KPIs (OEE, availability, effectiveness, quality ratio …) by period and member", doc=KPI_DOC)
routes.get("/kpis.csv", "get_kpis_csv", query=s.KpiQuery, media_type="text/csv", permission=READ,
           error_codes=QUERY_ERRORS,
           summary="The KPIs as a CSV spreadsheet (exact values)", doc=KPI_DOC)
routes.get("/oee-trend.svg", "get_oee_trend_svg", query=s.PeriodReportQuery, media_type="image/svg+xml",
           permission=READ, error_codes=QUERY_ERRORS,
           summary="The OEE trend with availability, effectiveness and quality ratio (SVG)",
           doc=SCOPE_DOC)
for kind, what in (("downtime", "downtime minutes by reason"), ("scrap", "scrap quantity by reason code"),
                   ("ncr", "NCRs by defect code")):
    for suffix, rpc, options in (("", "get_pareto", {"response": s.ParetoOut}),
                                 (".csv", "get_pareto_csv", {"media_type": "text/csv"}),
                                 (".svg", "get_pareto_svg", {"media_type": "image/svg+xml"})):
        routes.get(f"/paretos/{kind}{suffix}", rpc, operation_id=f"{rpc}_{kind}", query=s.ParetoQuery,
                   permission=READ, error_codes=QUERY_ERRORS, args=lambda call, kind=kind: (kind, call.payload),
                   summary=f"Pareto of {what}" + (f" ({suffix[1:].upper()})" if suffix else ""),
                   doc="Largest first, with each item's share and the cumulative share. " + SCOPE_DOC, **options)
routes.get("/period", "get_period_report", query=s.PeriodReportQuery, response=s.PeriodReport, permission=READ,
           error_codes=QUERY_ERRORS,
           summary="A period report: the KPI trend, the total and the Paretos", doc=SCOPE_DOC)
for suffix, media_type, what in ((".csv", "text/csv", "a CSV spreadsheet"), (".xlsx", XLSX, "an Excel workbook"),
                                 (".html", "text/html", "a printable page with charts")):
    routes.get(f"/period{suffix}", "get_period_report", operation_id=f"get_period_report_{suffix[1:]}",
               query=s.PeriodReportQuery, media_type=media_type, permission=READ, error_codes=QUERY_ERRORS,
               args=lambda call, kind=suffix[1:]: (call.payload, kind),
               summary=f"A period report as {what}", doc=SCOPE_DOC)

routes.post("/snapshots", "take_snapshot", body=s.SnapshotCreate, response=s.SnapshotOut, status=201,
            permission=WRITE, summary="Freeze a period report with the definition versions it used",
            doc="Last month's report stays as it was computed, whatever changes later (definitions, late events).")
routes.get("/snapshots", "list_snapshots", query=s.SnapshotListQuery, response=s.SnapshotPage, permission=READ,
           summary="Snapshots, newest first")
routes.get("/snapshots/<snapshot_id>", "get_snapshot", response=s.SnapshotOut, permission=READ,
           summary="A snapshot as it was taken")
for suffix, media_type in ((".csv", "text/csv"), (".xlsx", XLSX), (".html", "text/html")):
    routes.get(f"/snapshots/<snapshot_id>{suffix}", "get_snapshot", operation_id=f"get_snapshot_{suffix[1:]}",
               media_type=media_type, permission=READ,
               args=lambda call, kind=suffix[1:]: (call.path["snapshot_id"], kind),
               summary=f"A snapshot as {suffix[1:].upper()}")

routes.get("/definitions", "list_definitions", response=s.DefinitionList, permission=READ,
           summary="KPI definitions (current versions)")
routes.get("/definitions/<key>", "get_definition", query=s.DefinitionQuery, response=s.DefinitionOut,
           permission=READ, path_schemas=KEY, summary="A KPI definition (the current version, or `version`)")
routes.put("/definitions/<key>", "put_definition", body=s.DefinitionIn, response=s.DefinitionOut, permission=WRITE,
           path_schemas=KEY,
           summary="Define a KPI: a new version (name, formula, target, colour bands)",
           doc="The earlier versions stay: snapshots name the ones they used. Give `version` to refuse the change if "
               "someone else changed it meanwhile (409).")

routes.post("/alert-rules", "create_alert_rule", body=s.AlertRuleIn, response=s.AlertRuleOut, status=201,
            permission=WRITE, summary="A threshold rule on a KPI over a moving window",
            doc="Evaluated as facts arrive and as time passes; raises `mes.reporting.alert.raised` when the value "
                "crosses the threshold and `cleared` once it is `hysteresis` past it the other way.")
routes.get("/alert-rules", "list_alert_rules", response=s.AlertRuleList, permission=READ, summary="Alert rules")
routes.patch("/alert-rules/<rule_id>", "update_alert_rule", body=s.AlertRuleUpdate, response=s.AlertRuleOut,
             permission=WRITE, summary="Change a rule's name, threshold, hysteresis or activity")
routes.get("/alerts", "list_alerts", query=s.AlertListQuery, response=s.AlertPage, permission=READ,
           summary="Alerts, newest first (filter raised or cleared, or by rule)")
routes.get("/alerts/<alert_id>", "get_alert", response=s.AlertOut, permission=READ, summary="An alert")
routes.post("/alerts/<alert_id>/acknowledge", "acknowledge_alert", body=s.Acknowledge, response=s.AlertOut,
            permission=WRITE, summary="Acknowledge an alert (once; who and when are recorded)")
routes.get("/status", "get_model_status", operation_id="get_reporting_model_status",
           response=s.ReportingModelStatusOut,
           permission=READ,
           summary="The read model: which generation answers, its size, the last rebuild, the clock")
