"""Benchmarks of the running stack against bare baselines measured in the same run.

`python -m bench` (or `make bench`, `make bench-quick`); see docs/performance.md.
"""
