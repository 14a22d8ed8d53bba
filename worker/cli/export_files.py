"""--csv FILE and --xlsx FILE, shared by every list command: every matching row, not one page, written
whole or not at all (a temporary file beside the target, then a rename), in the practice's time zone."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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


def write_exports(table: Table, tz: tzinfo, csv_path: Path | None, xlsx_path: Path | None, noun: str) -> None:
    """Each file given, written whole or not at all; says where and how many rows."""
    from flows.exports import write_csv, write_xlsx

    for path, fmt in ((csv_path, "csv"), (xlsx_path, "xlsx")):
        if path is None:
            continue
        try:
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        except OSError as exc:
            raise _refuse(path, exc.strerror or type(exc).__name__) from None
        try:
            if fmt == "csv":
                with os.fdopen(handle, "w", newline="", encoding="utf-8") as text:
                    write_csv(table, text, tz)
            else:
                with os.fdopen(handle, "wb") as binary:
                    write_xlsx([table], binary, tz)
            os.replace(temporary, path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise _refuse(path, exc.strerror or type(exc).__name__) from None
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        console.print(f"Wrote {len(table.rows)} {noun} to {path}.", markup=False, highlight=False)
