"""The reports in the workspace: every registered report's page over an empty store and a bad filter (httpx);
over a checked store in Chromium, each page's charts really drawn by Chart.js under the CSP, the payer
filter, and the CSV and Excel exports read back and compared with the page cell by cell, and audited."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import ConsoleMessage, Locator, Page, expect
from sqlmodel import Session, select

import flows.reports as reports_module
from flows.reports import Chart, Report, ReportFilter, ReportSpec, Series, load_reports
from flows.tables import Column, Kind, Table
from store.db import session_scope
from store.models import Denial
from store.staff import audit_page
from tests.test_web_alerts import logged_in
from tests.test_web_security import InlineCode
from tests.web_support import USER_OF_ROLE, RunningWorkspace
from worker.clock import aware

SHOTS = Path("test-results/screenshots")
REPORT_NAMES = list(load_reports())


def practice_today(ws: RunningWorkspace) -> date:
    return aware(ws.clock()).astimezone(ws.settings.worker.tzinfo).date()


def computed(ws: RunningWorkspace, name: str, chosen: ReportFilter | None = None) -> Report:
    """The report as flows compute it, for what the page should show."""
    with session_scope(ws.engine) as session:
        return load_reports()[name].compute(session, chosen or ReportFilter(), practice_today(ws))


def drawable(report: Report) -> list[str]:
    """The titles of the charts with something to draw."""
    return [c.title for c in report.charts if c.labels and any(v is not None for s in c.series for v in s.values)]


def audited(ws: RunningWorkspace, action: str) -> list[tuple[str | None, str | None, str | None]]:
    with session_scope(ws.engine) as session:
        return [(e.user_name, e.subject, e.detail) for e in audit_page(session, 200, 0, actions=[action]).items]


# --- refusals and empty states, over httpx ---------------------------------------------------------


@pytest.mark.parametrize("name", REPORT_NAMES)
def test_every_report_opens_on_an_empty_store(empty_web: RunningWorkspace, name: str) -> None:
    client, _ = logged_in(empty_web, "front_desk")  # every role may see reports
    index = client.get("/reports")
    assert index.status_code == 200 and f'href="/reports/{name}"' in index.text
    shown = client.get(f"/reports/{name}")
    assert shown.status_code == 200, shown.text[:500]
    assert load_reports()[name].title in shown.text
    inline = InlineCode()
    inline.feed(shown.text)
    assert inline.found == []
    assert client.get(f"/reports/{name}/export.xlsx").status_code == 200


def test_a_bad_filter_or_an_unknown_report_is_said_and_nothing_exported(empty_web: RunningWorkspace) -> None:
    client, _ = logged_in(empty_web)
    for query, why in (
        ("from=yesterday", "“From” is not a date: &#39;yesterday&#39; (write it as YYYY-MM-DD)."),
        ("to=2026-02-30", "“To” is not a date: &#39;2026-02-30&#39;"),
        ("from=2026-03-01&to=2026-02-01", "“From” (2026-03-01) is after “To” (2026-02-01)"),
        ("payer=NOSUCH", "There is no payer &#39;NOSUCH&#39; in the store or the configuration."),
    ):
        for path in ("/reports/denials", "/reports/denials/export.csv", "/reports/denials/export.xlsx"):
            refused = client.get(f"{path}?{query}")
            assert refused.status_code == 400 and why in refused.text, (path, query, refused.text[:300])
            assert 'role="alert"' in refused.text
    missing = client.get("/reports/no-such-report")
    assert missing.status_code == 404 and "There is no report &#39;no-such-report&#39;" in missing.text
    assert client.get("/reports/no-such-report/export.xlsx").status_code == 404
    no_table = client.get("/reports/denials/export.csv?table=patients")
    assert no_table.status_code == 404 and "has no table &#39;patients&#39;" in no_table.text
    assert audited(empty_web, "export") == []


def test_reports_need_a_login(empty_web: RunningWorkspace) -> None:
    client, _ = logged_in(empty_web)
    client.cookies.clear()
    for path in ("/reports", "/reports/denials", "/reports/denials/export.csv"):
        assert client.get(path).status_code == 303


# --- in Chromium, over a checked store ------------------------------------------------------------


def watch_console(page: Page) -> list[str]:
    """Console errors and uncaught exceptions (a CSP refusal is a console error in Chromium)."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # the workspace has no favicon: Chromium's own request for one is not the page's
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"{message.text} {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return problems


DRAWN = """() => Array.from(document.querySelectorAll('figure.report-chart canvas')).map(canvas => {
  const chart = Chart.getChart(canvas);
  return chart ? [canvas.getAttribute('aria-label'), canvas.clientWidth, canvas.clientHeight] : null;
})"""


def test_every_report_draws_its_charts_and_shows_its_definitions(web: RunningWorkspace, page: Page) -> None:
    problems = watch_console(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    web.login(page, "coding")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    for spec in load_reports().values():
        expect(page.get_by_role("link", name=spec.title, exact=True)).to_be_visible()
        expect(page.get_by_text(spec.summary)).to_be_visible()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"reports-index-{width}.png"), full_page=True)

    for name in REPORT_NAMES:
        report = computed(web, name)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{web.url}/reports/{name}")
        expect(page.get_by_role("heading", name=report.title, level=1)).to_be_visible()
        definitions = page.locator(".report-definitions")
        for figure, meaning in report.definitions.items():
            expect(definitions.locator("dt", has_text=figure)).to_be_visible()
            expect(definitions.locator("dd", has_text=meaning)).to_be_visible()
        for note in report.notes:
            expect(page.locator(".report-notes li", has_text=note)).to_be_visible()
        for table in report.tables:
            shown = page.locator(f'section.report-section table[data-table="{table.name}"] tbody tr')
            expect(shown).to_have_count(len(table.rows))

        titles = drawable(report)
        drawn = page.evaluate(DRAWN)
        assert len(drawn) == len(titles), (name, drawn)
        for (label, width, height), title in zip(drawn, titles, strict=True):
            assert title in label and width > 0 and height > 0, (name, label, width, height)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SHOTS / f"reports-{name}-{width}.png"), full_page=True)
        # on a phone the charts shrink to the screen and nothing makes the page scroll sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        for _, chart_width, _ in page.evaluate(DRAWN):
            assert 0 < chart_width <= 390, name
    assert problems == []


def page_table(table: Locator) -> list[list[str]]:
    return [[cell.strip() for cell in row] for row in table.locator("tbody tr").evaluate_all(ROW_TEXTS)]


ROW_TEXTS = "rows => rows.map(row => Array.from(row.querySelectorAll('td')).map(td => td.textContent))"


def as_shown(text: str, kind: Kind) -> str:
    """A CSV cell as the page writes it."""
    if text == "":
        return "—"
    if kind is Kind.MONEY:
        amount = Decimal(text)
        return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"
    if kind is Kind.COUNT:
        return f"{int(text):,}"
    if kind is Kind.NUMBER:
        return f"{float(text):,.1f}"
    if kind is Kind.DATETIME:
        return text[:16]
    return text


def same_cell(on_page: str, exported: str, kind: Kind) -> bool:
    if kind is Kind.PERCENT and exported:  # the CSV keeps four places; the page one decimal of a percent
        return abs(float(on_page.removesuffix("%")) - float(exported) * 100) <= 0.051
    return on_page == as_shown(exported, kind)


def excel_as_csv(value: object, kind: Kind) -> str:
    """An Excel cell as the CSV writes it, to compare it with the page the same way."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if kind is Kind.DATE else value.strftime("%Y-%m-%d %H:%M:%S")
    if kind is Kind.MONEY:
        return f"{Decimal(str(value)):.2f}"
    if kind is Kind.COUNT:
        return str(int(value))  # type: ignore[call-overload]
    return str(value)


def download(page: Page, link: Locator) -> Path:
    with page.expect_download() as started:
        link.click()
    return Path(started.value.path())


def test_the_payer_filter_and_the_exports_match_the_page(web: RunningWorkspace, page: Page) -> None:
    problems = watch_console(page)
    web.login(page, "billing")
    with session_scope(web.engine) as session:
        payers = Counter(d.payer_id for d in session.exec(select(Denial)) if d.payer_id)
    payer = payers.most_common()[-1][0]  # the payer with the fewest denials, so the table changes
    assert len(payers) > 1

    everyone = computed(web, "denials", ReportFilter())
    report = computed(web, "denials", ReportFilter(payer=payer))
    rows_by_payer = {r.name: r.rows for r in everyone.tables}["denials-by-payer"]
    assert len(rows_by_payer) > len({r.name: r.rows for r in report.tables}["denials-by-payer"])

    page.goto(f"{web.url}/reports/denials")
    by_payer = page.locator('section.report-section table[data-table="denials-by-payer"]')
    expect(by_payer.locator("tbody tr")).to_have_count(len(rows_by_payer))
    page.get_by_label("Payer").select_option(payer)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{web.url}/reports/denials?from=&to=&payer={payer}")
    expect(by_payer.locator("tbody tr td").first).to_have_text(payer)
    # each table's CSV, cell by cell against the page
    for table in report.tables:
        exported = download(page, page.get_by_role("link", name=f"CSV: {table.title}", exact=True))
        rows = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8"))))
        assert rows[0] == [c.key for c in table.columns]
        shown = page_table(page.locator(f'section.report-section table[data-table="{table.name}"]'))
        assert len(rows) - 1 == len(shown) == len(table.rows), table.name
        for on_page, written in zip(shown, rows[1:], strict=True):
            for cell, text, column in zip(on_page, written, table.columns, strict=True):
                assert same_cell(cell, text, column.kind), (table.name, column.key, cell, text)

    # the Excel workbook: every table a sheet, the same cells
    book = load_workbook(io.BytesIO(download(page, page.get_by_role("link", name="Excel (every table)")).read_bytes()))
    assert [sheet.title for sheet in book.worksheets] == [t.title for t in report.tables]
    for sheet, table in zip(book.worksheets, report.tables, strict=True):
        values = list(sheet.iter_rows(values_only=True))
        assert list(values[0]) == [c.title for c in table.columns]
        shown = page_table(page.locator(f'section.report-section table[data-table="{table.name}"]'))
        assert len(values) - 1 == len(shown), table.name
        for on_page, row in zip(shown, values[1:], strict=True):
            for cell, value, column in zip(on_page, row, table.columns, strict=True):
                assert same_cell(cell, excel_as_csv(value, column.kind), column.kind), (table.name, cell, value)
    assert_exports_audited(web, report, payer)
    assert problems == []


def assert_exports_audited(ws: RunningWorkspace, report: Report, payer: str) -> None:
    user = USER_OF_ROLE["billing"]
    exports = audited(ws, "export")
    assert len(exports) == len(report.tables) + 1
    assert all(who == user and subject == "report denials" for who, subject, _ in exports)
    details = [detail or "" for *_, detail in exports]
    for table in report.tables:
        assert any(d.startswith(f"CSV {table.name}, {len(table.rows)} row(s)") for d in details), table.name
    assert any(d.startswith(f"Excel, {len(report.tables)} table(s)") for d in details)
    assert all(d.endswith(f"payer {payer}") for d in details)
    views = audited(ws, "view_report")
    assert (user, "report denials", f"dates any to any; payer {payer}") in views
    assert (user, "report denials", "dates any to any; payer any") in views


def test_a_bad_date_range_is_said_on_the_page(web: RunningWorkspace, page: Page) -> None:
    web.login(page, "billing")
    table = page.locator("section.report-section table")
    response = page.goto(f"{web.url}/reports/denials?from=2026-02-31")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_have_text("“From” is not a date: '2026-02-31' (write it as YYYY-MM-DD).")
    expect(table).to_have_count(0)
    page.get_by_label("From").fill("2026-03-01")
    page.get_by_label("To").fill("2026-01-31")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("“From” (2026-03-01) is after “To” (2026-01-31)")
    expect(page.get_by_label("From")).to_have_value("2026-03-01")  # what was typed stays, to be corrected
    expect(table).to_have_count(0)
    page.get_by_role("link", name="All dates").click()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(table.first).to_be_visible()


def test_the_date_range_filters_the_report(web: RunningWorkspace, page: Page) -> None:
    web.login(page, "billing")
    with session_scope(web.engine) as session:
        days = sorted(d.denial_date or d.first_seen_at.date() for d in session.exec(select(Denial)))
    first_only = ReportFilter(days[0], days[0])
    report = computed(web, "denials", first_only)
    page.goto(f"{web.url}/reports/denials?from={days[0]}&to={days[0]}")
    by_month = page.locator('section.report-section table[data-table="denials-by-month"] tbody tr')
    expect(by_month).to_have_count(1)
    table: Table = next(t for t in report.tables if t.name == "denials-by-month")
    expect(by_month.locator("td").nth(1)).to_have_text(f"{table.rows[0][1]:,}")


def every_kind_of_chart(_session: Session, chosen: ReportFilter, _today: date) -> Report:
    """A report with one chart of each kind and unit, a gap among them (charts.js is shared by all reports)."""
    months = ["2026-01", "2026-02", "2026-03"]
    return Report(
        "chart-kinds",
        "Every kind of chart",
        chosen,
        [Table("empty", "Nothing", (Column("what", "What"),), [])],
        [
            Chart("Claims by month", "bar", months, [Series("Claims", [3, 5, 2])], Kind.COUNT),
            Chart(
                "Open dollars by age",
                "stacked_bar",
                ["UHP", "BBH"],
                [Series("0-30", [1200.5, 300]), Series("31-60", [80, 45.25])],
            ),
            Chart("Denial rate by month", "line", months, [Series("Initial", [0.12, None, 0.08])], Kind.PERCENT),
            Chart("Days to pay", "bar", ["UHP", "BBH"], [Series("Median", [21.5, 34])], Kind.NUMBER),
            Chart(
                "Denied dollars by CARC", "pareto", ["CO-97", "CO-16", "CO-50"], [Series("Dollars", [600, 300, 100])]
            ),
            Chart("Nothing yet", "bar", [], [Series("Dollars", [])]),
        ],
        notes=["Appeals: no decisions recorded yet."],
    )


FORMATTED = """() => Array.from(document.querySelectorAll('figure.report-chart canvas')).map(canvas => {
  const chart = Chart.getChart(canvas);
  const first = chart.data.datasets[0];
  const tooltip = chart.options.plugins.tooltip.callbacks.label;
  const row = {type: chart.config.type, sets: chart.data.datasets.map(d => [d.type || chart.config.type, d.label]),
    tick: chart.scales.y.options.ticks.callback(1234.5), tip: tooltip({parsed: {y: 1234.5}, dataset: first}),
    gap: tooltip({parsed: {y: null}, dataset: first}), stacked: !!chart.options.scales.x.stacked};
  if (chart.scales.share) {
    row.share = [chart.scales.share.min, chart.scales.share.max, chart.data.datasets[1].data];
  }
  return row;
})"""


def test_charts_js_draws_every_kind_and_formats_by_unit(
    web: RunningWorkspace, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        reports_module._REPORTS, "chart-kinds", ReportSpec("chart-kinds", "Chart kinds", "-", every_kind_of_chart)
    )
    problems = watch_console(page)
    web.login(page, "billing")
    page.goto(f"{web.url}/reports/chart-kinds")
    expect(page.get_by_role("status")).to_have_text("Appeals: no decisions recorded yet.")
    expect(page.locator("figure.report-chart", has_text="Nothing yet")).to_contain_text(
        "Nothing to chart for these filters."
    )
    expect(page.locator("section.report-section", has_text="Nothing")).to_contain_text(
        "Nothing to show for these filters."
    )
    charts = page.evaluate(FORMATTED)
    assert [(c["type"], c["sets"], c["stacked"]) for c in charts] == [
        ("bar", [["bar", "Claims"]], False),
        ("bar", [["bar", "0-30"], ["bar", "31-60"]], True),
        ("line", [["line", "Initial"]], False),
        ("bar", [["bar", "Median"]], False),
        ("bar", [["bar", "Dollars"], ["line", "Cumulative share"]], False),
    ]
    assert [(c["tick"], c["tip"]) for c in charts] == [
        ("1.2K", "Claims: 1,235"),
        ("$1.2K", "0-30: $1,234.50"),
        ("123,450%", "Initial: 123,450%"),
        ("1,234.5", "Median: 1,234.5 days"),
        ("$1.2K", "Dollars: $1,234.50"),
    ]
    assert charts[2]["gap"] == "Initial: no figure"
    assert charts[4]["share"] == [0, 1, [0.6, 0.9, 1.0]]
    figures = page.locator("details.chart-figures").nth(4)
    figures.locator("summary").click()
    expect(figures.locator("tbody tr").nth(1)).to_have_text(re.compile(r"CO-16\s*\$300\.00\s*90\.0%"))
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"reports-chart-kinds-{width}.png"), full_page=True)
    assert problems == []
