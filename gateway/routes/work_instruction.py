"""/api/v1/work-instructions routes (being built for issue 4)."""


class WorkInstructionRoutes:
    """Mixed into the Gateway."""
