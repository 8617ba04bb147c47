"""Rework operations: the MRB's rework and repair lines on the shop floor."""
