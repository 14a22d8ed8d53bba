"""The feed's format, a contract with the practice's PM system: the event types and the envelope each
event is sent in (docs/feed-events.md). Pure: what is stored comes in, what a channel sends goes out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

# Every type the store writes (store/outbox.py), in the order docs/feed-events.md describes them.
EVENT_TYPES = (
    "claim.status_changed",
    "claim.payment_seen",
    "denial.opened",
    "denial.status_changed",
    "denial.resolved",
    "denial.reopened",
    "denial.written_off",
    "appeal.filed",
    "appeal.decided",
    "authorization.changed",
    "enrollment.changed",
    "eligibility.checked",
    "finding.opened",
    "finding.resolved",
)
ENVELOPE_VERSION = 1


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event as the store holds it (store.models.FeedEvent's columns)."""

    seq: int
    event_id: str
    type: str
    version: int
    occurred_at: datetime
    claim_id: str | None
    subject: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PatientDetails:
    """What only an installation that turned patient details on sends: names and member ids, by key."""

    claim_names: Mapping[str, str]  # claim id -> patient name
    appointment_names: Mapping[str, str]  # appointment id -> patient name
    appointment_member_ids: Mapping[str, str]  # appointment id -> the member id the payer has now


@dataclass(frozen=True, slots=True)
class NextStep:
    """A denial's next step as the worklist says it, and its deadline (None where no rule gives one)."""

    action: str
    deadline: date | None


def _iso(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def envelope(
    event: StoredEvent, details: PatientDetails | None = None, next_steps: Mapping[int, NextStep | None] | None = None
) -> dict[str, Any]:
    """What is sent for one event: the same dict whatever the channel. A denial's event carries its next
    step and deadline (`next_steps`, by denial id: flows/feed_deadlines.py), null once it is settled."""
    data = dict(event.body)
    if event.type.startswith("denial."):
        step = (next_steps or {}).get(int(data.get("denial_id") or 0))
        data["next_action"] = step.action if step else None
        data["deadline"] = step.deadline.isoformat() if step and step.deadline else None
    if details is not None:
        if event.claim_id is not None and event.claim_id in details.claim_names:
            data["patient_name"] = details.claim_names[event.claim_id]
        if event.type == "eligibility.checked":
            appointment = str(data.get("appointment_id"))
            if appointment in details.appointment_names:
                data["patient_name"] = details.appointment_names[appointment]
            if appointment in details.appointment_member_ids:
                data["member_id"] = details.appointment_member_ids[appointment]
    return {
        "id": event.event_id,
        "type": event.type,
        "version": event.version,
        "envelope_version": ENVELOPE_VERSION,
        "sequence": event.seq,
        "occurred_at": _iso(event.occurred_at),
        "claim_id": event.claim_id,
        "subject": event.subject,
        "data": data,
    }


def encode(message: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys in the order above, UTF-8."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
