"""/api/v1 routes of the material service (being built for issue 4)."""


class MaterialRoutes:
    """Mixed into the Gateway."""
