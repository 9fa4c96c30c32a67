"""One letter, one identity: the content key of a letter and the case it belongs to.

The bytes of a file do not identify a letter: the same letter arrives as the published
PDF, as text extracted from it, or with bytes appended (a trailing PDF comment). The
**content key** is the SHA-256 of what the letter says: its case number, its decision date,
and the text of its summary and of every item (statement, decision, guidelines, rationale),
normalised so that extraction artefacts do not count (case, whitespace, line wrapping,
hyphenation at line ends, punctuation and accents; only the letters and digits remain).
Header layout and page furniture do not enter it, and the parser reads the same items
wherever pages break (``pdftotext`` starts each page with a form feed): a letter's
``pdftotext`` copy is a duplicate of its PDF (``tests/data/letters/test_page_breaks.py``).

- same content key: the same letter, a ``duplicate``;
- same case number, different key: a ``conflict`` (both kept and reported);
- the **case group** (``case_group`` column) is the case number when the letter has one,
  else its ``letter_id``: twins and conflicting versions of one case share a group, so
  grouped cross-validation can never put them in two folds.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping

_ITEM_FIELDS = (
    "item_text",
    "decision",
    "claims_admin_guideline",
    "imr_guideline",
    "decision_rationale",
)
#: Every byte but the ASCII digits and lower-case letters.
_NOT_ALNUM = bytes(b for b in range(256) if not (48 <= b <= 57 or 97 <= b <= 122))


def normalised(text: object) -> str:
    """Only the ASCII letters and digits of ``text``, lower case, accents dropped."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text)).casefold()
    return decomposed.encode("ascii", "ignore").translate(None, _NOT_ALNUM).decode()


def content_key(records: Iterable[Mapping]) -> str:
    """The content key of a letter from its item records (in item order)."""
    records = list(records)
    first = records[0] if records else {}
    parts = [
        str(first.get("case_number") or ""),
        str(first.get("decision_date") or ""),
        normalised(first.get("case_summary")),
    ]
    for record in records:
        parts.extend(normalised(record.get(name)) for name in _ITEM_FIELDS)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def case_group(case_number: str | None, letter_id: str) -> str:
    """The grouping key for cross-validation: the case number, else the letter's id."""
    return case_number or letter_id
