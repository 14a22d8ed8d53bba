"""Throughput benchmark: portal-worker against the naive script and the plain-HTTP lower bound.

`python -m bench.throughput` (or `make bench`) runs it; see that module for what is measured.
"""
