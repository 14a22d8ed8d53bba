"""`portal-worker auth request|requests|requeue` and `import auth-requests`: prior-authorization requests the
worker submits on the payers' portals (flows/auth_requests.py says how it does so exactly once)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from worker.cli.app import app, console, import_app, load_settings, open_engine, practice_today

if TYPE_CHECKING:
    from flows.auth_request_queue import Queued
    from worker.settings import Settings

auth_app = typer.Typer(
    help="Prior-authorization requests the worker submits on the payers' portals.", no_args_is_help=True
)
app.add_typer(auth_app, name="auth", rich_help_panel="Your data")

OPTION_NAMES = {
    "payer_id": "--payer",
    "member_id": "--member",
    "date_of_birth": "--dob",
    "servicing_npi": "--npi",
    "procedure_codes": "--codes",
    "units": "--units",
    "start_date": "--from",
    "end_date": "--to",
    "diagnosis_codes": "--diagnosis",
    "attachments": "--attach",
}
ByOption = Annotated[str, typer.Option("--by", help="Who queues it (recorded with it; default: your login).")]


def require_submitting_portal(settings: Settings, payer_id: str) -> None:
    """The payer's portal must be enabled and take requests online, or the request would wait forever."""
    from flows.auth_requests import RequestProblem
    from flows.task_work import TaskKind, portal_does
    from portals.registry import adapter_capabilities

    portal = settings.portal_for_payer(payer_id)
    if portal is None or not settings.portals[portal].enabled:
        raise RequestProblem(f"--payer {payer_id}: no enabled portal in the config answers for this payer")
    if not portal_does(adapter_capabilities(settings.portals[portal].adapter), TaskKind.AUTH_REQUEST):
        raise RequestProblem(f"--payer {payer_id}: its portal ({portal}) takes no prior-auth requests online")


def say_queued(queued: Queued) -> str:
    if queued.new:
        return f"Queued prior-authorization request {queued.request_id}."
    return f"Already queued as {queued.request_id} (same payer, member, codes and dates): nothing new was queued."


@auth_app.command("request")
def request_command(
    payer: Annotated[str, typer.Option(help="Payer id, e.g. UHP.")],
    member: Annotated[str, typer.Option(help="The member id on the patient's card.")],
    dob: Annotated[str, typer.Option(help="Date of birth, YYYY-MM-DD.")],
    npi: Annotated[str, typer.Option(help="Servicing provider NPI.")],
    codes: Annotated[str, typer.Option(help="CPT/HCPCS codes, ';'-separated.")],
    units: Annotated[str, typer.Option(help="Units requested.")],
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    to: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD.")],
    diagnosis: Annotated[str, typer.Option(help="ICD-10-CM codes, ';'-separated.")],
    attach: Annotated[list[Path] | None, typer.Option(help="A PDF to upload with it (repeatable).")] = None,
    by: ByOption = "",
) -> None:
    """Queue one request; the `auth_requests` job (or `check --what auth-requests`) submits it once."""
    from flows.auth_request_queue import check_fields, queue_records
    from store.db import session_scope
    from worker.clock import utcnow

    settings = load_settings()
    values = {
        "payer_id": payer,
        "member_id": member,
        "date_of_birth": dob,
        "servicing_npi": npi,
        "procedure_codes": codes,
        "units": units,
        "start_date": from_,
        "end_date": to,
        "diagnosis_codes": diagnosis,
        "attachments": ";".join(str(p) for p in attach or ()),
    }
    record = check_fields(values, practice_today(settings), Path.cwd(), OPTION_NAMES)
    require_submitting_portal(settings, record.payer_id)
    with session_scope(open_engine(settings)) as session:
        [queued] = queue_records(session, [record], by or getpass.getuser(), utcnow())
    console.print(say_queued(queued))


@import_app.command("auth-requests")
def import_requests_command(
    file: Annotated[Path, typer.Argument(help="CSV of prior-authorization requests to submit.")],
    by: ByOption = "",
) -> None:
    """Queue a CSV of requests; a file with any bad row (or attachment) queues nothing, with every problem listed."""
    from flows.auth_request_queue import queue_file, request_table
    from flows.csv_rows import read_table
    from flows.input_bounds import import_day
    from worker.clock import utcnow

    settings = load_settings()
    for record in read_table(file, request_table(file.resolve().parent), import_day(utcnow())).records:
        require_submitting_portal(settings, record.payer_id)
    queued = queue_file(open_engine(settings), file, by, utcnow())
    new = sum(q.new for q in queued)
    console.print(
        f"Queued {new} prior-authorization request(s) from {escape(file.name)}; {len(queued) - new} already queued."
    )


@auth_app.command("requests")
def list_command(
    state: Annotated[
        str | None, typer.Option(help="Only this state: queued, submitting, submitted, refused, needs_look.")
    ] = None,
) -> None:
    """List the requests with their state and the payer's reference number (no member ids)."""
    from store.auth_requests import STATES, list_requests
    from store.db import session_scope

    if state is not None and state not in STATES:
        raise typer.BadParameter(f"choose one of {', '.join(STATES)}", param_hint="--state")
    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        rows = list_requests(session, [state] if state else None)
    table = Table(
        "Request", "Payer", "Codes", "Dates", "State", "Reference", "Tries", "Portal's words / last error", "Queued by"
    )
    for row in rows:
        table.add_row(
            row.request_id,
            row.payer_id,
            ", ".join(row.procedure_codes),
            f"{row.start_date} to {row.end_date}",
            row.state + (" (found on the portal)" if row.adopted else ""),
            row.reference_number or "",
            str(row.attempts),
            escape(row.refusal or row.last_error or ""),
            escape(row.queued_by),
        )
    console.print(table)
    console.print(f"{len(rows)} request(s)")


@auth_app.command("requeue")
def requeue_command(
    request_id: Annotated[str, typer.Argument(help="The refused request, e.g. PA-1F2E3D4C.")],
    codes: Annotated[str | None, typer.Option(help="Corrected CPT/HCPCS codes, ';'-separated.")] = None,
    units: Annotated[str | None, typer.Option(help="Corrected units.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Corrected first day.")] = None,
    to: Annotated[str | None, typer.Option(help="Corrected last day.")] = None,
    diagnosis: Annotated[str | None, typer.Option(help="Corrected ICD-10-CM codes.")] = None,
    attach: Annotated[list[Path] | None, typer.Option(help="Replace the attachments (repeatable).")] = None,
) -> None:
    """Queue a refused request again, corrected as the portal said."""
    from flows.auth_request_queue import check_fields, requeue
    from flows.auth_requests import RequestProblem
    from store.auth_requests import get_request
    from store.db import session_scope
    from worker.clock import utcnow

    settings = load_settings()
    engine = open_engine(settings)
    with session_scope(engine) as session:
        row = get_request(session, request_id)
    if row is None:
        raise RequestProblem(f"no prior-authorization request {request_id}")
    values = {
        "payer_id": row.payer_id,
        "member_id": row.member_id,
        "date_of_birth": row.date_of_birth.isoformat(),
        "servicing_npi": row.servicing_npi,
        "procedure_codes": codes if codes is not None else ";".join(row.procedure_codes),
        "units": units if units is not None else str(row.units),
        "start_date": from_ or row.start_date.isoformat(),
        "end_date": to or row.end_date.isoformat(),
        "diagnosis_codes": diagnosis if diagnosis is not None else ";".join(row.diagnosis_codes),
        "attachments": ";".join(str(p) for p in attach) if attach is not None else ";".join(row.attachments),
    }
    record = check_fields(values, practice_today(settings), Path.cwd(), OPTION_NAMES)
    changes = {
        "procedure_codes": list(record.procedure_codes),
        "units": record.units,
        "start_date": record.start_date,
        "end_date": record.end_date,
        "diagnosis_codes": list(record.diagnosis_codes),
        "attachments": list(record.attachments),
    }
    requeue(engine, request_id, changes, utcnow())
    console.print(f"Queued {request_id} again.")
