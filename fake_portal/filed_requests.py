"""What a portal keeps of a prior-authorization request submitted online (see fake_portal/auth_requests.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int
    is_pdf: bool


@dataclass
class RequestForm:
    """What was typed into a request form, before the portal checked it."""

    member_id: str = ""
    date_of_birth: date | None = None
    servicing_npi: str = ""
    procedure_codes: tuple[str, ...] = ()
    units: int | None = None
    start: date | None = None
    end: date | None = None
    diagnosis_codes: tuple[str, ...] = ()
    provider_reference: str = ""
    attachments: list[Attachment] = field(default_factory=list)


@dataclass(frozen=True)
class FiledRequest:
    """A request the portal filed: kept for the admin API and the "submitted requests" list."""

    portal: str
    payer_id: str
    reference: str
    form: RequestForm
    submitted_on: date
    submitted_at: datetime
