"""Helpers shared by the web page tests: cases to score, reading results out of the HTML."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from settings import SHARED_LETTERS_DIR

REPO = Path(__file__).resolve().parents[2]
SEED = SHARED_LETTERS_DIR / "seeds" / "000_798fc0107c2fb4af.txt"
#: Our own words, used when the real letters are absent.
OWN_SUMMARY = (
    "The injured worker is a 52 year old male with chronic low back pain radiating to the "
    "left leg after lifting a box at work. Treatment to date has included medications and "
    "chiropractic care. Examination shows decreased range of motion and a positive straight "
    "leg raise on the left."
)
SERVICES = (
    "MRI of the lumbar spine",
    "Physical therapy 2 times a week for 3 weeks for the lumbar spine",
    "Tramadol 50mg #60",
)
#: A draft as offices keep them: a few paragraphs of our own words, no letter headings.
DRAFT_PARAGRAPHS = [
    "Re: Independent Medical Review request, lumbar spine",
    "The injured worker is a 47 year old warehouse clerk with chronic low back pain "
    "radiating to the right leg since a lifting injury.",
    "Treatment to date has included 12 sessions of physical therapy and medications, "
    "without lasting relief. Examination shows a positive straight leg raise on the right.",
]
DRAFT_TEXT = "\n".join(DRAFT_PARAGRAPHS)
_RESULT = re.compile(r'data-service="(?P<service>[^"]*)" data-p-overturned="(?P<p>[^"]*)"')


def real_summary() -> str:
    """A real letter's case summary when ../shared is present, else our own text."""
    if not SEED.is_file():
        return OWN_SUMMARY
    from data.letters.parser import parse_letter
    from data.letters.text import letter_text

    return parse_letter(letter_text(SEED)).case_summary


def draft_files() -> dict[str, bytes]:
    """The same draft (:data:`DRAFT_PARAGRAPHS`) as plain text, as a PDF and as Word."""
    from tests.helpers.docx_maker import text_docx
    from tests.helpers.pdf_maker import text_pdf

    return {
        "draft.txt": DRAFT_TEXT.encode(),
        "draft.pdf": text_pdf(DRAFT_PARAGRAPHS),
        "draft.docx": text_docx(DRAFT_PARAGRAPHS),
    }


def results(page: str) -> list[tuple[str, float]]:
    """(service, P(Overturned)) of every result on a page, in page order."""
    return [(html.unescape(m["service"]), float(m["p"])) for m in _RESULT.finditer(page)]


def cli(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    """Run predict.py as a user would, against the test's tracking store."""
    return subprocess.run(
        [sys.executable, str(REPO / "predict.py"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        **kw,
    )


#: The acceptance checks' ``ulimit -v 4000000`` (KiB): the served page runs under it in the
#: tests that send it hostile input, as issue 16's reproduction did.
SERVER_ADDRESS_SPACE_KIB = 4_000_000


def start_server(env: dict[str, str], folder: Path) -> tuple[str, subprocess.Popen, Path]:
    """``predict.py serve --port 0`` under ``ulimit -v`` (:data:`SERVER_ADDRESS_SPACE_KIB`)
    and no core files, its stderr in ``folder/stderr.txt``: (URL, process, log). The limits
    are set by a shell rather than a ``preexec_fn``, unsafe in a test runner with threads."""
    log = folder / "stderr.txt"
    limited = f'ulimit -v {SERVER_ADDRESS_SPACE_KIB} && ulimit -c 0 && exec "$0" "$@"'
    serve = [sys.executable, str(REPO / "predict.py"), "serve", "--port", "0"]
    with open(log, "w") as err:
        proc = subprocess.Popen(
            ["bash", "-c", limited, *serve],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, **env},
            cwd=folder,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if found := re.search(r"at (http://127\.0\.0\.1:\d+/)", log.read_text()):
            return found[1], proc, log
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server started by :func:`start_server` (it must still be running)."""
    proc.terminate()
    proc.wait(timeout=30)


def process_status(pid: int) -> dict[str, str]:
    """``/proc/PID/status`` as a mapping (``Threads``, ``VmHWM`` ...)."""
    text = Path(f"/proc/{pid}/status").read_text()
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
