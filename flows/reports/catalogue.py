"""Imports every report module, so each registers its ReportSpec: add a new report's module here.
The order here is the order `portal-worker report` and the workspace list them in."""

from __future__ import annotations

# isort: off
from flows.reports import ar_aging, days_to_pay, denials, first_pass, appeals, exposure  # noqa: F401
# isort: on
