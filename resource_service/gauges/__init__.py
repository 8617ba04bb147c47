"""Gauges (measuring and test equipment) and production tools: calibration,
the refusal of an asset that is not fit for use, and the suspect-product list
of a gauge found out of tolerance (AS9100 7.1.5)."""
