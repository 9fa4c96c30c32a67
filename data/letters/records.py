"""The one row builder: a parsed letter (or draft) to one record per item.

Ingestion (:mod:`data.ingest`) stores these records, adding the file's identity columns;
prediction on letter files (:func:`data.drafts.rows.letter_rows`) keeps their pre-filing
columns. Both parse files through :func:`file_records` (in the workers of
:mod:`data.letters.pool`), so a letter and its draft give the same pre-filing values by
construction.
"""

from __future__ import annotations

import datetime as dt

from data.letters.parser import ParsedLetter, parse_letter
from data.letters.text import bytes_to_text

#: Columns of a record that describe the letter rather than one item.
LETTER_FIELDS = (
    "layout",
    "synthetic",
    "case_number",
    "date_assigned",
    "decision_date",
    "priority",
    "injury_date",
    "ur_denial_date",
    "application_received_date",
    "age",
    "sex",
    "case_summary",
    "reviewer_licensure",
    "reviewer_specialty",
)


def _plain(value):
    """Dates as ISO strings: records travel as JSON between processes and into parquet."""
    return value.isoformat() if isinstance(value, dt.date) else value


def letter_records(letter: ParsedLetter) -> list[dict]:
    """One record per item: the letter's fields (:data:`LETTER_FIELDS`) and the item's."""
    shared = {name: _plain(getattr(letter, name)) for name in LETTER_FIELDS}
    # vars(), not asdict(): asdict deep-copies every field, a third of the parse time
    return [{**shared, **vars(item)} for item in letter.items]


def file_records(data: bytes, suffix: str, *, allow_draft: bool = False) -> list[dict]:
    """Records of a letter file's bytes (``suffix``: the file name's, e.g. ``.pdf``);
    raises :class:`data.letters.errors.LetterError` with the reason when it cannot be parsed."""
    return letter_records(parse_letter(bytes_to_text(data, suffix), allow_draft=allow_draft))
