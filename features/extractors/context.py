"""What a mention's context says about it: negated, hedged, or not the records' own word.

A small ConText (Harkema, Dowling, Thornblade and Chapman, 2009) over the extractors'
sentences and clauses. A trigger phrase marks the mentions that follow it (forward) or
precede it (backward) in its clause, within a window and up to a terminator ("but", "there
was", a comma before a positive finding), with one of these categories:

===============  ===================================================================
``negated``      "no red flags", "red flags were not noted", "without documented
                 functional improvement", "denies numbness", "lack of"
``hypothetical`` a plan, purpose or condition: "to rule out a tear", "if symptoms persist"
``uncertain``    "possible tear", "Spurling test is questionable", "unclear whether"
``subjective``   the worker's own report: "complained of numbness"
``diagnosis``    a diagnosis label: "being treated for lumbar radiculopathy"
``other_voice``  the whole sentence reports a utilization review's or prior denial's
                 reasons, or argues from guidelines ("denied due to lack of ...")
===============  ===================================================================

The first three are what a clinical negation detector such as medspaCy's ConText also
decides: :func:`assertions` takes any such detector (``negation``), and
``benchmarks/bench_negation.py`` measures medspaCy's against :func:`hand_negation` on the
reviewers' gold. The last three are the voices of an IMR case summary, applied whichever
detector runs.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from functools import lru_cache

from features.extractors.text import clause_of, lower, sentence_of
from features.fast_regex import _rx

NEGATED, HYPOTHETICAL, UNCERTAIN = "negated", "hypothetical", "uncertain"
SUBJECTIVE, DIAGNOSIS, OTHER_VOICE = "subjective", "diagnosis", "other_voice"
#: Modifiers that mean a mention is not asserted as a fact of the records.
NOT_ASSERTED = frozenset({HYPOTHETICAL, UNCERTAIN, OTHER_VOICE})

#: A negation detector: (text, [(start, end), ...]) -> one set of categories per span.
Negation = Callable[[str, Sequence[tuple[int, int]]], list[frozenset[str]]]

_FORWARD_WINDOW = 100  # characters from a forward trigger's end to the mention
_DIAGNOSIS_WINDOW = 300  # a diagnosis list runs long: "diagnoses include A, B, ... and C"
_BACKWARD_WINDOW = 60  # characters from the mention's end to a backward trigger

# (category, direction, pattern): the trigger table. Forward triggers mark what follows.
_RULES: tuple[tuple[str, str, str], ...] = (
    (
        NEGATED,
        "forward",
        r"\bno\b|\bnot\b|n't\b|\bnor\b|\bnever\b|\bnone\b|\bwithout\b|\bdenie[sd]\b|"
        r"\bdeny(?:ing)?\b|\bnegative\s+for\b|\babsen(?:ce|t)\b|\black(?:s|ed|ing)?\b|"
        r"\bfree\s+of\b|\binsufficient\b|\byet\s+to\b|\bunable\s+to\s+(?:elicit|document|demonstrate)\b|"
        r"\bfail(?:s|ed)?\s+to\s+(?:show|reveal|demonstrate|document|provide|indicate)\b",
    ),
    (
        NEGATED,
        "backward",
        r"\b(?:was|were|is|are|has\s+been|have\s+been|had\s+been)\s+(?:not\s+(?:\w+\s+)?"
        r"(?:noted|present|seen|found|appreciated|identified|documented|reported|elicited|"
        r"evident|observed|detected|demonstrated|shown|indicated|established|significant)|"
        r"absent|ruled\s+out|excluded|denied|resolved)\b|"
        r"\bnot\s+(?:noted|present|seen|found|appreciated|identified|documented|elicited|"
        r"evident|observed|detected)\b|:\s*(?:none|no|negative)\b",
    ),
    (
        HYPOTHETICAL,
        "forward",
        r"\brule\s+out\b|\br/o\b|\bto\s+(?:evaluate|assess|exclude|determine|check|look|"
        r"investigate|confirm|identify|avoid|prevent|reduce|restore|improve|increase|decrease|"
        r"facilitate|help|address|allow|achieve|maintain|see)\b|\bevaluat\w*\s+for\b|"
        r"\bassess\w*\s+for\b|\bin\s+order\s+to\b|\bif\b|\bunless\b|\bwhether\b|\bin\s+case\b|"
        r"\bshould\b|\bwould\b|\bcould\b|\bwill\b|\bgoals?\b|\bexpected\b|\banticipated\b|"
        r"\bhop(?:e|es|ed|ing)\b|\bneed(?:s|ed)?\s+(?:to|for)\b",
    ),
    (
        UNCERTAIN,
        "forward",
        r"\bpossibl[ey]\b|\bprobabl[ey]\b|\bsuspect\w*|\bsuspicious\s+for\b|\bquestion(?:able)?\b|"
        r"\bconcern\s+for\b|\bmay\b|\bmight\b|\bpresumed\b|\bequivocal\b|\bunclear\b|"
        r"\buncertain\b|\bversus\b|\bvs\b|\bdifferential\b",
    ),
    (
        UNCERTAIN,
        "backward",
        r"\b(?:was|were|is|are)\s+(?:\w+\s+)?(?:questionable|equivocal|suspected|possible|"
        r"unclear|uncertain)\b|\bcannot\s+be\s+(?:excluded|ruled\s+out)\b",
    ),
    (
        SUBJECTIVE,
        "forward",
        r"\bcomplain\w*|\bc/o\b|\breported\b|\breporting\b|\breports\s+(?!dated|from|of\b)|"
        r"\bdescrib\w+|\bendors\w+|\bconcerned\s+about\b|\bsubjective\w*|"
        r"\bpresent(?:s|ed)?\s+with\b|\bfeel(?:s|ing)?\b|\bfelt\b",
    ),
    (
        DIAGNOSIS,
        "forward",
        r"\bdiagnos\w*|\bdx\b|\btreated\s+for\b|\btreatment\s+for\b|\bhistory\s+of\b|"
        r"\bimpressions?\b",
    ),
)
# Phrases that look like triggers but are not ("no longer helps" is a finding of its own).
_PSEUDO = _rx(
    r"\bnot\s+only\b|\bno\s+longer\b|\bnot\s+necessarily\b|\bnot\s+just\b|\bwhether\s+or\s+not\b|"
    r"\bif\s+not\b|\bnot\s+(?:\w+\s+)?(?:improv\w*|better|benefit\w*|help\w*)\s+(?:much|significantly)"
)
_TERMINATORS = _rx(
    r"\bbut\b|\bhowever\b|\balthough\b|\bthough\b|\bexcept\b|\baside\s+from\b|\bapart\s+from\b|"
    r"\bwhich\b|\bwhereas\b|\bthere\s+(?:was|were|is|are)\b|"
    r"[,;]\s*(?:and\s+|with\s+)?(?=positive\b|decreased\b|diminished\b|reduced\b)|"
    r"\b(?:and|with)\s+(?:the\s+)?(?:\w+\s+){0,3}?(?:was|were|is|are|had|has)\s+"
    r"(?=positive\b|decreased\b|diminished\b|reduced\b|weak\w*\b|present\b)"
)
# The sentence reports a utilization review's or prior denial's reasons, or argues from
# the guidelines: its findings are not the records' ("denied due to lack of deficits").
_OTHER_VOICE = _rx(
    r"utilization\s+review|(?-i:\bUR\b)|non-?certif\w*|\bdenial\b|"
    r"\b(?:was|were|been|is|are)\s+(?:\w+\s+)?(?:denied|modified|not\s+certified|"
    r"not\s+authorized)\b|\bdenied\s+(?:the|this|these|both|all|due|because|as|for|based|"
    r"secondary|on\s+the\s+basis)\b|\bprior\s+(?:review|determination)|"
    r"\bprevious(?:ly)?\s+(?:review\w*|denied|non-?certified)|\bdetermination\b|"
    r"\bguidelines?\b|\bcriteria\b|\bmedically\s+necessary\b|\bmedical\s+necessity\b"
)

_COMPILED = tuple((cat, direction, _rx(p)) for cat, direction, p in _RULES)


@lru_cache(maxsize=4096)
def _triggers(text: str) -> tuple[tuple[int, ...], tuple[tuple[str, str, int, int], ...]]:
    """(starts, triggers): every (category, direction, start, end) trigger of ``text`` in
    text order, minus pseudo-triggers, and their starts (to find a sentence's by bisection)."""
    low = lower(text)
    pseudo = [(m.start(), m.end()) for m in _PSEUDO.finditer(low)]
    out = []
    for cat, direction, rx in _COMPILED:
        for m in rx.finditer(low):
            if not any(a <= m.start() < b for a, b in pseudo):
                out.append((cat, direction, m.start(), m.end()))
    out.sort(key=lambda t: t[2])
    return tuple(t[2] for t in out), tuple(out)


@lru_cache(maxsize=4096)
def _terminators(text: str) -> tuple[int, ...]:
    return tuple(m.start() for m in _TERMINATORS.finditer(lower(text)))


@lru_cache(maxsize=65536)
def _other_voice(text: str, start: int, end: int) -> bool:
    return _OTHER_VOICE.search(lower(text), start, end) is not None


def _blocked(text: str, a: int, b: int) -> bool:
    """Is there a terminator starting in [a, b)?"""
    ends = _terminators(text)
    i = bisect_left(ends, a)
    return i < len(ends) and ends[i] < b


def _scoped(text: str, start: int, end: int, categories: frozenset[str]) -> frozenset[str]:
    """The categories among ``categories`` whose triggers reach the mention [start, end)."""
    cs, ce, _ = clause_of(text, start)
    ss, se = sentence_of(text, start)
    starts, triggers = _triggers(text)
    found = set()
    for cat, direction, t_start, t_end in triggers[
        bisect_left(starts, ss) : bisect_left(starts, se)
    ]:
        if cat not in categories or cat in found:
            continue
        if direction == "forward":
            # a diagnosis list runs on across ';' ("diagnoses include A; B; C")
            first, window = (ss, _DIAGNOSIS_WINDOW) if cat == DIAGNOSIS else (cs, _FORWARD_WINDOW)
            reach = first <= t_start and t_end <= start and start - t_end <= window
            if reach and not _blocked(text, t_end, start):
                found.add(cat)
        elif (
            end <= t_start
            and t_end <= ce
            and t_start - end <= _BACKWARD_WINDOW
            and not _blocked(text, end, t_start)
        ):
            found.add(cat)
    return frozenset(found)


_NEGATION_CATEGORIES = frozenset({NEGATED, HYPOTHETICAL, UNCERTAIN})
_VOICE_CATEGORIES = frozenset({SUBJECTIVE, DIAGNOSIS})


def hand_negation(text: str, spans: Sequence[tuple[int, int]]) -> list[frozenset[str]]:
    """Negated / hypothetical / uncertain, per mention, from the trigger table above."""
    return [_scoped(text, s, e, _NEGATION_CATEGORIES) for s, e in spans]


def voice_modifiers(text: str, spans: Sequence[tuple[int, int]]) -> list[frozenset[str]]:
    """Subjective / diagnosis / other voice, per mention (an IMR summary's voices)."""
    out = []
    for s, e in spans:
        mods = set(_scoped(text, s, e, _VOICE_CATEGORIES))
        if _other_voice(text, *sentence_of(text, s)):
            mods.add(OTHER_VOICE)
        out.append(frozenset(mods))
    return out


def assertions(
    text: str, spans: Sequence[tuple[int, int]], negation: Negation | None = None
) -> list[frozenset[str]]:
    """Every modifier of each mention: ``negation``'s (default :func:`hand_negation`) and
    the summary's voices (:func:`voice_modifiers`)."""
    spans = list(spans)
    if not spans:
        return []
    negs = (negation or hand_negation)(text, spans)
    return [n | v for n, v in zip(negs, voice_modifiers(text, spans), strict=True)]


def matches(rx: re.Pattern, text: str) -> list[tuple[int, int]]:
    """(start, end) of every match of a lower-case pattern in ``text``."""
    return [(m.start(), m.end()) for m in rx.finditer(lower(text))]
