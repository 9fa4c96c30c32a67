"""Everything specific to the DWC's public IMR decision search, in one place.

Built from the published description of the form (the 2017 crawler's source, quoted in
issue 12), NOT verified against the live site. If the site has changed, this is the only
module to adapt: the URL path, the form fields, the date format and the results table.
Check it with ``python -m data.fetch ... --dry-run`` and then ``--max-letters 3``; every
search page fetched is kept under ``OUT/search_pages/`` so a format change can be seen.

What the description says:

- ``POST {base}/dwc/imr/IMRDecisionSearch.asp``, form-urlencoded, cookies kept. The treatment
  search (``Fname=Tx``) takes ``Caseno``, ``DoIStart``/``DoIEnd`` (date of injury),
  ``ReqStart``/``ReqEnd`` (received), ``DecStart``/``DecEnd`` (decision), ``SpecialtyV``,
  ``OutcomeV`` and ``SubCategoryV``; dates as M/D/YYYY.
- First page: ``Submit=Submit``; page N: ``newpageno=N&Submit=Next``; 25 rows a page; there
  are more pages while the page holds a ``<form name="Nextpage">``.
- Results: the first ``<table class="tabborder">``, a header row first, then per treatment
  Case Number (a link to the letter PDF, site-relative), Decision Date, Date of Injury,
  Received Date, IMRO Specialty, Request Category, SubCategory/Drug, Request Decision. Further
  treatments of the same case follow as rows whose first cell has ``colspan="5"`` and then
  only the last three cells. The element after the table states the total in ``<strong>``.
- The case number is the link's text (the crawler reads ``td[1]/a``'s text): the cell also
  holds a ``<strong>+</strong>`` after the link when the case has several treatments (the
  crawler checks the cell's ``InnerHtml`` for it), which is no part of the number.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from urllib.parse import SplitResult, urljoin, urlsplit

from data.letters.dates import parse_date
from settings import NEGATIVE_LABEL, POSITIVE_LABEL

DEFAULT_BASE_URL = "https://www.dir.ca.gov"
SEARCH_PATH = "/dwc/imr/IMRDecisionSearch.asp"
#: Rows the site shows per results page.
PAGE_SIZE = 25
RESULTS_TABLE_CLASS = "tabborder"
NEXT_PAGE_FORM = "Nextpage"
#: Width of the cell that stands for the five case columns on a case's further treatments.
CONTINUATION_COLSPAN = 5
#: Cells in a full result row (the header row has as many).
FULL_ROW_CELLS = 8
CONTINUATION_ROW_CELLS = 4
#: Outcome filter values the form is described with (treatment search: ``OutcomeV``).
KNOWN_OUTCOMES = ("Uphold", "Overturn", "Partial Overturn")
_CASE_NUMBER = re.compile(r"CM\d{2}-\d{4,8}")
#: What may stand in the first cell besides the letter link: the several-treatments marker.
SEVERAL_TREATMENTS_MARKER = "+"
#: Rows and cells one results page may hold (the site shows 25 rows of 8 cells): a page far
#: beyond that is not the documented table, and parsing it would only cost memory.
MAX_PAGE_ROWS = 20 * PAGE_SIZE
MAX_ROW_CELLS = 4 * FULL_ROW_CELLS


def search_url(base_url: str) -> str:
    """The search form's URL on a site (or a stand-in for it, e.g. a local test server)."""
    return base_url.rstrip("/") + SEARCH_PATH


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _port(parts: SplitResult) -> int | None:
    """The port an address names; None for its scheme's default (ValueError if malformed)."""
    port = parts.port
    return None if port == _DEFAULT_PORTS.get(parts.scheme.lower()) else port


def link_problem(url: str, base_url: str) -> str | None:
    """Why the fetcher may not follow ``url`` (a letter link, or where a redirect points),
    or None when it may: only http(s) addresses on the search's own host (the host of
    ``base_url``, on its port; http and https on their default ports count as one site)."""
    try:
        parts, base = urlsplit(url), urlsplit(base_url)
        port, base_port = _port(parts), _port(base)
    except ValueError:
        return "not a well-formed address"
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        return "not an http(s) address"
    if not parts.hostname or parts.hostname != base.hostname or port != base_port:
        return f"on another host than the search's ({base.netloc})"
    return None


def site_date(day: dt.date) -> str:
    """A date the way the form takes it: M/D/YYYY, no leading zeros."""
    return f"{day.month}/{day.day}/{day.year}"


def search_form(
    decided_from: dt.date,
    decided_to: dt.date,
    page: int = 1,
    *,
    outcome: str | None = None,
    sub_category: str | None = None,
    specialty: str | None = None,
) -> list[tuple[str, str]]:
    """The fields of one treatment-search request, in the form's order.

    Unused criteria are sent empty, as the form itself sends them.
    """
    fields = [
        ("Fname", "Tx"),
        ("Caseno", ""),
        ("DoIStart", ""),
        ("DoIEnd", ""),
        ("ReqStart", ""),
        ("ReqEnd", ""),
        ("DecStart", site_date(decided_from)),
        ("DecEnd", site_date(decided_to)),
        ("SpecialtyV", specialty or ""),
        ("OutcomeV", outcome or ""),
        ("SubCategoryV", sub_category or ""),
    ]
    if page > 1:
        fields += [("newpageno", str(page)), ("Submit", "Next")]
    else:
        fields.append(("Submit", "Submit"))
    return fields


def letter_file_name(case_number: str) -> str:
    """The file name a case's letter is saved under; never a path, whatever the site sends."""
    return re.sub(r"[^A-Za-z0-9-]", "_", case_number)[:64] + ".pdf"


def normalise_decision(text: str | None) -> str | None:
    """The site's "Request Decision" as the letters' label (``Upheld``/``Overturned``);
    ``None`` for anything else (it cannot be compared with a letter)."""
    word = (text or "").strip().lower()
    if word in ("upheld", "uphold"):
        return NEGATIVE_LABEL
    if word in ("overturned", "overturn"):
        return POSITIVE_LABEL
    return None


@dataclass(frozen=True)
class Treatment:
    """One row of the treatment search: a disputed treatment of one case."""

    case_number: str
    letter_url: str | None
    decision_date: str | None  # ISO when the site's date parses, else the site's text
    injury_date: str | None
    received_date: str | None
    specialty: str | None
    category: str | None
    sub_category: str | None
    site_decision: str | None

    @property
    def decision(self) -> str | None:
        return normalise_decision(self.site_decision)


@dataclass
class ResultsPage:
    """What one results page says: its rows, whether a next page exists, the stated total."""

    rows: list[Treatment] = field(default_factory=list)
    has_next: bool = False
    table_found: bool = False
    stated_total: int | None = None
    header: list[str] = field(default_factory=list)


class SiteFormatError(ValueError):
    """A results page that does not look like the documented format."""


def _squeezed(parts: list[str]) -> str:
    """Text with runs of whitespace (``&nbsp;`` too) as one space, trimmed."""
    return re.sub(r"\s+", " ", "".join(parts)).strip()


@dataclass
class _Cell:
    text: list[str] = field(default_factory=list)
    colspan: int = 1
    href: str | None = None
    #: the text of the cell's first link, and the cell's text outside it
    link_text: list[str] = field(default_factory=list)
    outside_link: list[str] = field(default_factory=list)

    @property
    def value(self) -> str:
        return _squeezed(self.text)

    def case_number(self) -> tuple[str, str]:
        """The case number (the link's text when there is a link) and what else the cell
        says (the several-treatments marker, or anything unexpected)."""
        if self.href is not None:
            return _squeezed(self.link_text), _squeezed(self.outside_link)
        value = self.value
        if value.endswith(SEVERAL_TREATMENTS_MARKER):
            return value[: -len(SEVERAL_TREATMENTS_MARKER)].strip(), SEVERAL_TREATMENTS_MARKER
        return value, ""


class _ResultsParser(HTMLParser):
    """Collects the cells of the first results table, the Nextpage form and the total.

    Tolerates the old-HTML habit of leaving ``</td>`` and ``</tr>`` out.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[_Cell]] = []
        self.has_next = False
        self.table_found = False
        self.stated_total: int | None = None
        self._table_depth = 0  # tables open inside (and including) the results table
        self._table_done = False
        self._row: list[_Cell] | None = None
        self._cell: _Cell | None = None
        self._strong: list[str] | None = None
        self._total_searched = False  # the total is looked for only right after the table
        self._in_link = False  # inside the current cell's first link

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name.lower(): (value or "") for name, value in attrs}
        if tag == "form" and attributes.get("name", "").lower() == NEXT_PAGE_FORM.lower():
            self.has_next = True
        if self._table_done and tag in ("table", "form"):
            self._total_searched = True
        if tag == "table":
            if self._table_depth:
                self._table_depth += 1
            elif (
                not self._table_done and RESULTS_TABLE_CLASS in attributes.get("class", "").split()
            ):
                self.table_found = True
                self._table_depth = 1
            return
        if self._table_depth == 1:
            if tag == "tr":
                self._close_row()
                self._row = []
            elif tag in ("td", "th"):
                self._close_cell()
                if self._row is None:
                    self._row = []
                span = attributes.get("colspan", "1").strip()
                self._cell = _Cell(colspan=int(span) if span.isdigit() else 1)
            elif tag == "a" and self._cell is not None and self._cell.href is None:
                self._cell.href = attributes.get("href") or ""
                self._in_link = True
        elif tag == "strong" and self._table_done and not self._total_searched:
            self._strong = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._table_depth:
            self._table_depth -= 1
            if not self._table_depth:
                self._close_row()
                self._table_done = True
        elif self._table_depth == 1:
            if tag in ("td", "th"):
                self._close_cell()
            elif tag == "tr":
                self._close_row()
            elif tag == "a":
                self._in_link = False
        elif tag == "strong" and self._strong is not None:
            text = "".join(self._strong).strip().replace(",", "")
            self._strong = None
            if text.isdigit():
                self.stated_total = int(text)
                self._total_searched = True

    def handle_data(self, data: str) -> None:
        if self._cell is not None and self._table_depth == 1:
            self._cell.text.append(data)
            (self._cell.link_text if self._in_link else self._cell.outside_link).append(data)
        elif self._strong is not None:
            self._strong.append(data)

    def _close_cell(self) -> None:
        self._in_link = False
        if self._cell is not None and self._row is not None:
            if len(self._row) >= MAX_ROW_CELLS:
                raise SiteFormatError(f"a row of the results table has over {MAX_ROW_CELLS} cells")
            self._row.append(self._cell)
        self._cell = None

    def _close_row(self) -> None:
        self._close_cell()
        if self._row:
            if len(self.rows) > MAX_PAGE_ROWS:  # the header row comes on top
                raise SiteFormatError(
                    f"the results table has over {MAX_PAGE_ROWS} rows; the site shows {PAGE_SIZE}"
                )
            self.rows.append(self._row)
        self._row = None


def _date(text: str) -> str | None:
    if not text:
        return None
    day = parse_date(text)
    return day.isoformat() if day else text


def parse_results(html: str, page_url: str, previous: Treatment | None = None) -> ResultsPage:
    """Parse one results page of the treatment search.

    ``page_url`` resolves the site-relative letter links. ``previous`` is the last row of
    the page before, so that a case whose treatments run onto this page keeps its facts.
    Raises :class:`SiteFormatError` when the table is there but not in the documented shape.
    """
    parser = _ResultsParser()
    parser.feed(html)
    parser.close()
    page = ResultsPage(
        has_next=parser.has_next,
        table_found=parser.table_found,
        stated_total=parser.stated_total,
    )
    if not parser.rows:
        return page
    header, *body = parser.rows
    if _CASE_NUMBER.fullmatch(header[0].case_number()[0]):  # no header: the first row is a result
        header, body = [], parser.rows
    page.header = [cell.value for cell in header]
    if header and (len(header) != FULL_ROW_CELLS or "case" not in page.header[0].lower()):
        raise SiteFormatError(
            f"the results table's header is {page.header}, not the documented "
            f"{FULL_ROW_CELLS} columns starting with 'Case Number'"
        )
    last = previous
    for number, cells in enumerate(body, start=2):
        if cells[0].colspan == CONTINUATION_COLSPAN and len(cells) == CONTINUATION_ROW_CELLS:
            if last is None:
                raise SiteFormatError(
                    f"row {number} continues a case (colspan={CONTINUATION_COLSPAN}) but no "
                    "case row comes before it"
                )
            category, sub_category, decision = (c.value or None for c in cells[1:])
            last = replace(
                last, category=category, sub_category=sub_category, site_decision=decision
            )
        elif len(cells) == FULL_ROW_CELLS:
            values = [c.value for c in cells]
            case_number, besides = cells[0].case_number()
            if not _CASE_NUMBER.fullmatch(case_number):
                raise SiteFormatError(
                    f"row {number}: first cell {values[0]!r} holds no case number (CMyy-nnnnnnn)"
                    + (" as its link's text" if cells[0].href is not None else "")
                )
            if besides not in ("", SEVERAL_TREATMENTS_MARKER):
                raise SiteFormatError(
                    f"row {number}: first cell {values[0]!r} holds {besides!r} besides the case "
                    f"number; only the several-treatments marker {SEVERAL_TREATMENTS_MARKER!r} "
                    "is documented"
                )
            href = cells[0].href
            last = Treatment(
                case_number=case_number,
                letter_url=urljoin(page_url, href) if href else None,
                decision_date=_date(values[1]),
                injury_date=_date(values[2]),
                received_date=_date(values[3]),
                specialty=values[4] or None,
                category=values[5] or None,
                sub_category=values[6] or None,
                site_decision=values[7] or None,
            )
        else:
            raise SiteFormatError(
                f"row {number} has {len(cells)} cells; expected {FULL_ROW_CELLS}, or "
                f"{CONTINUATION_ROW_CELLS} starting with colspan={CONTINUATION_COLSPAN}"
            )
        page.rows.append(last)
    return page
