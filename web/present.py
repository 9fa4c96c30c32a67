"""Every mapping from a scored item to what the page shows, in one place.

The input is the per-item dicts of :func:`models.scoring.score.score_rows`:

- ``service``, ``p_overturned``, ``p_low``, ``p_high``;
- ``category``, ``baseline_rate``, ``baseline_items``, ``baseline_shrunk_rate``,
  ``subcategory``, ``recognised``, ``warnings``;
- ``reasons``: ``feature``, ``reason`` (or ``value``), ``effect_log_odds``,
  ``effect_points``, ``can_document``, ``evidence`` texts;
- ``explanation``: the walk from the kind's usual rate to the estimate in percentage
  points, and ``how_sure`` (``code``, ``label``, ``detail``), both of
  :mod:`models.scoring.explain`;
- ``what_if``: ``fact``, ``added_text``, ``p_overturned``, ``change``;
- ``denial_reasons`` and ``criteria`` (the met ones): ``code``, ``label``, ``criterion``,
  ``status`` (``not_met``/``not_documented``/``met``), ``evidence`` as ``{text, start,
  end}`` with offsets into the case summary, ``to_document``, ``cited_in_upheld_share``.

Every field is optional here except the service and its probability: an absent one is
simply not shown, an unknown value is shown as given. The templates only print the views
built here."""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field

from models.scoring.explain import usual_rate

STATUS_TEXT = {
    "not_met": "not met",
    "not_documented": "not documented",
    "met": "met",
}
#: How a reason leans, for the colour of its evidence in the summary.
FOR, AGAINST, MIXED = "for", "against", "mixed"
_STATUS_TONE = {"met": FOR, "not_met": AGAINST, "not_documented": AGAINST}
_SUMMARY_TERM = re.compile(r"^summary__tfidf__(?P<term>.+)$")
_SERVICE_TERM = re.compile(r"^service__tfidf__(?P<term>.+)$")
#: Highlights of one text-term reason, so a common word cannot paint the whole summary.
MAX_TERM_HITS = 5


#: What each column of the scored CSV (``models.scoring.output.CSV_COLUMNS``) holds.
CSV_COLUMN_MEANINGS = {
    "source_file": "the letter the service came from (letters)",
    "item_index": "the service's place in its letter, from 0 (letters)",
    "row": "the line of the input CSV (batch CSV)",
    "service": "the requested service",
    "p_overturned": "estimated chance that IMR overturns the denial",
    "p_low": "lowest estimate of the calibration folds' models",
    "p_high": "highest estimate of the calibration folds' models",
    "how_sure": "where the estimate stands against the usual rate for its kind of service",
    "category": "the kind of service",
    "baseline_rate": "the overturn rate of that kind of service in training",
    "baseline_items": "how many training items of that kind there were",
    "baseline_shrunk_rate": "that rate pulled toward the published rate: the usual rate",
    "denial_reason_1": "the likeliest denial reason: a guideline criterion not met or not "
    "documented",
    "to_document_1": "what to document against it",
    "denial_reason_2": "the second likely denial reason",
    "to_document_2": "what to document against it",
    "denial_reason_3": "the third likely denial reason",
    "to_document_3": "what to document against it",
    "warnings": "warnings about the service (e.g. not recognised), joined with '; '",
    "error": "why a row or letter could not be scored",
}


def csv_columns() -> list[tuple[str, str]]:
    """(column, meaning) of the scored CSV, as ``predict.py --csv`` writes it."""
    from models.scoring.output import CSV_COLUMNS

    return [(c, CSV_COLUMN_MEANINGS.get(c, "")) for c in CSV_COLUMNS]


def pct(p) -> str:
    """A probability as a percentage for people (``n/a`` when unknown)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    return f"{100 * float(p):.1f}%"


def points(change) -> str:
    """A change of probability in percentage points, signed."""
    return f"{100 * float(change):+.1f} points"


@dataclass
class Evidence:
    text: str


@dataclass
class DenialReasonView:
    label: str
    criterion: str
    status: str
    status_text: str
    evidence: list[str]
    to_document: str
    #: how often reviewers cited it when upholding this kind of service, when known
    cited: str = ""


@dataclass
class ReasonView:
    label: str
    raises: bool
    effect: str
    evidence: list[str]
    documented: bool
    value: str


@dataclass
class WhatIfView:
    fact: str
    added_text: str
    p_text: str
    change_text: str
    #: "up", "down" or "" when the move does not show at 0.1 point (said in words)
    direction: str
    #: the checkbox's value: what the server needs to add the fact back (JSON)
    value: str


@dataclass
class Scale:
    """Positions on a 0-100 scale for the drawn estimate (SVG attributes, no inline style)."""

    p: str
    low: str | None
    width: str | None
    baseline: str | None


def _pos(value) -> str:
    return f"{min(100.0, max(0.0, 100 * float(value))):.2f}"


def _scale(p: float, low, high, baseline) -> Scale:
    has_band = low is not None and high is not None
    return Scale(
        p=_pos(p - 0.005),  # the 1-unit-wide mark is centred on p
        low=_pos(low) if has_band else None,
        width=f"{max(0.5, 100 * (float(high) - float(low))):.2f}" if has_band else None,
        baseline=_pos(baseline) if baseline is not None else None,
    )


@dataclass
class StepView:
    """One step of the walk from the usual rate to the estimate."""

    label: str
    #: the rounded points, signed ("+1.5"), as shown; they add up to the shown estimate
    points: str
    direction: str  # "up", "down" or "" (no move at this precision)
    evidence: list[str] = field(default_factory=list)


@dataclass
class WalkView:
    """The estimate explained in percentage points from its kind's usual rate."""

    usual: str  # "11.1" (percent, one decimal)
    usual_label: str
    model_start: list[StepView]
    documentable: list[StepView]
    case: list[StepView]
    other: list[StepView]
    estimate: str  # "11.0"


@dataclass
class SureView:
    code: str
    label: str
    detail: str


@dataclass
class ServiceView:
    """One requested service's result, every string ready to print."""

    anchor: str
    service: str
    #: the exact probability as a decimal, for ``data-p-overturned`` (full precision)
    p_decimal: str
    p_text: str
    meaning: str
    band_text: str | None
    scale: Scale
    category: str | None
    subcategory: str | None
    baseline_text: str | None
    recognised: bool | None
    warnings: list[str]
    denial_reasons: list[DenialReasonView]
    #: criteria the draft meets (``criteria``), with their evidence
    met_criteria: list[DenialReasonView]
    reasons: list[ReasonView]
    what_ifs: list[WhatIfView]
    #: the estimate in whole percent ("about 11%"): the headline, so that it is not over-read
    p_rounded: str = ""
    #: "usual rate for this kind 11.1% (99 past items)", when known
    usual_text: str = ""
    sure: SureView | None = None
    walk: WalkView | None = None


@dataclass
class Segment:
    """A piece of the summary, highlighted when reasons rely on it."""

    text: str
    notes: list[str] = field(default_factory=list)
    tone: str | None = None
    added: bool = False


def _label(name: str) -> str:
    return str(name).replace("__", ": ").replace("_", " ")


def _value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _step_view(step: dict, points: float) -> StepView:
    evidence = list(dict.fromkeys(str(e) for e in step.get("evidence") or [] if str(e).strip()))
    return StepView(
        label=str(step.get("label") or _label(step.get("feature") or "")),
        points="0.0" if points == 0 else f"{points:+.1f}",
        direction="up" if points > 0 else "down" if points < 0 else "",
        evidence=evidence,
    )


def _walk_view(result: dict) -> WalkView | None:
    """The explanation of :mod:`models.scoring.explain`, rounded so that it adds up."""
    from models.scoring.explain import CASE, DOCUMENTABLE, MODEL_START, OTHER, rounded_points

    explained = result.get("explanation")
    if not isinstance(explained, dict) or not explained.get("steps"):
        return None
    steps = [
        (step, _step_view(step, points))
        for step, points in zip(explained["steps"], rounded_points(explained), strict=True)
    ]

    def of(kind):
        return [view for step, view in steps if step.get("kind") == kind]

    kind = _label(result.get("category") or "this kind of service")
    n = result.get("baseline_items") or 0
    where = f"{n} past items" if n else "no past items of this kind: the overall rate"
    if result.get("baseline_shrunk_rate") is not None:
        where += ", pulled toward the published rate"
    return WalkView(
        usual=f"{100 * explained['usual_rate']:.1f}",
        usual_label=f"Usual rate for {kind} requests ({where})",
        model_start=of(MODEL_START),
        documentable=of(DOCUMENTABLE),
        case=of(CASE),
        other=of(OTHER),
        estimate=f"{100 * explained['estimate']:.1f}",
    )


def _sure_view(result: dict) -> SureView | None:
    sure = result.get("how_sure")
    if not isinstance(sure, dict) or not sure.get("label"):
        return None
    return SureView(
        code=str(sure.get("code") or ""),
        label=str(sure["label"]),
        detail=str(sure.get("detail") or ""),
    )


def _usual_text(result: dict) -> str:
    usual = usual_rate(result)
    if usual is None:
        return ""
    n = result.get("baseline_items") or 0
    return f"usual rate for this kind {pct(usual)}" + (f" ({n} past items)" if n else "")


def rounded_percent(p: float) -> str:
    """The headline: whole percent, "about 11%" (below 1%: "under 1%")."""
    return "under 1%" if p < 0.005 else f"about {round(100 * p)}%"


def _reason_view(reason: dict) -> ReasonView:
    feature = str(reason.get("feature", ""))
    effect = float(reason.get("effect_log_odds") or 0.0)
    evidence = list(dict.fromkeys(str(e) for e in reason.get("evidence") or [] if str(e).strip()))
    value = reason.get("value")
    if m := _SUMMARY_TERM.match(feature):  # a word: its evidence is its highlight
        label, evidence, documented = f"the words “{m['term']}” in the summary", [], True
    elif m := _SERVICE_TERM.match(feature):
        label, evidence, documented = f"the words “{m['term']}” in the service", [], True
    else:
        label = str(reason.get("reason") or _label(feature))
        # only a reason that reports its value can say the draft lacks the fact (value 0)
        documented = bool(evidence) or "value" not in reason or bool(value)
    return ReasonView(
        label=label,
        raises=effect > 0,
        effect=(
            f"{float(reason['effect_points']):+.1f} points"
            if reason.get("effect_points") is not None
            else f"{effect:+.2f} log-odds"
        ),
        evidence=evidence,
        documented=documented,
        value=_value_text(value) if documented and not evidence else "",
    )


def _denial_reason_view(reason: dict) -> DenialReasonView:
    status = str(reason.get("status") or "")
    evidence = []
    for item in reason.get("evidence") or []:
        text = item.get("text") if isinstance(item, dict) else item
        if text and str(text).strip() and str(text) not in evidence:
            evidence.append(str(text))
    label = str(reason.get("label") or _label(reason.get("code") or "reason"))
    criterion = str(reason.get("criterion") or "")
    return DenialReasonView(
        label=label,
        criterion="" if criterion == label else criterion,
        status=status,
        status_text=STATUS_TEXT.get(status, _label(status)),
        evidence=evidence,
        to_document=str(reason.get("to_document") or ""),
        cited=(
            f"{100 * float(share):.0f}% likely if the denial is upheld"
            if (share := reason.get("cited_in_upheld_share")) is not None
            else ""
        ),
    )


def fact_value(change: dict) -> str:
    """A what-if checkbox's value: the fact and its sentence, as one canonical JSON text."""
    return json.dumps({"fact": change.get("fact"), "added_text": change.get("added_text")})


def _what_if_view(change: dict) -> WhatIfView:
    delta = float(change.get("change") or 0.0)
    shown = round(100 * delta, 1)
    return WhatIfView(
        fact=str(change.get("fact", "")),
        added_text=str(change.get("added_text", "")),
        p_text=pct(change.get("p_overturned")),
        # a move under 0.05 point is no move a person can act on: said so, not as "+0.0"
        change_text=points(delta) if shown else "no measurable change in the estimate",
        direction="up" if shown > 0 else "down" if shown < 0 else "",
        value=fact_value(change),
    )


def _baseline_text(result: dict) -> str | None:
    if "baseline_rate" not in result:
        return None
    rate, n = result.get("baseline_rate"), result.get("baseline_items") or 0
    if rate is None:
        return None
    shrunk = result.get("baseline_shrunk_rate")
    toward = f" ({pct(shrunk)} pulled toward published rates)" if shrunk is not None else ""
    if n:
        return f"{pct(rate)} of {n} training items of this kind were overturned{toward}"
    return f"{pct(rate)} overall (no training item of this kind; the overall rate applies)"


def service_view(result: dict, position: int, added: set[str] = frozenset()) -> ServiceView:
    """The view of one scored item; what-ifs already ticked (``added``) are left out."""
    p = float(result["p_overturned"])
    low, high = result.get("p_low"), result.get("p_high")
    band = f"{pct(low)} to {pct(high)}" if low is not None and high is not None else None
    in_100 = round(100 * p)
    return ServiceView(
        anchor=f"service-{position + 1}",
        service=str(result.get("service", "")),
        p_decimal=repr(p),
        p_text=pct(p),
        meaning=(
            f"Of 100 requests like this one, about {in_100} would be overturned at IMR, "
            "if the model's estimate is right."
        ),
        band_text=band,
        scale=_scale(p, low, high, usual_rate(result)),
        category=_label(result["category"]) if result.get("category") else None,
        subcategory=_label(result["subcategory"]) if result.get("subcategory") else None,
        baseline_text=_baseline_text(result),
        recognised=result.get("recognised"),
        warnings=[str(w) for w in result.get("warnings") or []],
        denial_reasons=[_denial_reason_view(r) for r in result.get("denial_reasons") or []],
        met_criteria=[_denial_reason_view(r) for r in result.get("criteria") or []],
        reasons=[_reason_view(r) for r in result.get("reasons") or []],
        what_ifs=[
            _what_if_view(c)
            for c in result.get("what_if") or []
            if str(c.get("added_text", "")).strip() not in added
        ],
        p_rounded=rounded_percent(p),
        usual_text=_usual_text(result),
        sure=_sure_view(result),
        walk=_walk_view(result),
    )


def service_views(results: list[dict], added: set[str] = frozenset()) -> list[ServiceView]:
    return [service_view(r, i, added) for i, r in enumerate(results)]


# --- the summary with its evidence highlighted ------------------------------------------


def _find_all(summary: str, text: str, *, words: bool = False, limit: int = 1):
    if words:  # a text term: its tokens, separated by anything that is not a word character
        tokens = [re.escape(t) for t in text.split()]
        pattern = re.compile(r"\b" + r"\W+".join(tokens) + r"\b", re.IGNORECASE)
    else:
        pattern = re.compile(re.escape(text.strip()), re.IGNORECASE)
    return [(m.start(), m.end()) for m in pattern.finditer(summary)][:limit]


def _offset_span(summary: str, item) -> tuple[int, int] | None:
    """Where an evidence item lies: its offsets when they point at its text, else a search."""
    if not isinstance(item, dict):
        found = _find_all(summary, str(item)) if str(item).strip() else []
        return found[0] if found else None
    text, start, end = item.get("text") or "", item.get("start"), item.get("end")
    in_range = isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(summary)
    if in_range and (not text or summary[start:end].lower() == text.lower()):
        return start, end
    found = _find_all(summary, text) if text.strip() else []
    return found[0] if found else None


def evidence_spans(summary: str, results: list[dict]) -> list[tuple[int, int, str, str]]:
    """``(start, end, note, tone)`` for every piece of the summary a reason relies on."""
    spans = []
    for result in results:
        service = str(result.get("service", ""))
        for reason in [*(result.get("denial_reasons") or []), *(result.get("criteria") or [])]:
            view = _denial_reason_view(reason)
            tone = _STATUS_TONE.get(view.status, MIXED)
            note = f"{service}: {view.label} ({view.status_text})"
            for item in reason.get("evidence") or []:
                if span := _offset_span(summary, item):
                    spans.append((*span, note, tone))
        for reason in result.get("reasons") or []:
            feature = str(reason.get("feature", ""))
            effect = float(reason.get("effect_log_odds") or 0.0)
            tone = FOR if effect > 0 else AGAINST
            direction = "raises" if effect > 0 else "lowers"
            if m := _SUMMARY_TERM.match(feature):
                note = f"{service}: “{m['term']}” {direction} the estimate"
                for span in _find_all(summary, m["term"], words=True, limit=MAX_TERM_HITS):
                    spans.append((*span, note, tone))
            elif not _SERVICE_TERM.match(feature):
                note = f"{service}: {_label(feature)} {direction} the estimate"
                for text in reason.get("evidence") or []:
                    if span := _offset_span(summary, str(text)):
                        spans.append((*span, note, tone))
    return spans


def highlighted_summary(summary: str, results: list[dict], user_length: int) -> list[Segment]:
    """The scored summary cut into segments; ``user_length`` chars are the user's own text,
    the rest is what ticked what-ifs added."""
    spans = evidence_spans(summary, results)
    cuts = {0, len(summary), min(user_length, len(summary))}
    for start, end, _, _ in spans:
        cuts.update((start, end))
    cut_points = sorted(cuts)
    segments: list[Segment] = []
    for start, end in itertools.pairwise(cut_points):
        covering = [s for s in spans if s[0] <= start and end <= s[1]]
        notes = list(dict.fromkeys(s[2] for s in covering))
        tones = {s[3] for s in covering}
        tone = (tones.pop() if len(tones) == 1 else MIXED) if covering else None
        segment = Segment(summary[start:end], notes, tone, added=start >= user_length)
        last = segments[-1] if segments else None
        if last and (last.notes, last.tone, last.added) == (notes, tone, segment.added):
            last.text += segment.text
        else:
            segments.append(segment)
    return segments


# --- what the number means, from the champion's evaluation ------------------------------


def interval(metrics: dict, key: str) -> tuple[float, float] | None:
    """A metric's interval when the run logged one (``KEY_ci_low``/``_ci_high`` or kin)."""
    for low, high in (("_ci_low", "_ci_high"), ("_low", "_high"), ("_lower", "_upper")):
        if key + low in metrics and key + high in metrics:
            return float(metrics[key + low]), float(metrics[key + high])
    return None


#: Where a measure of the champion's cross-validation is logged: the repeated CV's mean
#: (with ``_ci_low``/``_ci_high`` beside it) first, then the single CV's figure.
_MEASURE_KEYS = {
    "roc_auc": ("rcv_model_roc_auc_items", "cv_roc_auc"),
    "brier_skill": ("rcv_model_brier_skill", "cv_brier_skill"),
    "ece": ("rcv_model_ece", "cv_ece"),
}


def measure(metrics: dict, name: str) -> tuple[float | None, tuple[float, float] | None]:
    """(value, 95% interval or None) of a cross-validation measure of the run."""
    for key in _MEASURE_KEYS[name]:
        for value_key in (f"{key}_mean", key):
            if value_key in metrics:
                return float(metrics[value_key]), interval(metrics, key)
    return None, None


def _ci(ci, scale: float = 1.0, digits: int = 2) -> str:
    if not ci:
        return ""
    return f", 95% interval {scale * ci[0]:.{digits}f} to {scale * ci[1]:.{digits}f}"


def evaluation_lines(info) -> list[str]:
    """Plain-language lines on how often the model's estimates have been right."""
    if info is None or not info.metrics:
        return []
    m = info.metrics
    lines = []
    auc, auc_ci = measure(m, "roc_auc")
    where = "in letter-grouped cross-validation"
    if info.items and info.letters:
        where = (
            f"checked on {info.items} past items from {info.letters} letters, each scored by "
            "a model that had not seen its letter"
        )
    if auc is not None:
        lines.append(
            f"How often such estimates have been right: {where}, the model ranked an "
            f"overturned request above an upheld one {100 * auc:.0f}% of the time "
            f"(ROC-AUC {auc:.2f}{_ci(auc_ci)}; 50% is a coin toss)."
        )
    ece, ece_ci = measure(m, "ece")
    skill, skill_ci = measure(m, "brier_skill")
    parts = []
    if ece is not None:
        parts.append(
            f"its probabilities were off by {100 * ece:.1f} percentage points on average "
            f"(calibration error{_ci(ece_ci, 100, 1)})"
        )
    if skill is not None:
        verdict = ""
        if skill_ci and skill_ci[0] <= 0 <= skill_ci[1]:
            verdict = ": no clear gain over that simple rate"
        parts.append(
            f"against always giving the overall overturn rate, its Brier skill is "
            f"{skill:+.3f}{_ci(skill_ci, digits=3)}{verdict}"
        )
    if parts:
        text = "; ".join(parts)
        lines.append(text[0].upper() + text[1:] + ".")
    temporal = m.get("temporal_roc_auc")
    if temporal is not None:
        ci = interval(m, "temporal_roc_auc")
        ci_text = f", 95% interval {ci[0]:.2f} to {ci[1]:.2f}" if ci else ""
        lines.append(
            f"On the most recent letters, held out from training: ROC-AUC {temporal:.2f}{ci_text}."
        )
    return lines


# --- the model page in plain words --------------------------------------------------------


def model_label(info, uri: str) -> str:
    """Which model scored a result, for a printed or kept result."""
    if info is None or not info.name:
        return f"model {uri}"
    aliases = f" ({', '.join(info.aliases)})" if info.aliases else ""
    trained = f", trained {info.trained_at}" if info.trained_at else ""
    return f"model {info.name} version {info.version}{aliases}{trained}"


def _metric_with_ci(metrics: dict, key: str) -> tuple[float | None, tuple[float, float] | None]:
    for value_key in (f"{key}_mean", key):
        if value_key in metrics:
            return float(metrics[value_key]), interval(metrics, key)
    return None, None


def _share(value: float) -> str:
    return f"{100 * value:.0f}%"


def model_summary(info) -> list[str]:
    """What the model page says first, in words a paralegal uses: what it learned from, how
    often its ranking is right, whether its chances beat the plain overall rate."""
    if info is None:
        return []
    m, lines = info.metrics or {}, []
    if info.items and info.letters:
        overturned = ""
        if info.overturned is not None:
            overturned = (
                f"; {info.overturned} of them ({_share(info.overturned / info.items)}) "
                "were overturned"
            )
        lines.append(
            f"It learned from {info.items} disputed services in {info.letters} published IMR "
            f"decision letters{overturned}. Every figure below was measured on letters the "
            "model had not seen while it was trained."
        )
    auc, ci = measure(m, "roc_auc")
    if auc is not None:
        text = (
            "Which service is likelier to be overturned: shown one service IMR overturned and "
            f"one it upheld, the model gave the overturned one the higher chance {_share(auc)} "
            "of the time (a coin toss does 50%"
        )
        if ci:
            verdict = "better than chance" if ci[0] > 0.5 else "not clearly better than chance"
            text += (
                f"; with this few letters it could be anywhere from {_share(ci[0])} to "
                f"{_share(ci[1])}): {verdict}."
            )
        else:
            text += ")."
        lines.append(text)
    letters, letters_ci = _metric_with_ci(m, "rcv_model_roc_auc_letters")
    if letters is not None:
        if letters_ci and letters_ci[0] > 0.5:
            lines.append(
                f"Whole letters: it told a letter that went well from one that did not "
                f"{_share(letters)} of the time."
            )
        else:
            lines.append(
                "Whole letters: it does not tell which letters will go better than others "
                f"({_share(letters)}, about a coin toss): use it to compare the services of "
                "one draft, not one case against another."
            )
    skill, skill_ci = measure(m, "brier_skill")
    if skill is not None:
        prior = (info.baseline or {}).get("prior")
        plain = f"the overall rate ({pct(prior)})" if prior is not None else "the overall rate"
        if skill_ci and skill_ci[0] > 0:
            verdict = (
                f"its chances are closer to what happened than quoting {plain} for every service"
            )
        elif skill > 0:
            verdict = (
                f"its chances are only slightly closer to what happened than quoting {plain} "
                "for every service, and the difference is within the uncertainty"
            )
        else:
            verdict = (
                f"its chances are no closer to what happened than quoting {plain} for every service"
            )
        lines.append(f"The percentages themselves: {verdict} (Brier skill {skill:+.3f}).")
    temporal = m.get("temporal_roc_auc")
    if temporal is not None:
        lines.append(
            "On the most recent letters, held back from training: the overturned service got "
            f"the higher chance {_share(float(temporal))} of the time."
        )
    if lines:
        lines.append(
            "So: read an estimate as a comparison (this service against its usual rate, one "
            "service against another, a draft before and after documenting a fact), not as a "
            "forecast of the decision."
        )
    return lines


@dataclass
class ImportanceBar:
    label: str
    feature: str
    value: str
    width: str
    toward: str  # "overturned" or "upheld"


def importance_bars(pipeline, top: int = 12) -> list[ImportanceBar]:
    """The model's weights as bars a page can draw at any width: each input's coefficient
    on its standardized value (what ``predict.py importances`` lists), largest first,
    named in words."""
    from features.criteria import FEATURE_LABELS
    from models.importance import feature_names

    try:
        names = [str(n) for n in feature_names(pipeline)]
        coef = [float(c) for c in pipeline.steps[-1][1].coef_[0]]
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return []
    pairs = sorted(
        ((n, c) for n, c in zip(names, coef, strict=False) if abs(c) >= 1e-4),
        key=lambda nc: -abs(nc[1]),
    )[:top]
    largest = max((abs(c) for _, c in pairs), default=0.0) or 1.0
    return [
        ImportanceBar(
            label=FEATURE_LABELS.get(name, _label(name)),
            feature=name,
            value=f"{abs(c):.3f}",
            width=f"{max(0.5, 100 * abs(c) / largest):.1f}",
            toward="overturned" if c > 0 else "upheld",
        )
        for name, c in pairs
    ]
