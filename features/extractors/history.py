"""History beyond therapy: work status, surgery already performed, psychological comorbidity."""

from __future__ import annotations

import re

from features.extractors.text import Finding, _gate, _span, lower, sentence_of, sentences
from features.extractors.voice import _voice
from features.fast_regex import _rx

_WORK_NOT = _rx(
    r"temporar(?:il)?y\s+(?:and\s+)?total(?:ly)?\s+(?:\w+\s+)?disab\w*|(?-i:\bTTD\b)|"
    r"\boff\s+(?:of\s+)?work\b|\bnot\s+(?:currently\s+)?working\b|\bhas\s+not\s+returned\s+to\s+work|"
    r"\bunable\s+to\s+work|\bremains?\s+off\b|\btotally\s+disabled|\bnot\s+returned\s+to\s+work",
)
_WORK_MODIFIED = _rx(
    r"modified\s+(?:work|duty|duties)|(?:work|activity)\s+restrictions|restricted\s+(?:work|duty)|"
    r"light\s+duty|with\s+restrictions|(?:lifting|work)\s+limitations?|desk\s+job",
)
_WORK_RETURNED = _rx(
    r"return(?:ed)?\s+to\s+(?:full|regular|usual)\s+(?:work|duty|duties)|returned\s+to\s+work|"
    r"working\s+full[\s-]time|full\s+duty|regular\s+duty|currently\s+working|\bis\s+working\b|"
    r"\bwas\s+working\b|continues\s+to\s+work",
)
_WORK_HEDGE = _rx(r"whether|not\s+clear|unclear|unknown|not\s+(?:explicitly\s+)?stated")


def work_status(summary: str | None) -> Finding:
    """'not_working' (TTD/off work), 'modified', 'working' or 'unknown'.

    Off-work statements outrank modified duty, which outranks working: summaries list
    several dates and the more restrictive status is the one reviewers weigh.
    """
    text = summary or ""
    low = lower(text)
    for label, rx, keys in (
        ("not_working", _WORK_NOT, ("disab", "ttd", "off", "not working", "unable", "not ret")),
        ("modified", _WORK_MODIFIED, ("modified", "restrict", "duty", "limitation", "desk")),
        ("working", _WORK_RETURNED, ("return", "full", "regular", "working", "to work")),
    ):
        if not _gate(low, 0, len(low), keys):
            continue
        spans = []
        for m in rx.finditer(low):
            if label == "working" and _WORK_HEDGE.search(low, *sentence_of(text, m.start())):
                continue
            spans.append(_span(text, m.start(), m.end()))
        if label == "working":  # "return to work with restrictions" is modified duty
            spans = [sp for sp in spans if "restrict" not in low[sp[1] : sp[1] + 25]]
        if spans:
            return Finding(label, tuple(spans))
    return Finding("unknown")


_SURGERY_WORDS = (
    r"surger(?:y|ies)|surgical\s+(?:repair|intervention|procedure|release)|arthroscop\w*|"
    r"repair|fusion|laminectomy|laminotomy|discectomy|microdiscectomy|decompression|ORIF|"
    r"open\s+reduction|arthroplasty|replacement|release|reconstruction|resection|fixation|"
    r"pinning|closed\s+reduction|laparotomy|[a-z]+(?:ectomy|otomy|oplasty)"
)
_SURGERY_RE = _rx(
    rf"\bstatus[\s-]+post\b|\bs/p\b|\bpost[\s-]?op(?:erative(?:ly)?)?\b(?!\s+(?:physical|therapy|"
    rf"PT|brace|sling|percocet|zofran|medication|DME))|"
    rf"\bunderw[e]?nt\b[^.;]{{0,70}}?\b(?:{_SURGERY_WORDS})\b|"
    rf"\b(?:prior|previous|past)\s+(?:\w+\s+){{0,3}}?(?:{_SURGERY_WORDS})\b|"
    rf"\b(?:{_SURGERY_WORDS})\b[^.;]{{0,40}}?\b(?:was|were)\s+(?:performed|done)\b|"
    rf"\b(?:{_SURGERY_WORDS})\s+(?:on|in)\s+(?:\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|"
    rf"\bha(?:s|d|ve)\s+(?:had\s+)?(?:an?\s+)?(?:\w+\s+){{0,3}}?(?:{_SURGERY_WORDS})\b",
)
# Literal substrings one of which every _SURGERY_RE match contains: a cheap sentence gate.
_SURGERY_KEYS = (
    "status", "s/p", "post", "underw", "surg", "ectomy", "otomy", "plasty", "repair", "fusion",
    "orif", "reduction", "release", "reconstruct", "resection", "fixation", "pinning",
    "arthroscop", "replacement", "decompression",
)  # fmt: skip
_SURGERY_NEGATED = _rx(
    r"\b(?:no|not|never|denies|without|non-?operative|avoid\w*)\s+(?:\w+\s+){0,3}$|"
    r"noncontributory|non-contributory",
)


def surgery_history(summary: str | None) -> Finding:
    """True when the summary reports a surgery already performed (not requested)."""
    text = summary or ""
    low = lower(text)
    spans = []
    for s, e in sentences(text):
        if not _gate(low, s, e, _SURGERY_KEYS):
            continue
        request, _plan, _past = _voice(text, s, e)
        for m in _SURGERY_RE.finditer(low, s, e):
            before = low[max(s, m.start() - 40) : m.start()]
            if _SURGERY_NEGATED.search(before) or _SURGERY_NEGATED.search(m[0]):
                continue
            if request and not re.match(r"(?:status|s/p|underw)", m[0]):
                continue
            spans.append(_span(text, m.start(), m.end()))
    return Finding(bool(spans), tuple(spans))


_PSYCH_RE = _rx(
    r"depress\w*|anxiety|anxious|(?-i:\bPTSD\b)|post-?\s?traumatic\s+stress|adjustment\s+disorder|"
    r"psychiatr\w*|psycholog\w*|mood\s+disorder|bipolar|panic\s+(?:attacks?|disorder)|"
    r"suicid\w*|emotional\s+(?:stress|distress)|(?:psychological|mental)\s+stress|\bstress\b(?!\s+"
    r"(?:fracture|test\w*|reaction|x-?ray|view))",
)
_PSYCH_NEGATED = _rx(r"\b(?:no|denie[sd]|deny|without|negative\s+for)\s+(?:\w+\s+){0,3}$")


def psych_comorbidity(summary: str | None) -> Finding:
    """True when the summary mentions a psychological condition or psych care."""
    text = summary or ""
    low = lower(text)
    spans = [
        _span(text, m.start(), m.end())
        for m in _PSYCH_RE.finditer(low)
        if not _PSYCH_NEGATED.search(low[max(0, m.start() - 40) : m.start()])
    ]
    return Finding(bool(spans), tuple(spans))
