"""The CSV drop folder: each batch of events becomes one file in a folder the PM system's import job reads
(docs/feed-csv.md). A file appears whole or not at all: it is written under a hidden temporary name in the
same folder, fsynced, renamed to its final name (atomic on one file system) and the folder fsynced; only
then is the batch acknowledged. A process killed after the rename but before the acknowledgement writes
the same seq range again under the same name, so the import sees the file replaced, never a duplicate."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from worker.feed.channel import DeliveryFailed, Outgoing
from worker.settings import FeedChannelSettings

# The contract with the PM import (docs/feed-csv.md): fixed, in this order. New columns go at the end.
COLUMNS = (
    "event_id",
    "event_type",
    "event_version",
    "sequence",
    "occurred_at",
    "claim_id",
    "subject",
    "payer_id",
    "status",
    "previous_status",
    "amount",
    "check_number",
    "payment_date",
    "payer_claim_number",
    "carc",
    "rarcs",
    "group_code",
    "category",
    "owner",
    "denial_id",
    "appeal_id",
    "level",
    "decision",
    "confirmation_number",
    "due_date",
    "patient_name",
    "data_json",
)
# Columns read from the envelope itself, by the envelope's key.
FROM_ENVELOPE = {
    "event_id": "id",
    "event_type": "type",
    "event_version": "version",
    "sequence": "sequence",
    "occurred_at": "occurred_at",
    "claim_id": "claim_id",
    "subject": "subject",
}
WORKED_OUT = ("amount", "due_date", "data_json")
# The rest are read straight from the event's data under the same key.
SAME_NAME = tuple(name for name in COLUMNS if name not in FROM_ENVELOPE and name not in WORKED_OUT)
# The one money figure a PM import posts for each type; other amounts stay in data_json.
AMOUNT_KEY = {
    "claim.payment_seen": "paid_amount",
    "denial.opened": "amount",
    "denial.status_changed": "amount",
    "denial.resolved": "amount",
    "denial.reopened": "amount",
    "denial.written_off": "write_off_amount",
    "appeal.decided": "amount_recovered",
}
DUE_KEYS = ("response_due", "due", "deadline")  # the first present names the date something is due
PREFIX = "portal-worker"


def file_name(channel: str, first: int, last: int) -> str:
    """The final name: sorts in delivery order, and is the same whenever the same seq range is written."""
    return f"{PREFIX}-{channel}-{first:012d}-{last:012d}.csv"


def _temp_pattern(channel: str) -> re.Pattern[str]:
    # Anchored on the digits so channel "a" never matches channel "a-b"'s files.
    return re.compile(rf"\.{PREFIX}-{re.escape(channel)}-\d{{12,}}-\d{{12,}}\.[0-9a-f]+\.tmp")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return " ".join(_cell(item) for item in value)
    if isinstance(value, dict):
        return compact_json(value)
    return str(value)


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def row(message: Mapping[str, Any]) -> list[str]:
    """One event's cells, in COLUMNS order, from its envelope (flows.feed_format.envelope)."""
    data: Mapping[str, Any] = message["data"]
    cells: dict[str, Any] = {column: message[key] for column, key in FROM_ENVELOPE.items()}
    cells |= {name: data.get(name) for name in SAME_NAME}
    amount_key = AMOUNT_KEY.get(message["type"])
    cells["amount"] = data.get(amount_key) if amount_key else None
    cells["due_date"] = next((data[key] for key in DUE_KEYS if data.get(key) is not None), None)
    cells["data_json"] = compact_json(data)
    return [_cell(cells[name]) for name in COLUMNS]


def render(batch: Sequence[Outgoing]) -> bytes:
    """A whole file: UTF-8, a header row, CRLF line ends (RFC 4180, the csv module's default). Cells that
    start with = + - @ are left as they are: the reader is a PM import, not a spreadsheet."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    writer.writerows(row(item.message) for item in batch)
    return text.getvalue().encode()


def _chunks(batch: Sequence[Outgoing], size: int) -> Iterator[Sequence[Outgoing]]:
    for start in range(0, len(batch), size):
        yield batch[start : start + size]


class CsvDropChannel:
    def __init__(self, name: str, config: FeedChannelSettings) -> None:
        assert config.folder is not None  # the settings refuse a csv channel without one
        self.name = name
        self.folder: Path = config.folder
        self.max_rows = config.max_rows
        self._temp = _temp_pattern(name)

    def send(self, batch: Sequence[Outgoing], acknowledged: Callable[[Outgoing], bool]) -> None:
        self._sweep_temp_files()
        for chunk in _chunks(batch, self.max_rows):
            self._write(chunk)
            if not acknowledged(chunk[-1]):
                return

    def close(self) -> None:
        pass

    # --- the file system -----------------------------------------------------------------------------

    def _failed(self, doing: str, exc: OSError) -> DeliveryFailed:
        # The folder and the OS's words only: never a row, never the file's content.
        code = errno.errorcode.get(exc.errno or 0, "")
        reason = f"{exc.strerror or exc.__class__.__name__}{f' ({code})' if code else ''}"
        return DeliveryFailed(f"cannot {doing} CSV folder {self.folder}: {reason}")

    def _sweep_temp_files(self) -> None:
        """Temporary files a killed process left behind. One process delivers a channel at a time (the
        lease); if one that lost its lease is still writing, its rename fails and it retries."""
        try:
            with os.scandir(self.folder) as entries:
                stale = [entry.path for entry in entries if self._temp.fullmatch(entry.name)]
            for path in stale:
                Path(path).unlink(missing_ok=True)
        except OSError as exc:
            raise self._failed("read the", exc) from None

    def _write(self, chunk: Sequence[Outgoing]) -> None:
        final = self.folder / file_name(self.name, chunk[0].event.seq, chunk[-1].event.seq)
        temporary = self.folder / f".{final.stem}.{uuid.uuid4().hex}.tmp"
        content = render(chunk)
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        except OSError as exc:
            raise self._failed("write to the", exc) from None
        try:
            with os.fdopen(handle, "wb") as out:
                os.fchmod(out.fileno(), 0o640)  # whatever the umask: the PM import's group may read it
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, final)
            self._sync_folder()
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise self._failed("write to the", exc) from None

    def _sync_folder(self) -> None:
        """So the rename itself survives a power cut before the acknowledgement is committed."""
        folder = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
