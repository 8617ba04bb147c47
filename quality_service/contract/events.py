"""Events the quality service publishes: its public contract. `subject` is the
record's id, `data` the record as its API gives it (so traceability and
reporting build their views from events alone), plus what a verb adds:

- plan.created | revised | updated | released | superseded: PlanOut
  (`changed` on updated; released carries its signatures);
- inspection.opened | passed | failed | cancelled: InspectionOut without results;
  results_recorded: {inspection: InspectionOut without items and results,
  characteristics: its items, results: [ResultOut] of this request} (in chunks of results);
- ncr.raised | updated | contained | dispositioned | closed | cancelled | hold_changed:
  NcrOut (dispositioned: the signed lines, each with its id, which the work order
  service's rework operations name; hold_changed: an item's hold landed or was
  released in material; updated with changed [dispositions]: a line's rework moved);
- capa.opened | updated | action_added | action_done | effectiveness_signed | closed | cancelled: CapaOut;
- fai.created | updated | submitted | approved | rejected: FaiOut (the three forms, with the
  signature manifestations);
- signature.recorded: {record_type, record_id, record_number, signature: SignatureOut};
- spc.limits_frozen: LimitsOut with plan_number and characteristic;
- spc.violation: ViolationOut with the limits it broke, the inspection's number,
  part, lot, serial, work order and operation, and ncr_number (when it raised one).
"""
from mes_common.events.envelope import EventFamily

SOURCE = "quality_service"

PLAN = EventFamily("quality", "plan", ("created", "revised", "updated", "released", "superseded"))
INSPECTION = EventFamily("quality", "inspection", ("opened", "results_recorded", "passed", "failed", "cancelled"))
NCR = EventFamily("quality", "ncr", ("raised", "updated", "contained", "dispositioned", "closed", "cancelled",
                                     "hold_changed"))
CAPA = EventFamily("quality", "capa", ("opened", "updated", "action_added", "action_done", "effectiveness_signed",
                                       "closed", "cancelled"))
FAI = EventFamily("quality", "fai", ("created", "updated", "submitted", "approved", "rejected"))
SIGNATURE_RECORDED = "mes.quality.signature.recorded"
SPC_LIMITS_FROZEN = "mes.quality.spc.limits_frozen"
SPC_VIOLATION = "mes.quality.spc.violation"

EVENT_TYPES = (PLAN.types + INSPECTION.types + NCR.types + CAPA.types + FAI.types
               + (SIGNATURE_RECORDED, SPC_LIMITS_FROZEN, SPC_VIOLATION))
