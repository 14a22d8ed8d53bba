"""Parse X12 835 remittance advice (005010X221A1) into typed values, all or nothing.

Our own parser rather than pyx12 4.0.0 (tried November 2026): pyx12 refuses the bare
ST..SE transactions some portals ship ("does not look like an X12 data file"), its
x12valid crashed building the 999 even for a valid 835 ("Cannot create AK2"), it
raised UnicodeDecodeError on one non-ASCII byte, its messages quote segment contents
(a split NM1*QC put the patient's first name in "Segment AVERY* not found"), and it
checks remark codes against a bundled list that lags the thrice-yearly RARC updates.
We would still have had to walk its loop tree to build these values. Checked here:
the envelope (ISA/GS/ST and their trailers, counts and control numbers; several
interchanges one after another), the order BPR then TRN, and every element we read.
Balancing is not an error here: flows/era_balance.py reports it as warnings, since
an out-of-balance file is still the payer's word and is imported.

Bytes: X12 text is ASCII plus what trading partners agree on; a file that is not
UTF-8 is read as Latin-1 (every byte is a character), so one accented name never
makes a payer's file unreadable. NUL bytes or a UTF-16 byte order mark mean it is
not X12 text at all.

Error messages name the segment's 1-based position in the file, its id and the
element; a quoted value is cut short and blanked if it contains anything from the
file's NM1 patient/subscriber segments or member id references.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flows.denial_codes import denies

GROUP_CODES = ("CO", "PR", "OA", "PI", "CR")
MAX_CAS_TRIPLETS = 6
STATUS_REVERSAL = "22"
STATUS_DENIED = "4"
# NM1 entities and REF qualifiers whose values are PHI: patient, subscriber, corrected
# patient; member id, SSN, medical record number, employee id.
PHI_ENTITIES = frozenset({"QC", "IL", "74"})
PHI_REF_QUALIFIERS = frozenset({"1W", "SY", "EA", "28", "HJ"})

ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)  # ISA01..ISA15
_AMOUNT = re.compile(r"-?(\d+\.?\d*|\.\d+)", re.ASCII)
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_CCYYMMDD = re.compile(r"\d{8}", re.ASCII)
AMOUNT_LIMIT = Decimal(10) ** 10  # the store keeps money as NUMERIC(12,2)
MAX_PLB_PAIRS = 6


class EraParseError(Exception):
    """An 835 that cannot be imported; `segment_number` is the 1-based position in the file."""

    def __init__(self, segment_number: int | None, segment_id: str | None, problem: str) -> None:
        where = "file"
        if segment_number is not None:
            where = f"segment {segment_number}" + (f" ({segment_id})" if segment_id else "")
        super().__init__(f"{where}: {problem}")
        self.segment_number = segment_number
        self.segment_id = segment_id
        self.problem = problem

    def __reduce__(self) -> tuple[type[EraParseError], tuple[int | None, str | None, str]]:
        # picklable, so it crosses from a runner process to the scheduler intact
        return (type(self), (self.segment_number, self.segment_id, self.problem))


@dataclass(frozen=True)
class EraAdjustment:
    group_code: str
    carc: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class EraServiceLine:
    procedure: str  # SVC01-2, the code alone
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units: Decimal | None
    service_date: date | None  # DTM*472, else the DTM*150 period start
    adjustments: tuple[EraAdjustment, ...]
    remark_codes: tuple[str, ...]  # LQ*HE
    line_control_number: str | None  # REF*6R

    @property
    def billed_code(self) -> str:
        """The whole SVC01 composite as billed: 62321-LT and 62321-RT are different lines."""
        return "-".join((self.procedure, *self.modifiers))


@dataclass(frozen=True)
class EraClaim:
    claim_id: str  # CLP01, the practice's patient control number
    status_code: str  # CLP02
    billed: Decimal
    paid: Decimal
    patient_responsibility: Decimal | None
    payer_claim_number: str | None
    adjustments: tuple[EraAdjustment, ...]  # claim level only; lines carry their own
    lines: tuple[EraServiceLine, ...]
    remark_codes: tuple[str, ...]  # MOA/MIA
    statement_from: date | None
    statement_to: date | None
    received: date | None
    patient_name: str | None = field(default=None, repr=False)
    filing_indicator: str | None = None  # CLP06: MA/MB Medicare, MC Medicaid, CI commercial, ...

    @property
    def service_from(self) -> date | None:
        """DTM*232, else the earliest line's date of service."""
        dates = [line.service_date for line in self.lines if line.service_date]
        return self.statement_from or (min(dates) if dates else None)

    @property
    def service_to(self) -> date | None:
        dates = [line.service_date for line in self.lines if line.service_date]
        return self.statement_to or (max(dates) if dates else self.statement_from)

    @property
    def is_reversal(self) -> bool:
        return self.status_code == STATUS_REVERSAL

    @property
    def is_denied(self) -> bool:
        """CLP02 says denied, or nothing was paid and some adjustment (claim or line) is
        more than contract and cost sharing (flows.denial_codes decides which are)."""
        if self.status_code == STATUS_DENIED:
            return True
        return self.paid == 0 and any(denies(a.group_code, a.carc) for a in self.all_adjustments())

    def all_adjustments(self) -> Iterator[EraAdjustment]:
        yield from self.adjustments
        for line in self.lines:
            yield from line.adjustments


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB amount: money taken (positive: recoupment, levy) or given (negative: interest) at payee level."""

    provider_id: str  # PLB01
    fiscal_date: date | None  # PLB02
    reason: str  # PLB03-1 etc.: WO overpayment recovery, L6 interest, FB forward balance, ...
    reference: str | None  # PLB03-2 etc.
    amount: Decimal


@dataclass(frozen=True)
class Remittance:
    payer_name: str | None
    payer_id: str | None  # REF*2U, else N1*PR N104
    payee_name: str | None
    payee_npi: str | None  # N1*PE with N103 = XX
    payment_amount: Decimal  # BPR02
    payment_method: str  # BPR04: ACH, CHK, NON, BOP, FWT
    payment_date: date | None  # BPR16
    trace_number: str  # TRN02: check or EFT trace number
    production_date: date | None  # DTM*405
    claims: tuple[EraClaim, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()


def decode_x12(data: bytes) -> str:
    """The file's text: UTF-8 when it is, else Latin-1 (module docstring); EraParseError if not text."""
    if b"\x00" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EraParseError(None, None, "not a text file, so not an X12 835")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_835(text: str) -> list[Remittance]:
    """One Remittance per ST/SE transaction; raises EraParseError, never returns part of a file."""
    segments = _tokenize(text)
    return _Reader(segments, _phi_values(segments)).read_file()


# --- tokenizing ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    number: int
    elements: tuple[str, ...]  # elements[0] is the segment id
    component_separator: str

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, position: int) -> str:
        return self.elements[position] if position < len(self.elements) else ""

    def components(self, position: int) -> list[str]:
        return self.get(position).split(self.component_separator)


def _tokenize(text: str) -> list[_Segment]:
    body = text.lstrip("\ufeff \t\r\n")
    element, component, terminator = _delimiters(body)
    raw = body.split(terminator)
    tail = raw.pop().strip()
    segments: list[_Segment] = []
    for number, chunk in enumerate(raw, start=1):
        chunk = chunk.strip()
        if not chunk:
            raise EraParseError(number, None, f"is empty (two {terminator!r} in a row)")
        elements = tuple(chunk.split(element))
        if not _SEGMENT_ID.fullmatch(elements[0]):
            # the text may be anything, a patient name included: never quote it
            raise EraParseError(number, None, "does not start with a segment id (wrong delimiters?)")
        segments.append(_Segment(number, elements, component))
    if tail:
        tail_id = tail.split(element)[0]
        raise EraParseError(
            len(segments) + 1,
            tail_id if _SEGMENT_ID.fullmatch(tail_id) else None,
            f"is not terminated by {terminator!r}: the file is cut short",
        )
    if not segments:
        raise EraParseError(None, None, "the file holds no segments")
    return segments


def _delimiters(body: str) -> tuple[str, str, str]:
    """ISA's own delimiters: element after 'ISA', ISA16 the component, then the terminator."""
    if not body.startswith("ISA"):
        return "*", ":", "~"
    element = body[3:4]
    if not element or element.isalnum() or element.isspace():
        raise EraParseError(1, "ISA", "no element separator after 'ISA'")
    # ISA16 follows the 16th separator; the fixed widths are checked too, or a short ISA
    # would borrow separators from the segments after it
    position = -1
    for _ in range(16):
        position = body.find(element, position + 1)
        if position < 0:
            raise EraParseError(1, "ISA", "ISA has fewer than 16 elements")
    for number, (value, width) in enumerate(zip(body[4:position].split(element), ISA_WIDTHS, strict=False), start=1):
        if len(value) != width:  # never quoted: ISA02/ISA04 hold passwords
            raise EraParseError(1, "ISA", f"ISA{number:02d} is not {width} characters wide (ISA is fixed-width)")
    component, terminator = body[position + 1 : position + 2], body[position + 2 : position + 3]
    if len(terminator) < 1 or len({element, component, terminator}) < 3 or terminator.isalnum():
        raise EraParseError(1, "ISA", "ISA16 and the segment terminator are missing or clash")
    return element, component, terminator


def _phi_values(segments: list[_Segment]) -> frozenset[str]:
    values: set[str] = set()
    for segment in segments:
        if segment.id == "NM1" and segment.get(1) in PHI_ENTITIES:
            values.update(segment.get(p) for p in (3, 4, 5, 7, 9))
        elif segment.id == "REF" and segment.get(1) in PHI_REF_QUALIFIERS:
            values.update(segment.elements[2:])
    return frozenset(v.strip().upper() for v in values if len(v.strip()) >= 2)


# --- reading ------------------------------------------------------------------------


@dataclass
class _LineDraft:
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units: Decimal | None
    service_date: date | None = None
    period_start: date | None = None
    adjustments: list[EraAdjustment] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)
    line_control_number: str | None = None

    def build(self) -> EraServiceLine:
        return EraServiceLine(
            self.procedure,
            self.modifiers,
            self.charge,
            self.paid,
            self.units,
            self.service_date or self.period_start,
            tuple(self.adjustments),
            tuple(self.remark_codes),
            self.line_control_number,
        )


@dataclass
class _ClaimDraft:
    claim_id: str
    status_code: str
    billed: Decimal
    paid: Decimal
    patient_responsibility: Decimal | None
    payer_claim_number: str | None
    adjustments: list[EraAdjustment] = field(default_factory=list)
    lines: list[_LineDraft] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)
    dates: dict[str, date] = field(default_factory=dict)
    patient_name: str | None = None
    filing_indicator: str | None = None

    def build(self) -> EraClaim:
        return EraClaim(
            self.claim_id,
            self.status_code,
            self.billed,
            self.paid,
            self.patient_responsibility,
            self.payer_claim_number,
            tuple(self.adjustments),
            tuple(line.build() for line in self.lines),
            tuple(self.remark_codes),
            self.dates.get("232"),
            self.dates.get("233"),
            self.dates.get("050"),
            patient_name=self.patient_name,
            filing_indicator=self.filing_indicator,
        )


class _Reader:
    def __init__(self, segments: list[_Segment], phi: frozenset[str]) -> None:
        self.segments = segments
        self.phi = phi

    # errors and elements

    def fail(self, segment: _Segment, problem: str) -> EraParseError:
        return EraParseError(segment.number, segment.id, problem)

    def quote(self, value: str) -> str:
        upper = value.upper()
        if any(secret in upper for secret in self.phi):
            return "(a value from a patient segment)"
        return repr(value if len(value) <= 20 else value[:20] + "...")

    def required(self, segment: _Segment, position: int, what: str) -> str:
        value = segment.get(position).strip()
        if not value:
            raise self.fail(segment, f"{segment.id}{position:02d} ({what}) is missing")
        return value

    def optional(self, segment: _Segment, position: int) -> str | None:
        return segment.get(position).strip() or None

    def amount(self, segment: _Segment, position: int, what: str) -> Decimal:
        return self._to_decimal(segment, position, self.required(segment, position, what))

    def optional_amount(self, segment: _Segment, position: int) -> Decimal | None:
        value = self.optional(segment, position)
        return None if value is None else self._to_decimal(segment, position, value)

    def _to_decimal(self, segment: _Segment, position: int, value: str) -> Decimal:
        if not _AMOUNT.fullmatch(value):
            raise self.fail(segment, f"{segment.id}{position:02d} {self.quote(value)} is not an amount")
        amount = Decimal(value)
        if abs(amount) >= AMOUNT_LIMIT:
            raise self.fail(segment, f"{segment.id}{position:02d} is beyond what an amount can hold (ten billion)")
        return amount

    def date_at(self, segment: _Segment, position: int) -> date | None:
        value = self.optional(segment, position)
        if value is None:
            return None
        if _CCYYMMDD.fullmatch(value):
            try:
                return date(int(value[:4]), int(value[4:6]), int(value[6:]))
            except ValueError:
                pass
        raise self.fail(segment, f"{segment.id}{position:02d} {self.quote(value)} is not a date (CCYYMMDD)")

    def expect(self, index: int, segment_id: str, after: str) -> _Segment:
        if index >= len(self.segments):
            last = self.segments[-1]
            raise self.fail(last, f"the file ends where {segment_id} should follow {after}: it is cut short")
        segment = self.segments[index]
        if segment.id != segment_id:
            raise self.fail(segment, f"expected {segment_id} after {after}")
        return segment

    # envelope

    def read_file(self) -> list[Remittance]:
        first = self.segments[0]
        if first.id == "ST":
            return self.bare_transactions()
        if first.id != "ISA":
            raise self.fail(first, "the file starts with neither ISA nor ST")
        return self.interchange()

    def bare_transactions(self) -> list[Remittance]:
        remittances, index = [], 0
        while index < len(self.segments):
            segment = self.segments[index]
            if segment.id != "ST":
                raise self.fail(segment, "expected ST after SE")
            remittance, index = self.transaction(index)
            remittances.append(remittance)
        return remittances

    def interchange(self) -> list[Remittance]:
        """One or more ISA..IEA interchanges, one after another (legal in one file)."""
        remittances: list[Remittance] = []
        index = 0
        while index < len(self.segments):
            segment = self.segments[index]
            if segment.id != "ISA":
                raise self.fail(segment, "expected ISA after IEA")
            found, index = self.one_interchange(index)
            remittances.extend(found)
        return remittances

    def one_interchange(self, index: int) -> tuple[list[Remittance], int]:
        isa = self.segments[index]
        if isa.number > 1 and (len(isa.elements) != 17 or isa.get(16) != isa.component_separator):
            raise self.fail(isa, "this interchange uses other delimiters than the file's first ISA")
        remittances: list[Remittance] = []
        groups = 0
        index += 1
        self.expect(index, "GS", "ISA")
        while index < len(self.segments):
            segment = self.segments[index]
            if segment.id == "GS":
                found, index = self.group(index)
                remittances.extend(found)
                groups += 1
            elif segment.id == "IEA":
                self.check_trailer(segment, groups, "functional groups", isa, 13)
                return remittances, index + 1
            else:
                raise self.fail(segment, "expected GS or IEA")
        raise self.fail(self.segments[-1], "the file ends without IEA: it is cut short")

    def group(self, index: int) -> tuple[list[Remittance], int]:
        gs = self.segments[index]
        remittances: list[Remittance] = []
        index += 1
        self.expect(index, "ST", "GS")
        while index < len(self.segments):
            segment = self.segments[index]
            if segment.id == "ST":
                remittance, index = self.transaction(index)
                remittances.append(remittance)
            elif segment.id == "GE":
                self.check_trailer(segment, len(remittances), "transactions", gs, 6)
                return remittances, index + 1
            else:
                raise self.fail(segment, "expected ST or GE")
        raise self.fail(self.segments[-1], "the file ends without GE: it is cut short")

    def check_trailer(self, trailer: _Segment, count: int, what: str, header: _Segment, control_position: int) -> None:
        counted = self.required(trailer, 1, f"number of {what}")
        if not (counted.isascii() and counted.isdigit() and int(counted) == count):
            raise self.fail(trailer, f"{trailer.id}01 {self.quote(counted)} does not match the {count} {what} found")
        control = self.required(trailer, 2, "control number")
        if control != header.get(control_position).strip():
            raise self.fail(
                trailer,
                f"{trailer.id}02 {self.quote(control)} does not match "
                f"{header.id}{control_position:02d} at segment {header.number}",
            )

    def transaction(self, index: int) -> tuple[Remittance, int]:
        st = self.segments[index]
        kind = self.required(st, 1, "transaction set id")
        if kind != "835":
            raise self.fail(st, f"ST01 {self.quote(kind)} is not 835")
        control = self.required(st, 2, "control number")
        end = index + 1
        while end < len(self.segments) and self.segments[end].id not in {"SE", "ST", "GE", "IEA"}:
            end += 1
        if end >= len(self.segments) or self.segments[end].id != "SE":
            at = self.segments[min(end, len(self.segments) - 1)]
            raise self.fail(
                at, f"transaction {self.quote(control)} (ST at segment {st.number}) has no SE: it is cut short"
            )
        remittance = _TransactionReader(self, self.segments[index + 1 : end], st).read()
        se = self.segments[end]
        counted = self.required(se, 1, "number of segments")
        if not (counted.isascii() and counted.isdigit() and int(counted) == end - index + 1):
            raise self.fail(
                se,
                f"SE01 {self.quote(counted)} does not match the {end - index + 1} "
                f"segments from ST at segment {st.number}",
            )
        if self.required(se, 2, "control number") != control:
            raise self.fail(se, f"SE02 {self.quote(se.get(2))} does not match ST02 {self.quote(control)}")
        return remittance, end + 1


class _TransactionReader:
    """The segments between ST and SE; unknown and unused segments are skipped."""

    def __init__(self, reader: _Reader, body: list[_Segment], st: _Segment) -> None:
        self.r = reader
        self.body = body
        self.st = st
        self.claims: list[_ClaimDraft] = []
        self.claim: _ClaimDraft | None = None
        self.line: _LineDraft | None = None
        self.provider_adjustments: list[ProviderAdjustment] = []

    def read(self) -> Remittance:
        r = self.r
        if not self.body or self.body[0].id != "BPR":
            raise r.fail(self.body[0] if self.body else self.st, "expected BPR after ST")
        bpr = self.body[0]
        if len(self.body) < 2 or self.body[1].id != "TRN":
            raise r.fail(self.body[1] if len(self.body) > 1 else bpr, "expected TRN after BPR")
        trn = self.body[1]
        amount, method = r.amount(bpr, 2, "payment amount"), r.required(bpr, 4, "payment method")
        paid_on, trace = r.date_at(bpr, 16), r.required(trn, 2, "trace number")
        header = _Header()
        for segment in self.body[2:]:
            self.read_segment(segment, header)
        self.end_claim()
        return Remittance(
            payer_name=header.payer_name,
            payer_id=header.payer_ref_id or header.payer_n1_id,
            payee_name=header.payee_name,
            payee_npi=header.payee_npi,
            payment_amount=amount,
            payment_method=method,
            payment_date=paid_on,
            trace_number=trace,
            production_date=header.production_date,
            claims=tuple(c.build() for c in self.claims),
            provider_adjustments=tuple(self.provider_adjustments),
        )

    def read_segment(self, segment: _Segment, header: _Header) -> None:
        r, kind = self.r, segment.id
        if kind == "DTM":
            self.read_date(segment, header)
        elif kind == "LX":
            self.end_claim()
        elif kind == "PLB":
            self.end_claim()
            self.read_plb(segment)
        elif kind == "CLP":
            self.end_claim()
            self.claim = self.read_clp(segment)
        elif kind == "CAS":
            self.read_cas(segment)
        elif kind == "SVC":
            self.read_svc(segment)
        elif self.claim is None:
            header.read(segment)
        elif kind == "NM1" and segment.get(1) == "QC" and self.line is None:
            self.claim.patient_name = _person_name(segment)
        elif kind in {"MOA", "MIA"} and self.line is None:
            positions = range(3, 8) if kind == "MOA" else (5, 20, 21, 22, 23)
            self.claim.remark_codes.extend(c for p in positions if (c := segment.get(p).strip()))
        elif kind == "REF" and segment.get(1) == "6R" and self.line is not None:
            self.line.line_control_number = r.required(segment, 2, "line item control number")
        elif kind == "LQ" and segment.get(1) == "HE" and self.line is not None:
            self.line.remark_codes.append(r.required(segment, 2, "remark code"))

    def end_claim(self) -> None:
        if self.claim is not None:
            self.claims.append(self.claim)
        self.claim, self.line = None, None

    def read_clp(self, segment: _Segment) -> _ClaimDraft:
        r = self.r
        return _ClaimDraft(
            claim_id=r.required(segment, 1, "patient control number"),
            status_code=r.required(segment, 2, "claim status"),
            billed=r.amount(segment, 3, "total charge"),
            paid=r.amount(segment, 4, "payment amount"),
            patient_responsibility=r.optional_amount(segment, 5),
            payer_claim_number=r.optional(segment, 7),
            filing_indicator=r.optional(segment, 6),
        )

    def read_plb(self, segment: _Segment) -> None:
        r = self.r
        provider = r.required(segment, 1, "provider identifier")
        fiscal_date = r.date_at(segment, 2)
        if len(segment.elements) > 3 + 2 * MAX_PLB_PAIRS:
            raise r.fail(segment, f"more than {MAX_PLB_PAIRS} adjustments (PLB14 is the last element)")
        for first in range(3, len(segment.elements), 2):
            if not (segment.get(first).strip() or segment.get(first + 1).strip()):
                continue
            reason = segment.components(first)[0].strip()
            if not reason:
                raise r.fail(segment, f"PLB{first:02d} (adjustment reason) is missing")
            reference = ":".join(segment.components(first)[1:]).strip() or None
            amount = r.amount(segment, first + 1, f"amount for adjustment {reason}")
            self.provider_adjustments.append(ProviderAdjustment(provider, fiscal_date, reason, reference, amount))

    def read_svc(self, segment: _Segment) -> None:
        r = self.r
        if self.claim is None:
            raise r.fail(segment, "SVC before any CLP")
        composite = segment.components(1)
        if len(composite) < 2 or not composite[0].strip() or not composite[1].strip():
            raise r.fail(segment, f"SVC01 {r.quote(segment.get(1))} is not qualifier:procedure")
        self.line = _LineDraft(
            procedure=composite[1].strip(),
            modifiers=tuple(m.strip() for m in composite[2:6] if m.strip()),
            charge=r.amount(segment, 2, "line charge"),
            paid=r.amount(segment, 3, "line payment"),
            units=r.optional_amount(segment, 5),
        )
        self.claim.lines.append(self.line)

    def read_cas(self, segment: _Segment) -> None:
        r = self.r
        target = self.line if self.line is not None else self.claim
        if target is None:
            raise r.fail(segment, "CAS before any CLP")
        group = r.required(segment, 1, "group code")
        if group not in GROUP_CODES:
            raise r.fail(segment, f"CAS01 group code {r.quote(group)} is not one of {', '.join(GROUP_CODES)}")
        r.required(segment, 2, "reason code")
        if len(segment.elements) > 2 + 3 * MAX_CAS_TRIPLETS:
            raise r.fail(segment, f"more than {MAX_CAS_TRIPLETS} adjustments (CAS19 is the last element)")
        for first in range(2, len(segment.elements), 3):
            reason, amount, quantity = (segment.get(first + k).strip() for k in range(3))
            if not (reason or amount or quantity):
                continue
            if not reason:
                raise r.fail(segment, f"CAS{first:02d} (reason code) is missing for CAS{first + 1:02d}")
            target.adjustments.append(
                EraAdjustment(
                    group,
                    reason,
                    r.amount(segment, first + 1, f"amount for reason {reason}"),
                    r.optional_amount(segment, first + 2),
                )
            )

    def read_date(self, segment: _Segment, header: _Header) -> None:
        qualifier, value = segment.get(1), self.r.date_at(segment, 2)
        if value is None:
            raise self.r.fail(segment, "DTM02 (date) is missing")
        if self.line is not None:
            if qualifier == "472":
                self.line.service_date = value
            elif qualifier == "150":
                self.line.period_start = value
        elif self.claim is not None:
            self.claim.dates.setdefault(qualifier, value)
        elif qualifier == "405":
            header.production_date = value


@dataclass
class _Header:
    """Loops 1000A (payer, N1*PR) and 1000B (payee, N1*PE)."""

    party: str | None = None
    payer_name: str | None = None
    payer_n1_id: str | None = None
    payer_ref_id: str | None = None
    payee_name: str | None = None
    payee_npi: str | None = None
    production_date: date | None = None

    def read(self, segment: _Segment) -> None:
        if segment.id == "N1":
            self.party = segment.get(1)
            if self.party == "PR":
                self.payer_name = segment.get(2).strip() or None
                self.payer_n1_id = segment.get(4).strip() or None
            elif self.party == "PE":
                self.payee_name = segment.get(2).strip() or None
                if segment.get(3) == "XX":
                    self.payee_npi = segment.get(4).strip() or None
        elif segment.id == "REF" and segment.get(1) == "2U" and self.party == "PR":
            self.payer_ref_id = segment.get(2).strip() or None


def _person_name(segment: _Segment) -> str | None:
    last, first, middle = (segment.get(p).strip() for p in (3, 4, 5))
    given = " ".join(part for part in (first, middle) if part)
    if last and given:
        return f"{last}, {given}"
    return last or given or None
