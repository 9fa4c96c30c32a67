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


@_clearing_feature_caches
def score_rows(loaded, rows: list[dict], *, with_what_if: bool = True, detailed: bool = True):
    """Score pre-filing ``rows`` (dicts of the draft columns) with a loaded model.

    ``detailed`` adds reasons (and what-ifs when ``with_what_if``); otherwise only the
    probability and its band. Each result carries the service's category (of the one
    service taxonomy, :mod:`features.services`) and the training overturn rate of that
    category (each likely denial reason also carries ``cited_in_upheld_share``: how often
    reviewers cited it when upholding that kind of service in the training letters), and
    keeps ``source_file``, ``item_index`` and ``row`` from its input row. Detailed results
    also say whether the item belongs to a surgery (``perioperative``) and its DWC request
    category.
    """
    from features.services import service_kind
    from models.scoring.prediction import explain_items, pre_filing_frame, score_assessed
    from models.store.loading import baseline_rate

    frame = pre_filing_frame(rows)
    if detailed:
        scored = [
            s.as_dict() for s in explain_items(loaded.pipeline, frame, with_what_if=with_what_if)
        ]
    else:
        scored = score_assessed(loaded.pipeline, frame)
    citations = (loaded.baseline or {}).get("denial_citations", {})
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
        shares = citations.get(category, {})
        for reason in result.get("denial_reasons", []):
            reason["cited_in_upheld_share"] = shares.get(reason["code"])
        for key in ("source_file", "item_index", "row"):
            if key in row:
                result[key] = row[key]
    return scored
