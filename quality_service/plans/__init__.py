"""Inspection plans, characteristics and control points."""
