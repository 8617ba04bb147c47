"""/api/v1 routes of the work order service (being built for issue 4)."""


class WorkOrderRoutes:
    """Mixed into the Gateway."""
