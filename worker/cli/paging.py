"""--limit and --offset, shared by every list command, and the footer that says what a page left out."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from store.pages import Page  # SQLAlchemy is not imported at start-up: every command pays for it

DEFAULT_LIMIT = 50

LimitOption = Annotated[int, typer.Option(min=0, help="Rows to show; 0 shows them all.")]
OffsetOption = Annotated[
    int, typer.Option(min=0, help="Rows to skip first (the footer says where the next page starts).")
]
__all__ = ["DEFAULT_LIMIT", "LimitOption", "OffsetOption", "footer", "one_of", "print_footer"]


def footer(page: Page[Any], noun: str) -> str | None:
    """ "showing 1-50 of 50,000; --offset 50 for more", or None when the page holds every row."""
    shown = len(page.items)
    if not shown:
        return f"nothing at --offset {page.offset}: there are {page.total:,} {noun}" if page.total else None
    if page.offset == 0 and not page.more:
        return None
    text = f"showing {page.offset + 1:,}-{page.offset + shown:,} of {page.total:,}"
    return f"{text}; --offset {page.offset + shown} for more" if page.more else text


def print_footer(console: Console, page: Page[Any], noun: str) -> None:
    said = footer(page, noun)
    if said:
        console.print(said, markup=False, highlight=False)


def one_of(value: str | None, choices: list[str], option: str) -> str | None:
    """`value` as stored, whatever its case ("Denied", "not on file"); a value nobody stores is refused with
    the choices (exit 2) rather than silently matching nothing."""
    if value is None:
        return None
    wanted = value.strip().lower().replace(" ", "_").replace("-", "_")
    if wanted in choices:
        return wanted
    raise typer.BadParameter(f"no such value {value!r}; choose one of: {', '.join(choices)}", param_hint=option)


def parse_day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option's date; a clear error naming the option otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: write it as YYYY-MM-DD", param_hint=option) from None
