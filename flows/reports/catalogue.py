"""Imports every report module, so each registers its ReportSpec: add a new report's module here."""

from __future__ import annotations

from flows.reports import denials  # noqa: F401
