"""Dagster code location of gogaek: see definitions.py."""
