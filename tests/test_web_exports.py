"""Every list page in the workspace exports every row its filters match (not only the page shown) as CSV and
Excel, under a dated file name, and each export is written to the audit log. Downloads in real Chromium for
the claims and alerts pages; the other lists and the refusals over httpx."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from playwright.sync_api import Page, expect
from sqlmodel import select

from store.db import session_scope
from store.list_exports import claims_for_export
from store.models import Authorization, Enrollment, Finding
from store.search import ClaimSearch
from store.staff import audit_page
from store.workspace_pages import alerts_tab_page
from tests.test_web_alerts import logged_in
from tests.web_support import USER_OF_ROLE, RunningWorkspace

SHOTS = Path("test-results/screenshots")


def exports_of(ws: RunningWorkspace) -> list[tuple[str | None, str | None, str | None]]:
    """(who, what, detail) of every export in the audit log, oldest first."""
    with session_scope(ws.engine) as session:
        entries = audit_page(session, 0, 0, actions=["export"]).items
        return [(e.user_name, e.subject, e.detail) for e in reversed(entries)]


def local_text(ws: RunningWorkspace, moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(ws.settings.worker.tzinfo).strftime("%Y-%m-%d %H:%M:%S")


def downloaded_sheet(path: Path) -> Worksheet:
    """The first sheet of a download (Chromium keeps it under a name without its .xlsx)."""
    sheet = load_workbook(io.BytesIO(path.read_bytes())).worksheets[0]
    assert isinstance(sheet, Worksheet)
    return sheet


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_claims_found_download_as_csv_and_excel_every_row_not_one_page(web: RunningWorkspace, page: Page) -> None:
    with session_scope(web.engine) as session:
        expected = claims_for_export(session, ClaimSearch(billed_min=Decimal(1)))
    assert len(expected) > 25  # more than the page shows
    web.login(page, "billing")
    page.goto(f"{web.url}/search?billed_min=1")
    expect(page.locator("table.results tbody tr")).to_have_count(25)
    shoot(page, "search-exports")
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Export CSV").click()
    assert csv_download.value.suggested_filename.startswith(
        "claims-"
    ) and csv_download.value.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text(encoding="utf-8"))))
    assert [r["claim"] for r in rows] == [e.claim.claim_id for e in expected]  # the page's order: newest submitted
    for row, e in zip(rows, expected, strict=True):
        c = e.claim
        assert (row["payer"], row["payer_claim_number"], row["state"]) == (
            c.payer_id,
            c.payer_claim_number or "",
            c.status,
        )
        assert (row["dos_from"], row["billed"]) == (c.dos_from.isoformat(), f"{c.billed_amount:.2f}")
        assert row["paid"] == ("" if c.paid_amount is None else f"{c.paid_amount:.2f}")
        assert row["check_eft_number"] == (e.payment.number if e.payment else "")
        assert row["open_denials"] == str(len(e.denials))
        assert row["carcs"] == " ".join(dict.fromkeys(f"{d.group_code}-{d.carc}" for d in e.denials))
        assert row["last_checked"] == local_text(web, c.last_checked_at)
        assert "patient_name" not in row  # the workspace shows names; a file that leaves it does not carry them
    assert any(r["check_eft_number"] for r in rows), "the fake portal pays some claims by check or EFT"

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Export Excel").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    sheet = downloaded_sheet(xlsx_download.value.path())
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(values) == len(rows)
    keys = list(rows[0])
    for row, cells in zip(rows, values, strict=True):
        cell = dict(zip(keys, cells, strict=True))
        assert cell["claim"] == row["claim"] and cell["billed"] == float(row["billed"])
        assert isinstance(cell["dos_from"], datetime) and cell["dos_from"].date().isoformat() == row["dos_from"]
    assert sheet["F2"].number_format == "#,##0.00" and sheet["D2"].number_format == "yyyy-mm-dd"

    exports = exports_of(web)
    assert [(who, what) for who, what, _ in exports] == [(USER_OF_ROLE["billing"], "claims")] * 2
    assert exports[0][2] == f"csv, {len(rows)} row(s); billed_min=1"


def test_the_alerts_shown_download_with_their_filters(web: RunningWorkspace, page: Page) -> None:
    web.login(page, "billing")
    page.goto(f"{web.url}/alerts?owner=all")
    expect(page.get_by_role("group", name="Export")).to_be_visible()
    shoot(page, "alerts-exports")
    with session_scope(web.engine) as session:
        expected = list(alerts_tab_page(session, "waiting", web.clock(), 0, 0).items)
    assert expected
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [int(r["id"]) for r in rows] == [a.id for a in expected]  # most severe first, as the page lists them
    for row, a in zip(rows, expected, strict=True):
        assert (row["severity"], row["kind"], row["title"], row["owner"], row["status"]) == (
            a.severity,
            a.kind,
            a.title,
            a.owner,
            a.status,
        )
        assert row["amount"] == ("" if a.amount is None else f"{a.amount:.2f}")
        assert row["due"] == (a.due.isoformat() if a.due else "")
        assert row["opened"] == local_text(web, a.opened_at)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export Excel").click()
    values = list(downloaded_sheet(download.value.path()).iter_rows(min_row=2, values_only=True))
    assert [v[0] for v in values] == [a.id for a in expected]
    assert [(who, what) for who, what, _ in exports_of(web)] == [(USER_OF_ROLE["billing"], "alerts")] * 2

    # one severity only: the export follows the filter
    severity = expected[0].severity
    page.goto(f"{web.url}/alerts?owner=all&severity={severity}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [int(r["id"]) for r in rows] == [a.id for a in expected if a.severity == severity]


def test_findings_authorizations_enrollments_and_the_worklist_export_every_matching_row(web: RunningWorkspace) -> None:
    client, _ = logged_in(web)
    with session_scope(web.engine) as session:
        findings = list(session.exec(select(Finding).where(Finding.status == "open")))
        auths = list(session.exec(select(Authorization).order_by(Authorization.auth_number)))
        enrollments = list(session.exec(select(Enrollment).order_by(Enrollment.npi, Enrollment.payer_id)))
    assert auths and enrollments
    payer = auths[0].payer_id
    for page_path, count in (
        ("/findings", len(findings)),
        (f"/authorizations?payer={payer}", sum(a.payer_id == payer for a in auths)),
        ("/enrollments", len(enrollments)),
    ):
        shown = client.get(page_path).text
        base, _, query = page_path.partition("?")
        if count:
            assert f'href="{base}/export.csv{"?" + query if query else ""}"' in shown
        for fmt in ("csv", "xlsx"):
            got = client.get(f"{base}/export.{fmt}" + (f"?{query}" if query else ""))
            assert got.status_code == 200, got.text
            disposition = got.headers["content-disposition"]
            assert disposition.startswith(f'attachment; filename="{base.strip("/")}-') and disposition.endswith(
                f'.{fmt}"'
            )
            if fmt == "csv":
                rows = list(csv.DictReader(io.StringIO(got.text)))
            else:
                sheet = load_workbook(io.BytesIO(got.content)).worksheets[0]
                rows = list(sheet.iter_rows(min_row=2, values_only=True))  # type: ignore[arg-type]
            assert len(rows) == count, (page_path, fmt)
    auth_rows = list(csv.DictReader(io.StringIO(client.get(f"/authorizations/export.csv?payer={payer}").text)))
    for row, a in zip(auth_rows, [a for a in auths if a.payer_id == payer], strict=True):
        assert (row["auth_number"], row["state"], row["units_used"]) == (
            a.auth_number,
            a.status,
            "" if a.units_used is None else str(a.units_used),
        )
        assert (row["start"], row["end"]) == (a.start_date.isoformat(), a.end_date.isoformat())
    enrollment_rows = list(csv.DictReader(io.StringIO(client.get("/enrollments/export.csv").text)))
    for row, e in zip(enrollment_rows, enrollments, strict=True):
        assert (row["npi"], row["payer"], row["status"]) == (e.npi, e.payer_id, e.status)
        assert row["last_checked"] == local_text(web, e.last_checked_at)
    worklist = client.get("/worklist/export.xlsx?owner=all")
    assert worklist.status_code == 200
    assert load_workbook(io.BytesIO(worklist.content)).worksheets[0]["A1"].value == "Denial"
    subjects = [what for _, what, _ in exports_of(web)]
    assert subjects.count("findings") == 2 and subjects.count("authorizations") == 3
    assert subjects.count("enrollments") == 3 and subjects.count("worklist") == 1


def test_nobody_logged_in_exports_nothing_and_an_unknown_format_is_not_found(web: RunningWorkspace) -> None:
    anonymous = httpx.Client(base_url=web.url, follow_redirects=False, timeout=30)
    for path in (
        "/search/export.csv?payer=UNITY",
        "/worklist/export.xlsx",
        "/alerts/export.csv",
        "/findings/export.xlsx",
        "/authorizations/export.csv",
        "/enrollments/export.xlsx",
    ):
        refused = anonymous.get(path)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login?next=")
        assert "csv" not in refused.headers.get("content-type", "") and not refused.content.startswith(b"PK")
    assert exports_of(web) == []
    client, _ = logged_in(web)
    assert client.get("/alerts/export.pdf").status_code == 404
    bad = client.get("/search/export.csv?dos_from=yesterday")
    assert bad.status_code == 400 and "is not a date" in bad.text
    assert exports_of(web) == []
