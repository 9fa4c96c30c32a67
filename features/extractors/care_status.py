"""Two criteria of prior care, read as the reviewer reads the summary: met, not met or silent.

:func:`improvement_status` (objective functional improvement or pain relief from prior
treatment) and :func:`conservative_care_status` (conservative care tried and failed) return
a :class:`~features.extractors.text.Finding` whose value is ``"met"``, ``"not_met"``
(documented against) or ``None`` (not documented), with the spans relied on.

What is not a statement of the records: a hedge or plan ("if therapy fails", "to improve
function"), a utilization review's or prior denial's reasons ("denied due to lack of
documented functional improvement"), an argument from the guidelines. What is one: the
summary's own statements of absence ("therapy notes do not document any objective
functional improvement", "without documented functional improvement": not met).
"""

from __future__ import annotations

from functools import lru_cache

from features.extractors.context import NEGATED, NOT_ASSERTED, Negation, assertions, matches
from features.extractors.text import (
    Finding,
    _case_ok,
    _span,
    clause_of,
    lower,
    sentence_of,
    sentences,
)
from features.extractors.treatment_response import (
    _FAIL_CUE,
    _IMPROVE_CUE,
    _NO_IMPROVE_CUE,
    _NOT_A_FAILURE,
    _TREATMENT_RE,
)
from features.extractors.voice import _is_history, _voice
from features.fast_regex import _rx

MET, NOT_MET = "met", "not_met"
_LOOKBACK = 2  # sentences before a cue searched for the treatment it refers to

# "Maximal medical improvement" is a claims status, not a response to treatment.
_MMI = _rx(r"\bmaxim(?:al|um)\s+medical\s+improvement|\bmmi\b")
_OBJECTIVE = _rx(r"\bobjective\w*|\bfunction\w*|\bmeasur\w*|\bquantif\w*")
# Symptoms persist after care: "pain still 7/10", "continues to have pain despite ...".
_PERSIST_CUE = _rx(
    r"\bstill\b|\bpersist\w*|\bcontinu(?:es|ed|ing)\s+to\s+(?:have|experience|report|complain|"
    r"suffer|be\s+symptomatic|rate)|\bongoing\s+(?:pain|symptoms)|\bremain(?:s|ed)?\s+"
    r"(?:symptomatic|painful|unchanged|the\s+same)|\bworsen\w*|\bplateau\w*"
)
_THERAPY = (
    r"physical\s+therapy|physiotherapy|(?-i:\bPT\b)|chiropract\w*|acupunct\w*|"
    r"conservative\s+(?:care|treatment|therapy|management|measures)|home\s+exercise|"
    r"occupational\s+therapy|(?-i:\bOT\b)|therap(?:y|ies)|injections?"
)
# Care whose help means it is still working (medication relief is how pain is managed).
_HELPING_CARE = _rx(_THERAPY)
_CONSERVATIVE = _rx(_THERAPY + r"|\bNSAIDs?\b|anti-?inflammator\w*|medications?")
# "Medications were not adequately documented": the record is thin, the care not refused.
_UNDOCUMENTED_AFTER = _rx(
    r"\s+(?:was|were|is|are|has\s+been|have\s+been)\s+not\s+(?:\w+\s+)?"
    r"(?:documented|provided|specified|listed|described)"
)


def _attributed(text: str, pos: int) -> bool:
    """A treatment is named in the mention's clause or the sentences just before it."""
    low = lower(text)
    cs, ce, i = clause_of(text, pos)
    if _TREATMENT_RE.search(low, cs, ce):
        return True
    sents = sentences(text)
    return any(_TREATMENT_RE.search(low, *sents[j]) for j in range(max(0, i - _LOOKBACK), i))


def _improvement_hits(text: str, negation: Negation | None):
    """(helped, not_helped): spans of improvement asserted / documented against."""
    if negation is None:
        return _improvement_hits_cached(text)
    return _find_improvement(text, negation)


@lru_cache(maxsize=4096)
def _improvement_hits_cached(text: str):
    return _find_improvement(text, None)


def _find_improvement(text: str, negation: Negation | None):
    low = lower(text)
    no = [sp for sp in matches(_NO_IMPROVE_CUE, text) if not _NOT_A_FAILURE.search(low, *sp)]
    imp = [
        sp
        for sp in matches(_IMPROVE_CUE, text)
        if not any(a <= sp[0] < b or sp[0] <= a < sp[1] for a, b in no)
        and not _MMI.search(low, max(0, sp[0] - 30), sp[1] + 5)
    ]
    mods = assertions(text, imp + no, negation)
    helped, against = [], []
    for sp, m in zip(imp, mods[: len(imp)], strict=True):
        if m & NOT_ASSERTED:
            continue
        if NEGATED in m:
            against.append(_span(text, *sp))
        elif _attributed(text, sp[0]) and not _voice(text, *sentence_of(text, sp[0]))[0]:
            # (a request's purpose is not a result: "PT for strengthening and pain relief")
            helped.append(_span(text, *sp))
    for sp, m in zip(no, mods[len(imp) :], strict=True):
        if not (m & NOT_ASSERTED or NEGATED in m):
            against.append(_span(text, *sp))
    return tuple(helped), tuple(against)


def improvement_status(summary: str | None, *, negation: Negation | None = None) -> Finding:
    """Objective functional improvement from prior treatment: 'met', 'not_met' or None.

    When the summary has both, a statement that objective or functional improvement is
    missing outranks reported relief ("reports improvement with chiropractic treatment
    (without documentation of objective functional improvement)": not met).
    """
    text = summary or ""
    return _improvement_cached(text) if negation is None else _improvement(text, negation)


@lru_cache(maxsize=4096)
def _improvement_cached(text: str) -> Finding:
    return _improvement(text, None)


def _improvement(text: str, negation: Negation | None) -> Finding:
    helped, against = _improvement_hits(text, negation)
    low = lower(text)
    objective_missing = [sp for sp in against if _OBJECTIVE.search(low, *sentence_of(text, sp[0]))]
    if objective_missing or (against and not helped):
        return Finding(NOT_MET, tuple(objective_missing or against), "no improvement documented")
    if helped:
        return Finding(MET, tuple(helped), "improvement documented")
    return Finding(None)


def conservative_care_status(summary: str | None, *, negation: Negation | None = None) -> Finding:
    """Conservative care tried and failed: 'met', 'not_met' or None.

    * ``met``: a treatment failed or symptoms persist after it ("12 sessions of PT plus
      NSAIDs with pain still 7/10", "pain despite physical therapy"): tried and failed.
    * ``not_met``: conservative care is helping ("PT has helped"), or was not tried ("has
      not yet had physical therapy"), or the summary says its failure is not documented.
      Helping outranks a failure: the care is still working.
    * ``None``: care is listed without its outcome, or nothing is said.
    """
    text = summary or ""
    return _care_cached(text) if negation is None else _care(text, negation)


@lru_cache(maxsize=4096)
def _care_cached(text: str) -> Finding:
    return _care(text, None)


def _care(text: str, negation: Negation | None) -> Finding:
    low = lower(text)
    helped, _ = _improvement_hits(text, negation)
    helping = [sp for sp in helped if _names(text, _HELPING_CARE, *clause_of(text, sp[0])[:2])]
    if helping:
        return Finding(NOT_MET, tuple(helping), "conservative care is helping")
    fail = [sp for sp in matches(_FAIL_CUE, text) if _fails_treatment(text, sp)]
    persist = [sp for sp in matches(_PERSIST_CUE, text) if _after_care(text, sp)]
    tried = [sp for sp in matches(_CONSERVATIVE, text) if _case_ok(text, *sp)]
    mods = assertions(text, fail + persist + tried, negation)
    failed, against = [], []
    for sp, m in zip(fail + persist, mods[: len(fail) + len(persist)], strict=True):
        if not m & NOT_ASSERTED:
            (against if NEGATED in m else failed).append(_span(text, *sp))
    if failed:
        return Finding(MET, tuple(failed), "conservative care tried and failed")
    for sp, m in zip(tried, mods[len(fail) + len(persist) :], strict=True):
        if NEGATED in m and not m & NOT_ASSERTED and not _UNDOCUMENTED_AFTER.match(low, sp[1]):
            against.append(_span(text, *sp))
    if against:
        return Finding(NOT_MET, tuple(sorted(against)), "failure of conservative care not shown")
    return Finding(None)


def _fails_treatment(text: str, sp: tuple[int, int]) -> bool:
    """A failure cue about a treatment (not organ failure; a treatment named in its clause)."""
    low = lower(text)
    cs, ce, _ = clause_of(text, sp[0])
    if _NOT_A_FAILURE.search(low, max(cs, sp[0] - 15), min(ce, sp[1] + 25)):
        return False
    return bool(_TREATMENT_RE.search(low, cs, ce)) or low.startswith(
        ("despite", "refractory", "recalcitrant", "unresponsive"), sp[0]
    )


def _after_care(text: str, sp: tuple[int, int]) -> bool:
    """Symptoms persist in a sentence that also says conservative care was done."""
    s, e = sentence_of(text, sp[0])
    return any(
        _case_ok(text, m.start(), m.end()) and _is_history(text, s, e, m.start())
        for m in _CONSERVATIVE.finditer(lower(text), s, e)
    )


def _names(text: str, rx, start: int, end: int) -> bool:
    """Does text[start:end] name a treatment of ``rx`` ('PT' in capitals, not 'pt')?"""
    return any(_case_ok(text, m.start(), m.end()) for m in rx.finditer(lower(text), start, end))
