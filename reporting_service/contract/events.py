"""Events the reporting service publishes; `subject` is the record's id:

- alert.raised | cleared | acknowledged: AlertOut (an alert rule's KPI crossed
  its threshold, came back past it by the hysteresis, or a person
  acknowledged it); an integration webhook can forward them;
- definition.changed: DefinitionOut (a new version of a KPI definition);
- alert_rule.created | updated: AlertRuleOut.
"""
from mes_common.events.envelope import EventFamily

SOURCE = "reporting_service"

ALERT = EventFamily("reporting", "alert", ("raised", "cleared", "acknowledged"))
DEFINITION_CHANGED = "mes.reporting.definition.changed"
ALERT_RULE = EventFamily("reporting", "alert_rule", ("created", "updated"))

EVENT_TYPES = ALERT.types + (DEFINITION_CHANGED,) + ALERT_RULE.types
