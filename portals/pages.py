"""The page-object base every portal page subclasses: where the page is, how to know it, how to read it.

A page object belongs to one adapter and reads one browser page. Its class names its
selectors once at the top (`NAME`, `PATH`, `LANDMARK`, then one constant per element) and
has one method per thing a person does there. Before it reads anything it checks its
landmark through the adapter's `expect_page`, so a page that is not the one expected (a
fault page, a redesign) becomes a typed error. Every reader below turns text that does
not fit into `LayoutChanged` naming the page: a changed page is never a source of wrong values.

`PageObject` is named so it cannot be mistaken for Playwright's `Page` (the browser tab),
which it holds as `self.page`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Generic, Self, TypeVar

from playwright.sync_api import Locator, Page

from portals.balance import Sheet, problems
from portals.base import PortalAdapter, parse_count, parse_date, parse_money
from portals.errors import LayoutChanged

AdapterT = TypeVar("AdapterT", bound=PortalAdapter)
T = TypeVar("T")

# A control that reveals more rows in place ("Show 3 more", "Load more", "View all"): rows the adapter
# cannot reach by an address, so a page offering one is refused rather than read in part.
SHOW_MORE = re.compile(r"\b(show|load|view|see|display)\b(\s+\d+)?\s+(more|all)\b", re.IGNORECASE)
MAX_TABLE_PAGES = 50  # a pager that goes on longer than any claim's lines is a loop

# Rows of a table as cell texts plus the link in each cell, in one browser round trip. Every tbody:
# a portal may group rows into several sections, and a row left unread is a figure missed.
_READ_ROWS_JS = """(table, skipClass) => Array.from(table.tBodies).flatMap(body => Array.from(body.rows))
  .filter(row => !(skipClass && row.classList.contains(skipClass)))
  .map(row => Array.from(row.cells, cell => {
    const link = cell.querySelector('a[href]');
    return {text: cell.innerText.trim(), href: link ? link.href : ''};
  }))"""


# A whole page in one round trip (a locator call after a navigation costs Chromium more than the page's
# own parsing): the text of each field (looked for inside `box`; null when absent), the address of each
# link (null when absent), and for each table its header texts, its body rows (each cell's text and link,
# the row's classes) and whether a visible "show more" control sits in its container. Null for a `box`
# that is not on the page. Every tbody: a row left unread is a figure missed.
READ_PAGE_JS = """([box, fields, links, tables, showMore]) => {
  const root = box ? document.querySelector(box) : document;
  if (root === null) return null;
  const more = new RegExp(showMore, 'i');
  const each = (wanted, read) => Object.fromEntries(Object.entries(wanted).map(([key, sel]) => [key, read(sel)]));
  const text = sel => { const el = root.querySelector(sel); return el === null ? null : el.innerText.trim(); };
  const href = sel => { const el = document.querySelector(sel); return el === null ? null : (el.href || ''); };
  const named = c => (c.getAttribute('aria-label') || c.innerText || c.value || '').trim();
  const table = sel => {
    const grid = document.querySelector(sel);
    if (grid === null) return null;
    const controls = grid.parentElement.querySelectorAll(
      'a, button, input[type=button], input[type=submit], [role=link], [role=button]');
    return {
      headers: Array.from(grid.querySelectorAll('thead th'), th => th.innerText),
      rows: Array.from(grid.tBodies).flatMap(body => Array.from(body.rows)).map(row => ({
        classes: Array.from(row.classList),
        cells: Array.from(row.cells, cell => {
          const link = cell.querySelector('a[href]');
          return {text: cell.innerText.trim(), href: link ? link.href : ''};
        }),
      })),
      hidden: Array.from(controls).some(c => c.getClientRects().length > 0 && more.test(named(c))),
    };
  };
  return {fields: each(fields, text), links: each(links, href), tables: each(tables, table)};
}"""


@dataclass(frozen=True)
class PageReading:
    """What `PageObject.read_in_one_trip` brought back from one page."""

    fields: dict[str, str | None]  # key -> text (None: not on the page)
    links: dict[str, str | None]  # key -> address (None: no such link)
    tables: dict[str, dict[str, Any] | None]  # key -> headers, rows, hidden (None: no such table)


@dataclass(frozen=True)
class TableRow:
    """One row of a table read with `PageObject.table_rows`."""

    cells: dict[str, str]  # header -> text
    links: dict[str, str]  # header -> absolute href ('' when the cell has no link)


class PageObject(Generic[AdapterT]):
    """One page of a portal, read through the adapter that drives the browser."""

    NAME: ClassVar[str]  # how errors and evidence name the page
    PATH: ClassVar[str] = ""  # where a person opens it by address, for pages that have one
    LANDMARK: ClassVar[str] = ""  # the element that says "this is the page"

    def __init__(self, adapter: AdapterT) -> None:
        self.adapter = adapter
        self.page: Page = adapter.page

    # --- which page this is ------------------------------------------------

    def landmark(self) -> Locator:
        """What shows only on this page; pages known some other way (a title bar) override it."""
        if not self.LANDMARK:
            raise TypeError(f"{type(self).__name__} names no LANDMARK and does not override landmark()")
        return self.page.locator(self.LANDMARK)

    def landmark_at_once(self) -> tuple[str, str | None] | None:
        """The landmark as `shows_at_once` looks for it (a plain CSS selector, and the whole text its element
        has, if that matters), or None when only `landmark()`'s locator can find it."""
        return (self.LANDMARK, None) if self.LANDMARK and type(self).landmark is PageObject.landmark else None

    def expect(self) -> Self:
        """Wait for the landmark: a fault page or a page that never shows it is a typed error. A page whose
        landmark shows already is known in one evaluate, without the locators' waiting."""
        at_once = self.landmark_at_once()
        if not (at_once and self.adapter.shows_at_once(*at_once)):
            self.adapter.expect_page(self.NAME, self.landmark())
        return self

    def open_in_place(self, path: str, *, ahead: Sequence[str] = ()) -> Self:
        """`goto_in_place`, then `expect`: the landmark is looked for as the page is written, in the same round
        trip; a page that does not show it (a fault page) is expected as after `goto`."""
        selector, text = self.landmark_at_once() or ("", None)
        if self.adapter.goto_in_place(path, ahead=ahead, landmark=selector, landmark_text=text):
            return self
        return self.expect()

    def visit(self) -> Self:
        """Go to the page's address and make sure it is the page."""
        self.adapter.goto(self.PATH)
        return self.expect()

    def expect_answer(self, form: PageObject[AdapterT], what: str) -> None:
        """After submitting `form`: this page, or the form again because the portal refused what was asked."""
        refused = form.landmark()
        self.adapter.expect_page(self.NAME, self.landmark().or_(refused))
        if refused.first.is_visible():
            raise LayoutChanged(self.adapter.portal, form.NAME, f"the portal refused the search criteria for {what}")

    def changed(self, detail: str) -> LayoutChanged:
        """The error for a page that does not read as the adapter expects: `raise self.changed(...)`."""
        return LayoutChanged(self.adapter.portal, self.NAME, detail)

    # --- elements ------------------------------------------------------------

    def find(self, selector: str) -> Locator:
        return self.page.locator(selector)

    def shows(self, selector: str) -> bool:
        """Whether an element is on screen now (no waiting: call it after `expect`)."""
        return self.find(selector).first.is_visible()

    def required(self, element: str | Locator, what: str) -> Locator:
        """An element that must be on the page, else LayoutChanged naming it."""
        locator = self.find(element) if isinstance(element, str) else element
        if locator.count() == 0:
            raise self.changed(f"{what} is missing")
        return locator.first

    def text(self, element: str | Locator, what: str) -> str:
        """The text of a required element, stripped."""
        return self.required(element, what).inner_text().strip()

    def require_headers(self, header_cells: Locator, expected: list[str]) -> None:
        """A table whose columns moved is a changed layout, not a source of wrong values."""
        found = [_squash(t) for t in header_cells.all_inner_texts()]
        if found[: len(expected)] != [_squash(e) for e in expected]:
            raise self.changed(f"table columns are {found}, expected {expected}")

    def table_rows(self, table: Locator, headers: list[str], *, skip_class: str = "") -> list[TableRow]:
        """Every body row of a table with these columns (rows of class `skip_class` left out)."""
        self.require_headers(table.locator("thead th"), headers)
        rows = []
        for raw in table.evaluate(_READ_ROWS_JS, skip_class):
            if len(raw) < len(headers):
                raise self.changed("a table row has fewer cells than columns")
            rows.append(
                TableRow(
                    {h: c["text"] for h, c in zip(headers, raw, strict=False)},
                    {h: c["href"] for h, c in zip(headers, raw, strict=False)},
                )
            )
        return rows

    def refuse_hidden_rows(self, table: str, what: str) -> None:
        """A 'show more' control next to the table means rows that are not on the page: refused, never read
        in part. Looked for in the table's own container, so a 'view all' link in the site's menu is no reason."""
        around = self.required(table, what).locator("xpath=..")
        controls = around.get_by_role("link", name=SHOW_MORE).or_(around.get_by_role("button", name=SHOW_MORE))
        if controls.count():
            raise self.changed(f"{what}: some rows hide behind a 'show more' control the adapter cannot follow")

    def every_page(self, read: Callable[[], list[T]], table: str, next_link: str, what: str) -> list[T]:
        """`read` on this page and on each page its "next" link leads to, in order: every row of a paged table.

        Each page is checked again (landmark, no hidden rows) before `read` runs on it; a pager that
        leads back to a page already read, or on and on, is a changed page."""
        self.refuse_hidden_rows(table, what)
        rows = read()
        seen = {self.page.url}
        while (link := self.find(next_link)).count():
            href = link.first.evaluate("a => a.href")
            target = self.adapter.url(self.adapter.portal_path(self.NAME, href))
            if target in seen or len(seen) >= MAX_TABLE_PAGES:
                raise self.changed(f"{what}: its page links go round in circles")
            seen.add(target)
            self.adapter.goto(self.adapter.portal_path(self.NAME, href))
            self.expect()
            self.refuse_hidden_rows(table, what)
            rows.extend(read())
        return rows

    def read_in_one_trip(
        self,
        *,
        box: str = "",
        fields: Mapping[str, str] | None = None,
        links: Mapping[str, str] | None = None,
        tables: Mapping[str, str] | None = None,
    ) -> PageReading:
        """Fields (inside `box`), links and tables of this page in one round trip; no `box` is a changed page."""
        raw = self.page.evaluate(
            READ_PAGE_JS, [box, dict(fields or {}), dict(links or {}), dict(tables or {}), SHOW_MORE.pattern]
        )
        if raw is None:
            raise self.changed(f"{box} is missing")
        return PageReading(raw["fields"], raw["links"], raw["tables"])

    def rows_in(
        self, read: PageReading, table: str, headers: list[str], what: str, *, skip_class: str = "", exact: bool = False
    ) -> list[TableRow]:
        """The body rows of a table `read_in_one_trip` read (rows of class `skip_class` left out), once its columns are
        the ones expected; a row with fewer cells than columns (with `exact`, any other number) is a change."""
        grid = read.tables.get(table)
        if grid is None:
            raise self.changed(f"{what} is missing")
        found = [normalise_words(h) for h in grid["headers"]]
        if found[: len(headers)] != [normalise_words(h) for h in headers]:
            raise self.changed(f"table columns are {grid['headers']}, expected {headers}")
        rows = []
        for row in grid["rows"]:
            if skip_class and skip_class in row["classes"]:
                continue
            cells = row["cells"]
            if len(cells) < len(headers) or (exact and len(cells) != len(headers)):
                raise self.changed(f"a row of the {what} has an unexpected number of cells")
            rows.append(
                TableRow(
                    {h: c["text"] for h, c in zip(headers, cells, strict=False)},
                    {h: c["href"] for h, c in zip(headers, cells, strict=False)},
                )
            )
        return rows

    def every_page_read(
        self,
        first: PageReading,
        reread: Callable[[], PageReading],
        table: str,
        next_link: str,
        what: str,
        max_pages: int = MAX_TABLE_PAGES,
    ) -> list[PageReading]:
        """`first` and the read of each page its `next_link` leads to, in order: a paged table, one round trip a
        page. Rows held back behind a "show more" control, or a pager that leads back to a page already read
        (or on and on), are a changed page."""
        reads, read, seen = [first], first, {self.page.url}
        while True:
            grid = read.tables.get(table)
            if grid is not None and grid["hidden"]:
                raise self.changed(f"{what}: some rows hide behind a 'show more' control the adapter cannot follow")
            href = read.links.get(next_link)
            if not href:
                return reads
            path = self.adapter.portal_path(self.NAME, href)
            target = self.adapter.url(path)
            if target in seen or len(seen) >= max_pages:
                raise self.changed(f"{what}: its page links go round in circles")
            seen.add(target)
            self.open_in_place(path)
            read = reread()
            reads.append(read)

    def require_balance(self, sheet: Sheet, claim_id: str) -> None:
        """The money on the page adds up (see `portals.balance`), else the page is not read."""
        found = problems(sheet)
        if found:
            raise self.changed(f"claim {claim_id}: its money does not balance: {'; '.join(found)}")

    # --- values --------------------------------------------------------------

    def money(self, text: str, what: str) -> Decimal | None:
        """An amount ('$1,234.50', '(12.00)'); blank is None, text that is no amount means the page changed."""
        try:
            return parse_money(text)
        except (InvalidOperation, ValueError):
            raise self.changed(f"{what} is not an amount") from None

    def day(self, text: str, what: str) -> date | None:
        """A date as portals print them; blank is None, text that is no date means the page changed."""
        try:
            return parse_date(text)
        except ValueError:
            raise self.changed(f"{what} is not a date") from None

    def count(self, text: str, what: str) -> int | None:
        """A whole number; blank is None, anything else means the page changed."""
        try:
            return parse_count(text)
        except ValueError:
            raise self.changed(f"{what} is not a number") from None

    def word(self, words: Mapping[str, T], text: str, what: str) -> T:
        """A value the portal shows in words (keys in lower case); a wording the adapter does not know is a change.

        The text itself stays out of the error: a moved column could put anything there."""
        try:
            return words[normalise_words(text)]
        except KeyError:
            raise self.changed(f"{what} is not one the adapter knows") from None


def normalise_words(text: str) -> str:
    """'Pending  –  Information Requested' -> 'pending - information requested'."""  # noqa: RUF002  (the dash it replaces)
    return re.sub(r"\s+", " ", text.replace("\u2013", "-").replace("\u2014", "-")).strip().lower()


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()
