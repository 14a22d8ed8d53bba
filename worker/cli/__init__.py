"""`portal-worker`: the command line, one module per area of work.

app.py holds the Typer application and what every command shares; data.py the imports and
lists; denials.py the worklist; reports.py the reports; work.py check, run, status, schedule and resume;
alerts.py the alerts and the daily summary; setup.py credentials, schema, browser and demo.
web.py the workspace and its users; claim.py one claim in full; feed.py the feed to the PM system.
display.py, status_view.py and alerts_view.py render what the commands show.
"""

# isort: off  (the order of these imports is the order of the panels in `--help`)
from worker.cli import (  # noqa: F401  (each registers its commands on `app`)
    alerts,
    appeal_decisions,
    appeal_packets,
    appeals,
    auth_requests,
    claim,
    data,
    denials,
    eligibility,
    feed,
    feed_secret,
    reports,
    setup,
    web,
    work,
)

# isort: on
from worker.cli.app import app, main

__all__ = ["app", "main"]
