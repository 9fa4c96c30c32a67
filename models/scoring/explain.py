"""An estimate explained in percentage points from its kind's usual rate, and how sure it is.

Pure functions of one scored item (a dict of :func:`models.scoring.score.score_rows`), so
the page, ``--json`` and the terminal show the same numbers.

**Points.** The walk starts at the *usual rate* of the service's kind: its training
overturn rate pulled toward the published rate (``baseline_shrunk_rate``; the plain
training rate, then the overall rate, when that is unknown). The model itself does not
read the kind's rate: it starts every service from the average training item (its
intercept ``b``, ``expit(b)`` as a rate), and ``logit(p) = b + sum(contributions)``. So
the walk is

- the model's start against the usual rate: ``expit(b) - usual``, exactly;
- each listed reason's contribution, and the rest ("other factors": the inputs the item
  lacks, against the average item), each log-odds term turned into points at one common
  rate, ``(p - expit(b)) / (logit(p) - b)`` (the average slope between the two).

The points add up exactly to ``p - usual``. A reason's points are its share of the move,
not what removing it alone would do. :func:`rounded_points` rounds them for display so
that the shown figures add up to the shown estimate too.

**How sure.** :func:`how_sure` puts the estimate and its range beside the usual rate:
close to it (within :data:`CLOSE_POINTS`), above or below it (the whole range), leaning
above or below (the range reaches the usual rate), and "little data" when fewer than
:data:`FEW_ITEMS` training items of that kind exist.
"""

from __future__ import annotations

import math

from features.criteria import CRITERION_FEATURES

#: The estimate and its whole range within this many points of the usual rate: "close to".
CLOSE_POINTS = 4.0
#: Fewer training items of a kind than this: "little data".
FEW_ITEMS = 20
#: Inputs a person cannot change by documenting more: they describe the request and the
#: case (how many services are disputed together, age, body regions, how recent the
#: injury is, what the guidelines say about this kind of service, a surgery requested
#: with it). Every other input is a fact the draft can document.
CASE_FEATURES = frozenset(
    {
        "log_items_in_letter",
        "age_decades",
        "n_body_regions",
        "acute_injury",
        "unrecognised_service",
        "guideline_not_recommended",
        "guideline_supported",
        "perioperative_with_surgery",
    }
)
DOCUMENTABLE, CASE, MODEL_START, OTHER = "documentable", "case", "model_start", "other"
#: When the estimate equals the usual rate the average slope is the curve's own slope.
_SAME = 1e-9


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def usual_rate(result: dict) -> float | None:
    """The rate the explanation starts from: the kind's rate pulled toward the published
    one, else the kind's training rate (the overall rate for an unseen kind)."""
    for key in ("baseline_shrunk_rate", "baseline_rate"):
        value = result.get(key)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            return float(value)
    return None


def _criterion_labels(result: dict) -> dict[str, str]:
    """Feature -> the words of its criterion on this item (they carry guideline figures)."""
    labels = {}
    for criterion in [*(result.get("denial_reasons") or []), *(result.get("criteria") or [])]:
        for feature in CRITERION_FEATURES.get(criterion.get("code"), ()):
            labels.setdefault(feature, criterion.get("label") or "")
    return labels


def explanation(result: dict, base_log_odds: float | None) -> dict | None:
    """The walk from the usual rate to the estimate, in percentage points.

    ``base_log_odds``: the model's log-odds for an average training item (its intercept).
    Returns ``{"usual_rate", "estimate", "steps"}``, each step ``{"kind", "label",
    "points"}`` (+ ``feature``, ``evidence`` for a reason), or None when the usual rate or
    the base is unknown. Also sets ``effect_points`` and ``can_document`` on each of
    ``result["reasons"]``.
    """
    usual = usual_rate(result)
    if usual is None or base_log_odds is None:
        return None
    p = float(result["p_overturned"])
    start = _expit(base_log_odds)
    # from the model's start to the estimate, every log-odds unit is worth the same points
    span = _logit(p) - base_log_odds
    slope = (p - start) / span if abs(span) > _SAME else p * (1 - p)
    labels = _criterion_labels(result)
    steps = [
        {
            "kind": MODEL_START,
            "label": "the model starts from the average past service "
            f"({100 * start:.1f}%), not from this kind's rate",
            "points": 100 * (start - usual),
        }
    ]
    listed = 0.0
    for reason in result.get("reasons") or []:
        effect = float(reason.get("effect_log_odds") or 0.0)
        feature = str(reason.get("feature", ""))
        reason["effect_points"] = 100 * slope * effect
        reason["can_document"] = feature not in CASE_FEATURES
        listed += effect
        steps.append(
            {
                "kind": DOCUMENTABLE if reason["can_document"] else CASE,
                "feature": feature,
                "label": labels.get(feature) or str(reason.get("reason") or feature),
                "points": reason["effect_points"],
                "evidence": list(reason.get("evidence") or []),
            }
        )
    steps.append({"kind": OTHER, "label": "other factors", "points": 100 * slope * (span - listed)})
    return {"usual_rate": usual, "model_start_rate": start, "estimate": p, "steps": steps}


def _largest_remainders(values: list[float], target: int) -> list[int]:
    """Whole numbers close to ``values`` that add up to ``target``: floors, then the missing
    units to the largest remainders (or taken from the smallest)."""
    floors = [math.floor(x) for x in values]
    short = target - sum(floors)
    if not values:
        return floors
    order = sorted(range(len(values)), key=lambda i: values[i] - floors[i], reverse=short > 0)
    for k in range(abs(short)):
        floors[order[k % len(order)]] += 1 if short > 0 else -1
    return floors


def rounded_points(explained: dict, digits: int = 1) -> list[float]:
    """Each step's points rounded to ``digits`` decimals so that they add up exactly to
    the rounded estimate minus the rounded usual rate; the model's start step is exactly
    its rounded start minus the rounded usual rate, as its words say."""
    scale = 10**digits

    def units(rate: float) -> int:
        return round(100 * scale * rate)

    steps = explained["steps"]
    usual, estimate = units(explained["usual_rate"]), units(explained["estimate"])
    start = explained.get("model_start_rate")
    fixed = {
        i: units(start) - usual
        for i, step in enumerate(steps)
        if step.get("kind") == MODEL_START and start is not None
    }
    rest = [i for i in range(len(steps)) if i not in fixed]
    shares = _largest_remainders(
        [scale * steps[i]["points"] for i in rest], estimate - usual - sum(fixed.values())
    )
    whole = {**fixed, **dict(zip(rest, shares, strict=True))}
    return [whole[i] / scale for i in range(len(steps))]


def how_sure(result: dict) -> dict | None:
    """A plain label of where the estimate stands against its kind's usual rate.

    ``{"code", "label", "detail"}``; ``code`` one of ``little_data``, ``close``,
    ``above``, ``below``, ``leans_above``, ``leans_below``. None when the usual rate is
    unknown.
    """
    usual = usual_rate(result)
    if usual is None:
        return None
    p = float(result["p_overturned"])
    low = p if result.get("p_low") is None else float(result["p_low"])
    high = p if result.get("p_high") is None else float(result["p_high"])
    items = int(result.get("baseline_items") or 0)
    near = 0.01 * CLOSE_POINTS
    kind = "this kind of service"
    if max(abs(p - usual), abs(low - usual), abs(high - usual)) <= near:
        code, label = "close", f"close to the usual rate for {kind}"
    elif low > usual:
        code, label = "above", f"above the usual rate for {kind}"
    elif high < usual:
        code, label = "below", f"below the usual rate for {kind}"
    elif p > usual:
        code, label = "leans_above", f"a little above the usual rate for {kind}"
    else:
        code, label = "leans_below", f"a little below the usual rate for {kind}"
    past = f" from {items} past items" if items else ""
    detail = (
        f"usual rate {100 * usual:.1f}%{past}; this estimate {100 * p:.1f}%, "
        f"range {100 * low:.1f}% to {100 * high:.1f}%"
    )
    if items < FEW_ITEMS:
        seen = f"only {items} past item{'s' if items != 1 else ''}" if items else "no past items"
        return {
            "code": "little_data",
            "label": f"little data: {seen} of this kind",
            "detail": f"{label}, but {seen} of this kind to learn from; {detail}",
        }
    return {"code": code, "label": label, "detail": detail}
