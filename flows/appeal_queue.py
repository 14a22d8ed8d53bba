"""Preparing an appeal of a denial at its next level, from the command line or the workspace; staff saying a fax
or letter was sent; a refused appeal queued again.

The level is the denial's next one (appeals filed so far + 1, named by payer_rules' appeal_levels); the
channel is the payer playbook's for that level. Online (portal, clearinghouse), the appeal is queued for the
worker, which files it exactly once (flows/appeals.py) on the portal that serves the payer; by fax or mail it is
prepared for staff to send, and recorded as filed when they say it went. The same denial and level appealed
twice stays one appeal: the second time says which one it already is.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from flows.appeal_progress import NONE_FILED, appeal_progress
from flows.appeals import ONLINE_CHANNELS, appeal_denial, filed_on_day, sync_appeal_findings
from flows.cadence import today_in
from flows.deadlines import RuleBook
from flows.denial_codes import DenialKind
from flows.playbook import Playbook
from store import appeals as appeals_store
from store.models import AppealRow, Denial

PDF_MAGIC = b"%PDF-"


class AppealProblem(ValueError):
    """An appeal that cannot be prepared, sent or queued; the message says why and never names a patient."""


@dataclass(frozen=True)
class Prepared:
    appeal_id: str
    new: bool  # False: this denial's appeal at that level was prepared, queued or filed already
    state: str
    channel: str
    level_name: str


def check_packet(path: Path, label: str = "--packet") -> Path:
    """A packet file that exists and is a PDF, as an absolute path."""
    resolved = path.expanduser().resolve()
    if not resolved.is_file():
        raise AppealProblem(f"{label}: {path.name} does not exist")
    with resolved.open("rb") as handle:
        if handle.read(len(PDF_MAGIC)) != PDF_MAGIC:
            raise AppealProblem(f"{label}: {path.name} is not a PDF file")
    return resolved


def keep_packet(source: Path, data_dir: Path, appeal_id: str) -> str:
    """A private copy of the packet beside the worker's data: what is filed is what staff chose now, even if
    they rebuild or move the original."""
    folder = data_dir / "appeals"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    target = folder / f"{appeal_id}.pdf"
    shutil.copyfile(source, target)
    target.chmod(0o600)
    return str(target)


def new_appeal_id() -> str:
    return f"AP-{secrets.token_hex(4).upper()}"


def prepare_appeal(
    session: Session,
    denial_id: int,
    *,
    packet: Callable[[str], str | None],
    by: str,
    now: datetime,
    rules: RuleBook,
    playbook: Playbook,
    portal_for: Callable[[str], str | None],
) -> Prepared:
    """Prepare (fax, mail) or queue (online) the appeal of a denial at its next level, in the caller's transaction.

    `portal_for(payer_id)`: the enabled portal that takes this payer's appeals online, or None. `packet(appeal_id)`:
    the packet file kept for the new appeal (None: none given). An appeal of the denial already waiting or filed
    at that level is returned as it is, and nothing is written."""
    denial = session.get(Denial, denial_id)
    if denial is None:
        raise AppealProblem(f"no denial {denial_id}")
    waiting = appeals_store.list_appeals(session, appeals_store.WAITING_STATES, denial_id=denial_id)
    if waiting:
        return _prepared(waiting[0], new=False)
    plan = next_appeal(session, denial, rules, playbook, portal_for)
    if plan.existing is not None:
        return _prepared(plan.existing, new=False)
    level, level_name, channel, portal = plan.level, plan.level_name, plan.channel, plan.portal
    payer_id = plan.payer_id
    appeal_id = new_appeal_id()
    packet_path = packet(appeal_id)
    if portal is not None and packet_path is None:
        raise AppealProblem(
            f"--packet: an online appeal uploads its packet: build it first (`portal-worker appeal build {denial_id}` "
            "or the claim page's packet button)"
        )
    row = AppealRow(
        appeal_id=appeal_id,
        denial_id=denial_id,
        claim_id=denial.claim_id,
        payer_id=payer_id,
        level=level,
        level_name=level_name,
        channel=channel,
        portal=portal,
        state="queued" if portal is not None else "prepared",
        packet_path=packet_path,
        disputed_amount=denial.amount,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            appeals_store.add_appeal(session, row)
    except IntegrityError:
        same = appeals_store.same_appeal(session, denial_id, level)
        if same is None:
            raise
        return _prepared(same, new=False)
    return _prepared(row, new=True)


@dataclass(frozen=True)
class NextAppeal:
    """What appealing a denial now means: its next level, the channel and the portal that takes it."""

    payer_id: str
    level: int
    level_name: str
    channel: str
    portal: str | None  # the config's portal filing it online; None by fax or mail
    existing: AppealRow | None = None  # this level's appeal, prepared, on its way or filed already

    @property
    def online(self) -> bool:
        return self.channel in ONLINE_CHANNELS


def next_appeal(
    session: Session,
    denial: Denial,
    rules: RuleBook,
    playbook: Playbook,
    portal_for: Callable[[str], str | None],
) -> NextAppeal:
    """The denial's next appeal (the levels filed so far + 1, flows.appeal_progress), or AppealProblem saying why
    none can be filed now."""
    assert denial.id is not None
    level = appeal_progress(session, [denial.id]).get(denial.id, NONE_FILED).filed + 1
    same = appeals_store.same_appeal(session, denial.id, level)
    if same is not None:
        return NextAppeal(same.payer_id, same.level, same.level_name, same.channel, same.portal, same)
    payer_id = _check_appealable(denial, level)
    levels = rules.for_payer(payer_id).appeal_levels
    if level > len(levels):
        raise AppealProblem(
            f"denial {denial.id}: {payer_id}'s {len(levels)} appeal level(s) have all been filed; none is left"
        )
    level_name = levels[level - 1].name
    channel = str(playbook.level(payer_id, level).channel)
    portal = portal_for(payer_id) if channel in ONLINE_CHANNELS else None
    if channel in ONLINE_CHANNELS and portal is None:
        raise AppealProblem(
            f"denial {denial.id}: the payer playbook files {payer_id}'s {level_name} through the {channel}, but no "
            f"enabled portal in the config takes {payer_id}'s appeals online"
        )
    return NextAppeal(payer_id, level, level_name, channel, portal)


def _check_appealable(denial: Denial, level: int) -> str:
    """The denial's payer id, if an appeal of it can be filed now."""
    if denial.claim_id is None or not denial.payer_id:
        raise AppealProblem(f"denial {denial.id} is on no imported claim (an ERA claim not matched): appeal it by hand")
    if denial.status != "open":
        raise AppealProblem(
            f"denial {denial.id} is {denial.status.replace('_', ' ')}: only an open denial is appealed "
            "(an upheld appeal sets it back to open)"
        )
    if not denial.appealable:
        raise AppealProblem(f"denial {denial.id}: a remark code says the payer grants no appeal rights for it")
    if denial.kind == DenialKind.SOFT.value and level == 1:
        raise AppealProblem(
            f"denial {denial.id} is a soft denial ({denial.category.replace('_', ' ')}): it is fixed by a corrected "
            f"claim, not an appeal (`portal-worker appeal build {denial.id}` writes the correction sheet)"
        )
    return denial.payer_id


def _prepared(row: AppealRow, *, new: bool) -> Prepared:
    return Prepared(row.appeal_id, new, row.state, row.channel, row.level_name)


def mark_sent(
    session: Session,
    appeal_id: str,
    *,
    on: date,
    by: str,
    now: datetime,
    tz: tzinfo | None,
    playbook: Playbook,
) -> AppealRow:
    """Staff sent a prepared appeal by fax or mail on `on`: it is filed, due an answer by `on` + the playbook's
    response_days, and its denial is appealed."""
    row = appeals_store.get_appeal(session, appeal_id)
    if row is None:
        raise AppealProblem(f"no appeal {appeal_id}")
    if row.channel in ONLINE_CHANNELS:
        raise AppealProblem(
            f"appeal {appeal_id} goes through the {row.channel}: the worker files it and records it "
            "(`sent` is for fax and mail)"
        )
    if row.state != "prepared":
        raise AppealProblem(f"appeal {appeal_id} is {row.state} already")
    today = today_in(now, tz)
    if on > today:
        raise AppealProblem(f"--on: {on} is in the future (today is {today})")
    denial = session.get(Denial, row.denial_id)
    if denial is not None and denial.denial_date is not None and on < denial.denial_date:
        raise AppealProblem(f"--on: {on} is before the denial ({denial.denial_date})")
    response_days = playbook.level(row.payer_id, row.level).response_days
    filed = appeals_store.mark_filed(
        session,
        appeal_id,
        confirmation=None,
        filed_at=filed_on_day(on, tz),
        filed_by=by,
        response_due=on + timedelta(days=response_days),
        portal_status=None,
        adopted=False,
        now=now,
    )
    appeal_denial(session, filed, now, by, f"sent by {row.channel} on {on}")
    return filed


def requeue(
    session: Session, appeal_id: str, now: datetime, *, packet: Callable[[str], str | None] = lambda _: None
) -> AppealRow:
    """A refused appeal, corrected (`packet(appeal_id)`: a new packet kept for it, or None), queued again; its
    finding resolves."""
    row = appeals_store.get_appeal(session, appeal_id)
    if row is None:
        raise AppealProblem(f"no appeal {appeal_id}")
    if row.state != "refused":
        raise AppealProblem(f"appeal {appeal_id} is {row.state}: only a refused appeal is queued again")
    same = appeals_store.same_appeal(session, row.denial_id, row.level)
    if same is not None:
        raise AppealProblem(
            f"denial {row.denial_id} is appealed at this level already, as {same.appeal_id} ({same.state})"
        )
    row = appeals_store.requeue(session, appeal_id, now, packet(appeal_id))
    session.flush()
    sync_appeal_findings(session, now)
    return row
