"""Benchmarks: each prints a table and JSON, with a baseline measured in the same run."""
