"""The claim page's appeals: each denial's appeals with their state, confirmation, what the portal last said and
when the payer's answer is due, and the two things staff do here: appeal a denial at its next level ("File online"
queues it for the worker, which files it exactly once; by fax or mail it is prepared) and say a fax or letter was
sent ("Mark sent")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from flows.appeal_queue import AppealProblem, NextAppeal, check_packet, keep_packet, mark_sent, next_appeal
from flows.appeal_queue import prepare_appeal as prepare
from flows.csv_rows import BadValue, parse_date
from flows.deadlines import load_payer_rules
from flows.task_work import TaskKind
from store import appeals as appeals_store
from store.models import AppealRow, Denial
from web.deps import CurrentStaff, Db, Forbidden, Now, audit
from web.sessions import Staff
from web.templating import render
from worker.runtime.packets import packet_path
from worker.runtime.planning import portal_taking
from worker.settings import Settings

router = APIRouter()

FILING_ROLES = frozenset({"admin", "billing"})  # whoever works denials


@dataclass(frozen=True)
class DenialAppeals:
    """One denial of the claim: its appeals, newest first, and what appealing it now would mean."""

    denial: Denial
    appeals: list[AppealRow]
    next: NextAppeal | None  # None: nothing to file now (see why_not), or one is waiting already
    why_not: str | None
    packet_ready: bool  # the packet `appeal build` writes for the denial is there

    @property
    def codes(self) -> str:
        return "/".join([f"{self.denial.group_code}-{self.denial.carc}", *self.denial.rarcs])


@dataclass(frozen=True)
class AppealsPanel:
    claim_id: str
    denials: list[DenialAppeals]
    may_file: bool
    today: date

    @property
    def count(self) -> int:
        return sum(len(d.appeals) for d in self.denials)


def appeals_panel(db: Session, settings: Settings, claim_id: str, *, today: date, may_file: bool) -> AppealsPanel:
    rules, playbook = load_payer_rules(), settings.playbook()
    appeals = appeals_store.list_appeals(db, claim_id=claim_id)
    entries = []
    for denial in appeals_store.denials_of_claim(db, claim_id):
        assert denial.id is not None
        own = [a for a in appeals if a.denial_id == denial.id]
        waiting = any(a.state in appeals_store.WAITING_STATES for a in own)
        plan, why_not = None, None
        if not waiting:
            try:
                plan = next_appeal(
                    db, denial, rules, playbook, lambda payer: portal_taking(settings, TaskKind.APPEAL, payer)
                )
            except AppealProblem as problem:
                why_not = str(problem)
        if plan is not None and plan.existing is not None:
            plan = None  # filed at that level already: listed with the others
        if own or plan is not None or denial.status == "open":
            ready = packet_path(settings.worker.data_dir, denial.id).is_file()
            entries.append(DenialAppeals(denial, own, plan, why_not, ready))
    return AppealsPanel(claim_id, entries, may_file, today)


def claim_appeals(request: Request, claim_id: str) -> AppealsPanel:
    """The claim page's appeals section, read in the request's own unit of work (on SQLite a second one would wait
    for the write lock the request holds). The claim page's template asks for it by this name."""
    staff: Staff | None = getattr(request.state, "staff", None)
    return appeals_panel(
        request.state.db,
        request.app.state.settings,
        claim_id,
        today=_today(request),
        may_file=staff is not None and staff.role in FILING_ROLES,
    )


def _after(
    request: Request, db: Session, staff: Staff, claim_id: str, *, notice: str = "", error: str = "", focus: str = ""
) -> Response:
    """htmx: the appeals section again, with what happened; a plain form: back to the claim page, which says it."""
    if not request.headers.get("HX-Request"):
        said = urlencode({"appeal_error": error} if error else {"appeal_notice": notice})
        return RedirectResponse(f"/claims/{quote(claim_id, safe='')}?{said}#appeals", status_code=303)
    panel = appeals_panel(
        db, request.app.state.settings, claim_id, today=_today(request), may_file=staff.role in FILING_ROLES
    )
    return render(
        request,
        "claim_appeals.html",
        appeals_panel=panel,
        appeals_notice=notice,
        appeals_error=error,
        appeals_focus=focus,
    )


def _today(request: Request) -> date:
    moment = request.app.state.clock()
    today: date = moment.astimezone(request.app.state.tz).date()
    return today


def _may_file(staff: Staff) -> None:
    if staff.role not in FILING_ROLES:
        raise Forbidden("Only billing or an admin files appeals.")


@router.post("/claims/{claim_id}/denials/{denial_id}/appeal")
def file_appeal(request: Request, claim_id: str, denial_id: int, db: Db, staff: CurrentStaff, moment: Now) -> Response:
    """Appeal the denial at its next level: queued for the worker (online) or prepared (fax, mail), with the packet
    built for the denial."""
    _may_file(staff)
    denial = db.get(Denial, denial_id)
    if denial is None or denial.claim_id != claim_id:
        return _after(request, db, staff, claim_id, error=f"Denial {denial_id} is not on claim {claim_id[:64]}.")
    settings = request.app.state.settings
    built = packet_path(settings.worker.data_dir, denial_id)

    def keep(appeal_id: str) -> str | None:
        if not built.is_file():
            return None
        return keep_packet(check_packet(built, "Packet"), settings.worker.data_dir, appeal_id)

    try:
        prepared = prepare(
            db,
            denial_id,
            packet=keep,
            by=staff.name,
            now=moment,
            rules=load_payer_rules(),
            playbook=settings.playbook(),
            portal_for=lambda payer: portal_taking(settings, TaskKind.APPEAL, payer),
        )
    except AppealProblem as problem:
        words = str(problem).replace("--packet: ", "")
        return _after(request, db, staff, claim_id, error=words[:1].upper() + words[1:], focus=str(denial_id))
    if not prepared.new:
        audit(request, db, staff, "appeal_again", claim_id, prepared.appeal_id)
        notice = f"Already appealed at this level as {prepared.appeal_id} ({prepared.state}): nothing new was filed."
    elif prepared.state == "queued":
        audit(request, db, staff, "appeal_queued", claim_id, prepared.appeal_id)
        notice = (
            f"Queued {prepared.appeal_id} ({prepared.level_name}): the worker files it on the payer's portal within "
            "minutes, once."
        )
    else:
        audit(request, db, staff, "appeal_prepared", claim_id, prepared.appeal_id)
        notice = (
            f"Prepared {prepared.appeal_id} ({prepared.level_name}) to send by {prepared.channel}: mark it sent "
            "once it has gone."
        )
    return _after(request, db, staff, claim_id, notice=notice, focus=str(denial_id))


@router.post("/claims/{claim_id}/appeals/{appeal_id}/sent")
def appeal_sent(
    request: Request,
    claim_id: str,
    appeal_id: str,
    db: Db,
    staff: CurrentStaff,
    moment: Now,
    on: Annotated[str, Form()] = "",
) -> Response:
    """A fax or mail appeal went out on `on`: filed that day, its answer due by the playbook's response time."""
    _may_file(staff)
    row = appeals_store.get_appeal(db, appeal_id)
    if row is None or row.claim_id != claim_id:
        return _after(request, db, staff, claim_id, error=f"Appeal {appeal_id[:20]} is not on claim {claim_id[:64]}.")
    try:
        try:
            day = parse_date(on.strip())
        except BadValue as bad:
            raise AppealProblem(f"Sent on: {bad.reason}") from None
        filed = mark_sent(
            db,
            appeal_id,
            on=day,
            by=staff.name,
            now=moment,
            tz=request.app.state.tz,
            playbook=request.app.state.settings.playbook(),
        )
    except AppealProblem as problem:
        words = str(problem).replace("--on: ", "Sent on: ")
        return _after(request, db, staff, claim_id, error=words, focus=str(row.denial_id))
    audit(request, db, staff, "appeal_sent", claim_id, f"{appeal_id} on {day}")
    notice = f"Recorded {appeal_id} as sent on {day}: the payer's answer is due by {filed.response_due}."
    return _after(request, db, staff, claim_id, notice=notice, focus=str(row.denial_id))
