"""A local stand-in for the DWC's IMR decision search, for the fetcher's tests.

It serves the treatment search as the 2017 crawler of the live site reads it: a
``tabborder`` table with a header row; the first row of a case holds the link cell (the
letter link, whose text is the case number, then ``<strong>+</strong>`` when the case has
several treatments), decision date, injury date, received date, specialty, category,
sub-category and decision; each further treatment of the case is a row of a
``colspan="5"`` cell then category, sub-category and decision; 25 rows a page; the total
in ``<strong>`` after the table; a ``Nextpage`` form while more pages follow. It answers
over one keep-alive HTTP/1.1 connection per client, and serves letter PDFs made by the
tests. Faults can be queued per path: a status (e.g. 503 with ``Retry-After``, or a
hostile reason phrase), a connection dropped before or in the middle of a response, an
HTML page instead of a PDF, a truncated PDF, a redirect, a slow drip of the body or of the
status line, or any raw body and headers (an oversized page, a gzip bomb, a page in a bad
encoding). Every request is logged with
the (possibly fake) time it arrived.
"""

from __future__ import annotations

import datetime as dt
import gzip
import html
import socket
import sys
import threading
import time
import zlib
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.helpers.letters import letter
from tests.helpers.pdf_maker import text_pdf

SEARCH_PATH = "/dwc/imr/IMRDecisionSearch.asp"
LETTER_DIR = "/dwc/imr/decisions/"
PAGE_SIZE = 25
#: What the live table puts after the letter link of a case with several treatments.
MARKER = "<strong>+</strong>"


@dataclass
class FakeCase:
    """One case on the fake site: its facts, its treatments and its letter."""

    case_number: str
    decided: dt.date
    treatments: list[tuple[str, str, str]]  # (category, sub-category, Upheld | Overturned)
    specialty: str = "Orthopedic Surgery"
    injured: dt.date = dt.date(2015, 3, 4)
    received: dt.date = dt.date(2023, 11, 4)
    pdf: bytes | None = None
    #: the letter link as the results table gives it (default: the letter's own path)
    link: str | None = None

    def __post_init__(self) -> None:
        if self.pdf is None:
            self.pdf = letter_pdf(self.case_number, [t[2] for t in self.treatments])

    @property
    def path(self) -> str:
        return f"{LETTER_DIR}{self.case_number}.pdf"

    @property
    def href(self) -> str:
        return self.link if self.link is not None else self.path


def letter_pdf(case_number: str, decisions: list[str]) -> bytes:
    """A letter PDF for a case with one item per decision."""
    items = tuple(
        (f"Request number {i + 1} for the injured worker", decision)
        for i, decision in enumerate(decisions)
    )
    return text_pdf(letter(case_number=case_number, items=items).splitlines())


@dataclass
class Fault:
    """What to do instead of the normal answer, once.

    kind: ``status`` (send ``status`` with ``headers`` and the ``reason`` phrase), ``drop``
    (close without answering), ``drop_mid_body`` (announce the whole body, send ``keep``
    bytes, close), ``html`` (a 200 HTML error page titled ``title``), ``truncated`` (a 200
    PDF cut to ``keep`` bytes, honestly announced), ``redirect`` (``status``, default 302,
    to ``location``), ``drip`` (announce the whole body, then send it one byte every
    ``interval`` seconds), ``drip_head`` (the same from the status line on), ``raw`` (a 200
    with ``body`` and ``headers`` as given).
    """

    kind: str
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    keep: int = 200
    reason: str | None = None
    title: str = "Service Error"
    location: str = ""
    interval: float = 2.0
    body: bytes = b""


@dataclass
class LoggedRequest:
    time: float
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]
    status: int | None = None
    #: bytes of a dripped answer sent so far (the drip stops when the client hangs up)
    dripped: int = 0


def gzip_bomb(mib: int, fill: bytes = b" ") -> bytes:
    """A valid gzip body of about 1 KB per MiB that inflates to ``mib`` MiB of ``fill``.

    Built without holding the inflated data: after a full flush deflate starts afresh, so
    every block compresses to the same bytes.
    """
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = fill * (2**20 // len(fill))
    head = gzip.compress(b"")[:10]  # the gzip header of an empty member
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    size = (len(block) * mib) % 2**32
    tail = crc.to_bytes(4, "little") + size.to_bytes(4, "little")
    return head + first + again * (mib - 1) + deflate.flush() + tail


def _site_date(day: dt.date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def _parse_site_date(text: str) -> dt.date | None:
    if not text:
        return None
    month, day, year = (int(part) for part in text.split("/"))
    return dt.date(year, month, day)


class FakeDwcSite:
    """The fake site; use as a context manager (``with FakeDwcSite(cases) as site``)."""

    def __init__(
        self,
        cases: list[FakeCase],
        *,
        clock: Callable[[], float] | None = None,
        state_total: bool = True,
        page_size: int = PAGE_SIZE,
    ) -> None:
        import time

        self.cases = sorted(cases, key=lambda c: (c.decided, c.case_number))
        self.clock = clock or time.monotonic
        self.state_total = state_total
        self.page_size = page_size
        self.log: list[LoggedRequest] = []
        self.connections = 0
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- set-up ----------------------------------------------------------------------

    def fail(self, path: str, *faults: Fault) -> None:
        """Queue faults for the next requests to ``path`` (a letter path or SEARCH_PATH)."""
        self.faults[path].extend(faults)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeDwcSite:
        site = self

        class Handler(_Handler):
            fake = site

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # a short poll interval: shutting the server down waits for one poll
        serve = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        serve.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what the tests read ---------------------------------------------------------

    def requests_to(self, path: str, status: int | None = None) -> list[LoggedRequest]:
        return [r for r in self.log if r.path == path and (status is None or r.status == status)]

    def letter_deliveries(self) -> dict[str, int]:
        """Complete 200 answers per letter path."""
        counts: dict[str, int] = defaultdict(int)
        for r in self.log:
            if r.path.startswith(LETTER_DIR) and r.status == 200:
                counts[r.path] += 1
        return dict(counts)

    # --- the search ------------------------------------------------------------------

    def rows(self, form: dict[str, str]) -> list[tuple[FakeCase, tuple[str, str, str], bool]]:
        """(case, treatment, first of its case) for every treatment matching the form."""
        start = _parse_site_date(form.get("DecStart", ""))
        end = _parse_site_date(form.get("DecEnd", ""))
        outcome = {"Uphold": "Upheld", "Overturn": "Overturned"}.get(form.get("OutcomeV", ""))
        sub_category = form.get("SubCategoryV", "")
        rows = []
        for case in self.cases:
            if (start and case.decided < start) or (end and case.decided > end):
                continue
            first = True
            for treatment in case.treatments:
                if outcome and treatment[2] != outcome:
                    continue
                if sub_category and treatment[1] != sub_category:
                    continue
                rows.append((case, treatment, first))
                first = False
        return rows

    def results_page(self, form: dict[str, str]) -> str:
        page = int(form["newpageno"]) if form.get("Submit") == "Next" else 1
        rows = self.rows(form)
        chunk = rows[(page - 1) * self.page_size : page * self.page_size]
        if not rows:
            return "<html><body><p>No records found.</p></body></html>"
        lines = [
            "<html><head><title>IMR Decision Search</title></head><body>",
            '<table class="tabborder" width="100%">',
            "<tr><td><b>Case Number</b></td><td><b>Decision Date</b></td>"
            "<td><b>Date of Injury</b></td><td><b>Received Date</b></td>"
            "<td><b>IMRO Specialty</b></td><td><b>Request Category</b></td>"
            "<td><b>SubCategory/Drug</b></td><td><b>Request Decision</b></td></tr>",
        ]
        for case, (category, sub_category, decision), first in chunk:
            tail = (
                f"<td>{html.escape(category)}</td><td>{html.escape(sub_category)}</td>"
                f"<td>{decision}</td></tr>"
            )
            if first:
                # the live site marks a case with several treatments by a bold + after the link
                marker = MARKER if len(case.treatments) > 1 else ""
                link = f'<a href="{html.escape(case.href)}">{case.case_number}</a>'
                lines.append(
                    f"<tr><td>{link}{marker}</td>"
                    f"<td>{_site_date(case.decided)}</td><td>{_site_date(case.injured)}</td>"
                    f"<td>{_site_date(case.received)}</td><td>{html.escape(case.specialty)}</td>"
                    + tail
                )
            else:
                lines.append('<tr><td colspan="5">&nbsp;</td>' + tail)
        lines.append("</table>")
        if self.state_total:
            lines.append(f"<p>Total: <strong>{len(rows)}</strong> results.</p>")
        if page * self.page_size < len(rows):
            lines.append(
                '<form name="Nextpage" method="post" action="IMRDecisionSearch.asp">'
                f'<input type="hidden" name="newpageno" value="{page + 1}">'
                '<input type="submit" name="Submit" value="Next"></form>'
            )
        lines.append("</body></html>")
        return "\n".join(lines)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (as the fetcher does at its deadline) is no error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small writes would otherwise wait ~40 ms each
    fake: FakeDwcSite

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake.connections += 1

    def log_message(self, *args) -> None:
        pass

    def _record(self, form: dict[str, str]) -> LoggedRequest:
        entry = LoggedRequest(
            self.fake.clock(), self.command, urlsplit(self.path).path, form, dict(self.headers)
        )
        with self.fake._lock:
            self.fake.log.append(entry)
        return entry

    def _send(
        self,
        entry: LoggedRequest,
        status: int,
        body: bytes,
        content_type: str,
        headers=(),
        reason: str | None = None,
    ):
        entry.status = status
        self.send_response(status, reason)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def _drip(self, entry: LoggedRequest, data: bytes, interval: float) -> None:
        """Send ``data`` a byte at a time, ``interval`` seconds apart, until the client leaves."""
        self.close_connection = True
        try:
            for i in range(len(data)):
                self.wfile.write(data[i : i + 1])
                entry.dripped += 1
                time.sleep(interval)
        except OSError:
            pass

    def _answer(self, entry: LoggedRequest, body: bytes, content_type: str) -> None:
        queue = self.fake.faults.get(entry.path)
        fault = queue.popleft() if queue else None
        if fault is None:
            self._send(entry, 200, body, content_type)
        elif fault.kind == "status":
            self._send(
                entry,
                fault.status,
                b"busy",
                "text/plain",
                headers=list(fault.headers.items()),
                reason=fault.reason,
            )
        elif fault.kind == "drop":
            entry.status = -1
            self._drop()
        elif fault.kind == "drop_mid_body":
            entry.status = -2
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: fault.keep])
            self._drop()
        elif fault.kind == "html":
            title = fault.title.encode("utf-8")
            page = b"<!DOCTYPE html><html><head><title>" + title + b"</title></head><body>Sorry"
            self._send(entry, 200, page, "text/html; charset=utf-8")
        elif fault.kind == "truncated":
            self._send(entry, 200, body[: fault.keep], content_type)
        elif fault.kind == "redirect":
            entry.status = fault.status
            self.send_response(fault.status)
            self.send_header("Location", fault.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif fault.kind == "drip":
            entry.status = -3
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._drip(entry, body, fault.interval)
        elif fault.kind == "drip_head":
            entry.status = -4
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            self._drip(entry, head + body, fault.interval)
        elif fault.kind == "raw":
            headers = dict(fault.headers)
            kind = headers.pop("Content-Type", content_type)
            self._send(entry, 200, fault.body, kind, headers=list(headers.items()))
        else:
            raise ValueError(fault.kind)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
        entry = self._record(form)
        if entry.path != SEARCH_PATH:
            self._send(entry, 404, b"not found", "text/plain")
            return
        page = self.fake.results_page(form).encode("utf-8")
        self._answer(entry, page, "text/html; charset=utf-8")

    def do_GET(self) -> None:
        entry = self._record({})
        case = next((c for c in self.fake.cases if c.path == entry.path), None)
        if case is None:
            self._send(entry, 404, b"not found", "text/plain")
            return
        self._answer(entry, case.pdf, "application/pdf")
