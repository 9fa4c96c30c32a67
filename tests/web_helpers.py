"""Helpers shared by the web page tests: cases to score, reading results out of the HTML."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

from settings import SHARED_LETTERS_DIR

REPO = Path(__file__).resolve().parent.parent
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
_RESULT = re.compile(r'data-service="(?P<service>[^"]*)" data-p-overturned="(?P<p>[^"]*)"')


def real_summary() -> str:
    """A real letter's case summary when ../shared is present, else our own text."""
    if not SEED.is_file():
        return OWN_SUMMARY
    from data.letters.parser import parse_letter
    from data.letters.text import letter_text

    return parse_letter(letter_text(SEED)).case_summary


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
