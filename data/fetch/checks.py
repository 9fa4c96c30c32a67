"""Checks on a downloaded letter before it may land among the good letters.

A download must be a complete PDF, parse with the project's own parser (the very code that
ingestion runs, :func:`data.ingest.process_file`), name the case the search table says it
belongs to, and carry the decisions the table lists for that case. Anything else is set
aside and reported with a ``kind`` and a ``reason``, as the ingest report does.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from data.ingest import process_file
from data.letters.text import PDF_MAGIC

#: A PDF ends with %%EOF (after incremental updates too); a download without it was cut off.
PDF_EOF = b"%%EOF"
_EOF_WINDOW = 1024
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass
class LetterCheck:
    """The verdict on one download."""

    ok: bool
    kind: str | None = None
    reason: str | None = None
    #: the case number and item decisions the parsed letter states (None: it did not parse)
    letter_case_number: str | None = None
    letter_decisions: list[str] | None = None


def _not_a_pdf_reason(data: bytes) -> str:
    head = data.lstrip()[:512].lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head:
        title = _TITLE.search(data[:4096])
        name = title[1].decode("utf-8", "replace").strip() if title else ""
        named = f" titled {name[:80]!r}" if name else ""
        return (
            f"the site sent an HTML page{named} instead of a PDF (an error or notice page); "
            "it is set aside, try again later with --retry-rejected"
        )
    return f"not a PDF (starts with {data[:8]!r}); it is set aside"


def decision_counts(decisions: list[str | None]) -> Counter:
    return Counter(d if d is not None else "unrecognised" for d in decisions)


def _describe(counts: Counter) -> str:
    return ", ".join(f"{n} {label}" for label, n in sorted(counts.items())) or "none"


def agreeing_treatments(site: list[str | None], letter: list[str]) -> int:
    """How many of the site's treatments a letter item with the same decision accounts for
    (treatments and items are matched by decision, not by position or wording)."""
    letter_counts = Counter(letter)
    return sum(
        min(n, letter_counts[label]) for label, n in Counter(site).items() if label is not None
    )


def check_letter(
    data: bytes, case_number: str, site_decisions: list[str | None], *, complete_table: bool
) -> LetterCheck:
    """Judge one download of ``case_number``'s letter against the search table.

    ``site_decisions`` are the table's normalised decisions for the case. With
    ``complete_table`` (no treatment filter in the search) they must match the letter's
    item decisions exactly (as a multiset); otherwise the table lists only the matching
    treatments and they must be among the letter's.
    """
    if data.lstrip()[:5] != PDF_MAGIC:
        return LetterCheck(False, "not_pdf", _not_a_pdf_reason(data))
    if PDF_EOF not in data[-_EOF_WINDOW:]:
        return LetterCheck(
            False,
            "truncated_pdf",
            f"PDF cut off after {len(data)} bytes (no %%EOF at its end); it is set aside, "
            "try again later with --retry-rejected",
        )
    outcome = process_file(Path(f"{case_number}.pdf"), data)
    if outcome.status != "parsed":
        return LetterCheck(False, outcome.kind, outcome.reason)
    letter_case = outcome.records[0]["case_number"]
    letter_decisions = [record["decision"] for record in outcome.records]
    parsed = {"letter_case_number": letter_case, "letter_decisions": letter_decisions}
    if letter_case != case_number:
        return LetterCheck(
            False,
            "case_mismatch",
            f"the letter is for case {letter_case}, the search table links it to {case_number}",
            **parsed,
        )
    site = decision_counts(site_decisions)
    letter = Counter(letter_decisions)
    agrees = site == letter if complete_table else not (site - letter)
    if not agrees:
        relation = "" if complete_table else " (the search was filtered, so at least these)"
        return LetterCheck(
            False,
            "decision_mismatch",
            f"the search table lists {_describe(site)}{relation}; the letter decides "
            f"{_describe(letter)}",
            **parsed,
        )
    return LetterCheck(True, **parsed)
