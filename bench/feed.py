"""The outbound feed's pace: events per second from a backlog to a local receiver.

    python -m bench.feed [--events 10000] [--db sqlite|postgres|both] [--dir DIR] [--pg-url URL]

Fills a fresh store with a backlog of `--events` waiting events, written the way the worker writes them
(claims' status changes through store.observations.record_observation; the outbox makes each one event),
then times worker.feed.pump.FeedPump sending them all: to a receiver on 127.0.0.1 that checks each
request's signature and answers 200 (the webhook channel), and into a folder (the CSV channel). PostgreSQL
runs in a schema of its own on the local server when it is reachable. Prints events per second; nothing is
asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from store import feed
from store.db import create_schema, make_engine, session_scope, sqlite_url
from store.models import Claim, ClaimStatusObservation
from store.observations import record_observation
from store.postgres import DEFAULT_URL, fresh_schema, unreachable
from worker.feed.channel import Channel
from worker.feed.csv_drop import CsvDropChannel
from worker.feed.pump import FeedPump
from worker.feed.signing import SignatureRejected, new_secret, verify
from worker.feed.webhook import WebhookChannel
from worker.settings import Settings

# Each change differs from the one before, so each is one claim.status_changed event and nothing else.
STATES = ("received", "pending", "denied", "finalized")
CHANGES_PER_CLAIM = 10
AT = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
CONFIG = """
[worker]
data_dir = "{data}"

[portals.summit]
adapter = "summit_exchange"
base_url = "https://portal.summit.example/"
payers = ["NWM"]

[feed.channels.webhook]
kind = "webhook"
url = "{url}"

[feed.channels.csv]
kind = "csv"
folder = "{folder}"
"""


def record_changes(engine: Engine, claims: int, changes_per_claim: int) -> int:
    """`claims` synthetic claims, each changing status `changes_per_claim` times; one transaction per round,
    so the events of different claims interleave as a day's checks make them. Returns the events written."""
    ids = [f"BF{number:08d}" for number in range(claims)]
    with session_scope(engine) as session:
        for claim_id in ids:
            session.add(
                Claim(
                    claim_id=claim_id,
                    payer_id="NWM",
                    member_id="M000000001",
                    patient_name="SYNTHETIC, PERSON",
                    dos_from=date(2026, 10, 1),
                    dos_to=date(2026, 10, 1),
                    billed_amount=Decimal("120.00"),
                    submitted_date=date(2026, 10, 3),
                    rendering_npi="1234567893",
                    imported_at=AT,
                    updated_at=AT,
                )
            )
    before = _written(engine)
    for change in range(changes_per_claim):
        status = STATES[change % len(STATES)]
        with session_scope(engine) as session:
            for claim_id in ids:
                record_observation(
                    session,
                    ClaimStatusObservation(
                        claim_id=claim_id,
                        observed_at=AT + timedelta(minutes=change),
                        portal="summit",
                        run_id=f"bench-{change}",
                        status=status,
                        status_text=f"Synthetic {status}",
                        changes=f"status: -> {status}",
                    ),
                )
    return _written(engine) - before


def _written(engine: Engine) -> int:
    with session_scope(engine) as session:
        return feed.last_seq(session)


# --- a receiver that checks and acknowledges ---------------------------------------------------------------


@contextmanager
def receiver(secret: str) -> Iterator[tuple[str, list[int]]]:
    """A webhook receiver on 127.0.0.1: its URL, and a counter of [accepted, rejected] requests."""
    counts = [0, 0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                verify(secret, self.headers.get("Portal-Worker-Signature", ""), body, time.time())
                status = 200
            except SignatureRejected:
                status = 401
            with lock:
                counts[status != 200] += 1
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/claims", counts
    finally:
        server.shutdown()
        server.server_close()


# --- one measurement ---------------------------------------------------------------------------------------


def deliver_all(settings: Settings, engine: Engine, name: str, opener: Callable[..., Channel]) -> tuple[int, float]:
    """Send `name` its whole backlog; (events sent, seconds)."""
    pump = FeedPump(settings, engine, f"bench-{name}", opener=opener)
    sent = 0
    started = time.perf_counter()
    try:
        while True:
            result = pump.deliver(name, force=True)
            if result.error:
                raise SystemExit(f"{name}: delivery failed: {result.error}")
            sent += result.sent
            if not result.more and not result.sent:
                break
    finally:
        pump.close()
    return sent, time.perf_counter() - started


def measure(db: str, url: str, root: Path, events: int) -> None:
    engine = make_engine(url)
    try:
        create_schema(engine)
        claims = max(1, events // CHANGES_PER_CLAIM)
        started = time.perf_counter()
        written = record_changes(engine, claims, max(1, round(events / claims)))
        print(f"\n{db}: {written:,} events waiting (written in {time.perf_counter() - started:.1f} s)")
        secret = new_secret()
        with receiver(secret) as (hook_url, counts):
            config = root / f"{db}.toml"
            (root / f"drop-{db}").mkdir(exist_ok=True)
            config.write_text(CONFIG.format(data=root / "data", url=hook_url, folder=root / f"drop-{db}"))
            settings = Settings.load(config)
            sent, seconds = deliver_all(
                settings, engine, "webhook", lambda name, channel: WebhookChannel(name, channel, secret)
            )
            print(f"  webhook  {sent / seconds:8.0f} events/s  ({sent:,} in {seconds:.1f} s, {counts[1]} rejected)")
        sent, seconds = deliver_all(settings, engine, "csv", CsvDropChannel)
        print(f"  csv      {sent / seconds:8.0f} events/s  ({sent:,} in {seconds:.1f} s)")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="Events waiting before delivery starts.")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--dir", type=Path, default=None, help="Where the SQLite store goes (default: a temp dir).")
    parser.add_argument("--pg-url", default=DEFAULT_URL, help="The PostgreSQL server (a private schema on it).")
    args = parser.parse_args()
    if args.events < 1:
        parser.error("--events must be at least 1")
    with tempfile.TemporaryDirectory(prefix="bench-feed-") as scratch:
        root = (args.dir or Path(scratch)).resolve()
        root.mkdir(parents=True, exist_ok=True)
        for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
            if db == "sqlite":
                folder = root / f"sqlite-{time.time_ns()}"
                folder.mkdir()
                measure(db, sqlite_url(folder), root, args.events)
            elif why := unreachable(args.pg_url):
                print(f"\npostgres: skipped ({why})")
            else:
                with fresh_schema(args.pg_url, "bench_feed") as url:
                    measure(db, url, root, args.events)


if __name__ == "__main__":
    main()
