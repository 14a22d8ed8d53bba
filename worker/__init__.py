"""The worker: the wiring that turns portals, flows and the store into a program.

cli/ is the command line (one module per area); runtime/ drives the portals (scheduler,
runners, browser); security/ keeps credentials and redacts secrets; delivery/ sends alerts
and summaries; settings.py reads and validates the config; clock.py and logs.py are shared.
"""
