"""--csv FILE and --xlsx FILE, shared by every list command: every matching row, not one page, written
whole or not at all (a temporary file beside the target, then a rename), in the practice's time zone."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer
from rich.markup import escape

from worker.cli.app import console, err

if TYPE_CHECKING:
    from datetime import tzinfo

    from flows.tables import Table

CsvOption = Annotated[
    Path | None, typer.Option("--csv", help="Write every matching row (not one page) as CSV to this file.")
]
XlsxOption = Annotated[
    Path | None,
    typer.Option("--xlsx", help="Write every matching row (not one page) as an Excel workbook to this file."),
]


def _refuse(path: Path, why: str) -> typer.Exit:
    err.print(f"[red]error:[/] {escape(str(path))}: {why}; nothing was written", highlight=False)
    return typer.Exit(2)


def check_targets(*paths: Path | None) -> None:
    """Before any work: each file to write must be a file in a folder that exists (else exit 2)."""
    for path in paths:
        if path is None:
            continue
        if path.is_dir():
            raise _refuse(path, "is a folder; give a file name in it")
        if not path.parent.is_dir():
            raise _refuse(path, f"there is no folder {path.parent}")


def write_whole(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Into a temporary file beside `path`, renamed over it only once complete: never a half-written file. A
    file-system error exits 2 and leaves nothing behind."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise _refuse(path, exc.strerror or type(exc).__name__) from None
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise _refuse(path, exc.strerror or type(exc).__name__) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_csv_file(path: Path, table: Table, tz: tzinfo) -> None:
    from flows.exports import write_csv

    def as_csv(out: BinaryIO) -> None:
        with io.TextIOWrapper(out, encoding="utf-8", newline="") as text:
            write_csv(table, text, tz)

    write_whole(path, as_csv)


def write_xlsx_file(path: Path, tables: Sequence[Table], tz: tzinfo) -> None:
    from flows.exports import write_xlsx

    write_whole(path, lambda out: write_xlsx(tables, out, tz))


def write_exports(table: Table, tz: tzinfo, csv_path: Path | None, xlsx_path: Path | None, noun: str) -> None:
    """Each file given, written whole or not at all; says where and how many rows."""
    if csv_path is not None:
        write_csv_file(csv_path, table, tz)
        console.print(f"Wrote {len(table.rows)} {noun} to {csv_path}.", markup=False, highlight=False)
    if xlsx_path is not None:
        write_xlsx_file(xlsx_path, [table], tz)
        console.print(f"Wrote {len(table.rows)} {noun} to {xlsx_path}.", markup=False, highlight=False)
