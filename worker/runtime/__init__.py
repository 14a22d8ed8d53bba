"""The runtime: what drives the portals.

service.py is `portal-worker run` (scheduler, runners, heartbeat, watchdog); scheduler.py
the APScheduler jobs, which only enqueue; runners.py the runner threads that lease and work
tasks; context.py what a process's runners share (gates, credentials, evidence);
browser.py and browser_slot.py find, launch and recycle Chromium; processes.py tags and
reaps its processes; evidence.py keeps what a failing page showed; heartbeat.py says which
workers are alive; login_check.py is `credentials test`.
"""
