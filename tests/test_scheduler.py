"""The scheduler's jobs without a browser: triggers from config, catch-up, what a job enqueues, the purge."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from flows.claim_import import import_claims_file
from store.db import create_schema, make_engine, session_scope
from store.evidence import add_evidence
from store.models import Evidence, Task
from tests.conftest import write_config
from tests.test_import_claims import rows, write_csv
from worker.runtime.evidence import evidence_dir, sweep_expired
from worker.runtime.jobs import job_specs, missed_while_down, next_fire
from worker.runtime.scheduler import Enqueuer, build_scheduler
from worker.settings import Settings

MONDAY_NOON = datetime(2026, 11, 23, 17, tzinfo=UTC)  # 12:00 in New York


def settings_with(tmp_path: Path, extra: str = "") -> Settings:
    path = tmp_path / "portal-worker.toml"
    write_config(path, "http://127.0.0.1:9", tmp_path / "data", extra)
    return Settings.load(path)


def test_jobs_come_from_config_with_per_portal_schedules(tmp_path: Path) -> None:
    settings = settings_with(
        tmp_path,
        '\n[schedule.claims.portals.lakeshore]\ncron = "30 7 * * mon-fri"\n[schedule.auths]\nenabled = false\n',
    )

    specs = {spec.job_id: spec for spec in job_specs(settings)}

    assert specs["claims"].portals == ("summit", "unity") and specs["claims:lakeshore"].portals == ("lakeshore",)
    assert "auths" not in specs
    assert specs["remittances"].portals == ("summit",)  # only the clearinghouse offers ERA files
    assert specs["enrollments"].portals == ("summit", "unity", "lakeshore")
    # Twice on business days at 06:00 and 13:00 New York time; the next after Monday noon is 13:00.
    afternoon = next_fire(specs["claims"], MONDAY_NOON)
    assert afternoon is not None and afternoon.astimezone(settings.worker.tzinfo).hour == 13
    friday_evening = datetime(2026, 11, 27, 23, tzinfo=UTC)
    monday = next_fire(specs["claims"], friday_evening)
    assert monday is not None
    monday = monday.astimezone(settings.worker.tzinfo)
    assert (monday.weekday(), monday.hour) == (0, 6)


def test_a_worker_down_overnight_catches_up_once_not_per_missed_run(tmp_path: Path) -> None:
    [claims] = [s for s in job_specs(settings_with(tmp_path)) if s.job_id == "claims"]
    friday_13h = datetime(2026, 11, 20, 18, tzinfo=UTC)

    assert missed_while_down(claims, None, MONDAY_NOON)  # never ran
    assert missed_while_down(claims, friday_13h, MONDAY_NOON)  # Monday 06:00 passed while it was down
    assert not missed_while_down(claims, MONDAY_NOON - timedelta(hours=1), MONDAY_NOON)


def test_scheduled_jobs_coalesce_run_one_at_a_time_and_catch_up_only_when_missed(tmp_path: Path) -> None:
    settings = settings_with(
        tmp_path,
        "\n[schedule.claims]\njitter_seconds = 120\nmisfire_grace_minutes = 30\n"
        '[alerts.channels.it]\nurls = ["json://127.0.0.1:9/it"]\nowners = ["it"]\n',
    )
    specs = job_specs(settings)
    engine = make_engine(settings.database_url())
    now = datetime.now(UTC)
    # Every job started just now except the digest, which last ran a week ago.
    last_started: dict[str, datetime | None] = {spec.job_id: now for spec in specs}
    last_started["digest"] = now - timedelta(days=7)

    scheduler = build_scheduler(settings, specs, Enqueuer(settings, engine, lambda: now), last_started)

    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {spec.job_id for spec in specs} | {"between-summaries"}
    for job in jobs.values():
        assert (job.coalesce, job.max_instances) == (True, 1), job.id  # one catch-up, never two at once
    assert jobs["claims"].misfire_grace_time == 30 * 60 and jobs["claims"].trigger.jitter == 120
    assert jobs["auths"].misfire_grace_time == 60 * 60 and jobs["auths"].trigger.jitter == 300  # defaults
    caught_up = [job_id for job_id, job in jobs.items() if getattr(job, "next_run_time", None) is not None]
    assert caught_up == ["digest"]  # missed while down: runs once at start; the rest wait for their time

    (tmp_path / "quiet").mkdir()
    without_channels = settings_with(tmp_path / "quiet")
    quiet = build_scheduler(
        without_channels, job_specs(without_channels), Enqueuer(without_channels, engine, lambda: now), last_started
    )
    assert "between-summaries" not in {job.id for job in quiet.get_jobs()}  # nowhere to send anything


@pytest.fixture
def store(tmp_path: Path) -> tuple[Settings, Engine]:
    settings = settings_with(tmp_path)
    engine = make_engine(settings.database_url())
    create_schema(engine)
    return settings, engine


def test_the_claims_job_enqueues_each_due_claim_once_per_portal(store: tuple[Settings, Engine], tmp_path: Path) -> None:
    settings, engine = store
    template = {**rows()[0], "dos_from": "2026-10-20", "dos_to": "2026-10-20", "prior_auth_number": ""}
    csv = write_csv(
        tmp_path / "claims.csv",
        [
            {**template, "claim_id": "PW-A", "payer_id": "UHP", "submitted_date": "2026-11-01"},
            {**template, "claim_id": "PW-B", "payer_id": "LSM", "submitted_date": "2026-11-01"},
            {**template, "claim_id": "PW-C", "payer_id": "UHP", "submitted_date": "2026-11-22"},  # not listed yet
            {**template, "claim_id": "PW-D", "payer_id": "ZZZ", "submitted_date": "2026-11-01"},  # no portal for it
        ],
    )
    import_claims_file(engine, csv, MONDAY_NOON)
    enqueuer = Enqueuer(settings, engine, lambda: MONDAY_NOON)

    first = enqueuer.enqueue("claims", ("summit", "unity", "lakeshore"))
    again = enqueuer.enqueue("claims", ("summit", "unity", "lakeshore"))

    with session_scope(engine) as session:
        queued = sorted((t.portal, t.target, t.reason) for t in session.exec(select(Task)))
    assert (first, again) == (2, 0)
    assert [(portal, target) for portal, target, _ in queued] == [("lakeshore", "PW-B"), ("unity", "PW-A")]
    assert all("never checked" in reason for _, _, reason in queued)


def test_the_purge_deletes_evidence_past_its_retention_files_and_rows(
    store: tuple[Settings, Engine], tmp_path: Path
) -> None:
    settings, engine = store
    folder = tmp_path / "data" / "evidence"
    folder.mkdir(parents=True)
    now = datetime.now(UTC)
    files, traces = {}, {}
    with session_scope(engine) as session:
        for name, age in (("old", 31), ("recent", 29)):
            html, trace = folder / f"{name}.html", folder / f"{name}.trace.zip"
            html.write_text("<html></html>")
            trace.write_bytes(b"PK")
            files[name], traces[name] = html, trace
            add_evidence(
                session,
                Evidence(
                    created_at=now - timedelta(days=age),
                    portal="unity",
                    reason="test",
                    url="http://127.0.0.1:9/",
                    html_path=str(html),
                    trace_path=str(trace),
                ),
            )

    purged = Enqueuer(settings, engine, lambda: now).purge()

    assert purged == 1 and not files["old"].exists() and files["recent"].exists()
    assert not traces["old"].exists() and traces["recent"].exists()
    with session_scope(engine) as session:
        assert [e.html_path for e in session.exec(select(Evidence))] == [str(files["recent"])]


def test_each_host_sweeps_its_own_expired_evidence_files(store: tuple[Settings, Engine], tmp_path: Path) -> None:
    """Several hosts, one database: the purge job (on one host) deletes every row, but only its own files."""
    settings, engine = store
    other_host = tmp_path / "host-b"
    folder = evidence_dir(other_host) / "unity"
    folder.mkdir(parents=True)
    now = datetime.now(UTC)
    old, recent = folder / "PW-1-old.png", folder / "PW-2-recent.png"
    for path, age in ((old, 31), (recent, 29)):
        path.write_bytes(b"\x89PNG")
        written = (now - timedelta(days=age)).timestamp()
        os.utime(path, (written, written))
    with session_scope(engine) as session:  # host B listed its file under its own path, which host A lacks
        add_evidence(
            session,
            Evidence(
                created_at=now - timedelta(days=31),
                portal="unity",
                reason="test",
                url="http://127.0.0.1:9/",
                screenshot_path=f"/nonexistent/host-b/{old.relative_to(tmp_path)}",
            ),
        )

    assert Enqueuer(settings, engine, lambda: now).purge() == 1
    assert old.exists()  # host A deleted the row, but the file lies on host B

    assert sweep_expired(other_host, now - timedelta(days=settings.evidence.retention_days)) == 1
    assert not old.exists() and recent.exists()


def test_records_outlive_the_pages_saved_when_something_went_wrong(
    store: tuple[Settings, Engine], tmp_path: Path
) -> None:
    """A claim's page on first sight or a confirmation is kept for records_days; a surprise page for retention_days."""
    settings, engine = store
    data = tmp_path / "host"
    surprise, record = evidence_dir(data) / "unity", evidence_dir(data) / "records" / "unity"
    now = datetime.now(UTC)
    past_retention = settings.evidence.retention_days + 1
    files = {
        "surprise": surprise / "PW-1-old.png",
        "record": record / "PW-1-first-seen.pdf",
        "old record": record / "PW-2-first-seen.pdf",
    }
    ages = {"surprise": past_retention, "record": past_retention, "old record": settings.evidence.records_days + 1}
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF")
        written = (now - timedelta(days=ages[name])).timestamp()
        os.utime(path, (written, written))
    with session_scope(engine) as session:
        for name, path in files.items():
            add_evidence(
                session,
                Evidence(
                    created_at=now - timedelta(days=ages[name]),
                    portal="unity",
                    reason=name,
                    url="http://127.0.0.1:9/",
                    html_path=str(path.with_suffix(".html")),
                    pdf_path=str(path),
                ),
            )

    assert Enqueuer(settings, engine, lambda: now).purge() == 2
    with session_scope(engine) as session:
        assert [e.reason for e in session.exec(select(Evidence))] == ["record"]
    assert not files["surprise"].exists() and not files["old record"].exists() and files["record"].exists()

    files["surprise"].write_bytes(b"\x89PNG")  # a file the purge could not see: the sweep uses the same limits
    for path in (files["surprise"], files["old record"]):
        path.write_bytes(b"%PDF")
        written = (now - timedelta(days=ages["old record"])).timestamp()
        os.utime(path, (written, written))
    swept = sweep_expired(
        data,
        now - timedelta(days=settings.evidence.retention_days),
        now - timedelta(days=settings.evidence.records_days),
    )
    assert swept == 2 and files["record"].exists()
