"""One page of a list query, and how many rows the whole query holds: both counted by the database.

A list command prints one page (50 rows by default) instead of 50,000; the total comes from
COUNT over the same filtered query, so a footer can say what was left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")
K = TypeVar("K")
LOOKUP_CHUNK = 500  # keys per IN (...): well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows offset+1 to offset+len(items) of `total`; limit 0 means every row from the offset on."""

    items: Sequence[T]
    total: int
    offset: int
    limit: int

    @property
    def more(self) -> bool:
        return self.offset + len(self.items) < self.total


def count_rows(session: Session, statement: SelectOfScalar[T]) -> int:
    """How many rows `statement` selects, filters included, counted by the database."""
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    return int(session.exec(counted).one())


def page_of(session: Session, statement: SelectOfScalar[T], limit: int, offset: int) -> Page[T]:
    """`statement` (already filtered and ordered) cut to one page, with its total."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset are zero or more")
    total = count_rows(session, statement)
    cut = statement.offset(offset)
    if limit:
        cut = cut.limit(limit)
    return Page(list(session.exec(cut).all()), total, offset, limit)


def page_of_list(items: Sequence[T], limit: int, offset: int) -> Page[T]:
    """For a list ranked in Python (the worklist): the same page, cut after ranking."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset are zero or more")
    return Page(items[offset : offset + limit] if limit else items[offset:], len(items), offset, limit)


def in_chunks(keys: Iterable[K]) -> Iterator[list[K]]:
    """The distinct keys, in batches small enough for one IN (...) on every database."""
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), LOOKUP_CHUNK):
        yield unique[start : start + LOOKUP_CHUNK]
