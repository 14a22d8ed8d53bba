"""docs/feed-events.md is a contract: each documented sample has exactly the keys, value types and fixed values
of what the code emits for its type (produced through the store writes a check, an ERA import and staff make),
every type has a sample, and the page's signature check accepts what the worker signs and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from flows.feed_format import ENVELOPE_VERSION, EVENT_TYPES, encode
from store.db import create_schema, make_engine, session_scope
from store.outbox import BODY_VERSION
from tests.conftest import write_config
from tests.feed_support import events, every_event
from worker.feed.pump import outgoing
from worker.settings import Settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "feed-events.md"
SECTION = re.compile(r"^### `([a-z_.]+)`.*?```json\n(.*?)\n```", re.MULTILINE | re.DOTALL)
SECRET = "pwsec_" + "s" * 43  # synthetic


def shape(value: Any) -> Any:
    """A JSON value's keys and types, not its values: what a receiver's parser depends on."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return ["list", sorted({json.dumps(shape(item)) for item in value})]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    assert isinstance(value, str), value
    return "string"


def documented() -> dict[str, dict[str, Any]]:
    text = DOC.read_text()
    samples = {kind: json.loads(sample) for kind, sample in SECTION.findall(text)}
    assert len(samples) == len(SECTION.findall(text)), "a type has two samples"
    return samples


@pytest.fixture(scope="module")
def emitted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """type -> the envelopes the code sends for the events one pass through every kind of change made."""
    root = tmp_path_factory.mktemp("feed-docs")
    write_config(root / "portal-worker.toml", "https://portal.invalid", root / "data")
    engine: Engine = make_engine(Settings.load(root / "portal-worker.toml").database_url())
    create_schema(engine)
    every_event(engine)
    found: dict[str, list[dict[str, Any]]] = {}
    settings = Settings.load(root / "portal-worker.toml")
    with session_scope(engine) as session:
        for item in outgoing(session, settings, events(engine), datetime.now(UTC)):  # what a channel is sent
            found.setdefault(item.event.type, []).append(json.loads(item.body))
    yield found
    engine.dispose()


def test_every_type_has_one_sample_and_no_sample_names_an_unknown_type() -> None:
    samples = documented()
    assert sorted(samples) == sorted(EVENT_TYPES)
    assert all(sample["type"] == kind for kind, sample in samples.items())
    every_block = re.findall(r"```json\n(.*?)\n```", DOC.read_text(), re.DOTALL)
    assert {json.loads(block).get("type") for block in every_block} <= set(EVENT_TYPES)


def test_the_store_emits_every_type_through_real_writes(emitted: dict[str, list[dict[str, Any]]]) -> None:
    assert sorted(emitted) == sorted(EVENT_TYPES)


@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_the_sample_has_the_keys_types_and_fixed_values_the_code_sends(
    kind: str, emitted: dict[str, list[dict[str, Any]]]
) -> None:
    sample = documented()[kind]
    assert (sample["type"], sample["version"], sample["envelope_version"]) == (kind, BODY_VERSION, ENVELOPE_VERSION)
    assert re.fullmatch(r"evt_[0-9a-f]{32}", sample["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", sample["occurred_at"])
    shapes = [shape(message) for message in emitted[kind]]
    assert shape(sample) in shapes, f"{kind}: the doc says {shape(sample)}, the code sends {shapes}"


def test_every_data_field_is_described_in_a_table() -> None:
    text = DOC.read_text()
    described = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.MULTILINE))
    missing = {
        f"{kind}: {key}" for kind, sample in documented().items() for key in sample["data"] if key not in described
    }
    assert not missing


def test_a_status_change_names_where_it_was_seen(emitted: dict[str, list[dict[str, Any]]]) -> None:
    """`source` and `portal` mean what the page says: the portal that answered, or the ERA."""
    sources = {(m["data"]["source"], m["data"]["portal"]) for m in emitted["claim.status_changed"]}
    assert ("portal", "unity") in sources
    payments = {
        (m["data"]["source"], m["data"]["portal"], m["data"]["era_file"]) for m in emitted["claim.payment_seen"]
    }
    assert payments == {("portal", "unity", None), ("era", None, "w.835")}


# --- the signature check a receiver copies from the page ---------------------------------------------


def documented_verify() -> Callable[..., bool]:
    blocks = [b for b in re.findall(r"```python\n(.*?)\n```", DOC.read_text(), re.DOTALL) if "def verify(" in b]
    assert len(blocks) == 1
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)  # noqa: S102  (the page's own snippet, as a receiver runs it)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


def signed(secret: str, body: bytes, timestamp: int) -> str:
    """The header the worker sends (worker.feed.signing), or the brief's scheme where that module is not here."""
    try:
        signing = importlib.import_module("worker.feed.signing")
    except ImportError:
        digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={digest}"
    return str(signing.sign(secret, body, timestamp))


@pytest.fixture
def request_body(emitted: dict[str, list[dict[str, Any]]]) -> bytes:
    return encode(emitted["denial.opened"][0])


def test_the_pages_snippet_accepts_a_request_the_worker_signed(request_body: bytes) -> None:
    verify, now = documented_verify(), int(time.time())
    assert verify(SECRET, request_body, signed(SECRET, request_body, now))
    rotating = signed("pwsec_new", request_body, now) + "," + signed(SECRET, request_body, now).split(",")[1]
    assert verify(SECRET, request_body, rotating)  # during a rotation either secret passes


def test_the_pages_snippet_rejects_tampering_a_wrong_secret_and_a_replay(request_body: bytes) -> None:
    verify, now = documented_verify(), int(time.time())
    header = signed(SECRET, request_body, now)
    assert not verify(SECRET, request_body.replace(b'"300.00"', b'"900.00"', 1), header)
    assert not verify("pwsec_someone-else", request_body, header)
    forged_time = header.replace(f"t={now}", f"t={now + 1}")
    assert not verify(SECRET, request_body, forged_time)
    old = signed(SECRET, request_body, now - 301)
    assert not verify(SECRET, request_body, old)
    assert verify(SECRET, request_body, old, now=now - 290)  # the same request, seen in time
    assert not verify(SECRET, request_body, "v1=" + header.split("v1=")[1])  # no timestamp
    assert not verify(SECRET, request_body, "")
