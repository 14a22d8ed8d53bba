"""One queued task, given a logged-in portal session: ask the portal, record what changed.

Each kind of task is the unattended counterpart of a step of `check`, and records through
the same flow functions, so a task that is done again (after a crash, or a lease taken
over) finds nothing new and records nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from sqlalchemy.engine import Engine

from flows.appeals import file_appeal, follow_appeal
from flows.auth_requests import submit_request
from flows.authorizations import check_authorizations
from flows.claim_listing import ClaimListing
from flows.claim_states import ClaimState
from flows.claim_status import check_claim, record_status
from flows.credentialing import check_enrollments, offers_enrollment
from flows.eligibility_check import check_appointment
from flows.kept_evidence import KeepsEvidence
from flows.plausibility import MissingClaims, TooManyMissing
from flows.playbook import Playbook
from flows.remittances import fetch_new_remittances
from portals.capabilities import (
    AppealSubmission,
    AuthorizationLookup,
    AuthRequestSubmission,
    EligibilityInquiry,
    EnrollmentLookup,
    PayerEnrollments,
    PortalSession,
    RemittanceFiles,
)
from store.claims import get_claim
from store.db import session_scope


class TaskKind(StrEnum):
    CLAIM_STATUS = "claim_status"
    AUTHORIZATION = "authorization"
    ENROLLMENT = "enrollment"
    REMITTANCES = "remittances"
    ELIGIBILITY = "eligibility"
    AUTH_REQUEST = "auth_request"
    APPEAL = "appeal"  # file a queued appeal online, exactly once
    APPEAL_STATUS = "appeal_status"  # read a filed appeal's status page


def portal_does(capabilities: Collection[type], kind: TaskKind) -> bool:
    """Whether a portal whose adapter has these capabilities can do this kind of task at all."""
    if kind is TaskKind.AUTHORIZATION:
        return AuthorizationLookup in capabilities
    if kind is TaskKind.ENROLLMENT:
        return offers_enrollment(capabilities)
    if kind is TaskKind.REMITTANCES:
        return RemittanceFiles in capabilities
    if kind is TaskKind.ELIGIBILITY:
        return EligibilityInquiry in capabilities
    if kind is TaskKind.AUTH_REQUEST:
        return AuthRequestSubmission in capabilities
    if kind in (TaskKind.APPEAL, TaskKind.APPEAL_STATUS):
        return AppealSubmission in capabilities
    return True


class TaskNotOffered(TypeError):
    """A task reached a portal whose adapter cannot do its kind (its config changed after it was queued)."""

    def __init__(self, adapter: PortalSession, kind: TaskKind) -> None:
        super().__init__(f"{adapter.portal}: its adapter ({type(adapter).__name__}) does no {kind} tasks")


@dataclass(frozen=True)
class TaskResult:
    """What one task found, for the queue's record (`words`) and for `check`'s report."""

    words: str  # a few words, kept as the task's outcome
    claim_state: ClaimState | None = None  # claim status tasks: the state the portal answered
    changed: int = 0  # observations recorded (claims, authorizations, enrollments)
    checked: int = 0  # authorizations or enrollments read
    new_denials: int = 0
    eras: int = 0  # ERA files imported
    rejected_eras: tuple[tuple[str, str], ...] = ()  # (file id, why) of ERA files that did not parse
    held: bool = False  # a found claim missing now: the batch records or refuses it at its end (settle_missing)


def work_task(
    adapter: PortalSession,
    kind: TaskKind,
    target: str,
    engine: Engine,
    *,
    run_id: str,
    now: Callable[[], datetime],
    payer_ids: set[str],
    listing: ClaimListing | None = None,
    missing: MissingClaims | None = None,
    tz: tzinfo | None = None,
    keep_evidence: KeepsEvidence | None = None,
    playbook: Playbook | None = None,
) -> TaskResult:
    """Do one task and say what it found. Portal errors are raised for the runner.

    `listing`, the portal's claim list for the batch, answers for a claim that did not move and links the
    detail page of one that did;
    `missing` holds the batch's found claims that are missing now (see settle_missing). Eligibility checks
    date themselves in the practice's zone `tz` and keep the page with `keep_evidence`, as appeals keep their
    confirmation and a claim status check keeps the claim's page when it first sees a new status, payment or
    denial (flows/claim_evidence.py); an appeal's answer is due by the installation's `playbook`."""
    if kind is TaskKind.CLAIM_STATUS:
        with session_scope(engine) as session:
            claim = get_claim(session, target)
        if claim is None:
            return TaskResult("claim no longer imported")
        row = listing.row_for(claim) if listing is not None else None
        if listing is not None and row is not None and listing.unchanged(claim, row):
            listing.mark_checked(claim, now())
            if missing is not None:
                missing.found_checked += 1  # found in the portal's list: it counts toward what is normal
            return TaskResult(f"{claim.status}, unchanged (the portal's claim list)", ClaimState(claim.status))
        recorded = check_claim(
            adapter,
            claim,
            engine,
            run_id=run_id,
            now=now,
            missing=missing,
            keep_evidence=keep_evidence,
            detail_path=row.detail_path if row is not None else None,
            next_detail_paths=listing.details_after(claim) if listing is not None and row is not None else (),
        )
        if recorded.held:
            return TaskResult("missing from the portal, held until the batch ends", recorded.status, held=True)
        words = f"{recorded.status.value}, {'changed' if recorded.changes else 'unchanged'}"
        words += f", {recorded.new_denials} new denials" if recorded.new_denials else ""
        return TaskResult(words, recorded.status, changed=int(bool(recorded.changes)), new_denials=recorded.new_denials)
    if kind is TaskKind.AUTHORIZATION:
        if not isinstance(adapter, AuthorizationLookup):
            raise TaskNotOffered(adapter, kind)
        checked, changed = check_authorizations(adapter, [target], engine, run_id=run_id, now=now)
        return TaskResult("changed" if changed else "unchanged", changed=changed, checked=checked)
    if kind is TaskKind.ENROLLMENT:
        if not isinstance(adapter, (EnrollmentLookup, PayerEnrollments)):
            raise TaskNotOffered(adapter, kind)
        checked, changed = check_enrollments(adapter, [target], payer_ids, engine, run_id=run_id, now=now)
        return TaskResult(f"{checked} enrollments, {changed} changed", changed=changed, checked=checked)
    if kind is TaskKind.ELIGIBILITY:
        if not isinstance(adapter, EligibilityInquiry) or keep_evidence is None:
            raise TaskNotOffered(adapter, kind)
        answer = check_appointment(adapter, target, engine, run_id=run_id, now=now, tz=tz, keep_evidence=keep_evidence)
        return TaskResult(answer.words, checked=int(answer.asked))
    if kind is TaskKind.AUTH_REQUEST:
        if not isinstance(adapter, AuthRequestSubmission):
            raise TaskNotOffered(adapter, kind)
        # Every attempt, a retry after a failure included, looks on the portal before it may submit.
        submitted = submit_request(adapter, target, engine, run_id=run_id, now=now)
        return TaskResult(submitted.words, changed=int(submitted.state == "submitted"))
    if kind is TaskKind.APPEAL:
        if not isinstance(adapter, AppealSubmission) or keep_evidence is None or playbook is None:
            raise TaskNotOffered(adapter, kind)
        # Every attempt, a retry after a failure included, looks on the portal before it may submit.
        filed = file_appeal(adapter, target, engine, now=now, tz=tz, playbook=playbook, keep_evidence=keep_evidence)
        return TaskResult(filed.words, changed=int(filed.state == "filed"))
    if kind is TaskKind.APPEAL_STATUS:
        if not isinstance(adapter, AppealSubmission) or keep_evidence is None:
            raise TaskNotOffered(adapter, kind)
        words = follow_appeal(adapter, target, engine, now=now, tz=tz, keep_evidence=keep_evidence)
        return TaskResult(words, checked=1)
    if not isinstance(adapter, RemittanceFiles):
        raise TaskNotOffered(adapter, kind)
    fetched = fetch_new_remittances(adapter, engine, now)
    words = f"{len(fetched.imported)} ERA files imported"
    words += f", {len(fetched.rejected)} rejected" if fetched.rejected else ""
    return TaskResult(
        words,
        eras=len(fetched.imported),
        new_denials=sum(era.new_denials for era in fetched.imported),
        rejected_eras=tuple(fetched.rejected),
    )


def settle_missing(
    portal: str, missing: MissingClaims, engine: Engine, *, run_id: str, now: Callable[[], datetime]
) -> list[TaskResult]:
    """At a batch's end: its held claims become 'not on file', unless so many are missing that the claim
    search itself broke (TooManyMissing, raised with nothing written; the next run asks again)."""
    if missing.too_many():
        raise TooManyMissing(portal, missing)
    results = []
    for claim in missing.held:
        recorded = record_status(engine, claim, None, portal=portal, run_id=run_id, at=now())
        results.append(TaskResult(f"{recorded.status.value}, changed", recorded.status, changed=1))
    missing.held.clear()
    return results
