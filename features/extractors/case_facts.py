"""Case facts: chronicity (days since injury) and the number of diagnoses."""

from __future__ import annotations

from typing import Any

from data.letters.dates import as_date
from features.extractors.text import Finding, _span, lower, sentences
from features.fast_regex import _rx


def chronicity_days(injury_date: Any, reference_date: Any) -> Finding:
    """Days from injury to the UR denial (or the next available pre-filing date)."""
    a, b = as_date(injury_date), as_date(reference_date)
    if a is None or b is None:
        return Finding(None)
    days = (b - a).days
    return Finding(days if days >= 0 else None, (), f"{a.isoformat()} -> {b.isoformat()}")


_DIAGNOSIS_LEAD = _rx(
    r"diagnos(?:es|is|ed)\b[^.]{0,70}?(?:\binclude[sd]?\b|\bincluding\b|\bas\s+having\b|"
    r"\bwith\b|\bare\b|\bis\b|\bwere\b|\bwas\b|\bof\b|:)\s*|"
    r"(?:undergoing\s+treatment|being\s+treated|treated)\s+for\s+|"
    r"filed\s+a\s+claim\s+for\s+",
)
_DIAGNOSIS_SPLIT = _rx(r"\s*(?:;|,\s*(?:and\s+)?|\band\b|\bas\s+well\s+as\b)\s*")
_DIAGNOSIS_END = _rx(r"\b(?:reportedly|associated|secondary\s+to|due\s+to|after)\b")


def diagnosis_count(summary: str | None) -> Finding:
    """Number of diagnoses in the first 'diagnoses include X, Y and Z' style list."""
    text = summary or ""
    low = lower(text)
    for s, e in sentences(text):
        m = _DIAGNOSIS_LEAD.search(low, s, e)
        if not m:
            continue
        end = e
        if stop := _DIAGNOSIS_END.search(low, m.end(), e):
            end = stop.start()
        listing = text[m.end() : end].rstrip(" .")
        parts = [p for p in _DIAGNOSIS_SPLIT.split(listing) if len(p.strip()) > 2]
        if parts:
            return Finding(len(parts), (_span(text, m.start(), end),))
    return Finding(None)
