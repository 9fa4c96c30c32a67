"""Drafts and copies read as their letter, wherever pages break (issue 16, item 6).

A page break is a form feed (``pdftotext`` starts every page with one), often with blank
lines around it. It may fall anywhere in a draft, also between a service statement and
its ``Claims Administrator guideline:``, and it may fall anywhere in a letter's text
copy: neither may change what is read. Tested on every real letter.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from data.drafts.rows import letters_rows
from data.ingest import ingest
from data.letters.parser import normalise_lines, parse_letter
from data.letters.records import file_records
from data.letters.text import letter_text
from settings import PRE_FILING_COLUMNS, SHARED_LETTERS_DIR
from tests.helpers.letters import letter, letter_as_draft

#: Ways a page break is written between two lines of a draft, each put between *every*
#: two lines of it: whatever line a page ends on, it reads the same.
PAGE_BREAKS = {
    "form feed": "\n\f",
    "blank line": "\n\n",
    "blank lines and form feed": "\n\n\f\n\n",
    "CRLF and form feed": "\r\n\r\n\f",
    "form feed and indentation": "\n\f    ",
}
_ITEM_FIELDS = ("item_index", "item_text", "service")


def _real_letters() -> list[Path]:
    if not SHARED_LETTERS_DIR.is_dir():
        pytest.skip(f"real letters not present at {SHARED_LETTERS_DIR}")
    return sorted(p for p in SHARED_LETTERS_DIR.rglob("*") if p.suffix in (".pdf", ".txt"))


def _with_breaks(text: str, page_break: str) -> str:
    return page_break.join(text.split("\n"))


def _pre_filing(records: list[dict]) -> list[dict]:
    return [{c: r[c] for c in (*_ITEM_FIELDS, *PRE_FILING_COLUMNS)} for r in records]


@pytest.fixture(scope="module")
def letters_as_drafts() -> list[tuple[Path, list[dict], str]]:
    """(letter file, its records, its draft text) for every real letter."""
    out = []
    for path in _real_letters():
        records = file_records(path.read_bytes(), path.suffix)
        draft = letter_as_draft(letter_text(path), [r["item_text"] for r in records])
        out.append((path, records, draft))
    return out


def test_page_break_between_a_statement_and_its_guideline_keeps_one_item():
    """The reproduction: the guideline's lines were read as services (7 items, not 1)."""
    text = letter(items=(("Physical therapy 2 times a week for 4 weeks", "Upheld"),))
    real = parse_letter(text)
    draft = letter_as_draft(text, [item.item_text for item in real.items])
    label = "Claims Administrator guideline:"
    paged = draft.replace(f"\n{label}", f"\n\n\f{label}")
    assert paged != draft
    items = parse_letter(paged, allow_draft=True).items
    assert [(i.service, i.claims_admin_guideline) for i in items] == [
        (real.items[0].service, real.items[0].claims_admin_guideline)
    ]


@pytest.mark.parametrize("name", list(PAGE_BREAKS))
def test_every_real_letter_as_a_draft_with_page_breaks_reads_as_the_letter(letters_as_drafts, name):
    differ = []
    for path, records, draft in letters_as_drafts:
        paged = _with_breaks(draft, PAGE_BREAKS[name])
        got = file_records(paged.encode(), ".txt", allow_draft=True)
        if _pre_filing(got) != _pre_filing(records):
            differ.append((path.name, len(records), len(got)))
    assert differ == [], f"{len(differ)} of {len(letters_as_drafts)} letters read differently"


def test_drafts_with_page_breaks_give_the_letters_prediction_rows(letters_as_drafts, tmp_path):
    """Through predict.py's reader (files, workers, the row builder): the same rows."""
    expected = []
    for path, records, draft in letters_as_drafts:
        name = f"{path.stem}.draft.txt"
        (tmp_path / name).write_text(_with_breaks(draft, "\n\n\f"), encoding="utf-8")
        expected += [
            {"source_file": name, "item_index": r["item_index"]}
            | {c: r[c] for c in PRE_FILING_COLUMNS}
            for r in records
        ]
    rows, unscorable = letters_rows([tmp_path])
    assert unscorable == []
    key = lambda row: (row["source_file"], row["item_index"])  # noqa: E731
    assert sorted(rows, key=key) == sorted(expected, key=key)


def test_line_breaks_of_every_kind_and_indentation_are_only_layout():
    assert normalise_lines("a:\n\fClaims\r\nb\rc\vd\u2028e\x85f\n   \n\t g  \n") == [
        "a:",
        "Claims",
        "b",
        "c",
        "d",
        "e",
        "f",
        "g",
    ]


def _ingest_twins(tmp_path: Path, copies: dict[str, str]) -> dict:
    """Ingest the real PDF letters and ``copies`` (name -> text) in one run: the report."""
    folder = tmp_path / "in"
    folder.mkdir()
    for path in _real_letters():
        if path.suffix == ".pdf":
            os.symlink(path, folder / path.name)
    for name, text in copies.items():
        (folder / name).write_text(text, encoding="utf-8")
    return ingest([folder], tmp_path / "out", workers=2).report


def _assert_copies_are_duplicates(report: dict, copies: dict[str, str]) -> None:
    by_name = {Path(entry["path"]).name: entry for entry in report["files"]}
    statuses = {name: by_name[name]["status"] for name in copies}
    assert set(statuses.values()) == {"duplicate"}, {
        n: s for n, s in statuses.items() if s != "duplicate"
    }
    assert report["summary"]["conflicts"] == 0
    pdfs = [e for e in report["files"] if e["path"].endswith(".pdf")]
    assert report["summary"]["parsed"] == len(pdfs)


def _pages(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path.read_bytes())
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def test_a_text_copy_paged_with_form_feeds_is_a_duplicate_of_its_pdf(tmp_path):
    """The copy as pdftotext pages it (a form feed before each page's first line), made in
    Python so that it runs everywhere."""
    copies = {
        # PDFium marks a hyphen at a line end as U+FFFE or U+0002, as data.letters.text reads
        f"{path.stem}.txt": re.sub("[\ufffe\x02]", "-", "\n\f".join(_pages(path)))
        for path in _real_letters()
        if path.suffix == ".pdf"
    }
    _assert_copies_are_duplicates(_ingest_twins(tmp_path, copies), copies)


def test_a_pdftotext_copy_is_a_duplicate_of_its_pdf(tmp_path):
    """The copy as a user makes it: ``pdftotext letter.pdf`` (poppler-utils)."""
    if shutil.which("pdftotext") is None:
        if os.environ.get("IMR_REQUIRE_PDFTOTEXT"):  # set by .ci/run: CI must run this test
            pytest.fail("pdftotext is not installed (apt-get install poppler-utils)")
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    copies = {}
    for path in _real_letters():
        if path.suffix == ".pdf":
            run = subprocess.run(
                ["pdftotext", "-enc", "UTF-8", str(path), "-"],
                capture_output=True,
                check=True,
                timeout=60,
            )
            copies[f"{path.stem}.pdftotext.txt"] = run.stdout.decode("utf-8")
    assert sum("\f" in text for text in copies.values()) == len(copies)
    _assert_copies_are_duplicates(_ingest_twins(tmp_path, copies), copies)
