"""Events the Integration service publishes: none yet."""
EVENT_TYPES = ()
