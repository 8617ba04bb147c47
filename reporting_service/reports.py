"""Period reports (the KPI trend, the total and the Paretos of an interval),
their snapshots and the files and pictures made of them."""
import base64
import uuid

from sqlalchemy import select

from mes_common import errors, paging, svg
from mes_common.db import fetch, utcnow
from reporting_service import definitions, exports, queries
from reporting_service.contract import PARETOS
from reporting_service.contract.schemas import SnapshotOut, SnapshotSummary
from reporting_service.models import Snapshot

snapshot_out, summary_out = SnapshotOut(), SnapshotSummary()


def kpis(session, query):
    return queries.kpi_report(session, query, definitions.current(session))


def period_report(session, query, title=None):
    """The report of an interval as JSON (dumped: what files are made of)."""
    query = {**query, "by": None, "kpis": None}
    report = queries.kpi_report(session, query, definitions.current(session))
    paretos = {kind: queries.pareto(session, kind, query) for kind in PARETOS}
    scope = report["scope"]
    name = scope["code"] or scope["name"]
    title = title or f"Production report: {name}, {query['start']:%Y-%m-%d %H:%M} to {query['end']:%Y-%m-%d %H:%M} UTC"
    return {**report, "paretos": paretos, "title": title, "generated_at": utcnow().isoformat(), "snapshot": None}


def _slug(report):
    return f"{report['scope']['code'] or 'plant'}-{report['from'][:10]}-{report['to'][:10]}"


def as_file(report, kind):
    """{filename, content | content_base64} of a dumped period report."""
    if kind == "xlsx":
        return {"filename": f"report-{_slug(report)}.xlsx",
                "content_base64": base64.b64encode(exports.xlsx(report)).decode()}
    if kind == "html":
        return {"filename": f"report-{_slug(report)}.html", "content": exports.html(report)}
    return {"filename": f"report-{_slug(report)}.csv", "content": exports.csv_text(report)}


def kpis_csv(session, query):
    report = kpis(session, query)
    return {"filename": f"kpis-{_slug(report)}.csv", "content": exports.csv_text(report)}


def pareto(session, kind, query):
    return queries.pareto(session, kind, query)


def pareto_csv(session, kind, query):
    return {"filename": f"pareto-{kind}.csv", "content": exports.pareto_csv(queries.pareto(session, kind, query))}


def pareto_svg(session, kind, query):
    answer = queries.pareto(session, kind, query)
    items = [(i["key"], float(i["value"]), float(i["cumulative"])) for i in answer["items"]]
    return svg.pareto_chart(answer["title"], items, answer["unit"],
                            subtitle=f"total {answer['total']} {answer['unit']}")


def trend_svg(session, query):
    """The OEE trend with its three components, as the period report draws it."""
    report = {**queries.kpi_report(session, {**query, "by": None, "kpis": None}, definitions.current(session)),
              "paretos": {}, "title": "OEE trend", "generated_at": utcnow().isoformat(), "snapshot": None}
    return exports.trend_chart(report)


# ------------------------------------------------------------------ snapshots

def take_snapshot(tx, caller, data):
    """Freeze a period report with the definition versions it was computed with."""
    title = data.pop("title", None)
    report = period_report(tx.session, data, title)
    snapshot = Snapshot(id=uuid.uuid4(), title=report["title"], start=data["start"], end=data["end"],
                        definition_versions={k: d["version"] for k, d in report["definitions"].items()},
                        report=report, created_by=caller.actor, created_at=utcnow())
    report["snapshot"] = {"id": str(snapshot.id), "created_at": snapshot.created_at.isoformat()}
    snapshot.report = report
    tx.session.add(snapshot)
    tx.flush()
    tx.audit("snapshot", "report_snapshot", snapshot.id, new={"title": snapshot.title, "from": report["from"],
                                                                "to": report["to"],
                                                                "definitions": snapshot.definition_versions})
    return dump_snapshot(tx.session, snapshot)


def dump_snapshot(session, snapshot):
    """As stored; the definitions shown are the versions it was computed with."""
    report = snapshot.report
    used = definitions.versions(session, snapshot.definition_versions)
    if set(used) != set(snapshot.definition_versions):
        raise errors.Conflict("a definition version this snapshot used is missing", {"snapshot": str(snapshot.id)})
    out = snapshot_out.dump({"id": snapshot.id, "title": snapshot.title, "created_by": snapshot.created_by,
                             "created_at": snapshot.created_at, "definition_versions": snapshot.definition_versions})
    return {**out, "report": report}   # stored as it was dumped


def get_snapshot(session, snapshot_id):
    return dump_snapshot(session, fetch(session, Snapshot.id, snapshot_id, "report snapshot"))


def snapshot_file(session, snapshot_id, kind):
    snapshot = fetch(session, Snapshot.id, snapshot_id, "report snapshot")
    return as_file(snapshot.report, kind)


def list_snapshots(session, query):
    keys = [(Snapshot.created_at, paging.time_key), (Snapshot.id, paging.uuid_key)]
    return paging.page(session, select(Snapshot), keys, query, lambda rows: [summary_out.dump(r) for r in rows],
                       descending=True)
