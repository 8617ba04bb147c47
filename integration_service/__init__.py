"""Integration service (mes new-service): its items, the example aggregate to
replace with the service's own."""
