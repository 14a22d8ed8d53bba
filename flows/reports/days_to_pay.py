"""Days to pay: how long each payer takes from the claim's submission to its payment."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlmodel import Session

from flows.claim_states import ClaimState
from flows.remittances import PAID_STATUSES
from flows.reports import Chart, Report, ReportFilter, ReportSpec, Series, register
from flows.reports.figures import day_of, in_range, median, percentile, range_words
from flows.tables import Column, Kind, Table
from store.reports import REVERSAL, era_payments, portal_payments

PAID_STATES = (ClaimState.PAID, ClaimState.PARTIALLY_PAID)


def payment_dates(session: Session, payer: str | None) -> dict[str, tuple[str, date, date]]:
    """claim id -> (payer, submitted, paid on): the ERA payment that stands (the first after the claim's last
    reversal), else the first portal observation that said paid."""
    paid: dict[str, tuple[str, date, date]] = {}
    era_by_claim: dict[str, list[tuple[str, date, date | None, bool]]] = defaultdict(list)
    for p in era_payments(session, payer):
        pays = p.status_code in PAID_STATUSES and p.paid > 0
        if pays or p.status_code == REVERSAL:
            era_by_claim[p.claim_id].append((p.payer_id, p.submitted_date, p.paid_on, pays))
    for claim_id, events in era_by_claim.items():
        standing = None  # ERA rows come in file order: a reversal cancels the payments before it
        for payer_id, submitted, paid_on, pays in events:
            if not pays:
                standing = None
            elif standing is None and paid_on is not None:
                standing = (payer_id, submitted, paid_on)
        if standing is not None:
            paid[claim_id] = standing
    for o in portal_payments(session, PAID_STATES, payer):
        if o.claim_id not in paid and o.claim_id not in era_by_claim:
            paid[o.claim_id] = (o.payer_id, o.submitted_date, o.payment_date or o.status_date or day_of(o.observed_at))
    return paid


def compute(session: Session, chosen: ReportFilter, today: date) -> Report:
    days: dict[str, list[int]] = defaultdict(list)
    for payer_id, submitted, paid_on in payment_dates(session, chosen.payer).values():
        if in_range(paid_on, chosen):
            days[payer_id].append((paid_on - submitted).days)
    payers = sorted(days)
    everyone = [d for payer_id in payers for d in days[payer_id]]
    rows = [(p, len(days[p]), median(days[p]), percentile(days[p], 0.9)) for p in payers]
    if everyone:
        rows.append(("All payers", len(everyone), median(everyone), percentile(everyone, 0.9)))
    notes = [] if everyone else [f"no payments recorded {range_words(chosen)}"]
    charts = (
        [
            Chart(
                "Days from submission to payment",
                "bar",
                payers,
                [
                    Series("Median", [median(days[p]) for p in payers]),
                    Series("90th percentile", [percentile(days[p], 0.9) for p in payers]),
                ],
                Kind.NUMBER,
            )
        ]
        if payers
        else []
    )
    table = Table(
        "days-to-pay",
        "Days to pay by payer",
        (
            Column("payer", "Payer"),
            Column("paid_claims", "Paid claims", Kind.COUNT),
            Column("median_days", "Median days", Kind.NUMBER),
            Column("p90_days", "90th percentile days", Kind.NUMBER),
        ),
        rows,
    )
    return Report(
        "days-to-pay",
        "Days to pay",
        chosen,
        [table],
        charts,
        {
            "Days to pay": "calendar days from the claim's submission date to its payment date; the date range "
            "applies to the payment date",
            "Payment date": "the check or EFT date (BPR16) of the ERA that paid the claim (CLP02 1, 2, 3, 19, 20 "
            "or 21 with a payment above zero); a payment the payer later reversed (CLP02 22) does not count, "
            "the next payment after the reversal does. Claims with no ERA: the first portal observation that "
            "said paid or partially paid (its payment date, else its status date)",
            "Median": "the middle claim's days (the mean of the two middle claims for an even count)",
            "90th percentile": "nearest rank: 90% of the paid claims were paid in this many days or fewer",
        },
        notes,
    )


SPEC = register(
    ReportSpec(
        "days-to-pay", "Days to pay", "Median and 90th percentile days from submission to payment, by payer.", compute
    )
)
