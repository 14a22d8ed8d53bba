"""Bundled fake payer portals for tests, the demo and benchmarks.

Imports nothing from the rest of portal-worker: it is the outside world.
"""
