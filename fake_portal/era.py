"""ERA (X12 835, 005010X221A1) files the clearinghouse offers, generated from the data set.

One file per payer and payment date: every claim whose final status (F1 paid or
F2 denied) took effect by that day, grouped by its payment date (paid claims) or
adjudication date (denials). Each file is one interchange (ISA/GS/ST..SE/GE/IEA)
with one BPR/TRN: an EFT (BPR04 ACH) of the sum of CLP04 when money moves, or a
non-payment remittance (BPR01 H, BPR04 NON) when it does not. TRN02 is the EFT
number of the first paid claim in the file (claims in claim id order); a file
without payment gets a trace of its own ("NP" + date + payer).

What the data set does not say, this module decides the way payers do:
- AMT*B6 (allowed) is sent for paid claims only: the line charge less its
  non-PR adjustments, which sums to the data set's allowed amount.

One reversal, so parsers meet CLP02=22: once the portal clock reaches start+5
days, the first paid NWM claim (claim id order) paid before that day is reversed
and reprocessed as a denial (CO-18, exact duplicate) in the NWM file dated
start+5. The reversal CLP repeats the original with every amount negated, then a
CLP with status 4 denies it. The file's claims net to less than zero, so the
file pays nothing (BPR02 0) and carries the negative balance forward in a PLB
with reason FB, as the standard's balance-forward process asks (the later
recoupment is not modelled). The data set is not changed: the portal's claim
status pages keep showing the original payment.

Amounts are written with trailing zeros suppressed (130.2, 0), as X12's R type
asks; delimiters are * : ~ with a newline after each ~.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from fake_portal.data import CENT, DENIALS, PAYERS, Adjustment, Claim, Dataset, Payer, ServiceLine, npi_with_check_digit

REVERSAL_PAYER = "NWM"
REVERSAL_AFTER = timedelta(days=5)
DUPLICATE_DENIAL = next(d for d in DENIALS if d[1] == "18")  # CO-18 with the data set's RARC

SENDER_ID = "SUMMITEXCH"
RECEIVER_ID = "PWPRACTICE01"
PRACTICE_NAME = "LAKESIDE FAMILY MEDICINE"
PRACTICE_NPI = npi_with_check_digit("199887766")
PRACTICE_TIN = "990000001"
PRACTICE_BANK = ("999999989", "000123456789")  # routing, account: synthetic
PAYER_DETAILS = {  # payer id -> (street, city, state, zip, TIN, routing, account): synthetic
    "NWM": ("100 HARBOR WAY", "PORTSMOUTH", "NH", "03801", "990000011", "999999992", "000900011"),
    "BBH": ("2200 BLUEBIRD PKWY", "DAYTON", "OH", "45402", "990000022", "999999992", "000900022"),
}
SEGMENT_END, ELEMENT, COMPONENT = "~", "*", ":"
MAX_CAS_TRIPLETS = 6  # reason/amount/quantity triplets one CAS segment holds


@dataclass(frozen=True)
class RemittedLine:
    procedure: str
    units: int
    charge: Decimal
    paid: Decimal
    service_date: date
    control_number: str  # REF*6R, the line item control number
    adjustments: tuple[Adjustment, ...]
    allowed: Decimal | None = None


@dataclass(frozen=True)
class RemittedClaim:
    claim: Claim
    status_code: str  # CLP02: 1 processed as primary, 4 denied, 22 reversal of a previous payment
    billed: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    lines: tuple[RemittedLine, ...]
    claim_adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class EraFile:
    file_id: str
    payer: Payer
    payment_date: date
    trace: str  # TRN02: the EFT trace number
    control_number: int  # ISA13/IEA02 and GS06/GE02
    claims: tuple[RemittedClaim, ...]

    @property
    def claims_total(self) -> Decimal:
        return sum((c.paid for c in self.claims), Decimal("0"))

    @property
    def forward_balance(self) -> Decimal:
        """The negative balance carried to a later remittance (PLB FB); 0 when the file nets positive."""
        return min(self.claims_total, Decimal("0"))

    @property
    def amount(self) -> Decimal:
        """BPR02: what the payer pays with this file."""
        return self.claims_total - self.forward_balance

    @property
    def filename(self) -> str:
        return f"{self.file_id}.835"


def remittance_files(dataset: Dataset, today: date, payer_ids: Iterable[str]) -> list[EraFile]:
    """Every 835 the payers have produced by `today`, oldest first."""
    wanted = set(payer_ids)
    groups: dict[tuple[str, date], list[RemittedClaim]] = {}
    for claim in sorted(dataset.claims_for(wanted), key=lambda c: c.claim_id):
        day = remitted_on(claim)
        if day is not None and day <= today:
            groups.setdefault((claim.payer_id, day), []).append(_remitted(claim))
    reversal_day = dataset.start + REVERSAL_AFTER
    target = reversal_target(dataset)
    if REVERSAL_PAYER in wanted and today >= reversal_day and target is not None:
        groups.setdefault((REVERSAL_PAYER, reversal_day), []).extend(
            [_reversed(_remitted(target)), _denied_as_duplicate(target)]
        )
    payers = {p.id: p for p in PAYERS}
    return [
        _file(payers[payer_id], day, tuple(claims))
        for (payer_id, day), claims in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0]))
    ]


def remitted_on(claim: Claim) -> date | None:
    """The day a claim's final status reaches the provider's 835: payment date, or the denial's date."""
    final = claim.final
    if final is None or final.category not in {"F1", "F2"}:
        return None
    return final.payment_date or final.effective


def reversal_target(dataset: Dataset) -> Claim | None:
    """The paid claim the payer takes back on start+5 days (see the module docstring)."""
    reversal_day = dataset.start + REVERSAL_AFTER
    for claim in sorted(dataset.claims_for({REVERSAL_PAYER}), key=lambda c: c.claim_id):
        final = claim.final
        if (
            claim.outcome == "paid"
            and final is not None
            and final.paid
            and final.payment_date
            and final.payment_date < reversal_day
        ):
            return claim
    return None


# --- what each claim looks like on the 835 ----------------------------------------


def _remitted(claim: Claim) -> RemittedClaim:
    final = claim.final
    if final is None:
        raise ValueError(f"claim {claim.claim_id} has no final status to remit")
    by_line: dict[int, list[Adjustment]] = {line.line_no: [] for line in claim.lines}
    claim_level: list[Adjustment] = []
    for adj in final.adjustments:
        if adj.line_no is None:
            claim_level.append(adj)
        else:
            by_line[adj.line_no].append(adj)
    paid = final.category == "F1"
    lines = tuple(_line(claim, line, tuple(by_line[line.line_no]), with_allowed=paid) for line in claim.lines)
    return RemittedClaim(
        claim,
        "1" if paid else "4",
        claim.billed,
        final.paid or Decimal("0"),
        final.patient_responsibility or Decimal("0"),
        lines,
        tuple(claim_level),
    )


def _line(claim: Claim, line: ServiceLine, adjustments: tuple[Adjustment, ...], *, with_allowed: bool) -> RemittedLine:
    adjusted = sum((a.amount for a in adjustments), Decimal("0"))
    not_patient = sum((a.amount for a in adjustments if a.group_code != "PR"), Decimal("0"))
    return RemittedLine(
        line.procedure,
        line.units,
        line.charge,
        line.charge - adjusted,
        claim.dos_from,
        f"{claim.claim_id}-{line.line_no}",
        adjustments,
        line.charge - not_patient if with_allowed else None,
    )


def _reversed(original: RemittedClaim) -> RemittedClaim:
    """The payer takes the original back: the same claim with every amount (and unit count) negated."""

    def negated(adjustments: tuple[Adjustment, ...]) -> tuple[Adjustment, ...]:
        return tuple(replace(a, amount=-a.amount) for a in adjustments)

    lines = tuple(
        replace(
            line,
            units=-line.units,
            charge=-line.charge,
            paid=-line.paid,
            allowed=None if line.allowed is None else -line.allowed,
            adjustments=negated(line.adjustments),
        )
        for line in original.lines
    )
    return replace(
        original,
        status_code="22",
        billed=-original.billed,
        paid=-original.paid,
        patient_responsibility=-original.patient_responsibility,
        lines=lines,
        claim_adjustments=negated(original.claim_adjustments),
    )


def _denied_as_duplicate(claim: Claim) -> RemittedClaim:
    group, carc, rarcs = DUPLICATE_DENIAL
    lines = tuple(
        _line(claim, line, (Adjustment(group, carc, line.charge, rarcs, line.line_no),), with_allowed=False)
        for line in claim.lines
    )
    return RemittedClaim(claim, "4", claim.billed, Decimal("0"), Decimal("0"), lines)


def _file(payer: Payer, day: date, claims: tuple[RemittedClaim, ...]) -> EraFile:
    checks = [
        c.claim.final.check_number
        for c in claims
        if c.status_code == "1" and c.claim.final is not None and c.claim.final.check_number
    ]
    trace = checks[0] if checks else f"NP{day:%Y%m%d}{payer.id}"
    payer_no = next(i for i, p in enumerate(PAYERS, start=1) if p.id == payer.id)
    control = int(f"{payer_no}{day:%y%m%d}01")  # 9 digits, stable for the same payer and day
    return EraFile(f"{payer.id}-{day:%Y%m%d}-{trace}", payer, day, trace, control, claims)


# --- the X12 text ------------------------------------------------------------------


def render_835(file: EraFile) -> str:
    """The file as X12 text: one interchange, one functional group, one 835 transaction set."""
    body = [
        ["ST", "835", "0001", "005010X221A1"],
        _bpr(file),
        ["TRN", "1", file.trace, f"1{PAYER_DETAILS[file.payer.id][4]}"],
        ["DTM", "405", _d8(file.payment_date)],
        *_payer_and_payee(file.payer),
        ["LX", "1"],
    ]
    for remitted in file.claims:
        body.extend(_claim_segments(remitted))
    if file.forward_balance:
        reference = next(c.claim.payer_claim_number for c in file.claims if c.status_code == "22")
        body.append(
            [
                "PLB",
                PRACTICE_NPI,
                f"{file.payment_date.year}1231",
                f"FB{COMPONENT}{reference}",
                _amount(file.forward_balance),
            ]
        )
    body.append(["SE", str(len(body) + 1), "0001"])
    segments = [
        _isa(file),
        [
            "GS",
            "HP",
            SENDER_ID,
            RECEIVER_ID,
            _d8(file.payment_date),
            "0800",
            str(file.control_number),
            "X",
            "005010X221A1",
        ],
        *body,
        ["GE", "1", str(file.control_number)],
        ["IEA", "1", f"{file.control_number:09d}"],
    ]
    return "".join(_segment(s) for s in segments)


def _isa(file: EraFile) -> list[str]:
    return [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        f"{SENDER_ID:<15}",
        "ZZ",
        f"{RECEIVER_ID:<15}",
        f"{file.payment_date:%y%m%d}",
        "0800",
        "^",
        "00501",
        f"{file.control_number:09d}",
        "0",
        "P",
        COMPONENT,
    ]


def _bpr(file: EraFile) -> list[str]:
    if not file.amount:
        return ["BPR", "H", "0", "C", "NON", *[""] * 11, _d8(file.payment_date)]
    *_, tin, routing, account = PAYER_DETAILS[file.payer.id]
    return [
        "BPR",
        "I",
        _amount(file.amount),
        "C",
        "ACH",
        "CCP",
        "01",
        routing,
        "DA",
        account,
        f"1{tin}",
        "",
        "01",
        PRACTICE_BANK[0],
        "DA",
        PRACTICE_BANK[1],
        _d8(file.payment_date),
    ]


def _payer_and_payee(payer: Payer) -> list[list[str]]:
    street, city, state, zip_code, *_ = PAYER_DETAILS[payer.id]
    return [
        ["N1", "PR", payer.name.upper()],
        ["N3", street],
        ["N4", city, state, zip_code],
        ["REF", "2U", payer.id],
        ["PER", "BL", "PROVIDER SERVICES", "TE", "8005550199"],
        ["N1", "PE", PRACTICE_NAME, "XX", PRACTICE_NPI],
        ["N3", "400 LAKE STREET"],
        ["N4", "BURLINGTON", "VT", "05401"],
        ["REF", "TJ", PRACTICE_TIN],
    ]


def _claim_segments(remitted: RemittedClaim) -> Iterator[list[str]]:
    claim = remitted.claim
    yield [
        "CLP",
        claim.claim_id,
        remitted.status_code,
        _amount(remitted.billed),
        _amount(remitted.paid),
        _amount(remitted.patient_responsibility),
        "12",
        claim.payer_claim_number,
    ]
    yield from _cas(remitted.claim_adjustments)
    last, _, first = claim.patient_name.partition(", ")
    yield ["NM1", "QC", "1", last, first, "", "", "", "MI", claim.member_id]
    claim_rarcs = list(dict.fromkeys(r for a in remitted.claim_adjustments for r in a.rarcs))
    if claim_rarcs:
        yield ["MOA", "", "", *claim_rarcs[:5]]
    yield ["DTM", "232", _d8(claim.dos_from)]
    yield ["DTM", "233", _d8(claim.dos_to)]
    yield ["DTM", "050", _d8(claim.received)]
    for line in remitted.lines:
        yield ["SVC", f"HC{COMPONENT}{line.procedure}", _amount(line.charge), _amount(line.paid), "", str(line.units)]
        yield ["DTM", "472", _d8(line.service_date)]
        yield from _cas(line.adjustments)
        yield ["REF", "6R", line.control_number]
        if line.allowed is not None:
            yield ["AMT", "B6", _amount(line.allowed)]
        for rarc in dict.fromkeys(r for a in line.adjustments for r in a.rarcs):
            yield ["LQ", "HE", rarc]


def _cas(adjustments: tuple[Adjustment, ...]) -> Iterator[list[str]]:
    """One CAS per group code, a new one after every six reason/amount/quantity triplets."""
    by_group: dict[str, list[Adjustment]] = {}
    for adj in adjustments:
        by_group.setdefault(adj.group_code, []).append(adj)
    for group, items in by_group.items():
        for start in range(0, len(items), MAX_CAS_TRIPLETS):
            segment = ["CAS", group]
            for adj in items[start : start + MAX_CAS_TRIPLETS]:
                segment += [adj.carc, _amount(adj.amount), ""]
            yield segment


def _segment(elements: list[str]) -> str:
    while elements and elements[-1] == "":  # trailing empty elements are dropped, inner ones kept
        elements = elements[:-1]
    return ELEMENT.join(elements) + SEGMENT_END + "\n"


def _amount(value: Decimal) -> str:
    text = f"{value.quantize(CENT):f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in {"", "-0"} else text


def _d8(day: date) -> str:
    return f"{day:%Y%m%d}"
