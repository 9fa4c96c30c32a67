"""Medications: classes in use per the summary, and the class of a medication request."""

from __future__ import annotations

import re

from features.extractors.text import (
    Finding,
    Span,
    _find,
    _labelled,
    _span,
    _words_to_alt,
    lower,
    sentence_of,
)
from features.extractors.voice import _CLOSE_PAST_BEFORE, _voice
from features.fast_regex import _rx
from features.lexicon import MEDICATION_CLASSES, MEDICATION_NAMES, OTHER_MEDICATION_NAMES

#: Every named drug, one alternation (longest names first).
_DRUGS = _words_to_alt(" ".join(MEDICATION_NAMES.values()) + " " + OTHER_MEDICATION_NAMES)

# Topical first: "ketoprofen cream" is a topical, "ketoprofen" an NSAID.
_MED_ORDER = ("topical", *(c for c in MEDICATION_CLASSES if c != "topical"))
_MED_ALL = _labelled(
    {c: rf"\b(?:{_words_to_alt(MEDICATION_NAMES[c])})\b" for c in _MED_ORDER},
    {c: frozenset(n.split("_")[0] for n in MEDICATION_NAMES[c].split()) for c in _MED_ORDER},
)
_MED_NEGATED = _rx(r"\b(?:not|no|never|den(?:y|ies|ied)|stop(?:ped)?|without)\s+(?:\w+\s+){0,4}$")


def medication_classes(summary: str | None) -> dict[str, Finding]:
    """Medication classes the summary says are (or were) in use.

    Mentions inside request/UR sentences are skipped (they are what is being asked for),
    as are negated ones ("did not want the opiates").
    """
    text = summary or ""
    low = lower(text)
    found: dict[str, list[Span]] = {c: [] for c in MEDICATION_CLASSES}
    for cls, m in _find(_MED_ALL, low):
        s, e = sentence_of(text, m.start())
        before = low[max(s, m.start() - 50) : m.start()]
        if _MED_NEGATED.search(before):
            continue
        if _voice(text, s, e)[0] and not _CLOSE_PAST_BEFORE.search(before):
            continue
        found[cls].append(_span(text, m.start(), m.end()))
    return {c: Finding(bool(v), tuple(v)) for c, v in found.items()}


SERVICE_MED_CLASSES = (*MEDICATION_CLASSES, "other_medication")
_TOPICAL_FORM = re.compile(r"\bcream\b|\bgel\b|\bointment\b|\bpatch\b|transdermal|topical|%")
_ORAL_FORM = re.compile(r"\b(?:tabs?|tablets?|capsules?|oral)\b")


def service_medication_class(service: str | None, category: str) -> Finding:
    """Medication class of a medication request (``None`` when it is not a medication).

    A compounded topical ("Flurbiprofen 20%, Baclofen 5% ... in cream base") is 'topical'
    whatever its ingredients: topical form is what the guidelines judge.
    """
    if category != "medication":
        return Finding(None)
    text = service or ""
    low = lower(text)
    if (m := _TOPICAL_FORM.search(low)) and not _ORAL_FORM.search(low):
        return Finding("topical", (_span(text, m.start(), m.end()),))
    for cls, m in _find(_MED_ALL, low)[:1]:
        return Finding(cls, (_span(text, m.start(), m.end()),))
    return Finding("other_medication")
