"""A surgery the summary speaks of: certified, scheduled, requested, recently done, denied.

The items of a draft that belong to a surgery (pre-operative tests, post-operative
medication, equipment, therapy, an inpatient stay) are peri-operative when that surgery is
requested in the same draft or stated in the summary as requested, scheduled or authorized,
or was done recently. :func:`surgery_mentions` reads the summary for the last three;
:mod:`features.services` links the items.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import NamedTuple

from data.letters.dates import DATE_PATTERN, as_date, parse_date
from features.extractors.history import _SURGERY_WORDS
from features.extractors.regions import body_regions_in
from features.extractors.text import Span, _span, lower, sentences
from features.fast_regex import _rx

CERTIFIED, SCHEDULED, REQUESTED, RECENT, PERFORMED, DENIED = (
    "certified",
    "scheduled",
    "requested",
    "recent",
    "performed",
    "denied",
)
#: Statuses that link a summary's surgery to the draft's items.
LINKING = (CERTIFIED, SCHEDULED, REQUESTED, RECENT)

_SURGERY = _rx(
    rf"\b(?:{_SURGERY_WORDS})\b|\bsurgical\s+(?:intervention|procedure|treatment|repair)|"
    r"\boperation\b|\bprocedure\s+(?:is|was)\s+scheduled"
)
_DENIED = _rx(
    r"non-?certif\w*|\bdenied\b|\bdenial\b|\bnot\s+(?:been\s+)?(?:certified|authori[sz]ed|approved|"
    r"medically\s+necessary|supported|indicated|recommended)|\bmodified\b"
)
_CERTIFIED = _rx(r"(?<!non-)(?<!non)\bcertified\b|\bauthori[sz]ed\b|\bapproved\b")
_SCHEDULED = _rx(
    r"\bscheduled\b|\bpending\b|\bawait\w*|\bupcoming\b|\bwill\s+(?:undergo|have)\b|"
    r"\bdate\s+of\s+surgery\b|\bsurgery\s+date\b|\bset\s+for\b|\bbooked\b"
)
_REQUESTED = _rx(
    r"\brequest\w*|\brecommend\w*|\bplan(?:s|ned)?\b|\bpropos\w*|\bcandidate\s+for\b|"
    r"\breferred\s+for\b|\bRFA\b|\bconsider\w*|\bwishes\s+to\s+(?:proceed|undergo|have)|"
    r"\bproceed\s+with\b|\bindicated\b"
)
_PERFORMED = _rx(
    r"\bunderw[e]?nt\b|\bundergone\b|\bstatus\s+post\b|\bs/p\b|\bhad\s+(?:a|an|the|his|her)?\b|"
    r"\bperformed\b|\bwas\s+done\b|\bhistory\s+of\b|\bprevious\w*\b|\bprior\b|\bpost-?\s?op\w*|"
    r"\bincluded\b|\bsince\s+(?:the\s+)?surgery\b|\bafter\s+(?:the\s+)?surgery\b|\bon\s+\d"
)
_NEGATED = _rx(
    r"\b(?:no|not|never|denies|without|non-?operative|avoid\w*|nor)\s+(?:\w+\s+){0,4}$|"
    r"\bno\s+(?:relevant\s+)?surg\w*\s+history"
)
_NOT_A_CANDIDATE = _rx(r"\bnot\s+(?:a\s+)?(?:surgical\s+)?candidate|\bno\s+plans?\s+for\b")
_DATE = _rx(DATE_PATTERN)
_MONTH_YEAR = _rx(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:of\s+)?((?:19|20)\d\d)\b"
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _dates_in(text: str, start: int, end: int) -> list[dt.date]:
    """Full dates, and "February 2016" (as the 15th), in text[start:end]."""
    out = [d for m in _DATE.finditer(text, start, end) if (d := parse_date(m.group(0)))]
    for m in _MONTH_YEAR.finditer(lower(text), start, end):
        month = _MONTHS.index(m.group(1)[:3]) + 1
        out.append(dt.date(int(m.group(2)), month, 15))
    return out


class SurgeryMention(NamedTuple):
    """One surgery the summary speaks of, what it says of it, and where."""

    status: str
    evidence: tuple[Span, ...]
    regions: frozenset[str]
    days_before: int | None  # days from the surgery's date to the reference date


def _status(low: str, s: int, e: int) -> str | None:
    if _NOT_A_CANDIDATE.search(low, s, e):
        return None
    if _DENIED.search(low, s, e):
        return DENIED
    if _CERTIFIED.search(low, s, e):
        return CERTIFIED
    if _SCHEDULED.search(low, s, e):
        return SCHEDULED
    if _REQUESTED.search(low, s, e):
        return REQUESTED
    if _PERFORMED.search(low, s, e):
        return PERFORMED
    return None


@lru_cache(maxsize=4096)
def surgery_mentions(
    summary: str | None, reference: str | None = None
) -> tuple[SurgeryMention, ...]:
    """Surgeries the summary speaks of, one per sentence, with their status.

    ``reference`` (an ISO or US date: the UR decision, else the latest date in the
    summary) dates a performed surgery: within :data:`recent_days` of it, it is
    ``recent``. A performed surgery with no date of its own is recent when the injury
    itself is (``injury_days`` of :func:`recent_surgery`).
    """
    text = summary or ""
    low = lower(text)
    dates = _dates_in(text, 0, len(text))
    ref = as_date(reference) or (max(dates) if dates else None)
    out = []
    for s, e in sentences(text):
        hits = [
            m
            for m in _SURGERY.finditer(low, s, e)
            if not _NEGATED.search(low[max(s, m.start() - 40) : m.start()])
        ]
        if not hits:
            continue
        status = _status(low, s, e)
        if status is None:
            continue
        days = None
        if status == PERFORMED and ref is not None:
            when = _dates_in(text, s, e)
            if when:
                days = (ref - max(when)).days
        regions = frozenset(body_regions_in(text[s:e]))
        evidence = tuple(_span(text, m.start(), m.end()) for m in hits[:2])
        out.append(SurgeryMention(status, evidence, regions, days))
    return tuple(out)


def recent_surgery(mention: SurgeryMention, recent_days: int, injury_days: int | None) -> bool:
    """A performed surgery within ``recent_days`` before the reference date (or, undated,
    after an injury itself that recent)."""
    if mention.status != PERFORMED:
        return False
    if mention.days_before is not None:
        return 0 <= mention.days_before <= recent_days
    return injury_days is not None and 0 <= injury_days <= recent_days


__all__ = [
    "CERTIFIED",
    "DENIED",
    "LINKING",
    "PERFORMED",
    "RECENT",
    "REQUESTED",
    "SCHEDULED",
    "SurgeryMention",
    "recent_surgery",
    "surgery_mentions",
]
