"""Urgent alerts go out when they open, not only in the next morning's summary.

An account waiting for a new password, a portal paused for hours, a job that stopped
succeeding or a layout change: each means nothing is being checked somewhere, and a day
waiting for the summary is a day of claims nobody looked at. Every 15 minutes the worker
refreshes those alerts and sends each one not yet reported, once, to every channel whose
departments include the alert's. From then on the daily summary lists it every day until
someone acknowledges it or it resolves.

A notice is a Digest row keyed "CHANNEL!KIND|SUBJECT@OPENED", recorded "sending" before it
goes, so it has a summary's guarantees: never sent twice (restarts included), a failure
retried and shown in `status`. An alert that resolves and comes back is news again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

import structlog
from sqlalchemy.engine import Engine

from flows.alerts import URGENT_KINDS
from store import alerts as alert_store
from store.db import session_scope
from store.models import Alert, Digest
from worker.delivery.notify import (
    NOTICE_SEPARATOR,
    Delivery,
    Outcome,
    Sender,
    apprise_send,
    claim_new,
    deliver,
    deliveries,
    practice_today,
    refresh_urgent_alerts,
)
from worker.settings import Settings

log = structlog.get_logger(__name__)

SUBJECT_LIMIT = 150


@dataclass(frozen=True)
class Notice:
    key: str  # the Digest row's channel
    delivery: Delivery
    subject: str
    text: str
    html: str
    alert_key: str


def notice_key(delivery: Delivery, alert: Alert) -> str:
    return f"{delivery.key}{NOTICE_SEPARATOR}{alert.key}@{alert.opened_at:%Y%m%dT%H%M%S}"


def render(alert: Alert) -> tuple[str, str, str]:
    """Subject, text and HTML of one alert's notice: its title and action, as minimal as the summary's."""
    subject = f"portal-worker URGENT: {alert.title}"
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 3] + "..."
    follow_up = (
        f"Opened {alert.opened_at:%Y-%m-%d %H:%M} UTC. Once someone is on it: "
        f"portal-worker alerts ack {alert.id}. Until then the daily summary lists it every day."
    )
    text = f"{alert.title}\n\nWhat to do: {alert.action}\n\n{follow_up}\n"
    html = (
        f"<p><strong>{escape(alert.title)}</strong></p><p>What to do: {escape(alert.action)}</p>"
        f"<p>{escape(follow_up)}</p>"
    )
    return subject, text, html


def due_notices(settings: Settings, engine: Engine, now: datetime) -> list[Notice]:
    """Open urgent alerts no summary or notice has reported yet, for each channel that wants them."""
    notices = []
    with session_scope(engine) as session:
        fresh = [
            alert
            for alert in alert_store.open_alerts(session, now=now)
            if alert.kind in URGENT_KINDS and alert.reported_at is None
        ]
        for alert in fresh:
            subject, text, html = render(alert)
            for name, channel in settings.alerts.channels.items():
                if channel.owners and alert.owner not in channel.owners:
                    continue
                for delivery in deliveries(settings, name):
                    key = notice_key(delivery, alert)
                    if not alert_store.digest_channel_used(session, key):
                        notices.append(Notice(key, delivery, subject, text, html, alert.key))
    return notices


def send_urgent(settings: Settings, engine: Engine, now: datetime, *, send: Sender = apprise_send) -> list[Outcome]:
    """Refresh the urgent alerts and send the notices due; every notice is planned before any is sent,
    so one channel's delivery does not take the news out of another's."""
    if not settings.alerts.urgent_at_once or not settings.alerts.channels:
        return []
    refresh_urgent_alerts(settings, engine, now)
    today, outcomes = practice_today(settings, now), []
    for notice in due_notices(settings, engine, now):
        digest = claim_new(
            engine,
            Digest(
                digest_date=today,
                channel=notice.key,
                state="sending",
                created_at=now,
                subject=notice.subject,
                body_text=notice.text,
                body_html=notice.html,
                alert_keys=[notice.alert_key],
                resolved_keys=[],
            ),
        )
        if digest is not None:
            outcomes.append(deliver(engine, digest, notice.delivery, send, now))
    for outcome in outcomes:
        log.info("urgent_notice", channel=outcome.key, state=outcome.state)
    return outcomes
