"""Fetch determination letters from the DWC's public IMR decision search, politely.

Usage: ``python -m data.fetch --decided-from 2024-01-01 --decided-to 2024-03-31 --out letters/``
(see :mod:`data.fetch.cli` for the options). The site's specifics (URL, form, results table)
live in :mod:`data.fetch.site`; the request pacing and back-off in :mod:`data.fetch.polite_http`.

The walk: the decision-date range is cut into windows on a fixed grid (weeks, Monday to
Sunday, by default), each searched page by page. A window that reaches ``max_pages`` pages
with more to come, or whose first page states more rows than that, is split in half and its
halves walked instead, so that no window relies on the site paging further than we know it
does; a one-day window cannot be split and is walked to its end and flagged. After each
results page, the letters of the cases complete so far are downloaded, one at a time,
checked (:mod:`data.fetch.checks`) and land atomically in ``OUT/pdf/`` or, when a check
fails, in ``OUT/rejected/`` with a ``.rejected`` suffix that keeps ingestion away from them.

What the site answers is not trusted: only http(s) links and redirects on the search's own
host are followed (others are reported, never fetched); a results page that is over the
size cap, does not decompress, does not decode as text or does not arrive within the
deadline stops the walk with the window left unfinished (never "done, 0 rows"); a letter
with any of these problems is reported as failed and the run goes on.

What is in OUT:

- ``pdf/CASE.pdf``: good letters, the only files ``train.py --letters OUT`` ingests;
- ``rejected/CASE.pdf.rejected``: downloads set aside (reason in the report);
- ``search_pages/QUERY/FROM_TO_pNNN.html``: every results page as received;
- ``search_results.parquet``: one row per treatment of the search table;
- ``fetch_report.json``: per case the letter's status, reason and kind, and the summary;
- ``fetch_manifest.json``: windows, pages and files (what makes a rerun resume).
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import hashlib
import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from data.fetch import site as dwc_site
from data.fetch.checks import check_letter
from data.fetch.manifest import Manifest, atomic_write_bytes, remove_stale_temporaries
from data.fetch.polite_http import (
    HttpReply,
    HttpRequest,
    NameNotResolved,
    PoliteClient,
    RefusedUrl,
    SiteUnavailable,
)
from data.fetch.report import FETCH_REPORT_FILE, RESULTS_FILE, letters_and_agreement, results_table
from data.fetch.site import SiteFormatError, Treatment, letter_file_name, parse_results

log = logging.getLogger(__name__)

PDF_DIR = "pdf"
REJECTED_DIR = "rejected"
REJECTED_SUFFIX = ".rejected"
PAGES_DIR = "search_pages"
LOCK_FILE = ".fetch.lock"

DEFAULT_WINDOW_DAYS = 7
#: Pages one window may need before it is split (40 pages = 1,000 rows).
MAX_PAGES_PER_WINDOW = 40
#: Consecutive letters that fail to download, or arrive as something other than a
#: complete PDF, before the run stops (the site is refusing or serving error pages).
MAX_CONSECUTIVE_BAD_LETTERS = 5
#: Downloads of a letter that arrives cut off (no %%EOF) before it is set aside: a transfer
#: cut short is a transport failure, like a dropped connection (which the client retries).
TRUNCATED_ATTEMPTS = 2
#: Windows run Monday to Sunday with 7-day windows: the grid starts on a Monday.
_GRID_ORIGIN = dt.date(2000, 1, 3)
#: Kinds that say "this was not a letter at all" rather than "a letter we set aside".
_NOT_A_LETTER = frozenset({"not_pdf", "truncated_pdf", "corrupt_pdf", "too_large", "empty"})


@dataclass(frozen=True)
class Window:
    """A decision-date range searched as one (both ends included)."""

    start: dt.date
    end: dt.date

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def halves(self) -> tuple[Window, Window]:
        middle = self.start + dt.timedelta(days=(self.days - 1) // 2)
        return Window(self.start, middle), Window(middle + dt.timedelta(days=1), self.end)


def plan_windows(start: dt.date, end: dt.date, days: int = DEFAULT_WINDOW_DAYS) -> list[Window]:
    """Windows of ``days`` days on a fixed grid, clipped to [start, end].

    A fixed grid makes reruns over overlapping ranges reuse the windows already walked.
    """
    if days < 1:
        raise ValueError("windows must be at least one day long")
    offset = (start - _GRID_ORIGIN).days % days
    first = start - dt.timedelta(days=offset)
    windows = []
    while first <= end:
        last = first + dt.timedelta(days=days - 1)
        windows.append(Window(max(first, start), min(last, end)))
        first = last + dt.timedelta(days=1)
    return windows


@dataclass(frozen=True)
class FetchOptions:
    """What to fetch and where; mirrors the command line."""

    decided_from: dt.date
    decided_to: dt.date
    out_dir: Path
    outcome: str | None = None
    sub_category: str | None = None
    specialty: str | None = None
    max_letters: int | None = None
    base_url: str = dwc_site.DEFAULT_BASE_URL
    window_days: int = DEFAULT_WINDOW_DAYS
    max_pages: int = MAX_PAGES_PER_WINDOW
    retry_rejected: bool = False
    rewalk: bool = False

    @property
    def query(self) -> dict:
        """The search criteria other than the dates (they key the manifest's windows)."""
        return {
            "base_url": self.base_url.rstrip("/"),
            "outcome": self.outcome or "",
            "sub_category": self.sub_category or "",
            "specialty": self.specialty or "",
        }

    @property
    def complete_table(self) -> bool:
        """True when the table lists every treatment of a case (no treatment filter)."""
        return not (self.outcome or self.sub_category)

    def search_request(self, window: Window, page: int) -> HttpRequest:
        form = dwc_site.search_form(
            window.start,
            window.end,
            page,
            outcome=self.outcome,
            sub_category=self.sub_category,
            specialty=self.specialty,
        )
        return HttpRequest(
            "POST", dwc_site.search_url(self.base_url), tuple(form), accept="text/html"
        )


@dataclass
class FetchResult:
    """The report written to ``fetch_report.json`` and the search table written to parquet."""

    report: dict
    results: pd.DataFrame

    @property
    def stopped(self) -> str | None:
        return self.report["stopped"]

    @property
    def problems(self) -> int:
        summary = self.report["summary"]
        return summary["rejected"] + summary["failed"]


class _Stop(Exception):
    """Ends the walk early; ``reason`` goes to the report, ``message`` to the user."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class UndecodablePage(ValueError):
    """A results page whose bytes are not text in any encoding it may be in."""


def decode_page(body: bytes, content_type: str) -> str:
    """A results page's text: in the declared charset, else UTF-8, else Windows-1252 (old
    pages are often labelled one and written in the other), each decoded strictly.

    Raises :class:`UndecodablePage` for an unknown declared charset, bytes that none of
    these decode, or text holding NUL characters (binary data, not a page): guessing with
    replacement characters would turn a broken page into "no results".
    """
    declared = None
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip():
            declared = value.strip().strip("\"'")
    names = ["utf-8", "cp1252"]
    if declared:
        try:
            names.insert(0, codecs.lookup(declared).name)
        except LookupError:
            raise UndecodablePage(
                f"it declares charset {declared!r}, which is no encoding"
            ) from None
    for name in dict.fromkeys(names):
        try:
            text = body.decode(name)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise UndecodablePage("it holds NUL characters: binary data, not a page")
        return text
    raise UndecodablePage(f"its bytes are not {' nor '.join(dict.fromkeys(names))} text")


def saved_pages(out: Path, record: dict, page_url: str) -> list[dwc_site.ResultsPage]:
    """The results pages of a window walked before, parsed again from the saved HTML; stops
    at the first page that is missing or unreadable (the walk fetches it again)."""
    pages: list[dwc_site.ResultsPage] = []
    for entry in record["pages"]:
        path = out / entry["file"]
        previous = pages[-1].rows[-1] if pages and pages[-1].rows else None
        try:
            pages.append(parse_results(path.read_text(encoding="utf-8"), page_url, previous))
        except (OSError, UnicodeDecodeError, SiteFormatError) as exc:
            log.warning("%s: %s", path, exc)
            break
    return pages


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Fetcher:
    """One run of the walk over one output folder (see the module docstring)."""

    def __init__(self, options: FetchOptions, client: PoliteClient) -> None:
        self.options = options
        self.client = client
        self.out = Path(options.out_dir)
        self.manifest = Manifest.load(self.out)
        self.query = options.query
        self.search_url = dwc_site.search_url(options.base_url)
        #: links and redirects are followed only on the search's own host
        self.allow = functools.partial(dwc_site.link_problem, base_url=self.search_url)
        self.downloads = 0
        self.new_cases: set[str] = set()
        self.handled: set[str] = set()
        self.bad_in_a_row = 0
        self._page_cache: dict[str, list[dwc_site.ResultsPage]] = {}
        self.warnings: list[str] = []

    # --- walking -----------------------------------------------------------------------

    def run(self) -> FetchResult:
        """Walk, download, and write the search table and the report (also when stopped)."""
        stopped = message = None
        try:
            removed = remove_stale_temporaries(self.out)
            if removed:
                log.info("removed %d unfinished file(s) left by an interrupted run", removed)
            if self.options.rewalk:
                self._forget_windows()
            for window in plan_windows(
                self.options.decided_from, self.options.decided_to, self.options.window_days
            ):
                self._walk(window)
        except _Stop as stop:
            stopped, message = stop.reason, stop.message
        except NameNotResolved as exc:
            stopped, message = "name_not_resolved", str(exc)
        except SiteUnavailable as exc:
            stopped, message = "site_unavailable", str(exc)
        except KeyboardInterrupt:
            stopped, message = "interrupted", "interrupted; rerun the same command to resume"
            raise
        finally:
            result = self._write_outputs(stopped, message)
        return result

    def _forget_windows(self) -> None:
        windows = self.manifest.search(self.query)["windows"]
        for key in list(windows):
            start, end = (dt.date.fromisoformat(part) for part in key.split(".."))
            if start >= self.options.decided_from and end <= self.options.decided_to:
                del windows[key]
        self.manifest.save()

    def _leaves(self, window: Window) -> Iterator[Window]:
        """The windows actually searched: split windows stand for their halves."""
        record = self.manifest.window(self.query, window.key, create=False)
        if record is not None and record["status"] == "split":
            for half in window.halves():
                yield from self._leaves(half)
        else:
            yield window

    def _walk(self, window: Window) -> None:
        record = self.manifest.window(self.query, window.key)
        if record["status"] == "split":
            for half in window.halves():
                self._walk(half)
            return
        pages = self._pages(window, record)
        while record["status"] == "open":
            number = len(record["pages"]) + 1
            previous = pages[-1].rows[-1] if pages and pages[-1].rows else None
            page = self._fetch_page(window, record, number, previous)
            pages.append(page)
            if self._too_big(window, record, page):
                record["status"] = "split"
                self.manifest.save()
                self._page_cache.pop(window.key, None)
                log.info("window %s holds too many rows for one walk: splitting it", window.key)
                for half in window.halves():
                    self._walk(half)
                return
            if not page.has_next:
                record["status"] = "done"
                self._check_total(window, record, pages)
            self.manifest.save()
            rows = [row for p in pages for row in p.rows]
            if page.has_next and rows:
                # the last case may go on on the next page: its letter waits for it
                last = rows[-1].case_number
                rows = [row for row in rows if row.case_number != last]
            self._letters(rows)
        self._letters([row for p in pages for row in p.rows])

    def _fetch_page(
        self, window: Window, record: dict, number: int, previous: Treatment | None
    ) -> dwc_site.ResultsPage:
        request = self.options.search_request(window, number)
        where = f"search {window.key} page {number}"
        unfinished = (
            f"window {window.key} is left unfinished; rerun the same command later to resume"
        )
        try:
            reply = self.client.send(request, allow=self.allow)
        except RefusedUrl as exc:
            raise _Stop("site_error", f"{where}: {exc.reason}; {unfinished}") from exc
        if reply.failure:
            raise _Stop("site_error", f"{where}: the page is {_page_failure(reply)}; {unfinished}")
        if reply.status != 200:
            raise _Stop(
                "site_error",
                f"{where}: HTTP {reply.status} {reply.reason}; "
                f"if the search form has moved, adapt data/fetch/site.py ({request.url})",
            )
        try:
            text = decode_page(reply.body, reply.content_type)
        except UndecodablePage as exc:
            raise _Stop(
                "site_error",
                f"{where}: the page cannot be read as text ({exc}; Content-Type "
                f"{reply.content_type!r}); {unfinished}",
            ) from exc
        relative = Path(PAGES_DIR) / self.manifest.search(self.query)["id"]
        relative = relative / f"{window.start}_{window.end}_p{number:03d}.html"
        atomic_write_bytes(self.out / relative, text.encode("utf-8"))
        try:
            page = parse_results(text, reply.url or self.search_url, previous)
        except SiteFormatError as exc:
            raise _Stop(
                "site_format",
                f"{where} ({self.out / relative}): {exc}. The site's "
                "format may have changed; adapt data/fetch/site.py",
            ) from exc
        if not page.table_found:
            note = (
                f"window {window.key} page {number}: no results table "
                f"(no results, or a changed format: see {self.out / relative})"
            )
            (self.warnings.append if number > 1 else log.info)(note)
        log.info(
            "window %s page %d: %d rows%s",
            window.key,
            number,
            len(page.rows),
            ", more pages follow" if page.has_next else "",
        )
        record["pages"].append(
            {
                "page": number,
                "file": relative.as_posix(),
                "rows": len(page.rows),
                "has_next": page.has_next,
                "stated_total": page.stated_total,
            }
        )
        return page

    def _pages(self, window: Window, record: dict) -> list[dwc_site.ResultsPage]:
        """The pages of a window walked before, parsed again from the saved HTML."""
        if window.key not in self._page_cache:
            pages = saved_pages(self.out, record, self.search_url)
            if len(pages) < len(record["pages"]):
                log.warning("window %s: walking it again from page %d", window.key, len(pages) + 1)
                del record["pages"][len(pages) :]
                record["status"] = "open"
            self._page_cache[window.key] = pages
        return self._page_cache[window.key]

    def _too_big(self, window: Window, record: dict, page: dwc_site.ResultsPage) -> bool:
        limit = self.options.max_pages
        stated_pages = (
            math.ceil(page.stated_total / dwc_site.PAGE_SIZE)
            if page.stated_total is not None and len(record["pages"]) == 1
            else 0
        )
        if stated_pages <= limit and not (len(record["pages"]) >= limit and page.has_next):
            return False
        if window.days > 1:
            return True
        if not record["capped"]:
            record["capped"] = True
            self.warnings.append(
                f"window {window.key} (one day) needs more than {limit} pages; it cannot be "
                "split and is walked to its end. If the site stops paging early, some letters "
                "of that day are missing."
            )
        return False

    def _check_total(self, window: Window, record: dict, pages: list) -> None:
        stated = next((p["stated_total"] for p in record["pages"] if p["stated_total"]), None)
        rows = sum(len(p.rows) for p in pages)
        if stated is not None and stated != rows:
            self.warnings.append(
                f"window {window.key}: the site states {stated} results, the pages held {rows}"
            )

    # --- letters -----------------------------------------------------------------------

    def _letters(self, rows: list[Treatment]) -> None:
        cases: dict[str, list[Treatment]] = {}
        for row in rows:
            cases.setdefault(row.case_number, []).append(row)
        for case, treatments in cases.items():
            if case not in self.handled:
                self._letter(case, treatments)
                self.handled.add(case)

    def _intact(self, entry: dict) -> bool:
        path = self.out / entry["path"]
        try:
            return path.stat().st_size == entry["size"] and sha256_of(path) == entry["sha256"]
        except OSError:
            return False

    def _letter(self, case: str, treatments: list[Treatment]) -> None:
        entry = self.manifest.files.get(case)
        if entry and entry["status"] == "fetched" and self._intact(entry):
            return
        if entry and entry["status"] == "rejected" and not self.options.retry_rejected:
            return
        site_decisions = [t.decision for t in treatments]
        final = self.out / PDF_DIR / letter_file_name(case)
        rejected = self.out / REJECTED_DIR / (letter_file_name(case) + REJECTED_SUFFIX)
        if final.exists():  # landed by a run killed before it could record it
            data = final.read_bytes()
            check = check_letter(
                data, case, site_decisions, complete_table=self.options.complete_table
            )
            if check.ok:
                self._record(case, treatments[0].letter_url, "fetched", final, data, check)
                log.info("%s: already in %s, checked and kept", case, final)
                return
        url = treatments[0].letter_url
        if url is None:
            self._record(case, None, "failed", kind="no_link", reason="no letter link in the row")
            return
        problem = self.allow(url)
        if problem is not None:  # nothing is sent: no download, no strike against the site
            reason = f"the letter link {url} is {problem}: not fetched"
            self._record(case, url, "failed", kind="refused_link", reason=reason)
            return
        self.downloads += 1
        self.new_cases.add(case)
        try:
            reply, check = self._download(case, url, site_decisions)
        except RefusedUrl as exc:  # a redirect elsewhere: the site answered, oddly
            self._record(case, url, "failed", kind=exc.kind, reason=exc.reason)
        else:
            self._land(case, url, reply, check, final, rejected)
        # an older copy in the other place must not outlive this verdict
        kept = self.manifest.files[case]["path"]
        for stale in (final, rejected):
            if stale.exists() and (kept is None or stale != self.out / kept):
                stale.unlink()
        entry = self.manifest.files[case]
        bad = entry["status"] == "failed" or entry["kind"] in _NOT_A_LETTER
        self.bad_in_a_row = self.bad_in_a_row + 1 if bad else 0
        if self.bad_in_a_row >= MAX_CONSECUTIVE_BAD_LETTERS:
            raise _Stop(
                "too_many_failures",
                f"{self.bad_in_a_row} letters in a row could not be fetched (the last: "
                f"{entry.get('reason')}); stopping so as not to burden the site. Rerun the "
                "same command later to resume.",
            )
        if self.options.max_letters is not None and self.downloads >= self.options.max_letters:
            raise _Stop(
                "max_letters",
                f"fetched {self.downloads} letter(s) as asked (--max-letters); rerun without "
                "it (or with a higher one) to go on",
            )

    def _land(
        self, case: str, url: str, reply: HttpReply, check, final: Path, rejected: Path
    ) -> None:
        """Record a download's verdict, writing the letter to ``pdf/`` or ``rejected/``."""
        if reply.too_large:
            reason = f"{reply.detail}: not a letter"
            self._record(case, url, "failed", kind="too_large", reason=reason)
        elif reply.failure:
            reason = f"{reply.detail}; a later run tries again"
            self._record(case, url, "failed", kind=reply.failure, reason=reason)
        elif reply.status != 200:
            reason = f"HTTP {reply.status} {reply.reason}; a later run tries again"
            self._record(case, url, "failed", kind=f"http_{reply.status}", reason=reason)
        else:
            target, status = (final, "fetched") if check.ok else (rejected, "rejected")
            atomic_write_bytes(target, reply.body)
            self._record(case, url, status, target, reply.body, check)

    def _download(self, case: str, url: str, site_decisions: list) -> tuple:
        """GET a letter and check it; a PDF cut off in transit is downloaded once more."""
        request = HttpRequest("GET", url, accept="application/pdf")
        attempt = 1
        while True:
            reply = self.client.send(request, allow=self.allow)
            if reply.status != 200 or reply.failure:
                return reply, None
            check = check_letter(
                reply.body, case, site_decisions, complete_table=self.options.complete_table
            )
            if check.kind != "truncated_pdf" or attempt >= TRUNCATED_ATTEMPTS:
                return reply, check
            attempt += 1
            log.warning("%s: %s; downloading it once more", case, check.reason)
            self.client.pause(self.client.backoff_base)

    def _record(
        self,
        case: str,
        url: str | None,
        status: str,
        path: Path | None = None,
        data: bytes | None = None,
        check=None,
        *,
        kind: str | None = None,
        reason: str | None = None,
    ) -> None:
        entry = {
            "status": status,
            "url": url,
            "path": path.relative_to(self.out).as_posix() if path else None,
            "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
            "size": len(data) if data is not None else None,
            "kind": check.kind if check else kind,
            "reason": check.reason if check else reason,
            "letter_case_number": check.letter_case_number if check else None,
            "letter_decisions": check.letter_decisions if check else None,
            "fetched_at": _now(),
        }
        self.manifest.files[case] = entry
        self.manifest.save()
        message = entry["reason"] or entry["path"]
        (log.info if status == "fetched" else log.warning)("%s: %s (%s)", case, status, message)

    # --- outputs -----------------------------------------------------------------------

    def _known_rows(self) -> tuple[list[Treatment], list[dict]]:
        """Every row walked so far in the requested range, and the state of its windows."""
        rows: list[Treatment] = []
        windows = []
        for top in plan_windows(
            self.options.decided_from, self.options.decided_to, self.options.window_days
        ):
            for window in self._leaves(top):
                record = self.manifest.window(self.query, window.key, create=False)
                if record is None:
                    windows.append({"window": window.key, "status": "not walked", "pages": 0})
                    continue
                pages = self._pages(window, record)
                page_rows = [row for page in pages for row in page.rows]
                rows.extend(page_rows)
                windows.append(
                    {
                        "window": window.key,
                        "status": record["status"],
                        "pages": len(record["pages"]),
                        "rows": len(page_rows),
                        "capped": record["capped"],
                    }
                )
        return rows, windows

    def _write_outputs(self, stopped: str | None, message: str | None) -> FetchResult:
        rows, windows = self._known_rows()
        table = results_table(rows, self.manifest.files)
        report = self._report(table, windows, stopped, message)
        self.manifest.save()
        atomic_write_bytes(
            self.out / FETCH_REPORT_FILE, json.dumps(report, indent=2, default=str).encode()
        )
        atomic_write_bytes(self.out / RESULTS_FILE, table.to_parquet(index=False))
        return FetchResult(report, table)

    def _report(
        self, table: pd.DataFrame, windows: list[dict], stopped: str | None, message: str | None
    ) -> dict:
        files, counts, agreement = letters_and_agreement(
            table,
            self.manifest.files,
            complete_table=self.options.complete_table,
            new_cases=self.new_cases,
            out_dir=self.out,
        )
        return {
            "run_at": _now(),
            "out_dir": str(self.out),
            "base_url": self.options.base_url,
            "decided_from": self.options.decided_from.isoformat(),
            "decided_to": self.options.decided_to.isoformat(),
            "query": {k: v for k, v in self.query.items() if k != "base_url" and v},
            "stopped": stopped,
            "message": message,
            "summary": {
                "cases": int(table["case_number"].nunique()),
                "treatments": len(table),
                **counts,
                "downloaded_this_run": self.downloads,
                "requests_this_run": self.client.requests_sent,
                "retries_this_run": self.client.retries,
            },
            "agreement": agreement,
            "warnings": self.warnings,
            "windows": windows,
            "files": files,
        }


def _page_failure(reply: HttpReply) -> str:
    """What went wrong with a results page, as the end of "the page is ..."."""
    if reply.failure == "too_large":
        return f"{reply.detail}: a page of {dwc_site.PAGE_SIZE} rows is a few KB"
    if reply.failure == "undecodable":
        return f"unreadable: {reply.detail}"
    return reply.detail


def fetch(options: FetchOptions, client: PoliteClient) -> FetchResult:
    """Run the walk into ``options.out_dir``; see the module docstring.

    Holds ``OUT/.fetch.lock`` so that two runs never fetch into one folder (raises
    ``filelock.Timeout`` when another run holds it).
    """
    from filelock import FileLock

    out = Path(options.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out / LOCK_FILE), timeout=0):
        return Fetcher(options, client).run()


def dry_run(options: FetchOptions, *, user_agent: str, delay: float) -> list[str]:
    """The requests a run would start with, as lines to print; touches no network and no file.

    Only the first request of each window can be known in advance: later pages depend on
    what the site answers, as do the letter downloads.
    """
    out = Path(options.out_dir)
    manifest = Manifest.load(out)
    query = options.query
    windows = plan_windows(options.decided_from, options.decided_to, options.window_days)
    lines = [
        "dry run: nothing is sent and nothing is written",
        f"User-Agent: {user_agent}",
        f"pace: one request at a time, at least {delay:g} s apart, back-off on 429/5xx",
        f"windows: {len(windows)} of up to {options.window_days} day(s), "
        f"{options.decided_from} to {options.decided_to}",
    ]
    pending = 0
    listed: set[str] = set()

    def leaves(window: Window) -> Iterator[Window]:
        record = manifest.window(query, window.key, create=False)
        if record is not None and record["status"] == "split" and not options.rewalk:
            for half in window.halves():
                yield from leaves(half)
        else:
            yield window

    for top in windows:
        for window in leaves(top):
            record = manifest.window(query, window.key, create=False)
            if record is not None and not options.rewalk:
                page_url = dwc_site.search_url(options.base_url)
                for page in saved_pages(out, record, page_url):
                    listed.update(row.case_number for row in page.rows)
            if record is not None and record["status"] == "done" and not options.rewalk:
                lines.append(f"# {window.key}: walked before ({len(record['pages'])} pages)")
                continue
            page = len(record["pages"]) + 1 if record and not options.rewalk else 1
            lines.append(options.search_request(window, page).describe())
            pending += 1
    settled = ("fetched",) if options.retry_rejected else ("fetched", "rejected")
    done = {case for case, entry in manifest.files.items() if entry["status"] in settled}
    if listed:
        lines.append(
            f"# {len(listed - done)} letter(s) listed on pages walked before are still to "
            f"fetch, one GET each ({len(listed & done)} are in {out} already)"
        )
    if pending:
        lines.append(
            f"# then, in each of these {pending} window(s), the next pages (newpageno=2, 3, ... "
            "with Submit=Next) while a page has a Nextpage form, and one GET per letter linked "
            f"from the results and not yet in {out}"
        )
    if options.max_letters is not None:
        lines.append(f"# stopping after {options.max_letters} letter download(s)")
    return lines
