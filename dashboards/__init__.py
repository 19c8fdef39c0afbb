"""Dashboards as code for the published BI file (Superset export format; see bundle.py)."""
