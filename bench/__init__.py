"""Benchmarks (ARCHITECTURE.md section 12). Run with `make bench` or `python bench/run.py`."""
