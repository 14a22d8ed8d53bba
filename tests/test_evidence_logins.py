"""A login page kept as evidence holds no username: the portal echoes it back in the field's value after a
rejected login, so every typed-in field is blanked like the password, and the buttons keep their labels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlmodel import Session, select

from portals.types import PageSnapshot
from store.models import Evidence
from tests.conftest import Workspace
from tests.run_support import import_claims
from worker.runtime.check import Check
from worker.runtime.evidence import save_snapshot

# The login form's button labels on each portal, as the kept page must still show them.
LABELS = {"summit": ["Sign in"], "lakeshore": ['value="LOG IN"', 'value="CLEAR"']}


@pytest.mark.browser
def test_a_rejected_login_kept_as_evidence_holds_no_username_and_keeps_button_labels(
    workspace: Workspace, browser: Browser
) -> None:
    import_claims(workspace)
    usernames = {}
    for portal in LABELS:
        good = workspace.default_credentials(portal)
        usernames[portal] = good.username
        workspace.credentials.save(portal, type(good)(good.username, "not-the-password-0000", None, {}))

    Check(workspace.settings, credentials=workspace.credentials, browser=browser).run(portals=list(LABELS))

    with Session(workspace.engine) as session:
        kept = list(session.exec(select(Evidence).where(Evidence.portal.in_(list(LABELS)))))  # type: ignore[attr-defined]
    assert {evidence.portal for evidence in kept} == set(LABELS)
    for evidence in kept:
        assert evidence.html_path is not None
        html = Path(evidence.html_path).read_text()
        assert "<form" in html and 'type="password"' in html  # the login page it was
        assert usernames[evidence.portal] not in html, evidence.portal
        for label in LABELS[evidence.portal]:
            assert label in html, (evidence.portal, label)


def test_kept_html_has_filled_in_values_blanked_whoever_took_the_snapshot(tmp_path: Path) -> None:
    page = (
        '<form><input id="userId" name="userId" value="synthetic.user7">'
        "<input type='hidden' name='token' value='tok-123456'>"
        '<input data-value="kept" type="text" value="typed">'
        "<textarea name=note>synthetic note text</textarea>"
        '<input type="submit" value="LOG IN"><input type=reset value=CLEAR>'
        '<button type="submit">Sign in</button></form>'
    )
    evidence = save_snapshot(
        tmp_path,
        PageSnapshot(url="https://portal.example/login", html=page, screenshot_png=b""),
        portal="lakeshore",
        claim_id=None,
        reason="test",
        at=datetime.now(UTC),
    )

    assert evidence.html_path is not None
    html = Path(evidence.html_path).read_text()
    for typed in ("synthetic.user7", "tok-123456", "typed", "synthetic note text"):
        assert typed not in html
    for label in ('value="LOG IN"', "value=CLEAR", "Sign in", 'data-value="kept"'):
        assert label in html
