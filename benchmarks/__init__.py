"""Benchmarks for fanggang's planner (not part of the default test run)."""
