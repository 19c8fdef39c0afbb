"""Data-quality checks on the warehouse."""
