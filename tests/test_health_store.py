"""Worker health in store/: heartbeats, scheduler job runs and paused flows, on a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from store.db import create_schema, make_engine, session_scope
from store.health import (
    active_pauses,
    beat,
    heartbeats,
    job_failed,
    job_runs,
    job_started,
    job_succeeded,
    mark_stopped,
    pause_flow,
    resume_flows,
)

NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
MINUTES = timedelta(minutes=1)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'health.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def test_heartbeats_round_trip_newest_first(engine: Engine) -> None:
    with session_scope(engine) as session:
        beat(
            session,
            worker_id="host-a:1",
            host="host-a",
            pid=1,
            started_at=NOW,
            now=NOW,
            runners=2,
            detail={"runner-1": "idle", "runner-2": "idle"},
        )
        beat(
            session,
            worker_id="host-b:7",
            host="host-b",
            pid=7,
            started_at=NOW,
            now=NOW + MINUTES,
            runners=1,
            detail={"runner-1": "working summit (3/25)"},
        )
    with session_scope(engine) as session:
        beat(
            session,
            worker_id="host-a:1",
            host="host-a",
            pid=1,
            started_at=NOW,
            now=NOW + 2 * MINUTES,
            runners=2,
            detail={"runner-1": "working unity (1/3)", "runner-2": "idle"},
        )

    with session_scope(engine) as session:
        first, second = heartbeats(session)
    assert (first.worker_id, first.beat_at, first.started_at, first.stopped_at) == (
        "host-a:1",
        NOW + 2 * MINUTES,
        NOW,
        None,
    )
    assert first.detail == {"runner-1": "working unity (1/3)", "runner-2": "idle"}
    assert (second.worker_id, second.host, second.pid, second.runners) == ("host-b:7", "host-b", 7, 1)
    assert second.beat_at.tzinfo is not None


def test_a_stopped_worker_says_so_until_it_beats_again(engine: Engine) -> None:
    with session_scope(engine) as session:
        beat(session, worker_id="w", host="h", pid=1, started_at=NOW, now=NOW, runners=1, detail={})
        mark_stopped(session, "w", NOW + MINUTES)
    with session_scope(engine) as session:
        [stopped] = heartbeats(session)
        assert stopped.stopped_at == NOW + MINUTES
        beat(
            session,
            worker_id="w",
            host="h",
            pid=2,
            started_at=NOW + 2 * MINUTES,
            now=NOW + 2 * MINUTES,
            runners=1,
            detail={},
        )
    with session_scope(engine) as session:
        [again] = heartbeats(session)
    assert (again.stopped_at, again.pid, again.started_at) == (None, 2, NOW + 2 * MINUTES)


def test_job_runs_record_start_success_and_failure(engine: Engine) -> None:
    with session_scope(engine) as session:
        job_started(session, "claims", NOW)
        job_succeeded(session, "claims", NOW + MINUTES, enqueued=12)
        job_started(session, "claims:lakeshore", NOW)
        job_failed(session, "claims:lakeshore", NOW + MINUTES, "OperationalError: database is locked")

    with session_scope(engine) as session:
        runs = job_runs(session)
    assert sorted(runs) == ["claims", "claims:lakeshore"]
    claims, lakeshore = runs["claims"], runs["claims:lakeshore"]
    assert (claims.last_started_at, claims.last_success_at, claims.last_enqueued, claims.last_error) == (
        NOW,
        NOW + MINUTES,
        12,
        None,
    )
    assert (lakeshore.last_started_at, lakeshore.last_success_at, lakeshore.last_error) == (
        NOW,
        None,
        "OperationalError: database is locked",
    )

    with session_scope(engine) as session:
        job_started(session, "claims:lakeshore", NOW + 60 * MINUTES)
        job_succeeded(session, "claims:lakeshore", NOW + 61 * MINUTES, enqueued=0)
    with session_scope(engine) as session:
        recovered = job_runs(session)["claims:lakeshore"]
    assert (recovered.last_started_at, recovered.last_success_at, recovered.last_error) == (
        NOW + 60 * MINUTES,
        NOW + 61 * MINUTES,
        None,
    )


def test_a_flow_pause_is_upserted_and_keeps_its_start_while_active(engine: Engine) -> None:
    with session_scope(engine) as session:
        pause_flow(
            session,
            portal="unity",
            kind="claim_status",
            reason="LayoutChanged: no results table",
            evidence="unity-1.png",
            now=NOW,
            until=NOW + 60 * MINUTES,
        )
        pause_flow(
            session,
            portal="unity",
            kind="claim_status",
            reason="LayoutChanged: still no table",
            evidence="unity-2.png",
            now=NOW + 10 * MINUTES,
            until=NOW + 120 * MINUTES,
        )
        pause_flow(
            session,
            portal="unity",
            kind="authorization",
            reason="LayoutChanged: search form",
            evidence=None,
            now=NOW,
            until=NOW + 30 * MINUTES,
        )

    with session_scope(engine) as session:
        authorization, claim_status = active_pauses(session, NOW + 20 * MINUTES)
        assert (claim_status.reason, claim_status.evidence, claim_status.since, claim_status.until) == (
            "LayoutChanged: still no table",
            "unity-2.png",
            NOW,
            NOW + 120 * MINUTES,
        )
        assert authorization.kind == "authorization" and authorization.evidence is None
        assert [pause.kind for pause in active_pauses(session, NOW + 30 * MINUTES)] == ["claim_status"]
        assert active_pauses(session, NOW + 120 * MINUTES) == []

        # a pause that had run out starts afresh
        pause_flow(
            session,
            portal="unity",
            kind="authorization",
            reason="LayoutChanged: again",
            evidence=None,
            now=NOW + 40 * MINUTES,
            until=NOW + 90 * MINUTES,
        )
    with session_scope(engine) as session:
        renewed = next(p for p in active_pauses(session, NOW + 41 * MINUTES) if p.kind == "authorization")
    assert renewed.since == NOW + 40 * MINUTES


def test_resume_flows_by_portal_and_kind(engine: Engine) -> None:
    with session_scope(engine) as session:
        for portal, kind in (("unity", "claim_status"), ("unity", "authorization"), ("summit", "enrollment")):
            pause_flow(
                session,
                portal=portal,
                kind=kind,
                reason="LayoutChanged",
                evidence=None,
                now=NOW,
                until=NOW + 60 * MINUTES,
            )
    with session_scope(engine) as session:
        assert resume_flows(session, "unity", "authorization") == 1
        assert resume_flows(session, "lakeshore") == 0
        assert [(p.portal, p.kind) for p in active_pauses(session, NOW)] == [
            ("summit", "enrollment"),
            ("unity", "claim_status"),
        ]
        assert resume_flows(session, "unity") == 1
        assert [(p.portal, p.kind) for p in active_pauses(session, NOW)] == [("summit", "enrollment")]
