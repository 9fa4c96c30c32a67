"""One entry point from pre-filing rows to scored items, shared by every front end.

``predict.py`` (terminal, CSV, JSON), the web page and the served model all call
:func:`score_rows`, so they can never disagree on a probability, a band or a baseline.
"""

from __future__ import annotations

import functools


def _clearing_feature_caches(score):
    """``score``, emptying the feature caches when it returns or raises: a served process
    keeps no case summary (medical text) after answering."""

    @functools.wraps(score)
    def scored_then_forgotten(*args, **kwargs):
        from features import clear_caches

        try:
            return score(*args, **kwargs)
        finally:
            clear_caches()

    return scored_then_forgotten


def _base_log_odds(pipeline) -> float | None:
    """The classifier's log-odds for an average training item (its intercept), if linear."""
    intercept = getattr(pipeline.steps[-1][1], "intercept_", None)
    try:
        return float(intercept[0]) if intercept is not None else None
    except (TypeError, IndexError):
        return None


@_clearing_feature_caches
def score_rows(loaded, rows: list[dict], *, with_what_if: bool = True, detailed: bool = True):
    """Score pre-filing ``rows`` (dicts of the draft columns) with a loaded model.

    ``detailed`` adds reasons, the likely denial reasons ranked by the training run's
    ranking (shipped in the run's base rates; the guideline's order for an older run),
    what-ifs when ``with_what_if``, and the ``explanation`` in percentage points from the
    kind's usual rate (each reason then also has ``effect_points`` and ``can_document``);
    otherwise only the probability and its band. Every result has ``how_sure``
    (:mod:`models.scoring.explain`). Each result carries the service's category (of the one
    service taxonomy, :mod:`features.services`) and the training overturn rate of that
    category, and keeps ``source_file``, ``item_index`` and ``row`` from its input row.
    Detailed results also say whether the item belongs to a surgery (``perioperative``)
    and its DWC request category.
    """
    from features.services import service_kind
    from models.scoring.explain import explanation, how_sure
    from models.scoring.prediction import explain_items, pre_filing_frame, score_assessed
    from models.store.loading import baseline_rate

    frame = pre_filing_frame(rows)
    if detailed:
        ranking = reason_ranking(loaded.baseline)
        scored = [
            s.as_dict()
            for s in explain_items(
                loaded.pipeline, frame, with_what_if=with_what_if, ranking=ranking
            )
        ]
    else:
        scored = score_assessed(loaded.pipeline, frame)
    for row, result in zip(rows, scored, strict=True):
        category = service_kind(row["service"]).category
        rate, n = baseline_rate(loaded.baseline, category)
        entry = (loaded.baseline or {}).get("categories", {}).get(category, {})
        result.update(
            {
                "category": category,
                "baseline_rate": rate,
                "baseline_items": n,
                # the category rate pulled toward its published rate (few letters)
                "baseline_shrunk_rate": entry.get("shrunk_rate"),
            }
        )
        result["how_sure"] = how_sure(result)
        if detailed:
            result["explanation"] = explanation(result, _base_log_odds(loaded.pipeline))
        for key in ("source_file", "item_index", "row"):
            if key in row:
                result[key] = row[key]
    return scored


def reason_ranking(baseline: dict | None):
    """The run's ranking of likely denial reasons, or ``None`` (an older run, or one of
    another format: the guideline's order then applies, with a log line)."""
    import logging

    from models.reasons.ranking import ReasonRanking

    data = (baseline or {}).get("reason_ranking")
    if data is None:
        return None
    try:
        return ReasonRanking.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        logging.getLogger(__name__).warning("the run's reason ranking is not usable (%s)", exc)
        return None
