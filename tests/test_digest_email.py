"""The daily email a billing lead opens: sent through a local SMTP server over a store filled by a real check of
the fake portal, read back as MIME, looked at in Chromium (screenshots at 1280 and 390 px in
test-results/screenshots/digest-*.png), and its links followed into the running workspace through the login."""

from __future__ import annotations

import re
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from flows.alerts import money
from flows.denial_codes import describe_carc
from flows.digest import PROVIDER_KINDS, SEVERITY_WORDS
from store.alerts import new_denials_since
from store.claims import list_claims
from store.models import Alert, AuditEntry
from store.providers import list_providers
from tests import test_notify
from tests.conftest import write_config
from tests.test_cli import cli
from tests.test_notify import Mailbox, install, mailto, parts
from tests.web_support import PASSWORDS, USER_OF_ROLE, RunningWorkspace
from worker.clock import utcnow
from worker.delivery.notify import send_digests
from worker.settings import Settings

SHOTS = Path("test-results/screenshots")
smtp_server = test_notify.smtp_server  # the SMTP server test_notify sends to, as a fixture here too
PRACTICE = "Lakeside Physical Therapy"
TOP = 3
ALLOWED_PATH = re.compile(r"/(a|d)/\d+|/alerts|/worklist")


def worker_settings(ws: RunningWorkspace, folder: Path, port: int, channel: str, alerts: str = "") -> Settings:
    """The worker's config over the workspace's store: the practice, the workspace's address, an SMTP channel."""
    folder.mkdir(exist_ok=True)
    config = folder / "worker.toml"
    write_config(
        config,
        "https://portal.invalid",
        ws.settings.worker.data_dir,
        f'\n[practice]\nname = "{PRACTICE}"\n\n[web]\nbase_url = "{ws.url}/"\n\n'
        f'[alerts]\ntop_items = {TOP}\n{alerts}\n[alerts.channels.{channel}]\nurls = ["{mailto(port)}"]\n',
    )
    return Settings.load(config)


def send_one(settings: Settings, ws: RunningWorkspace, mailbox: Mailbox) -> EmailMessage:
    before = len(mailbox.messages)
    [outcome] = send_digests(settings, ws.engine, utcnow())
    assert outcome.state == "sent", outcome.detail
    assert len(mailbox.messages) == before + 1
    return mailbox.messages[-1]


def urls_in(*texts: str) -> list[str]:
    return [url for text in texts for url in re.findall(r"""https?://[^\s"'<>)]+""", text)]


def test_the_email_names_the_practice_shows_severity_lists_new_denials_and_links_carry_no_phi(
    web: RunningWorkspace, smtp_server: tuple[int, Mailbox], page: Page, tmp_path: Path
) -> None:
    port, mailbox = smtp_server
    settings = worker_settings(web, tmp_path / "plain", port, "billing")
    preview_file = tmp_path / "look" / "summary.html"
    preview_file.parent.mkdir()
    shown = cli(None, "digest", "--preview", "--html", str(preview_file), config=settings.config_path)
    assert shown.returncode == 0, shown.stderr
    assert f"Wrote the summary's HTML to {preview_file}" in " ".join(shown.stdout.split())
    assert "Links are off" not in shown.stdout

    message = send_one(settings, web, mailbox)

    body = parts(message)
    html, text, subject = body["text/html"], body["text/plain"], str(message["Subject"])
    assert preview_file.read_text().replace("\r\n", "\n") == html.replace("\r\n", "\n")  # the preview is the email
    assert subject.startswith(f"portal-worker {PRACTICE} ") and "overdue" in subject and "at risk" in subject
    assert re.search(rf"<h1[^>]*>{PRACTICE}</h1>", html) and text.startswith(PRACTICE)
    with Session(web.engine) as session:
        claims = list_claims(session)
        alerts = {a.id: a for a in session.exec(select(Alert)).all()}
        denials = sorted(new_denials_since(session, None), key=lambda d: (-d.amount, d.id or 0))
        providers = list_providers(session)

    # no patient name anywhere, and no URL names a claim, a member or the payer's claim number
    for claim in claims:
        assert claim.patient_name not in html + text + subject
    urls = urls_in(html, text)
    assert urls and all(url.startswith(web.url + "/") for url in urls)
    for url in urls:
        parts_of = urlsplit(url)
        assert ALLOWED_PATH.fullmatch(parts_of.path) and not parts_of.query, url
        for claim in claims:
            for phi in (claim.claim_id, claim.member_id, claim.payer_claim_number):
                assert not phi or phi not in parts_of.path, (url, phi)

    # the new denials: the TOP largest listed with claim, payer, codes in words, amount and deadline; the rest counted
    assert len(denials) > TOP
    listed = [int(n) for n in re.findall(r'href="[^"]*/d/(\d+)"', html)]
    assert listed == [d.id for d in denials[:TOP]]
    top = denials[0]
    block = html[html.index(f"/d/{top.id}") :][:1500]
    assert f"Claim {top.claim_id}" in block and str(top.payer_id) in block and money(top.amount) in block
    assert str(describe_carc(top.carc)).replace("'", "&#39;") in block and "(by 20" in block
    rest = sum((d.amount for d in denials[TOP:]), Decimal("0"))
    said = f"and {len(denials) - TOP} more new denials, {money(rest)}"
    assert said in html and said in text

    # providers by name, hidden items counted with their dollars, "Coming up" listing its items
    names = {p.npi: p.name for p in providers}
    listed_alerts = [alerts[int(n)] for n in re.findall(r'href="[^"]*/a/(\d+)"', html)]
    about_providers = [a for a in listed_alerts if a.kind in PROVIDER_KINDS]
    assert about_providers
    for alert in about_providers:
        assert names[alert.subject.split("/")[0]] in html
    assert not re.search(r"Provider \d{10}", html + text)
    assert re.search(r"and \d+ more (overdue|due within 3 days|this week)(, \$[\d,]+\.\d\d)?", html)
    coming_up = html[html.index("Coming up:") :]
    assert re.search(r"/a/\d+", coming_up)

    # in Chromium: every listed alert carries its severity as a coloured badge with the word
    page.set_content(html)
    for link in page.locator('a[href*="/a/"]').all():
        alert = alerts[int(str(link.get_attribute("href")).rsplit("/", 1)[1])]
        word = SEVERITY_WORDS[alert.severity]
        item = link.locator("xpath=ancestor::td[1]")
        badge = item.get_by_text(word, exact=True)
        expect(badge).to_be_visible()
        assert badge.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.set_content(html)
        page.screenshot(path=str(SHOTS / f"digest-{width}.png"), full_page=True)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width  # nothing wider than a phone

    # the plain-text part says the same, in words
    assert "Overdue" in text or "OVERDUE" in text
    assert any(word in text for word in SEVERITY_WORDS.values()) or any(
        word.upper() in text for word in SEVERITY_WORDS.values()
    )

    # patient names only when the config turns them on
    named_settings = worker_settings(web, tmp_path / "named", port, "named", "include_patient_names = true\n")
    with_names = parts(send_one(named_settings, web, mailbox))["text/html"]
    [top_claim] = [c for c in claims if c.claim_id == top.claim_id]
    assert top_claim.patient_name.replace("'", "&#39;") in with_names


def log_in_here(page: Page, role: str = "billing") -> None:
    """On the login page a link led to: log in, and be taken on."""
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Login name").fill(USER_OF_ROLE[role])
    page.get_by_label("Password").fill(PASSWORDS[role])
    page.get_by_role("button", name="Log in").click()


def audits(ws: RunningWorkspace, action: str, subject: str) -> int:
    with Session(ws.engine) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == action, AuditEntry.subject == subject))
        return len(rows.all())


def test_each_link_asks_for_a_login_then_opens_the_page_of_its_item(
    web: RunningWorkspace, smtp_server: tuple[int, Mailbox], page: Page, tmp_path: Path
) -> None:
    port, mailbox = smtp_server
    settings = worker_settings(web, tmp_path, port, "billing")
    html = parts(send_one(settings, web, mailbox))["text/html"]
    hrefs = list(dict.fromkeys(re.findall(r'href="([^"]+)"', html)))
    with Session(web.engine) as session:
        alerts = {a.id: a for a in session.exec(select(Alert)).all()}
        denials = {d.id: d for d in new_denials_since(session, None)}

    def alert_link(*kinds: str) -> tuple[str, Alert]:
        for href in hrefs:
            if match := re.fullmatch(r".*/a/(\d+)", href):
                alert = alerts[int(match.group(1))]
                if alert.kind in kinds:
                    return href, alert
        raise AssertionError(f"no {kinds} alert listed")

    def follow(href: str) -> None:
        page.context.clear_cookies()
        page.goto(href)
        log_in_here(page)
        expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # a denial: its claim's page, at the denial; the claim page audits the view once
    denial_href = next(h for h in hrefs if "/d/" in h)
    denial = denials[int(denial_href.rsplit("/", 1)[1])]
    assert denial.claim_id
    follow(denial_href)
    expect(page).to_have_url(re.compile(rf"/claims/{denial.claim_id}#denial-{denial.id}$"))
    expect(page.get_by_role("heading", level=1, name=re.compile(rf"^Claim {denial.claim_id}\b"))).to_be_visible()
    assert audits(web, "view_claim", denial.claim_id) == 1

    # authorization and credentialing alerts: their lists, of the alert's payer; audited as link opens
    for kinds, path in (
        (("auth_pending_overdue", "auth_denied", "auth_units_high", "auth_expiring"), "/authorizations"),
        (("enrollment_inactive", "revalidation_due", "caqh_due"), "/enrollments"),
    ):
        href, alert = alert_link(*kinds)
        follow(href)
        expect(page).to_have_url(re.compile(rf"{path}(\?payer={alert.payer_id})?$"))
        assert audits(web, "open_alert_link", str(alert.id)) == 1

    # "see them all": the alerts page
    follow(next(h for h in hrefs if h.endswith("/alerts")))
    expect(page).to_have_url(re.compile(r"/alerts$"))
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()

    # a claim's alert (the email lists the most urgent: add a claim alert's link the way the email writes it)
    claim_alert = next(a for a in alerts.values() if a.kind == "timely_filing" and a.claim_id)
    follow(f"{web.url}/a/{claim_alert.id}")
    expect(page).to_have_url(re.compile(rf"/claims/{claim_alert.claim_id}$"))
    expect(page.get_by_role("heading", level=1, name=re.compile(rf"^Claim {claim_alert.claim_id}\b"))).to_be_visible()
    assert audits(web, "view_claim", str(claim_alert.claim_id)) == 1
    assert audits(web, "open_alert_link", str(claim_alert.id)) == 0  # the claim page counted it

    # an alert or denial that is not there (any more): a clear page, not an error
    for missing in ("/a/999999", "/d/999999", "/a/PW100027"):
        response = page.goto(web.url + missing)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name=re.compile(r"No such (alert|denial)"))).to_be_visible()


def test_preview_html_refuses_a_bad_path_and_writes_nothing(tmp_path: Path) -> None:
    settings, _ = install(tmp_path, "")
    folder = tmp_path / "out"
    folder.mkdir()

    def preview(*args: str) -> tuple[int, str, str]:
        ran = cli(None, "digest", "--preview", *args, config=settings.config_path)
        return ran.returncode, " ".join(ran.stdout.split()), " ".join(ran.stderr.split())

    for target, said in (
        (tmp_path / "nowhere" / "summary.html", "does not exist"),
        (folder, "is a folder"),
    ):
        code, _, error = preview("--html", str(target))
        assert code == 2 and said in error and "Traceback" not in error, error
    assert list(folder.iterdir()) == [] and not (tmp_path / "nowhere").exists()
    sending = cli(None, "digest", "--send", "--html", str(folder / "x.html"), config=settings.config_path)
    assert sending.returncode == 2 and "--html goes with --preview" in sending.stderr

    code, out, _ = preview("--html", str(folder / "summary.html"))
    assert code == 0 and "Links are off because web.base_url is not set" in out
    written = folder / "summary.html"
    assert written.read_text().lstrip().startswith("<!DOCTYPE html>") and "/a/" not in written.read_text()
    assert [p.name for p in folder.iterdir()] == ["summary.html"]  # no temporary file left behind
    assert written.stat().st_mode & 0o077 == 0  # it lists claims and amounts: private to the user
