"""Authorization and credentialing exposure: dollars billed where the payer can deny for a missing or wrong
authorization, or for a provider not enrolled with it (the findings the worker raises, as dollars)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from flows.authorizations import outside_of
from flows.reports import Chart, Report, ReportFilter, ReportSpec, Series, register
from flows.reports.figures import money, range_words
from flows.tables import Cell, Column, Kind, Table
from portals.identifiers import normal_id
from store.reports import BilledClaim, authorizations, claims_billed_under_an_auth, claims_with_their_enrollment

AUTHORIZATION = "authorization"
ENROLLMENT = "enrollment"
SETTLED = ("paid",)  # once paid, no longer at risk (as the credentialing finding counts it)


def _auth_exposure(session: Session, chosen: ReportFilter) -> list[tuple[BilledClaim, str]]:
    auths = {normal_id(a.auth_number): a for a in authorizations(session)}
    exposed = []
    for claim in claims_billed_under_an_auth(session, chosen.date_from, chosen.date_to, chosen.payer):
        auth = auths.get(normal_id(claim.prior_auth_number or ""))
        if auth is None:
            continue  # an authorization the practice never imported: nothing to compare with
        why = []
        if auth.status in ("denied", "not_on_file"):
            why.append(f"authorization {auth.auth_number} is {auth.status.replace('_', ' ')}")
        codes, dates = outside_of(auth, claim.procedure_codes, claim.dos_from, claim.dos_to)
        if codes:
            why.append(f"codes {', '.join(codes)} not on authorization {auth.auth_number}")
        if dates:
            why.append(f"service dates outside authorization {auth.auth_number}")
        if why:
            exposed.append((claim, "; ".join(why)))
    return exposed


def _enrollment_exposure(session: Session, chosen: ReportFilter) -> list[tuple[BilledClaim, str]]:
    exposed = []
    for row in claims_with_their_enrollment(session, chosen.date_from, chosen.date_to, chosen.payer):
        if row.status != "active":
            why = f"provider {row.claim.rendering_npi} is {row.status.replace('_', ' ')} with the payer"
        else:
            why = f"service dates outside enrollment {row.effective or '...'} to {row.termination or '...'}"
        exposed.append((row.claim, why))
    return exposed


def compute(session: Session, chosen: ReportFilter, today: date) -> Report:
    found = {AUTHORIZATION: _auth_exposure(session, chosen), ENROLLMENT: _enrollment_exposure(session, chosen)}
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for kind, exposed in found.items():
        for claim, _ in exposed:
            figures = totals[(claim.payer_id, kind)]
            figures[0] += 1
            figures[1] += claim.billed
            figures[2] += claim.billed if claim.status not in SETTLED else 0
    summary: list[tuple[Cell, ...]] = [
        (payer, kind, int(f[0]), money(f[1]), money(f[2])) for (payer, kind), f in sorted(totals.items())
    ]
    detail: list[tuple[Cell, ...]] = [
        (c.claim_id, c.payer_id, kind, c.dos_from, money(c.billed), c.status, why)
        for kind, exposed in found.items()
        for c, why in exposed
    ]
    payers = sorted({p for p, _ in totals})
    charts = (
        [
            Chart(
                "Exposed dollars by payer",
                "stacked_bar",
                payers,
                [
                    Series(kind, [float(totals[(p, kind)][1]) if (p, kind) in totals else None for p in payers])
                    for kind in found
                ],
            )
        ]
        if payers
        else []
    )
    return Report(
        "exposure",
        "Authorization and credentialing exposure",
        chosen,
        [
            Table(
                "exposure",
                "Exposure by payer",
                (
                    Column("payer", "Payer"),
                    Column("kind", "Kind"),
                    Column("claims", "Claims", Kind.COUNT),
                    Column("billed", "Billed dollars", Kind.MONEY),
                    Column("unpaid", "Of which unpaid", Kind.MONEY),
                ),
                summary,
            ),
            Table(
                "exposure-claims",
                "Exposed claims",
                (
                    Column("claim", "Claim"),
                    Column("payer", "Payer"),
                    Column("kind", "Kind"),
                    Column("dos", "Date of service", Kind.DATE),
                    Column("billed", "Billed", Kind.MONEY),
                    Column("state", "Claim state"),
                    Column("why", "Why"),
                ),
                detail,
            ),
        ],
        charts,
        {
            "Authorization exposure": "claims billed under a prior authorization the practice imported whose "
            "procedure codes are not on it, whose service dates fall outside its window (what the payer "
            "approved, else the practice's record), or that the payer denied or does not have on file",
            "Enrollment exposure": "claims whose rendering provider's enrollment with the claim's payer, as last "
            "seen on the portal, is not active, or whose service dates fall outside its effective and "
            "termination dates; providers never checked are not counted",
            "Dates": "the date range applies to the claim's first date of service",
            "Of which unpaid": "billed dollars of the exposed claims not yet paid",
        },
        [] if detail else [f"no exposed claims {range_words(chosen)}"],
    )


SPEC = register(
    ReportSpec(
        "exposure",
        "Authorization and credentialing exposure",
        "Dollars billed outside an authorization or under an inactive provider enrollment.",
        compute,
    )
)
