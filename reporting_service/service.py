"""Reporting service: the production read model (ISO 22400 KPIs). Event streams
in (one per source, in batches), reports out; it owns the KPI definitions,
alert rules, alerts and snapshots."""
import logging

import orjson

from nameko.extensions import DependencyProvider

from mes_common.config import database_url
from mes_common.db import StandaloneUnitOfWork, UnitOfWork, one_at_a_time, take_turn
from mes_common.events.stream import event_stream, of_source, project_batch
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from mes_common.service import ServiceBase
from mes_common.timers import config_timer
from reporting_service import alerts, contract, definitions, projections, reports, store
from reporting_service.contract import CONSUMES, schemas
from reporting_service.models import AuditEntry, Base, InboxEvent, OutboxEvent, Signature


log = logging.getLogger(__name__)


class DefaultDefinitions(DependencyProvider):
    """At start, the KPI definitions a release brings that the database lacks."""

    def start(self):
        name = self.container.service_name
        uow = StandaloneUnitOfWork(database_url(self.container.config, name), name, Base, OutboxEvent, InboxEvent,
                                   AuditEntry)
        try:
            with uow.transaction("system") as tx:
                one_at_a_time(tx.session, "reporting.default_definitions")   # instances starting together
                added = definitions.ensure_defaults(tx)
            if added:
                log.info("KPI definitions added: %s", ", ".join(added))
        finally:
            uow.dispose()


def _of(prefix):
    return of_source(CONSUMES, prefix)


class ReportingService(ServiceBase):
    name = contract.SERVICE

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry, Signature)
    defaults = DefaultDefinitions()

    def _apply(self, events):
        """Project a batch into the generation that answers, compute the hours
        it touched again and evaluate the alert rules of those work centers
        (in the stream's transaction: facts, buckets and alerts commit together)."""
        tx = self.uow
        dirty = store.apply(tx.session, store.active(tx.session, lock="shared"), project_batch(events,
                                                                                              projections.project))
        if dirty:
            alerts.evaluate(tx, sorted(dirty))

    # ------------------------------------------------------------ intake: every event of each source

    @event_stream("work_order_service", _of("mes.work_order."))
    def on_work_order(self, events):
        self._apply(events)

    @event_stream("quality_service", _of("mes.quality."))
    def on_quality(self, events):
        self._apply(events)

    @event_stream("resource_service", _of("mes.resource."))
    def on_resource(self, events):
        self._apply(events)

    @config_timer("REPORTING_CLOCK_INTERVAL", default=60.0, eager=True)   # at start: the hours missed while down
    def clock(self):
        """Time passing: planned time accrues, open intervals grow, windows move;
        the hours since the last tick are computed again and the rules evaluated."""
        with self.uow() as tx:
            if not take_turn(tx.session, "reporting.clock"):   # another instance's clock is ticking
                return
            store.tick(tx.session, store.active(tx.session, lock="shared"))
            alerts.evaluate(tx)

    # ------------------------------------------------------------ KPIs and Paretos

    @rpc
    def get_kpis(self, query):
        """ISO 22400-2 KPIs with their components, by period and member."""
        return reports.kpis(self.uow.session, load(schemas.KpiQuery(), query))

    @rpc
    def get_kpis_json(self, query):
        """get_kpis as JSON text, for the gateway to pass on: a month per work
        center per day is a megabyte, which the broker's codec and the
        gateway's would otherwise encode and decode three times over."""
        return orjson.dumps(reports.kpis(self.uow.session, load(schemas.KpiQuery(), query)), default=str).decode()

    @rpc
    def get_kpis_csv(self, query):
        return reports.kpis_csv(self.uow.session, load(schemas.KpiQuery(), query))

    @rpc
    def get_oee_trend_svg(self, query):
        return reports.trend_svg(self.uow.session, load(schemas.PeriodReportQuery(), query))

    @rpc
    def get_pareto(self, kind, query):
        return reports.pareto(self.uow.session, _kind(kind), load(schemas.ParetoQuery(), query))

    @rpc
    def get_pareto_csv(self, kind, query):
        return reports.pareto_csv(self.uow.session, _kind(kind), load(schemas.ParetoQuery(), query))

    @rpc
    def get_pareto_svg(self, kind, query):
        return reports.pareto_svg(self.uow.session, _kind(kind), load(schemas.ParetoQuery(), query))

    @rpc
    def get_period_report(self, query, file=None):
        """The report of an interval (trend, total, Paretos) as JSON, or as a
        file: `file` "csv", "xlsx" or "html"."""
        report = reports.period_report(self.uow.session, load(schemas.PeriodReportQuery(), query))
        return reports.as_file(report, file) if file else report

    # ------------------------------------------------------------ snapshots

    @rpc
    def take_snapshot(self, data):
        data = load(schemas.SnapshotCreate(), data)
        with self.uow() as tx:
            return reports.take_snapshot(tx, self._caller(), data)

    @rpc
    def get_snapshot(self, snapshot_id, file=None):
        snapshot_id = uuid_arg(snapshot_id, "snapshot_id")
        if file:
            return reports.snapshot_file(self.uow.session, snapshot_id, file)
        return reports.get_snapshot(self.uow.session, snapshot_id)

    @rpc
    def list_snapshots(self, query=None):
        return reports.list_snapshots(self.uow.session, load(schemas.SnapshotListQuery(), query))

    # ------------------------------------------------------------ definitions

    @rpc
    def list_definitions(self):
        return {"items": [definitions.definition_out.dump(d) for d in definitions.current(self.uow.session).values()]}

    @rpc
    def get_definition(self, key, query=None):
        query = load(schemas.DefinitionQuery(), query)
        return definitions.definition_out.dump(definitions.get(self.uow.session, key, query.get("version")))

    @rpc
    def put_definition(self, key, data):
        key = load(schemas.DefinitionKey(), {"key": key})["key"]
        data = load(schemas.DefinitionIn(), data)
        with self.uow() as tx:
            return definitions.definition_out.dump(definitions.put(tx, self._caller(), key, data))

    # ------------------------------------------------------------ alerts

    @rpc
    def create_alert_rule(self, data):
        data = load(schemas.AlertRuleIn(), data)
        with self.uow() as tx:
            rule = alerts.create_rule(tx, self._caller(), data)
            alerts.evaluate(tx, [str(data["node_id"])] if data["node_id"] else None)
            return alerts.rule_out.dump(rule)

    @rpc
    def update_alert_rule(self, rule_id, changes):
        rule_id = uuid_arg(rule_id, "rule_id")
        changes = load(schemas.AlertRuleUpdate(), changes)
        with self.uow() as tx:
            return alerts.rule_out.dump(alerts.update_rule(tx, self._caller(), rule_id, changes))

    @rpc
    def list_alert_rules(self):
        return {"items": alerts.list_rules(self.uow.session)}

    @rpc
    def list_alerts(self, query=None):
        return alerts.list_page(self.uow.session, load(schemas.AlertListQuery(), query))

    @rpc
    def get_alert(self, alert_id):
        return alerts.get(self.uow.session, uuid_arg(alert_id, "alert_id"))

    @rpc
    def acknowledge_alert(self, alert_id, data=None):
        alert_id = uuid_arg(alert_id, "alert_id")
        data = load(schemas.Acknowledge(), data)
        with self.uow() as tx:
            return alerts.acknowledge(tx, self._caller(), alert_id, data)

    # ------------------------------------------------------------ the model

    @rpc
    def get_model_status(self):
        session = self.uow.session
        status = store.MODEL.status(session)
        facts = {t: status.pop(t) for t in store.FACT_TABLES + store.DERIVED_TABLES}
        generation = store.MODEL.generation(status["active"])
        return schemas.ReportingModelStatusOut().dump({**status, "facts": facts,
                                              "computed_through": store.computed_through(session, generation)})


def _kind(kind):
    return load(schemas.ParetoKind(), {"kind": kind})["kind"]
