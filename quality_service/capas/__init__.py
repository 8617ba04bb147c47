"""Corrective and preventive actions (CAPA) on nonconformances."""
