"""Benchmarks: `make bench` (bench/run.py) and single-purpose scripts; figures in BENCHMARKS.md."""
