"""`digest --preview --html FILE`: the summary's HTML written for a look, whole or not at all.

One audience goes to FILE; several go to FILE-NAME.html beside it (one email each). Every file is written
to a temporary name in its folder first and renamed into place once all are written, private to the user
(the summary lists claims and amounts).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from worker.delivery.notify import Preview


class HtmlPathRefused(Exception):
    """The --html path cannot be written: the message says why, in words."""


def check_target(path: Path) -> Path:
    """The file to write, or HtmlPathRefused before anything is computed or written."""
    path = path.expanduser()
    if path.is_dir():
        raise HtmlPathRefused(f"{path} is a folder: give a file name, e.g. {path / 'summary.html'}")
    if not path.parent.is_dir():
        raise HtmlPathRefused(f"the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise HtmlPathRefused(f"the folder {path.parent} is not writable by this user")
    return path


def targets(path: Path, channels: Sequence[str]) -> list[Path]:
    if len(channels) == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{channel}{path.suffix or '.html'}") for channel in channels]


def write_all(files: Sequence[tuple[Path, str]]) -> None:
    """Write every file, or none: temporary files first, then each renamed into place."""
    written: list[tuple[str, Path]] = []
    try:
        for path, html in files:
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            written.append((temporary, path))
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(html)
    except OSError as exc:
        for temporary, _ in written:
            Path(temporary).unlink(missing_ok=True)
        raise HtmlPathRefused(f"cannot write {path}: {(exc.strerror or type(exc).__name__).lower()}") from None
    for temporary, path in written:
        os.replace(temporary, path)


def write_previews(path: Path, previews: Sequence[Preview]) -> list[Path]:
    """Each audience's HTML, all or none; the files written."""
    files = list(zip(targets(path, [p.channel for p in previews]), [p.html for p in previews], strict=True))
    write_all(files)
    return [target for target, _ in files]
