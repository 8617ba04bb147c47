"""The alert rules and the Grafana dashboard (deploy/monitoring) name only metrics
the processes export, and the alerts operations asked for are there."""
import json
import re

import pytest
import yaml

from mes_common import metrics, registry
from mes_common.config import ROOT

pytestmark = pytest.mark.fast

MONITORING = ROOT / "deploy" / "monitoring"
METRIC = re.compile(r"\b(mes_[a-z_]+)\b")


def exported():
    """Every sample name the processes can answer: the registry's families, with
    their counter and histogram suffixes, and the services' database gauges."""
    names = set()
    for family in metrics.REGISTRY.collect():
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names |= {family.name + suffix for suffix in ("_bucket", "_sum", "_count")}
    for spec in registry.SERVICES:
        cls = registry.service_class(spec)
        names |= {value.metric for value in vars(cls).values() if isinstance(value, metrics.DatabaseGauge)}
    return names


def rules():
    return [rule for group in yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"]
            for rule in group["rules"]]


def test_every_alert_names_exported_metrics_and_says_what_to_do():
    known = exported()
    assert {"mes_release_sagas", "mes_dead_letter_queue_messages", "mes_http_requests_total"} <= known
    for rule in rules():
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical")
        unknown = set(METRIC.findall(rule["expr"])) - known
        assert not unknown, (rule["alert"], unknown)


def test_the_alerts_operations_asked_for_are_there():
    exprs = {rule["alert"]: rule["expr"] for rule in rules()}
    assert "mes_dead_letter_queue_messages" in exprs["MesDeadLetters"] and "> 0" in exprs["MesDeadLetters"]
    assert re.search(r"mes_outbox_oldest_age_seconds\) > 60", exprs["MesOutboxBacklog"])
    assert 'status=~"5.."' in exprs["MesHttpErrorRate"]
    assert "histogram_quantile(0.99" in exprs["MesHttpLatencyP99"]


def test_every_dashboard_panel_queries_exported_metrics():
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    known = exported() | {"process_cpu_seconds_total", "process_resident_memory_bytes"}
    assert len(dashboard["panels"]) >= 10
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            unknown = set(METRIC.findall(target["expr"])) - known
            assert not unknown, (panel["title"], unknown)
