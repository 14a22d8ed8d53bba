"""The reports: an index of every registered report, each one's page (filters, charts, tables, definitions),
and its tables exported as CSV (one table) or Excel (every table a sheet). Every role may see them."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from flows.exports import write_csv, write_xlsx
from flows.reports import Report, ReportSpec, load_reports
from store.claims import claim_payer_ids
from web.deps import CurrentStaff, Db, Now, audit
from web.report_views import BadFilter, FilterForm, presets, read_filter, shown_chart, shown_table
from web.sessions import Staff
from web.templating import render
from worker.clock import aware

router = APIRouter()
UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Asked:
    """A report computed for the filter a request asked for."""

    spec: ReportSpec
    form: FilterForm
    report: Report
    today: date
    payers: list[str]


def _today(request: Request, moment: datetime) -> date:
    return aware(moment).astimezone(request.app.state.tz).date()


def _payers(request: Request, db: Session) -> list[str]:
    configured = {payer for portal in request.app.state.settings.portals.values() for payer in portal.payers}
    return sorted(claim_payer_ids(db) | configured)


def _no_such_report(request: Request, name: str) -> Response:
    return render(
        request,
        "reports.html",
        status_code=404,
        title="Reports",
        specs=list(load_reports().values()),
        error=f"There is no report {name[:64]!r}: choose one of these.",
    )


def _ask(request: Request, db: Session, name: str, moment: datetime) -> Asked | Response:
    """The report for this request's filter, or the page that says why there is none (404, 400)."""
    spec = load_reports().get(name)
    if spec is None:
        return _no_such_report(request, name)
    payers = _payers(request, db)
    today = _today(request, moment)
    try:
        form, chosen = read_filter(request.query_params, payers)
    except BadFilter as bad:
        typed = FilterForm(*(request.query_params.get(k, "")[:64] for k in ("from", "to", "payer")))
        return _page(request, spec, typed, payers, today, status_code=400, error=str(bad))
    return Asked(spec, form, spec.compute(db, chosen, today), today, payers)


def _page(
    request: Request,
    spec: ReportSpec,
    form: FilterForm,
    payers: list[str],
    today: date,
    *,
    report: Report | None = None,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    tz = request.app.state.tz
    charts = [(chart.title, shown_chart(chart, n, tz)) for n, chart in enumerate(report.charts if report else ())]
    return render(
        request,
        "report.html",
        status_code=status_code,
        title=spec.title,
        spec=spec,
        form=form,
        payers=payers,
        presets=presets(today, form.payer),
        report=report,
        charts=charts,
        tables=[shown_table(t, tz) for t in report.tables] if report else [],
        error=error,
    )


@router.get("/reports")
def index(request: Request, staff: CurrentStaff) -> Response:
    return render(request, "reports.html", title="Reports", specs=list(load_reports().values()))


@router.get("/reports/{name}")
def report_page(request: Request, name: str, db: Db, staff: CurrentStaff, moment: Now) -> Response:
    asked = _ask(request, db, name, moment)
    if isinstance(asked, Response):
        return asked
    audit(request, db, staff, "view_report", f"report {name}", asked.form.words())
    return _page(request, asked.spec, asked.form, asked.payers, asked.today, report=asked.report)


def _attachment(content: bytes | str, media_type: str, file_name: str) -> Response:
    safe = UNSAFE_IN_FILE_NAME.sub("-", file_name)
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{safe}"'})


def _audit_export(request: Request, db: Session, staff: Staff, asked: Asked, what: str) -> None:
    audit(request, db, staff, "export", f"report {asked.spec.name}", f"{what}; {asked.form.words()}")


@router.get("/reports/{name}/export.csv")
def export_csv(request: Request, name: str, db: Db, staff: CurrentStaff, moment: Now) -> Response:
    """One table as CSV (?table=NAME; the report's first table when none is named)."""
    asked = _ask(request, db, name, moment)
    if isinstance(asked, Response):
        return asked
    wanted = request.query_params.get("table", "")
    tables = {t.name: t for t in asked.report.tables}
    table = tables.get(wanted) if wanted else next(iter(tables.values()), None)
    if table is None:
        return render(
            request,
            "error.html",
            status_code=404,
            title="No such table",
            message=f"The report “{asked.spec.title}” has no table {wanted[:64]!r}.",
        )
    out = io.StringIO()
    write_csv(table, out, request.app.state.tz)
    _audit_export(request, db, staff, asked, f"CSV {table.name}, {len(table.rows)} row(s)")
    return _attachment(out.getvalue(), "text/csv; charset=utf-8", f"{table.name}-{asked.today.isoformat()}.csv")


@router.get("/reports/{name}/export.xlsx")
def export_xlsx(request: Request, name: str, db: Db, staff: CurrentStaff, moment: Now) -> Response:
    """Every table of the report, each a sheet."""
    asked = _ask(request, db, name, moment)
    if isinstance(asked, Response):
        return asked
    out = io.BytesIO()
    write_xlsx(asked.report.tables, out, request.app.state.tz)
    _audit_export(request, db, staff, asked, f"Excel, {len(asked.report.tables)} table(s)")
    return _attachment(
        out.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{asked.spec.name}-{asked.today.isoformat()}.xlsx",
    )
