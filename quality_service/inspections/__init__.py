"""Inspections: sampling, results, verdicts."""
