"""Imaging studies: which were performed, their results, and repeat-imaging requests."""

from __future__ import annotations

from features.extractors.regions import body_regions_in
from features.extractors.text import (
    Finding,
    Span,
    _case_ok,
    _find,
    _labelled,
    _span,
    lower,
    sentence_of,
    sentences,
)
from features.extractors.voice import _NEGATED_BEFORE, _voice
from features.fast_regex import _rx
from features.lexicon import IMAGING_GATES, IMAGING_MODALITIES, IMAGING_PATTERNS

_IMAGING_ALL = _labelled(IMAGING_PATTERNS, IMAGING_GATES)
_RESULT_CUE = _rx(
    r"\breveal\w*|\bshow(?:ed|s|ing|n)?\b|\bdemonstrat\w*|\bnotable\s+for|\bsignificant\s+for|"
    r"\bremarkable\s+for|\bconsistent\s+with|\bpositive\s+for|\bnegative\s+for|"
    r"\bunremarkable|\bnormal\b|\babnormal\b|\bimpression\b|\bfindings?\s+(?:of|included|were|was)|"
    r"\bnoted\s+(?:to|for|with)\b|\bconfirm\w*|\bdisclos\w*|\bidentified\b|"
    r"\bdescribed\s+(?:\w+\s+){0,3}as\b|\binterpreted\s+as|\bread\s+as|\bfracture|\btear\b|"
    r"\bherniat\w*|\bprotrusion|\bstenosis|\bdegenerat\w*|\bbulg\w*",
)
_UNAVAILABLE_CUE = _rx(
    r"\bnot\s+(?:been\s+)?(?:provided|available|included|submitted|reviewed|attached|found|"
    r"present(?:ed)?|enclosed|furnished|documented)|\bunavailable\b|\bwas\s+not\s+in\b|"
    r"\bno\s+(?:\w+\s+){0,3}(?:report|results?|findings)\s+(?:was|were|is|are)?\s*"
    r"(?:available|provided|submitted|included|attached)|\bpending\b|"
    r"\b(?:report|results?)\s+(?:was|were|is|are)\s+not\b",
)
_STUDY_DONE_AFTER = _rx(
    r"^[^.;]{0,60}?\b(?:performed|obtained|done|taken|completed|dated|(?:was|were)\s+(?:taken|"
    r"obtained|performed|done))\b|^\s*(?:scans?\s+)?(?:reports?|results?|findings)\b",
)
_STUDY_DONE_BEFORE = _rx(
    r"\b(?:prior|previous|preliminary|recent|old|initial|earlier|outside|hospital|had\s+(?:an?\s+)?|"
    r"underwent\s+(?:an?\s+)?|obtained\s+(?:an?\s+)?|(?:has|have)\s+had\s+(?:an?\s+)?)"
    r"(?:\w+\s+){0,2}$",
)
#: A result word just before the study ("negative lumbar x-ray", "a normal MRI"): the study
#: was done, even in a sentence about the treatment plan.
_RESULT_BEFORE = _rx(r"\b(?:negative|normal|unremarkable|abnormal)\s+(?:\w+\s+){0,3}$")
_REPEAT_BEFORE = _rx(r"\b(?:repeat|updated?|new|follow[\s-]?up)\s+(?:\w+\s+)?$")
_THERAPEUTIC_US = _rx(r"(?:therapeutic|pulsed?|pulse)\s+$|\bultrasound\s+(?:\d|times|x\b)")


def imaging_studies(summary: str | None) -> dict[str, Finding]:
    """Which studies were performed (per modality), and whether results are reported.

    Returns one Finding per modality in ``IMAGING_MODALITIES`` (bool: performed, not just
    requested or planned), ``results_available`` (findings of at least one performed study
    are quoted) and ``report_unavailable`` (the summary says a study's report or results
    were not provided). Unspecified 'diagnostic studies/imaging' add nothing.
    """
    text = summary or ""
    low = lower(text)
    done: dict[str, list[Span]] = {m: [] for m in IMAGING_MODALITIES}
    results: list[Span] = []
    unavailable: list[Span] = []
    for modality, m in _find(_IMAGING_ALL, low):
        if not _case_ok(text, m.start(), m.end()):
            continue
        s, e = sentence_of(text, m.start())
        request, plan, past = _voice(text, s, e)
        unavail = _UNAVAILABLE_CUE.search(low, s, e)
        before = low[max(s, m.start() - 60) : m.start()]
        after = low[m.end() : e]
        if modality == "ultrasound" and (
            _THERAPEUTIC_US.search(before) or _THERAPEUTIC_US.match(low, m.start())
        ):
            continue
        result = _RESULT_CUE.search(low, m.end(), min(e, m.end() + 200))
        attached_done = (
            _STUDY_DONE_AFTER.match(after)
            or _STUDY_DONE_BEFORE.search(before)
            or _RESULT_BEFORE.search(before)
        )
        if unavail and unavail.start() > m.start() - 40:
            # "No MRI report was available", "results of x-rays were not provided":
            # the study exists, its report does not.
            if not _REPEAT_BEFORE.search(before):
                done[modality].append(_span(text, m.start(), m.end()))
                unavailable.append(_span(text, unavail.start(), unavail.end()))
            continue
        if _NEGATED_BEFORE.search(before) or _REPEAT_BEFORE.search(before):
            continue
        if request or plan:
            performed = bool(attached_done) or (result is not None and past)
            if performed and request and not attached_done:
                performed = False
        else:
            performed = True
        if not performed:
            continue
        done[modality].append(_span(text, m.start(), m.end()))
        if result is not None:
            results.append(_span(text, m.start(), result.end()))
    out = {m: Finding(bool(done[m]), tuple(done[m])) for m in IMAGING_MODALITIES}
    out["results_available"] = Finding(bool(results), tuple(results))
    out["report_unavailable"] = Finding(bool(unavailable), tuple(unavailable))
    return out


def service_imaging_modalities(service: str | None) -> list[str]:
    """Imaging modalities named in a service text."""
    text = service or ""
    low = lower(text)
    found = []
    for modality, m in _find(_IMAGING_ALL, low):
        if modality in found or not _case_ok(text, m.start(), m.end()):
            continue
        if not (modality == "ultrasound" and _THERAPEUTIC_US.search(low[: m.start()])):
            found.append(modality)
    return found


def repeat_imaging(
    service: str | None,
    category: str,
    summary: str | None,
    studies: dict[str, Finding],
    service_region: str | None,
) -> Finding:
    """The request is a study of a modality already performed on the same body region.

    The earlier study's region is read from its sentence; when that sentence names no
    region, or the request names none, the modality match alone counts.
    """
    if category != "imaging":
        return Finding(False)
    text = summary or ""
    sents = sentences(text)
    evidence = []
    for modality in service_imaging_modalities(service):
        for sp in studies[modality].evidence if modality in studies else ():
            s, e = next(((a, b) for a, b in sents if a <= sp[0] < b), (sp[0], sp[1]))
            regions = body_regions_in(text[s:e])
            if not regions or service_region is None or service_region in regions:
                evidence.append(_span(text, s, e))
    return Finding(bool(evidence), tuple(evidence))
