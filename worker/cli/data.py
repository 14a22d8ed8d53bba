"""`init`, the imports from the practice management system, and the lists of what is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from worker.cli.app import app, console, err, import_app, load_settings, open_engine, practice_today
from worker.cli.export_files import CsvOption, XlsxOption, check_targets, write_exports
from worker.cli.paging import DEFAULT_LIMIT, LimitOption, OffsetOption, one_of, print_footer

PANEL = "Your data"


@import_app.command("claims")
def import_claims(file: Annotated[Path, typer.Argument(help="CSV export of submitted claims.")]) -> None:
    """Import claims; a file with any bad row is rejected whole, with every problem listed."""
    from flows.claim_import import import_claims_file
    from store.claims import claim_payer_ids
    from store.db import session_scope
    from worker.clock import utcnow

    settings = load_settings()
    engine = open_engine(settings)
    counts = import_claims_file(engine, file, utcnow())
    console.print(
        f"Imported {escape(file.name)}: {counts.inserted} new, {counts.updated} updated, {counts.unchanged} unchanged."
    )
    with session_scope(engine) as session:
        payers = claim_payer_ids(session)
    unrouted = sorted(p for p in payers if settings.portal_for_payer(p) is None)
    if unrouted:
        err.print(
            f"[yellow]No portal in the config answers for payer(s) {escape(', '.join(unrouted))}; "
            "their claims will not be checked.[/]"
        )


@import_app.command("auths")
def import_auths(file: Annotated[Path, typer.Argument(help="CSV export of prior authorizations.")]) -> None:
    """Import authorizations; a file with any bad row is rejected whole, with every problem listed."""
    from flows.auth_import import import_auths_file
    from worker.clock import utcnow

    counts = import_auths_file(open_engine(load_settings()), file, utcnow())
    console.print(
        f"Imported {escape(file.name)}: {counts.inserted} new, {counts.updated} updated, {counts.unchanged} unchanged."
    )


@import_app.command("appointments")
def import_appointments(
    file: Annotated[Path, typer.Argument(help="CSV export of the practice's schedule (the next days' appointments).")],
) -> None:
    """Import appointments for the eligibility check; a file with any bad row is rejected whole, with every
    problem listed. A newer export replaces what an older one said about the days it covers."""
    from flows.appointment_import import import_appointments_file
    from flows.eligibility_check import sync_eligibility_findings
    from worker.clock import utcnow

    settings = load_settings()
    engine = open_engine(settings)
    counts = import_appointments_file(engine, file, utcnow())
    sync_eligibility_findings(engine, practice_today(settings), utcnow())  # a cancelled visit's findings close
    console.print(
        f"Imported {escape(file.name)} ({counts.first_day} to {counts.last_day}): {counts.inserted} new, "
        f"{counts.updated} updated, {counts.unchanged} unchanged, {counts.cancelled} cancelled "
        f"(no longer in the schedule), {counts.restored} back on the schedule.",
        highlight=False,
    )


@import_app.command("providers")
def import_providers(
    file: Annotated[Path, typer.Argument(help="CSV of the practice's providers (NPI, name, CAQH attestation date).")],
) -> None:
    """Import providers; a file with any bad row is rejected whole, with every problem listed."""
    from flows.provider_import import import_providers_file
    from worker.clock import utcnow

    counts = import_providers_file(open_engine(load_settings()), file, utcnow())
    console.print(
        f"Imported {escape(file.name)}: {counts.inserted} new, {counts.updated} updated, {counts.unchanged} unchanged."
    )


@import_app.command("era")
def import_era_file(file: Annotated[Path, typer.Argument(help="An X12 835 remittance file.")]) -> None:
    """Import an ERA (835) from disk: its denials join the worklist; a malformed file imports nothing."""
    from flows.remittances import import_era
    from worker.clock import utcnow

    data = _read_era(file)
    settings = load_settings()
    result = import_era(open_engine(settings), data, source="file", file_id=file.name, at=utcnow())
    if result.already_imported:
        console.print(f"{escape(file.name)} was imported before; nothing to do.", highlight=False)
        return
    console.print(
        f"Imported {escape(file.name)}: {result.claims} claim(s), payments {result.payments:,.2f}, "
        f"{result.new_denials} new denial(s), {result.resolved_denials} resolved.",
        highlight=False,
    )
    for warning in result.warnings:
        err.print(f"[yellow]warning: {escape(warning.text)}[/]", highlight=False)
    if result.unmatched:
        err.print(
            f"[yellow]{len(result.unmatched)} claim(s) not in your claims (kept, listed in the worklist): "
            f"{escape(', '.join(result.unmatched))}[/]",
            highlight=False,
        )


def _read_era(file: Path) -> bytes:
    """The file's bytes, or one line saying why there are none (exit code 2, nothing imported)."""
    try:
        return file.read_bytes()
    except FileNotFoundError:
        why = "no such file"
    except IsADirectoryError:
        why = "is a directory, not a file"
    except PermissionError:
        why = "cannot be read (permission denied)"
    except OSError as exc:
        why = f"cannot be read ({exc.strerror or type(exc).__name__})"
    err.print(f"[red]error:[/] {escape(str(file))}: {why}; nothing was imported", highlight=False)
    raise typer.Exit(2)


@app.command("auths", rich_help_panel=PANEL)
def list_auths_command(
    status: Annotated[str | None, typer.Option(help="Only this state, e.g. pending.")] = None,
    payer: Annotated[str | None, typer.Option(help="Only this payer id.")] = None,
    limit: LimitOption = DEFAULT_LIMIT,
    offset: OffsetOption = 0,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
) -> None:
    """List authorizations with what the payer last said (no patient names or member ids)."""
    from flows.list_tables import authorizations_table
    from store.authorizations import authorizations_page
    from store.db import session_scope
    from worker.cli import display

    check_targets(csv_path, xlsx_path)
    settings = load_settings()
    exporting = bool(csv_path or xlsx_path)
    if exporting:
        limit, offset = 0, 0  # every matching row
    with session_scope(open_engine(settings)) as session:
        page = authorizations_page(session, limit, offset, status=status, payer_id=payer)
    if exporting:
        table = authorizations_table(page.items, patient_names=settings.alerts.include_patient_names)
        write_exports(table, settings.worker.tzinfo, csv_path, xlsx_path, "authorization(s)")
        return
    console.print(display.auths_table(page.items, page.total, settings.worker.tzinfo))
    print_footer(console, page, "authorization(s)")


@app.command("providers", rich_help_panel=PANEL)
def list_providers_command(
    limit: LimitOption = DEFAULT_LIMIT,
    offset: OffsetOption = 0,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
) -> None:
    """List providers and their enrollment with each payer, as the portals last showed it."""
    from flows.list_tables import enrollments_table
    from store.db import session_scope
    from store.list_exports import providers_with_enrollments
    from store.observations import all_enrollments
    from store.providers import providers_page
    from worker.cli import display

    check_targets(csv_path, xlsx_path)
    settings = load_settings()
    if csv_path or xlsx_path:
        with session_scope(open_engine(settings)) as session:
            table = enrollments_table(providers_with_enrollments(session), "providers", "Providers")
        write_exports(table, settings.worker.tzinfo, csv_path, xlsx_path, "row(s), one per provider and payer,")
        return
    with session_scope(open_engine(settings)) as session:
        page, enrollments = providers_page(session, limit, offset), all_enrollments(session)
    console.print(display.providers_table(page.items, enrollments, page.total, settings.worker.tzinfo))
    print_footer(console, page, "provider(s)")


@app.command("findings", rich_help_panel=PANEL)
def list_findings_command(
    include_resolved: Annotated[bool, typer.Option("--all", help="Also findings that were resolved.")] = False,
    limit: LimitOption = DEFAULT_LIMIT,
    offset: OffsetOption = 0,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
) -> None:
    """Authorizations and enrollments about to cause denials, soonest first."""
    from flows.list_tables import findings_table
    from store.db import session_scope
    from store.findings import findings_page
    from worker.cli import display

    check_targets(csv_path, xlsx_path)
    settings = load_settings()
    exporting = bool(csv_path or xlsx_path)
    if exporting:
        limit, offset = 0, 0  # every matching row
    with session_scope(open_engine(settings)) as session:
        page = findings_page(session, limit, offset, include_resolved=include_resolved)
    if exporting:
        write_exports(findings_table(page.items), settings.worker.tzinfo, csv_path, xlsx_path, "finding(s)")
        return
    console.print(display.findings_table(page.items, page.total))
    print_footer(console, page, "finding(s)")


@app.command("claims", rich_help_panel=PANEL)
def list_claims_command(
    status: Annotated[str | None, typer.Option(help="Only claims in this state, e.g. denied.")] = None,
    payer: Annotated[str | None, typer.Option(help="Only this payer id.")] = None,
    limit: LimitOption = DEFAULT_LIMIT,
    offset: OffsetOption = 0,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
) -> None:
    """List claims with their latest status (no patient names or member ids)."""
    from flows.claim_states import ClaimState
    from flows.list_tables import claims_table
    from store.claims import claims_page
    from store.db import session_scope
    from store.list_exports import claims_for_export
    from store.search import ClaimSearch
    from worker.cli import display

    status = one_of(status, [state.value for state in ClaimState], "--status")
    check_targets(csv_path, xlsx_path)
    settings = load_settings()
    if csv_path or xlsx_path:
        chosen = ClaimSearch(payer_id=payer, status=status, sort="claim", descending=False)
        with session_scope(open_engine(settings)) as session:
            table = claims_table(
                claims_for_export(session, chosen), patient_names=settings.alerts.include_patient_names
            )
        write_exports(table, settings.worker.tzinfo, csv_path, xlsx_path, "claim(s)")
        return
    with session_scope(open_engine(settings)) as session:
        page = claims_page(session, limit, offset, status=status, payer_id=payer)
    console.print(display.claims_table(page.items, page.total, settings.worker.tzinfo))
    print_footer(console, page, "claim(s)")
