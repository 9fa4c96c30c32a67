"""Objective findings on examination or imaging: neurological deficits, red flags, signs.

What the guidelines ask for before imaging, electrodiagnostics, injections or surgery:
radiculopathy on examination, weakness, reflex changes, positive provocative tests,
instability, a tear, red flags. :func:`findings_status` reads the summary as the reviewer
does:

* ``met``: an abnormal finding asserted as found (not negated, hedged, a plan to rule it
  out, the worker's complaint, a diagnosis label, or a utilization review's reasons);
* ``not_met``: none, and the summary documents their absence: "no red flags were noted",
  "negative straight leg raise, intact sensation and strength", "neurological examination
  was normal";
* ``None``: the summary says neither (not documented).
"""

from __future__ import annotations

from functools import lru_cache

from features.extractors.context import (
    DIAGNOSIS,
    NEGATED,
    NOT_ASSERTED,
    SUBJECTIVE,
    Negation,
    assertions,
    matches,
)
from features.extractors.text import Finding, _span, lower, sentence_of
from features.fast_regex import _rx

MET, NOT_MET = "met", "not_met"

_TESTS = (
    r"straight[\s-]+leg(?:[\s-]+rais\w*)?|slr|spurling\w*|tinel\w*|phalen\w*|mcmurray\w*|"
    r"apley\w*|drawer\w*|lachman\w*|neer\w*|hawkins\w*|impingement|apprehension|empty\s+can|"
    r"durkan\w*|hoffman\w*|babinski|clonus|speed\w*|yergason\w*|o'?brien\w*|drop\s+arm|"
    r"lift[\s-]+off|belly\s+press|jobe\w*|kemp\w*|lasegue\w*|braggard\w*|finkelstein\w*|"
    r"thessaly|pivot\s+shift|load\s+and\s+shift|sulcus|crank|faber|fadir|patrick\w*|"
    r"facet\s+(?:loading|stress)|compression|distraction"
)
#: Abnormal findings that justify imaging, electrodiagnostics, injections or surgery. Kept
#: as small patterns: ``re`` scans each fast behind its first-character lookahead
#: (:func:`features.fast_regex._rx`), one large alternation is several times slower.
_ABNORMAL = tuple(
    _rx(p)
    for p in (
        r"radiculopath\w*|radicular|numbness|tingling|paresthesia\w*|weakness|allodynia|"
        r"hyp(?:o|er)esthesia|atrophy|myelopath\w*|instability|effusion|locking|dermatomal",
        r"(?:decreased?|diminished|reduced|altered|absent|abnormal|impaired)\s+"
        r"(?:\w+\s+)?(?:sensation|sensory|strength|reflex\w*|pinprick|light\s+touch)",
        r"(?:sensation|reflex\w*|strength)\s+(?:\w+\s+){0,4}?(?:was|were|is|are)\s+(?:\w+\s+)?"
        r"(?:decreased|diminished|reduced|absent|abnormal|asymmetric\w*)",
        r"(?:hypoactive|asymmetric)\s+reflex\w*",
        r"(?<![/\d])\b[0-4][+-]?\s*/\s*5\b(?!/)|\b[0-4][+-]?\s+(?:out\s+)?of\s+5\b|\b5-\s*/\s*5\b",
        rf"positive\s+(?:[\w']+[\s,-]+(?:and\s+)?){{0,5}}?(?:tests?|signs?|maneuvers?|{_TESTS})\b",
        rf"\b(?:{_TESTS})(?:'s)?\s+(?:(?:test|sign|maneuver|raise)\s+)?(?:[\w-]+\s+){{0,4}}?"
        r"(?:was|were|is|are)\s+(?:\w+\s+)?positive\b",
        r"fracture\w*(?!\s+boot)|\btears?\b|\btorn\b|giving\s+way|red\s+flags?|"
        r"cauda\s+equina|foot\s+drop|infection|tumou?r|herniat\w*|stenosis|dislocat\w*",
        r"progressive\s+neuro\w*|neurologic(?:al)?\s+(?:deficit|dysfunction|compromise|"
        r"impairment|findings?)\w*|(?:focal|motor|sensory)\s+deficits?|"
        r"nerve\s+(?:root\s+)?(?:compression|impingement|compromise|irritation)",
    )
)
#: Statements of normal findings: evidence against, not for.
_NORMAL = tuple(
    _rx(p)
    for p in (
        r"\b(?:intact|normal|full|symmetric\w*|equal|unremarkable)\s+(?:to\s+\w+\s+)?"
        r"(?:\w+\s+)?(?:sensation|sensory|strength|motor|reflex\w*|neuro\w*|dermatom\w*)",
        r"\b(?:sensation|sensory|strength|motor|(?:deep\s+tendon\s+)?reflexes|dtrs?|neuro\w*|"
        r"neurovascular\w*)\b[^.;:]{0,60}?\b(?:was|were|is|are|remained|remains|appeared?)\s+"
        r"(?:\w+\s+)?(?:intact|normal|symmetric\w*|unremarkable|equal|benign|"
        r"within\s+normal\s+limits)\b",
        r"\b(?:strength|motor\s+(?:strength|power))\s+(?:was\s+|is\s+|of\s+)?5\s*/\s*5",
        r"(?<![/\d])\b5\s*/\s*5\s+(?:\w+\s+)?(?:strength|motor)|\b5\s+(?:out\s+)?of\s+5\s+"
        r"(?:\w+\s+)?strength",
        rf"\bnegative\s+(?:[\w']+[\s,-]+(?:and\s+)?){{0,5}}?"
        rf"(?:tests?|signs?|maneuvers?|raises?|{_TESTS})\b",
        rf"\b(?:{_TESTS}|test|sign|maneuver|raise)(?:'s)?\s+(?:(?:test|sign)\s+)?"
        r"(?:[\w-]+\s+){0,4}?(?:was|were|is|are)\s+(?:\w+\s+)?negative\b",
        r"\bwithin\s+normal\s+limits\b|\bno\s+(?:\w+\s+)?abnormalit\w+",
    )
)

# A study's report: its findings support imaging_supports_request, not this criterion
# (the reviewer's "objective findings" are the examination's and the red flags).
_STUDY_REPORT = _rx(
    r"(?:\bmri\b|\bct\b|x-?rays?|radiograph\w*|imaging|\bscans?\b|ultrasound|sonogra\w*|"
    r"\bemg\b|\bncv\b|\bncs\b|electrodiagnost\w*|nerve\s+conduction|electromyogra\w*|"
    r"electroneurogra\w*|arthrogra\w*|tomograph\w*)[^.;]{0,80}?\b(?:show\w*|reveal\w*|"
    r"demonstrat\w*|documented|impression|consistent\s+with|findings?|indicat\w*)"
)


def findings_status(summary: str | None, *, negation: Negation | None = None) -> Finding:
    """'met', 'not_met' or None for objective findings, with the evidence relied on.

    ``negation`` swaps the negation/hedge detector (default: the hand-written one of
    :mod:`~features.extractors.context`); the summary's voices apply to any.
    """
    text = summary or ""
    if negation is None:
        return _findings_cached(text)
    return _findings(text, negation)


@lru_cache(maxsize=4096)
def _findings_cached(text: str) -> Finding:
    return _findings(text, None)


def _findings(text: str, negation: Negation | None) -> Finding:
    low = lower(text)

    def on_exam(patterns):  # mentions outside the reports of studies, in text order
        spans = sorted({sp for rx in patterns for sp in matches(rx, text)})
        return [sp for sp in spans if not _STUDY_REPORT.search(low, *sentence_of(text, sp[0]))]

    abnormal, normal = on_exam(_ABNORMAL), on_exam(_NORMAL)
    mods = assertions(text, abnormal + normal, negation)
    found, against = [], []
    for (s, e), m in zip(abnormal, mods[: len(abnormal)], strict=True):
        if m & NOT_ASSERTED or SUBJECTIVE in m or DIAGNOSIS in m:
            continue
        (against if NEGATED in m else found).append(_span(text, s, e))
    for (s, e), m in zip(normal, mods[len(abnormal) :], strict=True):
        if not (m & NOT_ASSERTED or NEGATED in m):
            against.append(_span(text, s, e))
    if found:
        return Finding(MET, tuple(found), "objective findings documented")
    if against:
        return Finding(NOT_MET, tuple(sorted(against)), "the summary documents their absence")
    return Finding(None)


def objective_findings(summary: str) -> Finding:
    """True when :func:`findings_status` is 'met' (the model's yes/no form)."""
    status = findings_status(summary)
    return Finding(status.value == MET, status.evidence if status.value == MET else ())
