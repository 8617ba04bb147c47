"""Documents the quality service's tests and benchmarks send as a CMM would."""
import uuid
from decimal import Decimal

from quality_service.inspections import rules
from quality_service.qif import use_cases, writer


def qif_results(plan, samples, report="CMM"):
    """A QIF 3.0 results document of `plan` (PlanOut) whose parts measured
    `samples`: [{characteristic number: [(value, unit, conforming)]}], one
    MeasurementResults per part."""
    root, item_ids, ids = writer.plan(None, plan, plan["characteristics"], rules.convert, use_cases.dimension)
    root = writer.results(str(uuid.uuid4()), root, item_ids, ids, {"number": report}, samples,
                          lambda value, unit, to: rules.convert(Decimal(str(value)), unit, to))
    return writer.to_bytes(root).decode()
