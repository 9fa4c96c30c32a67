"""Can the extractors read this summary at all? English clinical prose, or not.

A summary in another language, or with no clinical content the extractors recognise,
would score like an empty draft: the criteria all read "not documented". Such a summary
is said so (a warning on every item) instead of getting an estimate that looks like any
other.
"""

from __future__ import annotations

import re
from functools import lru_cache

from features.extractors.text import Finding, _span, lower
from features.fast_regex import _rx

READABLE, EMPTY, NOT_ENGLISH, NO_CLINICAL_CONTENT = (
    "readable",
    "empty",
    "not_english",
    "no_clinical_content",
)

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Function words: English clinical prose is about a third of them; other languages few.
_ENGLISH = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "in",
        "was",
        "with",
        "for",
        "is",
        "has",
        "on",
        "that",
        "he",
        "she",
        "her",
        "his",
        "a",
        "an",
        "at",
        "by",
        "from",
        "as",
        "be",
        "had",
        "were",
        "which",
        "this",
        "have",
        "not",
        "or",
        "are",
        "been",
        "who",
        "also",
        "no",
        "on",
        "to",
        "due",
        "after",
        "per",
    ]
)
_SPANISH = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "de",
        "del",
        "y",
        "en",
        "con",
        "por",
        "para",
        "que",
        "se",
        "su",
        "sus",
        "una",
        "un",
        "es",
        "fue",
        "ha",
        "al",
        "le",
        "lo",
        "como",
        "pero",
        "sin",
        "sobre",
        "desde",
        "paciente",
        "dolor",
        "trabajo",
        "tratamiento",
        "lesión",
        "lesion",
        "espalda",
        "rodilla",
        "hombro",
        "cuello",
        "médico",
        "medico",
        "terapia",
        "física",
        "fisica",
        "años",
        "anos",
    ]
)
_MIN_WORDS = 8
_MIN_ENGLISH_SHARE = 0.08
_CLINICAL = _rx(
    r"\bpain\w*|\binjur\w*|diagnos\w*|\btreat\w*|\bexam\w*|symptom\w*|surg\w*|therap\w*|"
    r"medicat\w*|physician|provider|\bpatient|\bworker|claimant|\bback\b|\bneck\b|shoulder|"
    r"\bknee|\bwrist|\bhand\b|\bhip\b|lumbar|cervical|\bspine|\bmri\b|x-?ray|tenderness|"
    r"strain|sprain|fracture|radicul\w*|\bmg\b|norco|opioid|nsaid\w*|\bpt\b|chiro\w*|acupunct\w*"
)


@lru_cache(maxsize=4096)
def summary_readability(summary: str | None) -> Finding:
    """``readable``, ``empty``, ``not_english`` or ``no_clinical_content``, with evidence
    (the clinical words found, or the first words of the summary when it is unreadable)."""
    text = summary or ""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return Finding(EMPTY)
    if len(words) >= _MIN_WORDS:
        english = sum(w in _ENGLISH for w in words)
        spanish = sum(w in _SPANISH for w in words)
        if spanish > english or english / len(words) < _MIN_ENGLISH_SHARE:
            head = text.strip()[:60]
            start = text.find(head)
            return Finding(NOT_ENGLISH, (_span(text, start, start + len(head)),))
    hits = [_span(text, m.start(), m.end()) for m in _CLINICAL.finditer(lower(text))]
    if not hits:
        return Finding(NO_CLINICAL_CONTENT)
    return Finding(READABLE, tuple(hits[:3]))
