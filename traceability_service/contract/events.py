"""Events the traceability service publishes: none. It is a read model; what
it knows, its sources announced first (their contracts' `events`)."""
SOURCE = "traceability_service"

EVENT_TYPES = ()
