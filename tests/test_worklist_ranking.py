"""The worklist ranks every denial from plain columns and loads whole rows only for what it shows: the
two paths must agree on every denial's deadline, days left and priority, and on the order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlmodel import select

from bench.web_store import build
from flows.deadlines import load_payer_rules
from flows.worklist import balance_warnings_by_claim, build_worklist, facts_of, load_worklist, rank_worklist
from store.claims import list_claims
from store.db import make_engine, session_scope, sqlite_url
from store.denials import (
    OPEN_STATES,
    appeals_filed_by_denial,
    era_claims_for,
    list_denials,
    set_status,
)
from store.models import EraClaim, EraFile

TODAY = date(2026, 12, 6)


def test_ranking_from_columns_agrees_with_ranking_whole_rows(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    build(url, claims=200, denials=40)
    engine = make_engine(url)
    with session_scope(engine) as session:
        first, second, *_ = list_denials(session, statuses=["open"])
        set_status(session, first, "appealed", datetime(2026, 11, 20, 15, tzinfo=UTC), "lee", "first level")
        era_file = session.exec(select(EraFile)).first()
        assert era_file is not None and era_file.id is not None
        # An ERA denial on a claim we do not have: its deadlines count from the ERA's own dates.
        second.claim_id, second.reported_claim_id = None, "NOT-OURS-1"
        session.add(second)
        session.add(
            EraClaim(
                era_file_id=era_file.id,
                reported_claim_id="NOT-OURS-1",
                status_code="4",
                billed=second.amount,
                paid=Decimal("0"),
                filing_indicator="MC",
                service_from=date(2026, 9, 1),
                service_to=date(2026, 9, 2),
            )
        )
    with session_scope(engine) as session:
        denials = list_denials(session, statuses=OPEN_STATES)
        claims = {c.claim_id: c for c in list_claims(session)}
        unknown = [d.reported_claim_id for d in denials if d.claim_id is None]
        facts = [facts_of(d, claims.get(d.claim_id or "")) for d in denials]
        whole_rows = build_worklist(
            denials,
            claims,
            load_payer_rules(),
            TODAY,
            appeals_filed_by_denial(session),
            era_claims_for(session, unknown),
            balance_warnings_by_claim(session, facts),
        )
        ranked = rank_worklist(session, TODAY, statuses=OPEN_STATES)
        loaded = load_worklist(session, TODAY, statuses=OPEN_STATES)
    engine.dispose()

    assert unknown == ["NOT-OURS-1"] and len(ranked) == len(whole_rows) == 40
    expected = [(i.denial.id, i.deadline, i.days_left, i.priority) for i in whole_rows]
    assert [(r.facts.id, r.deadline, r.days_left, r.priority) for r in ranked] == expected
    assert [(i.denial.id, i.deadline, i.days_left, i.priority) for i in loaded] == expected
