"""The web page against hostile uploads and requests, and drafts from any file.

Issue 16, item 1: uploads are parsed by the limited workers of ingestion, never in the
server's process; requests that change state must come from the page itself; slow
clients hold no thread and are cut off; one summary limit for the page and ingestion.
Issue 18, item 3: a draft kept as plain text, PDF or Word fills the summary, on the page
and with ``predict.py --summary FILE``.

Hostile inputs go to a real ``predict.py serve`` started under ``ulimit -v 4000000``
(:func:`tests.helpers.web.start_server`), or to ``predict.py`` under the same limit; the
model is the champion of ``trained_store`` (conftest). Probabilities are compared with
:func:`models.scoring.score.score_rows` on the same text, never with fixed numbers.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import selectors
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from data.drafts.rows import draft_rows
from models.scoring.score import score_rows
from settings import MAX_ITEMS_PER_LETTER, MAX_SUMMARY_CHARS
from tests.helpers.docx_maker import bomb_docx, entity_docx, text_docx
from tests.helpers.hostile_files import ADDRESS_SPACE_KIB, flate_bomb_pdf
from tests.helpers.letters import letter
from tests.helpers.pdf_maker import text_pdf
from tests.helpers.web import (
    DRAFT_TEXT,
    OWN_SUMMARY,
    REPO,
    SERVICES,
    draft_files,
    process_status,
    start_server,
    stop_server,
)
from web import server as web_server


@pytest.fixture(scope="module")
def served(trained_store, tmp_path_factory):
    """``predict.py serve`` under ``ulimit -v 4000000``: (URL, process)."""
    url, proc, _ = start_server(trained_store.env, tmp_path_factory.mktemp("served"))
    yield url, proc
    stop_server(proc)


def _upload(client, name: str, data: bytes, **headers):
    return client.post("/letter", data={"letter": (io.BytesIO(data), name)}, headers=headers)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _field(page: str, name: str) -> str:
    """The value of a textarea in a page."""
    return re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', page, re.DOTALL)[1]


# ---- uploads are parsed by limited workers, never by the server ----


def test_a_bomb_letter_does_not_take_the_server_down(served):
    """4 MB of PDF that inflates to 4 GiB: refused with a clear message, the page answers
    on, and the server's own memory never holds the inflated data."""
    base, proc = served
    bomb = flate_bomb_pdf(gib=4)
    before = int(process_status(proc.pid)["VmHWM"].split()[0]) * 1024
    for url, field in (("letter", "letter"), ("batch", "files")):
        answer = requests.post(
            base + url, files={field: ("bomb.pdf", bomb, "application/pdf")}, timeout=180
        )
        assert answer.status_code == 422, url
        page = html.unescape(answer.text)
        assert "bomb.pdf" in page and "more memory or time to read than any letter" in page
        assert "Traceback" not in page and "SIGABRT" not in page
    assert proc.poll() is None, "the server died"
    assert requests.get(base, timeout=60).status_code == 200
    peak = int(process_status(proc.pid)["VmHWM"].split()[0]) * 1024
    assert peak - before < 256 * 2**20, f"the server grew by {(peak - before) / 2**20:.0f} MiB"


@pytest.mark.slow  # 15-30 s of a server under attack: CI runs it with -m slow
def test_hostile_word_documents_and_csvs_are_refused_by_the_workers(served):
    base, proc = served
    cases = [
        # a 4 MB .docx whose one part unpacks to 4 GiB
        ("letter", "letter", "bomb.docx", bomb_docx(), "unpacks to 4,095 MiB"),
        # entities that would expand to a billion "lol"s: never expanded
        ("letter", "letter", "laughs.docx", entity_docx(), "damaged Word document"),
        # 20 MB of CSV with two million columns: pandas needs gigabytes for it
        (
            "batch",
            "files",
            "wide.csv",
            (
                "case_summary,service," + ",".join(f"c{i}" for i in range(2_000_000)) + "\n"
                "back pain,MRI" + ",a" * 2_000_000 + "\n"
            ).encode(),
            "more memory or time to read than any letter",
        ),
    ]
    for url, field, name, data, message in cases:
        answer = requests.post(base + url, files={field: (name, data)}, timeout=180)
        assert answer.status_code == 422, name
        page = html.unescape(answer.text)
        assert name in page and message in page, name
    assert proc.poll() is None
    assert requests.get(base, timeout=60).status_code == 200


def test_the_server_process_never_parses_an_upload(client, monkeypatch):
    """Every parser entry point fails loudly in this process: uploads still work, so they
    were read elsewhere (by the workers)."""

    def here(*args, **kwargs):
        raise AssertionError("an upload was parsed in the server's process")

    for target in (
        "data.letters.text.bytes_to_text",
        "data.letters.text.pdf_to_text",
        "data.letters.docx.docx_to_text",
        "data.letters.records.file_records",
        "data.letters.parser.parse_letter",
        "data.drafts.rows.batch_rows",
    ):
        monkeypatch.setattr(target, here)
    text = letter(summary=OWN_SUMMARY)
    for name, data in (("l.txt", text.encode()), ("l.pdf", text_pdf(text.splitlines()))):
        assert _upload(client, name, data).status_code == 200, name
    for name, data in draft_files().items():
        assert _upload(client, name, data).status_code == 200, name
    csv = f"case_summary,service\n{OWN_SUMMARY},MRI of the knee\n".encode()
    assert client.post("/batch", data={"files": (io.BytesIO(csv), "c.csv")}).status_code == 200
    pdf = text_pdf(text.splitlines())
    assert client.post("/batch", data={"files": (io.BytesIO(pdf), "l.pdf")}).status_code == 200


# ---- requests must come from the page itself ----


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},  # a sandboxed frame, a data: page, a file on disk
        {"Origin": "http://127.0.0.1:9999"},  # another port is another site
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_a_post_from_another_site_is_refused(client, headers):
    form = {"case_summary": OWN_SUMMARY, "services": SERVICES[0]}
    scored = client.post("/", data=form, headers=headers)
    assert scored.status_code == 403
    assert "takes forms only from itself" in _text(scored)
    assert "data-p-overturned" not in _text(scored)
    letter_text = letter(summary=OWN_SUMMARY).encode()
    assert _upload(client, "l.txt", letter_text, **headers).status_code == 403
    upload = {"files": (io.BytesIO(letter_text), "l.txt")}
    assert client.post("/batch", data=upload, headers=headers).status_code == 403
    assert client.get("/", headers=headers).status_code == 200  # reading is harmless


def test_a_post_from_the_page_itself_is_scored(client):
    form = {"case_summary": OWN_SUMMARY, "services": SERVICES[0]}
    for headers in (
        {"Origin": "http://localhost"},  # the test client's own address
        {"Sec-Fetch-Site": "same-origin"},
        {},  # no browser at all (curl, a script on this computer): no other site sent it
    ):
        page = client.post("/", data=form, headers=headers)
        assert page.status_code == 200, headers
        assert "data-p-overturned" in page.get_data(as_text=True)
    # under no-referrer, Chromium sends "Origin: null" with the page's own forms (seen in
    # test_web_browser.py), which the check must refuse: header and meta tag say same-origin
    first = client.get("/")
    assert first.headers["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in first.get_data(as_text=True)


def test_the_served_page_refuses_another_origin(served):
    base, _ = served
    form = {"case_summary": OWN_SUMMARY, "services": SERVICES[0]}
    evil = requests.post(base, data=form, headers={"Origin": "http://evil.example"}, timeout=60)
    assert evil.status_code == 403
    own = requests.post(base, data=form, headers={"Origin": base.rstrip("/")}, timeout=60)
    assert own.status_code == 200 and "data-p-overturned" in own.text


# ---- slow clients ----


def _half_sent(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` connections, each with half a request sent: headers cut off, or a body
    shorter than its Content-Length."""
    out = []
    for i in range(count):
        sock = socket.create_connection((host, port), timeout=30)
        if i % 2:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: te")
        else:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n\r\ncase_summary=abc"
            )
        out.append(sock)
    return out


def _closed_by_the_server(sockets: list[socket.socket], within: float) -> int:
    """How many of ``sockets`` the other end closed within ``within`` seconds."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    closed, deadline = 0, time.monotonic() + within
    while closed < len(sockets) and (left := deadline - time.monotonic()) > 0:
        for key, _ in selector.select(left):
            try:
                data = key.fileobj.recv(4096)
            except (ConnectionResetError, BlockingIOError):
                data = b""
            if not data:
                closed += 1
                selector.unregister(key.fileobj)
    selector.close()
    return closed


@pytest.mark.slow  # 15-30 s of a server under attack: CI runs it with -m slow
def test_half_sent_requests_hold_no_thread_and_are_cut_off(served):
    """1,000 half-sent requests: no thread each, the page answers meanwhile, and the server
    closes them after its idle timeout."""
    base, proc = served
    host, port = re.match(r"http://([^:]+):(\d+)/", base).groups()
    requests.get(base, timeout=60)  # the page has answered before: its threads exist
    threads = int(process_status(proc.pid)["Threads"])
    sockets = _half_sent(host, int(port), 1_000)
    try:
        time.sleep(1)  # the server has read what they sent
        during = int(process_status(proc.pid)["Threads"])
        assert during <= threads + 2, f"{during - threads} more threads for half-sent requests"
        # the page answers at once, not after the half-sent requests time out
        assert requests.get(base, timeout=web_server.IDLE_SECONDS / 2).status_code == 200
        within = web_server.IDLE_SECONDS + 5 * web_server.CHECK_SECONDS + 10
        assert _closed_by_the_server(sockets, within) == len(sockets)
    finally:
        for sock in sockets:
            sock.close()
    assert proc.poll() is None


@contextlib.contextmanager
def _running(app):
    """The page's server for a WSGI ``app`` in this process, on a free port: its URL."""
    server = web_server.make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}/"
    finally:
        server.task_dispatcher.shutdown()
        for channel in list(server._map.values()):
            channel.close()
        thread.join(timeout=10)


def _echo(environ, start_response):
    """A WSGI app answering with the body it was sent."""
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_a_slow_drip_is_cut_off_at_the_request_deadline(monkeypatch):
    """A client that sends a byte a second is never idle, and is still cut off."""
    monkeypatch.setattr(web_server, "REQUEST_SECONDS", 3)
    with _running(_echo) as base:
        host, port = re.match(r"http://([^:]+):(\d+)/", base).groups()
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n")
        sent, cut = 0, False
        deadline = time.monotonic() + 3 + 5 * web_server.CHECK_SECONDS + 10
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"x")
                sent += 1
                sock.settimeout(1)
                if sock.recv(100) == b"":
                    cut = True
                    break
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
        sock.close()
        assert cut and sent < 100


def test_bodies_and_answers_never_go_to_a_temporary_file(monkeypatch):
    """Case summaries are medical records: the server keeps a large body and a large answer
    in memory (waitress would otherwise spool over 512 KB in, 1 MB out, to a file)."""
    import tempfile

    def no_temp_files(*args, **kwargs):
        raise AssertionError("a body or an answer went to a temporary file")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, no_temp_files)
    body = b"x" * (24 * 2**20)
    with _running(_echo) as base:
        answer = requests.post(base, data=body, timeout=120)
    assert answer.status_code == 200 and answer.content == body


# ---- one summary limit, in a person's words, never echoed ----


def test_a_summary_over_the_limit_is_refused_and_not_echoed(client):
    summary = "Pain in the lower back after lifting. " * 5_300  # about 200 KB
    assert len(summary) > 4 * MAX_SUMMARY_CHARS
    page = client.post("/", data={"case_summary": summary, "services": SERVICES[0]})
    assert page.status_code == 422
    text = _text(page)
    assert f"the case summary is {len(summary):,} characters long" in text
    assert f"the limit is {MAX_SUMMARY_CHARS:,}" in text and "paste a shorter one" in text
    assert len(page.data) < 50_000  # the page, without the summary
    assert _field(text, "services").strip() == SERVICES[0]  # the rest of the form is kept
    at_limit = client.post(
        "/", data={"case_summary": OWN_SUMMARY.ljust(MAX_SUMMARY_CHARS), "services": SERVICES[0]}
    )
    assert at_limit.status_code == 200


def test_too_many_services_or_a_huge_field_are_refused(client):
    services = "\n".join(f"Physical therapy visit {i}" for i in range(MAX_ITEMS_PER_LETTER + 1))
    page = client.post("/", data={"case_summary": OWN_SUMMARY, "services": services})
    assert page.status_code == 422
    assert f"at most {MAX_ITEMS_PER_LETTER}" in _text(page)
    guideline = "MTUS " * 20_000
    page = client.post(
        "/",
        data={
            "case_summary": OWN_SUMMARY,
            "services": SERVICES[0],
            "claims_admin_guideline": guideline,
        },
    )
    assert page.status_code == 422
    assert "guideline field is 100,000 characters long" in _text(page)
    assert len(page.data) < 50_000


def test_a_draft_file_over_the_summary_limit_is_refused_like_a_letter(client):
    long = ("Pain in the lower back after lifting. " * 1_400).strip()
    assert len(long) > MAX_SUMMARY_CHARS
    for name, data in (
        ("long.txt", long.encode()),
        ("long.docx", text_docx([long])),
        ("long_letter.txt", letter(summary=long).encode()),
    ):
        page = _upload(client, name, data)
        assert page.status_code == 422, name
        text = _text(page)
        assert f"{MAX_SUMMARY_CHARS:,}" in text, name
        assert len(page.data) < 50_000, name


# ---- a draft from any file ----


def test_a_draft_file_fills_the_summary(client):
    for name, data in draft_files().items():
        page = _upload(client, name, data)
        assert page.status_code == 200, name
        text = _text(page)
        assert _field(text, "case_summary") == DRAFT_TEXT, name
        assert _field(text, "services") == ""
        assert f"Filled the case summary from {name}" in text
        assert "add the requested services" in text


def test_a_letter_or_a_draft_in_its_layout_still_fills_every_field(client):
    items = (("MRI of the lumbar spine", "Upheld"), ("Physical therapy x 6 visits", "Overturned"))
    text = letter(summary=OWN_SUMMARY, items=items)
    lines = text.splitlines()
    for name, data in (("letter.docx", text_docx(lines)), ("letter.txt", text.encode())):
        page = _text(_upload(client, name, data))
        assert OWN_SUMMARY in _field(page, "case_summary"), name
        assert _field(page, "services").splitlines() == [s for s, _ in items], name
        assert 'value="2015-03-04"' in page and f"Filled from {name}" in page
        assert "not medically necessary" not in page  # no decision is read
    # a summary under its letter heading, and nothing else: the text under the heading
    page = _text(_upload(client, "s.txt", f"CLINICAL CASE SUMMARY\n{OWN_SUMMARY}\n".encode()))
    assert _field(page, "case_summary") == OWN_SUMMARY


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("draft.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Word 97-2003"),
        ("draft.rtf", rb"{\rtf1\ansi The patient has pain.}", "Rich Text Format"),
        ("draft.docx", b"The patient has pain, typed in a text editor.", "not a Word document"),
        ("draft.odt", text_docx(["x"]), "ZIP archive"),
        ("scan.pdf", text_pdf([""] * 3), "no text layer"),
        ("empty.docx", text_docx(["", "  "]), "no words"),
        ("old.txt", b"MAXIMUS FEDERAL SERVICES, INC.\nDOCUMENTS REVIEWED\nx", "unsupported layout"),
    ],
)
def test_a_file_that_cannot_be_a_draft_says_why(client, name, data, message):
    page = _upload(client, name, data)
    assert page.status_code == 422
    text = _text(page)
    assert f"{name}: " in text and message in text
    assert "Traceback" not in text


def _cli(trained_store, args: list[str]) -> subprocess.CompletedProcess:
    """predict.py as a user runs it, under the hostile-input limits (``ulimit -v 4000000``,
    no core files), against the test store."""
    limited = f'ulimit -v {ADDRESS_SPACE_KIB} && ulimit -c 0 && exec "$0" "$@"'
    return subprocess.run(
        ["bash", "-c", limited, sys.executable, str(REPO / "predict.py"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **trained_store.env, "PYTHONPATH": str(REPO)},
        timeout=300,
    )


def test_cli_summary_from_a_text_pdf_or_word_file(trained_store, tmp_path):
    """``--summary FILE`` reads a draft the way the page does: the same probabilities from
    the same draft as text, PDF or Word, equal to scoring its text directly."""
    expected = [
        r["p_overturned"]
        for r in score_rows(trained_store.loaded, draft_rows(DRAFT_TEXT, list(SERVICES[:2])))
    ]
    for name, data in draft_files().items():
        path = tmp_path / name
        path.write_bytes(data)
        args = ["--summary", str(path), "--service", SERVICES[0], "--service", SERVICES[1]]
        run = _cli(trained_store, [*args, "--json"])
        assert run.returncode == 0, run.stderr
        got = [item["p_overturned"] for item in json.loads(run.stdout)["items"]]
        assert got == expected, name


def test_cli_summary_from_a_letter_uses_its_summary(trained_store, tmp_path):
    path = tmp_path / "letter.pdf"
    path.write_bytes(text_pdf(letter(summary=OWN_SUMMARY).splitlines()))
    run = _cli(trained_store, ["--summary", str(path), "--service", SERVICES[0], "--json"])
    assert run.returncode == 0, run.stderr
    assert "is an IMR letter" in run.stderr and f"predict.py {path}" in run.stderr
    expected = score_rows(trained_store.loaded, draft_rows(OWN_SUMMARY, [SERVICES[0]]))
    got = json.loads(run.stdout)["items"]
    assert [i["p_overturned"] for i in got] == [e["p_overturned"] for e in expected]


def test_cli_summary_that_cannot_be_read_says_why(trained_store, tmp_path):
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(flate_bomb_pdf(gib=4))
    docx = tmp_path / "bomb.docx"
    docx.write_bytes(bomb_docx())
    for path, message in (
        (bomb, "more memory or time to read than any letter"),
        (docx, "unpacks to 4,095 MiB"),
        ("/dev/zero", "more than 50,000 characters"),  # a device is read within the limit
        (tmp_path / "missing.txt", "no such file"),
    ):
        run = _cli(trained_store, ["--summary", str(path), "--service", SERVICES[0]])
        assert run.returncode == 2, (path, run.stderr)
        assert f"--summary {path}: " in run.stderr and message in run.stderr, run.stderr
        assert "Traceback" not in run.stderr
