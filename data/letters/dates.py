"""Parsing of the date formats IMR letters use: ``11/03/2016``, ``10-13-16``, ``July 17, 2012``."""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

NUMERIC_DATE = r"\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d{2})"
WORDED_DATE = (
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}"
)
DATE_PATTERN = rf"(?:{NUMERIC_DATE}|{WORDED_DATE})"
_NUMERIC_RE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4}|\d{2})$")
_WORDED_RE = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")

#: Two-digit years at or below this are 20xx; above are 19xx (injuries go back decades).
_TWO_DIGIT_PIVOT = 50


def parse_date(text: str) -> dt.date | None:
    """Parse one US-style date; ``None`` when it is not a valid calendar date."""
    text = text.strip()
    try:
        if m := _NUMERIC_RE.match(text):
            month, day, year = int(m[1]), int(m[2]), int(m[3])
            if len(m[3]) == 2:
                year += 2000 if year <= _TWO_DIGIT_PIVOT else 1900
            return dt.date(year, month, day)
        if m := _WORDED_RE.match(text):
            month = _MONTHS.get(m[1].lower())
            if month is None:
                return None
            return dt.date(int(m[3]), month, int(m[2]))
    except ValueError:
        return None
    return None


def as_date(value) -> dt.date | None:
    """A date from a date, a datetime or pandas Timestamp, an ISO string or a letter's
    wording (``March 3, 2014``); ``None`` for a missing value (None, NaN, NaT, '') or no date."""
    # NaN and NaT are the values not equal to themselves
    if value is None or value != value:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text or text.lower() in ("nan", "nat", "none"):
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return parse_date(text)
