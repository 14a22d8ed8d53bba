"""A list as a download: every row the page's filters match, as CSV or Excel, named by the list and the
practice's date, and written to the audit log (an export is a disclosure, like a page view)."""

from __future__ import annotations

import io
from datetime import date

from fastapi import HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session

from flows.exports import write_csv, write_xlsx
from flows.tables import Table
from web.deps import audit, now
from web.sessions import Staff
from worker.clock import aware

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_format(fmt: str) -> str:
    """The format a download's address names; anything else is a page that does not exist."""
    if fmt not in MEDIA_TYPES:
        raise HTTPException(status_code=404, detail="Exports are .csv or .xlsx.")
    return fmt


def practice_today(request: Request) -> date:
    return aware(now(request)).astimezone(request.app.state.tz).date()


def carries_patient_names(request: Request) -> bool:
    """Minimum necessary: exports name patients only where the installation turns names on."""
    return bool(request.app.state.settings.alerts.include_patient_names)


def download(request: Request, db: Session, staff: Staff, table: Table, fmt: str, filters: str) -> Response:
    """`filters`: what the rows were chosen by, in words or as the page's query string (for the audit log)."""
    tz = request.app.state.tz
    if export_format(fmt) == "csv":
        text = io.StringIO()
        write_csv(table, text, tz)
        body = text.getvalue().encode("utf-8")
    else:
        binary = io.BytesIO()
        write_xlsx([table], binary, tz)
        body = binary.getvalue()
    audit(request, db, staff, "export", table.name, f"{fmt}, {len(table.rows)} row(s); {filters or 'no filters'}")
    name = f"{table.name}-{practice_today(request).isoformat()}.{fmt}"
    return Response(
        body, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
