"""Nonconformance reports and their MRB disposition."""
