"""A draft from any file: a letter's fields, or else the file's text as the case summary.

Runs inside a parsing worker (:mod:`data.letters.worker`, task ``draft``). Offices keep
drafts as plain text, Word or PDF files; the web page's upload and ``predict.py --summary
FILE`` read them here:

- a file in the letter layout (a published letter, or a draft of one) is parsed as a
  letter, and its pre-filing fields fill the form (its decisions are never read);
- a file with only the ``CLINICAL CASE SUMMARY`` heading gives the text below it;
- any other text is the case summary, tidied (line ends, control characters, runs of
  blank lines) and held to the same limit as a letter's summary
  (:data:`settings.MAX_SUMMARY_CHARS`, kind ``summary_too_long``).

A file in another letter layout (an older MAXIMUS letter) is refused as the parser
refuses it: its text holds the decisions, which must never become a summary.
"""

from __future__ import annotations

import re

from data.letters.errors import LetterError
from data.letters.parser import letter_headings, normalise_lines, parse_letter
from data.letters.records import letter_records
from data.letters.text import bytes_to_text
from settings import MAX_SUMMARY_CHARS

SUMMARY_HEADING = "CLINICAL CASE SUMMARY"
#: C0 control characters but tab and line feed, and DEL: never part of a summary.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
_HEADING_LINE = re.compile(rf"^[ \t]*{SUMMARY_HEADING}[^\n]*\n?", re.IGNORECASE | re.MULTILINE)


def summary_too_long(chars: int) -> LetterError:
    """The error for a case summary over the one limit of the page, the CLI and ingestion."""
    return LetterError(
        f"the case summary is {chars:,} characters long; the limit is {MAX_SUMMARY_CHARS:,} "
        "(the longest of the real letters' summaries is under 5,000). Keep the clinical "
        "case summary only: the history, treatment to date, examination findings and "
        "the request",
        kind="summary_too_long",
    )


def tidy(text: str) -> str:
    """Text as a case summary: line feeds only, no control characters (a form feed is a
    line break), at most one blank line in a row, no space at either end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _CONTROL.sub("", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def summary_of(text: str) -> str:
    """The case summary a non-letter file's text gives, or :class:`LetterError`."""
    if (m := _HEADING_LINE.search(text)) is not None:
        text = text[m.end() :]
    summary = tidy(text)
    if len(summary) > MAX_SUMMARY_CHARS:
        raise summary_too_long(len(summary))
    if not re.search(r"[A-Za-z]{2,}", summary):
        raise LetterError(
            "the file holds no words to use as a case summary (a scan without a text layer "
            "reads as empty: save it with its text, or type the summary)",
            kind="empty",
        )
    return summary


def draft_reply(data: bytes, suffix: str) -> dict:
    """The worker's reply for a draft file: ``{"status": "parsed", "records": [...]}`` for
    a letter or a draft in the letter layout, ``{"status": "text", "text": summary}`` for
    any other text; :class:`LetterError` when it can be neither."""
    text = bytes_to_text(data, suffix)
    headings = letter_headings(normalise_lines(text))
    if headings and headings != [SUMMARY_HEADING]:
        return {"status": "parsed", "records": letter_records(parse_letter(text, allow_draft=True))}
    return {"status": "text", "text": summary_of(text)}
