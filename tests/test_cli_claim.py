"""`portal-worker claim ID`: the claim page in text, in the practice's time, without the patient's name."""

from __future__ import annotations

from rich.console import Console

from flows.claim_view import claim_view
from flows.denial_codes import describe_carc
from store.claim_detail import load_claim_record
from store.db import session_scope
from store.denials import set_status
from store.models import Denial
from tests.cli_support import portal_worker
from tests.test_web_claim import AT, add_denial_to, keep_evidence
from tests.test_web_search import add_claims
from tests.web_support import RunningWorkspace
from worker.cli.claim import claim_text


def test_claim_shows_everything_known_in_practice_time(empty_web: RunningWorkspace) -> None:
    add_claims(empty_web)
    denial_id = add_denial_to(empty_web, "PW90003")
    kept, _ = keep_evidence(empty_web, "PW90003")
    with session_scope(empty_web.engine) as session:
        denial = session.get(Denial, denial_id)
        assert denial is not None
        set_status(session, denial, "appealed", AT, "bea", "appeal sent")

    shown = portal_worker("-c", str(empty_web.config_path), "claim", "PW90003")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "Claim PW90003 (paid)" in out
    assert "status: unchecked -> paid" in out  # the timeline
    assert "2026-11-20 10:00" in out and "America/New_York" in out  # 15:00 UTC, as the practice's clock says
    assert "CHK-4410" in out and "95.00" in out  # the payment
    assert f"Denial {denial_id}: CO-16 120.00 (appealed)" in out
    assert " ".join(str(describe_carc("16")).split()) in " ".join(out.split())  # the code in plain words
    assert "bea" in out and "appeal sent" in out  # who did what
    assert "the status page had no status table" in out and str(kept) in out  # the evidence
    assert "Patient3" not in out and "M00003" not in out  # no PHI in a terminal


def test_claim_keeps_its_ids_whole_at_80_columns(empty_web: RunningWorkspace) -> None:
    add_claims(empty_web)
    add_denial_to(empty_web, "PW90003")
    with session_scope(empty_web.engine) as session:
        record = load_claim_record(session, "PW90003")
        assert record is not None
        view = claim_view(record, AT.date())
    for width in (80, 100):
        console = Console(width=width, record=True, color_system=None)
        console.print(claim_text(view, empty_web.settings.worker.tzinfo))
        text = console.export_text()
        assert all(len(line) <= width for line in text.splitlines())
        for whole in ("PW90003", "CHK-4410", "2026-11-20 10:00", "UHP-77001"):
            assert whole in text, (width, whole)


def test_an_unknown_claim_is_a_clear_error(empty_web: RunningWorkspace) -> None:
    shown = portal_worker("-c", str(empty_web.config_path), "claim", "PW00000")
    assert shown.returncode == 2
    assert "no claim with id 'PW00000' in the store" in shown.stderr
    assert "Traceback" not in shown.stderr + shown.stdout
