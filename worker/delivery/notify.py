"""Alerts refreshed from what the store knows, and the daily summary delivered through Apprise, never twice.

One summary per channel (an audience: its departments and its Apprise URLs) per day. Each URL
is one delivery, recorded in the Digest table under the channel's name (`NAME[i]` for the
channel's second and later URLs) BEFORE it is sent:

- "sending" -> "sent" or "failed" once Apprise answers;
- a row still "sending" when a run starts means a worker stopped between sending and recording:
  it becomes "unconfirmed" and is NOT sent again (at most once; `status` shows it);
- "failed" is sent again, from the stored text, on later runs (up to alerts.delivery_attempts).

Every channel's summary is built before any is marked reported, so one audience's send does
not take the news out of another's. Apprise's own messages may repeat a URL's secrets: errors
are kept only after every part of the URL that Apprise itself masks is removed from them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from flows.alerts import (
    DEADLINE_KINDS,
    FINDING_OWNERS,
    HEALTH_KINDS,
    LAYOUT_CHANGED,
    URGENT_KINDS,
    AlertChanges,
    AlertDraft,
    AlertRules,
    deadline_alerts,
    finding_alerts,
    health_alerts,
    sync_alerts,
)
from flows.appeal_follow_up import sync_appeal_findings
from flows.appeal_progress import NONE_FILED, appeal_progress
from flows.cadence import as_utc
from flows.deadlines import load_payer_rules
from flows.digest import DailyDigest, build_digest, mark_keys_reported, render_html, render_text, subject_line
from flows.visits import visits_ahead, visits_in, with_problems
from flows.worklist import work_item
from store import accounts, feed, health
from store import alerts as alert_store
from store.claims import list_claims
from store.db import session_scope
from store.denials import list_denials
from store.findings import open_findings
from store.models import Digest
from store.providers import list_providers
from worker.runtime.jobs import expected_intervals
from worker.settings import ChannelSettings, Settings

log = structlog.get_logger(__name__)

ALL_KINDS = (*DEADLINE_KINDS, *FINDING_OWNERS, *HEALTH_KINDS)
NOTICE_SEPARATOR = "!"  # channel names are a-z, 0-9, _ and -: never "!"
EVERYONE = "everyone"  # the audience a preview shows when no channel is configured
FIRST_SUMMARY_LOOKBACK = timedelta(days=1)  # "new denials" for a channel that never got a summary
UNCONFIRMED_NOTE = "the worker stopped between sending and recording it; not sent again (check whether it arrived)"


# --- alerts --------------------------------------------------------------------------------------


def alert_rules(settings: Settings) -> AlertRules:
    alerts = settings.alerts
    return AlertRules(
        ladders=dict(alerts.ladders),
        portal_paused_hours=alerts.portal_paused_hours,
        job_grace=alerts.job_grace,
        feed_failing_minutes=settings.feed.alert_after_minutes,
    )


def practice_today(settings: Settings, now: datetime) -> date:
    """Deadlines are counted in the practice's days."""
    return now.astimezone(settings.worker.tzinfo).date()


def refresh_alerts(settings: Settings, engine: Engine, now: datetime) -> AlertChanges:
    """Raise, update, escalate and resolve alerts from the claims, denials, findings and worker health."""
    today, rules = practice_today(settings, now), alert_rules(settings)
    with session_scope(engine) as session:
        denials = list_denials(session, statuses=["open"])
        sync_appeal_findings(session, today, now)
        progress = appeal_progress(session)
        appeals = {d.id: progress.get(d.id, NONE_FILED).filed for d in denials if d.id is not None}
        decided = {i: p.decision_date for i, p in progress.items() if p.decision_date is not None}
        drafts = [
            *deadline_alerts(
                list_claims(session),
                denials,
                load_payer_rules(),
                today,
                rules,
                appeals=appeals,
                decision_dates=decided,
            ),
            *finding_alerts(open_findings(session), today, rules),
            *_health_drafts(session, settings, now, rules),
        ]
        changes = sync_alerts(session, ALL_KINDS, drafts, now)
    log.info(
        "alerts_refreshed", opened=len(changes.opened), escalated=len(changes.escalated), resolved=len(changes.resolved)
    )
    return changes


def refresh_urgent_alerts(settings: Settings, engine: Engine, now: datetime) -> AlertChanges:
    """refresh_alerts for the urgent kinds only: cheap enough to run every few minutes."""
    today, rules = practice_today(settings, now), alert_rules(settings)
    with session_scope(engine) as session:
        drafts = [
            *finding_alerts(open_findings(session, [LAYOUT_CHANGED]), today, rules),
            *_health_drafts(session, settings, now, rules),
        ]
        return sync_alerts(session, URGENT_KINDS, drafts, now)


def _health_drafts(session: Session, settings: Settings, now: datetime, rules: AlertRules) -> list[AlertDraft]:

    live = [beat.started_at for beat in health.heartbeats(session) if beat.stopped_at is None]
    return health_alerts(
        accounts.all_accounts(session),
        health.job_runs(session),
        expected_intervals(settings, now),
        now,
        rules,
        up_since=min(live) if live else None,
        feed_channels=[entry.state for entry in feed.backlog(session, list(settings.feed.channels))],
    )


# --- building the summaries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One Apprise URL of one channel: the unit that is sent, recorded and retried."""

    channel: str  # the audience, as in [alerts.channels.NAME]
    key: str  # Digest.channel: NAME for the channel's first URL, NAME[i] for the others
    url: str = field(default="", repr=False)  # never logged or stored: it may hold a password or token


def delivery_key(row_channel: str) -> str:
    """The delivery a Digest row went to: "it" for "it" and for an urgent notice's "it!KIND|SUBJECT@OPENED"."""
    return row_channel.split(NOTICE_SEPARATOR, 1)[0]


def deliveries(settings: Settings, channel: str) -> list[Delivery]:
    urls = settings.alerts.channels[channel].urls
    return [Delivery(channel, channel if index == 0 else f"{channel}[{index}]", url) for index, url in enumerate(urls)]


def build_summary(
    session: Session,
    settings: Settings,
    channel: str,
    owners: Sequence[str] | None,
    now: datetime,
    since_keys: Sequence[str] = (),
) -> DailyDigest:
    """The summary one audience gets today; "new denials" count from its last sent summary."""
    sent = [d.sent_at for key in since_keys if (d := alert_store.last_sent_digest(session, key)) and d.sent_at]
    since = max(sent) if sent else now - FIRST_SUMMARY_LOOKBACK
    open_alerts = alert_store.open_alerts(session, now=now)
    resolved = alert_store.resolved_unreported(session)
    denials = alert_store.new_denials_since(session, since)
    today = practice_today(settings, now)
    claim_ids = sorted(
        {c for c in (*(a.claim_id for a in (*open_alerts, *resolved)), *(d.claim_id for d in denials)) if c}
    )
    claims = {c.claim_id: c for c in list_claims(session, claim_ids=claim_ids)} if claim_ids else {}
    names = {i: c.patient_name for i, c in claims.items()} if settings.alerts.include_patient_names else None
    rules, filed = load_payer_rules(), appeal_progress(session)
    steps = {
        d.id: work_item(
            d,
            claims.get(d.claim_id or ""),
            rules,
            today,
            (progress := filed.get(d.id, NONE_FILED)).filed,
            decision_date=progress.decision_date,
        )
        for d in denials
        if d.id is not None
    }
    return build_digest(
        open_alerts,
        resolved,
        denials,
        today,
        owners=owners or None,
        top_n=settings.alerts.top_items,
        patient_names=names,
        practice=settings.practice.name or "",
        provider_names={p.npi: p.name for p in list_providers(session)},
        base_url=settings.web.base_url,
        next_steps=steps,
        visits=with_problems(
            visits_in(
                session,
                *visits_ahead(today, settings.schedule.eligibility.times),
                patient_names=settings.alerts.include_patient_names,
            ),
            as_utc(now).astimezone(settings.worker.tzinfo).replace(tzinfo=None),
        ),
    )


def audiences(settings: Settings) -> dict[str, ChannelSettings | None]:
    """The configured channels; with none, one audience of every department (for a preview)."""
    return dict(settings.alerts.channels) or {EVERYONE: None}


@dataclass(frozen=True)
class Preview:
    channel: str
    owners: tuple[str, ...]  # () = every department
    text: str
    html: str = field(default="", repr=False)


def preview(settings: Settings, engine: Engine, now: datetime) -> list[Preview]:
    """Refresh the alerts, then each audience's summary (text and HTML). Nothing is sent or marked reported."""
    refresh_alerts(settings, engine, now)
    shown = []
    with session_scope(engine) as session:
        for name, channel in audiences(settings).items():
            owners = tuple(channel.owners) if channel else ()
            keys = [d.key for d in deliveries(settings, name)] if channel else []
            summary = build_summary(session, settings, name, owners, now, keys)
            shown.append(Preview(name, owners, render_text(summary), render_html(summary)))
    return shown


def write_html(settings: Settings, day: date, channel: str, html: str) -> Path:
    """DATA_DIR/digests/YYYY-MM-DD-CHANNEL.html, private to the service user (it lists claims and amounts)."""
    folder = settings.worker.data_dir / "digests"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{day.isoformat()}-{channel}.html"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(html)
    path.chmod(0o600)
    return path


# --- sending ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    ok: bool
    error: str | None = None  # no secrets: see scrub()


Sender = Callable[[str, str, str, str], Sent]  # (url, subject, text, html) -> outcome


def apprise_send(url: str, subject: str, text: str, html: str) -> Sent:
    """Send through Apprise: HTML where the service speaks it (email, with Apprise's plain-text part), else text."""
    from apprise import Apprise, NotifyFormat

    service = Apprise.instantiate(url)
    if service is None:  # settings checked it; the installed Apprise may differ from the one that did
        return Sent(False, "Apprise cannot use this URL (check alerts.channels in the config)")
    wants = service.resolve_format(None)
    body, body_format = (html, NotifyFormat.HTML) if wants == NotifyFormat.HTML else (text, wants)
    notifier = Apprise()
    notifier.add(service)
    result = notifier.notify(body=body, title=subject, body_format=body_format)
    if result:
        return Sent(True)
    masked = service.url(privacy=True)  # type: ignore[no-untyped-call]  # apprise leaves url() unannotated
    said = "; ".join(
        dict.fromkeys(entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL"))
    )
    error = f"{service.service_name} at {masked.split('?', 1)[0]}: {said or 'not delivered'}"
    return Sent(False, scrub(error, url, masked))


SECRET_ARGUMENT = re.compile(r"^[+:-]|token|key|secret|pass|auth|sig", re.IGNORECASE)  # +Header=, ?token=...


def scrub(text: str, url: str, masked: str) -> str:
    """`text` without any part of `url` that Apprise masks in `masked` (passwords, tokens, keys), nor the
    values of query arguments that look secret (Apprise shows custom headers such as +X-Token= unmasked)."""
    secrets = {part for part in re.split(r"[:/@?&=#,]+", url) if part not in masked}
    query = url.split("?", 1)[1] if "?" in url else ""
    secrets |= {
        value for name, _, value in (arg.partition("=") for arg in query.split("&")) if SECRET_ARGUMENT.search(name)
    }
    secrets |= {unquote(secret) for secret in secrets}  # as the URL wrote it, and as a message may print it
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "****")
    return text


@dataclass(frozen=True)
class Outcome:
    """What happened to one delivery in this run, for the CLI and the log."""

    day: date
    key: str
    state: str  # sent | failed | unconfirmed | already sent | nothing to report
    detail: str = ""


def send_digests(
    settings: Settings, engine: Engine, now: datetime, *, send: Sender = apprise_send, retry_all: bool = False
) -> list[Outcome]:
    """The digest job: refresh alerts, settle what a dead worker left, retry failures, send today's summaries.

    `retry_all` (a person running `digest --send`): retry failed summaries past alerts.delivery_attempts too.
    """
    refresh_alerts(settings, engine, now)
    outcomes = _settle_interrupted(engine, now)
    limit = None if retry_all else settings.alerts.delivery_attempts
    outcomes += _retry_failed(settings, engine, now, send, limit)
    outcomes += _send_today(settings, engine, now, send, {(o.day, o.key) for o in outcomes})
    for outcome in outcomes:
        log.info("digest_delivery", day=outcome.day.isoformat(), channel=outcome.key, state=outcome.state)
    return outcomes


def retry_failed_deliveries(
    settings: Settings, engine: Engine, now: datetime, *, send: Sender = apprise_send
) -> list[Outcome]:
    """Between daily runs: send again the summaries whose delivery failed (up to alerts.delivery_attempts)."""
    outcomes = _retry_failed(settings, engine, now, send, settings.alerts.delivery_attempts)
    for outcome in outcomes:
        log.info("digest_delivery_retried", day=outcome.day.isoformat(), channel=outcome.key, state=outcome.state)
    return outcomes


def _settle_interrupted(engine: Engine, now: datetime) -> list[Outcome]:
    """Rows left "sending": the summary may or may not have gone out; at most once, so never again."""
    with session_scope(engine) as session:
        stuck = alert_store.digests_by_state(session, ["sending"])
        for digest in stuck:
            alert_store.move_digest(session, digest, ("sending",), state="unconfirmed", last_error=UNCONFIRMED_NOTE)
    return [Outcome(d.digest_date, d.channel, "unconfirmed", UNCONFIRMED_NOTE) for d in stuck]


def _retry_failed(settings: Settings, engine: Engine, now: datetime, send: Sender, limit: int | None) -> list[Outcome]:
    by_key = {d.key: d for name in settings.alerts.channels for d in deliveries(settings, name)}
    with session_scope(engine) as session:
        failed = alert_store.digests_by_state(session, ["failed", "pending"])
    outcomes = []
    for digest in failed:
        delivery = by_key.get(delivery_key(digest.channel))
        if delivery is None:
            continue  # the channel (or that URL) left the config
        if limit is not None and digest.attempts >= limit:
            continue  # given up on; `status` keeps showing it
        with session_scope(engine) as session:
            claimed = alert_store.move_digest(session, digest, (digest.state,), state="sending")
        if claimed:  # another worker may have taken it first
            outcomes.append(deliver(engine, digest, delivery, send, now))
    return outcomes


def _send_today(
    settings: Settings, engine: Engine, now: datetime, send: Sender, reported: set[tuple[date, str]]
) -> list[Outcome]:
    today = practice_today(settings, now)
    outcomes: list[Outcome] = []
    planned: list[tuple[DailyDigest, list[Delivery]]] = []
    with session_scope(engine) as session:  # every summary built before any is marked reported
        for name, channel in settings.alerts.channels.items():
            targets = deliveries(settings, name)
            rows = {d.key: alert_store.get_digest(session, today, d.key) for d in targets}
            due = [d for d in targets if rows[d.key] is None]
            outcomes += [_earlier(row) for key, row in rows.items() if row and (today, key) not in reported]
            if due:
                planned.append(
                    (build_summary(session, settings, name, channel.owners, now, [d.key for d in targets]), due)
                )
    for summary, due in planned:
        if summary.is_empty:
            outcomes += [Outcome(today, d.key, "nothing to report") for d in due]
            continue
        subject, text, html = subject_line(summary), render_text(summary), render_html(summary)
        write_html(settings, today, due[0].channel, html)
        for delivery in due:
            digest = claim_new(
                engine,
                Digest(
                    digest_date=today,
                    channel=delivery.key,
                    state="sending",
                    created_at=now,
                    subject=subject,
                    body_text=text,
                    body_html=html,
                    alert_keys=summary.alert_keys,
                    resolved_keys=summary.resolved_keys,
                ),
            )
            if digest is None:
                outcomes.append(Outcome(today, delivery.key, "already sent", "another worker took it"))
                continue
            outcomes.append(deliver(engine, digest, delivery, send, now))
    return outcomes


def _earlier(row: Digest) -> Outcome:
    """Today's row an earlier run left: sent, or failed for good, or unconfirmed; not sent again now."""
    if row.state == "sent":
        return Outcome(row.digest_date, row.channel, "already sent")
    return Outcome(row.digest_date, row.channel, f"{row.state} earlier", row.last_error or "")


def claim_new(engine: Engine, digest: Digest) -> Digest | None:
    """Record the summary as "sending" before it goes: None when another worker recorded it first."""
    try:
        with session_scope(engine) as session:
            alert_store.save_digest(session, digest)
    except IntegrityError:
        return None
    return digest


def deliver(engine: Engine, digest: Digest, delivery: Delivery, send: Sender, now: datetime) -> Outcome:
    try:
        sent = send(delivery.url, digest.subject, digest.body_text, digest.body_html)
    except Exception as exc:  # noqa: BLE001  (a bug in a notification plugin must not lose the record)
        # Only the type: the message of a plugin's exception may repeat the URL and its secrets.
        sent = Sent(False, f"{type(exc).__name__} in the notification plugin while sending")
        log.error("digest_send_crashed", channel=delivery.key, error=type(exc).__name__)
    with session_scope(engine) as session:
        values: dict[str, object] = {"attempts": digest.attempts + 1}
        if sent.ok:
            values |= {"state": "sent", "sent_at": now, "last_error": None}
        else:
            values |= {"state": "failed", "last_error": sent.error or "not delivered"}
        # "unconfirmed": another run took this row for one a dead worker left; what happened is known now.
        alert_store.move_digest(session, digest, ("sending", "unconfirmed"), **values)
        if sent.ok:
            mark_keys_reported(session, digest.alert_keys, digest.resolved_keys, now)
    return Outcome(digest.digest_date, digest.channel, str(values["state"]), sent.error or "")
