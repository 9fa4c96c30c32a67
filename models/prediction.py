"""Scoring drafts and letters: probability with a band, reasons, and what-if re-scoring.

The uncertainty band is the range of the calibration folds' models: the calibrated
classifier keeps one (classifier, calibrator) pair per letter-grouped calibration fold,
each fitted on a different 80% of the letters; their spread on an item shows how much the
probability depends on which letters trained it. It is not a confidence interval of the
true probability.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.structured import PRE_FILING_COLUMNS, explain
from models.importance import TOWARD_OVERTURNED, TOWARD_UPHELD, feature_names, linear_coefficients

#: Documentable facts a draft may lack, as sentences added to the case summary for
#: re-scoring, and the structured feature each one sets (its absence is what the check reads).
WHAT_IF_FACTS = (
    (
        "imaging report available",
        "imaging_results_available",
        "An MRI was performed and the official imaging report with its findings is available.",
    ),
    (
        "failure of conservative care documented",
        "documented_failure",
        "Conservative treatment including physical therapy and medications failed to provide "
        "relief.",
    ),
    (
        "functional improvement documented",
        "benefit_improvement",
        "Prior treatment resulted in documented functional improvement with increased "
        "activity tolerance.",
    ),
    (
        "prior therapy sessions stated",
        "prior_total_sessions",
        "Treatment to date has included 6 sessions of physical therapy.",
    ),
    (
        "return to modified work documented",
        "work_status__modified",
        "The injured worker has returned to modified duty.",
    ),
)
TOP_REASONS = 6


@dataclass
class Scored:
    """One item's probability, band, reasons and what-ifs."""

    service: str
    p_overturned: float
    p_low: float
    p_high: float
    reasons: list[dict] = field(default_factory=list)
    what_if: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(vars(self))


def feature_matrix(pipeline, items: pd.DataFrame):
    """The classifier's input for ``items`` (the pipeline's feature step)."""
    return pipeline.named_steps["features"].transform(items)


def fold_probabilities(pipeline, items: pd.DataFrame, matrix=None) -> np.ndarray:
    """P(Overturned) from each calibration fold's model: shape (folds, items)."""
    matrix = feature_matrix(pipeline, items) if matrix is None else matrix
    classifier = pipeline.named_steps["classifier"]
    return np.vstack([c.predict_proba(matrix)[:, 1] for c in classifier.calibrated_classifiers_])


def score(pipeline, items: pd.DataFrame, matrix=None) -> pd.DataFrame:
    """``p_overturned`` (the ensemble's mean) with ``p_low``/``p_high`` from the folds."""
    folds = fold_probabilities(pipeline, items, matrix)
    return pd.DataFrame(
        {
            "p_overturned": folds.mean(axis=0),
            "p_low": folds.min(axis=0),
            "p_high": folds.max(axis=0),
        },
        index=items.index,
    )


def contributions(pipeline, items: pd.DataFrame, matrix=None) -> pd.DataFrame | None:
    """Per-feature contributions to each item's log-odds (linear models; else ``None``).

    Contribution = mean fold coefficient x the item's transformed feature value. Structured
    features are centred by the scaler, so their contribution is relative to the average
    training item; a text term contributes only when the summary uses it.
    """
    coef = linear_coefficients(pipeline)
    if coef is None:
        return None
    matrix = feature_matrix(pipeline, items) if matrix is None else matrix
    values = matrix.multiply(coef).toarray() if sp.issparse(matrix) else np.asarray(matrix) * coef
    return pd.DataFrame(values, columns=feature_names(pipeline), index=items.index)


def _reasons(row_contrib: pd.Series, evidence: dict[str, dict]) -> list[dict]:
    nonzero = row_contrib[row_contrib.abs() > 1e-9]
    top = nonzero.reindex(nonzero.abs().sort_values(ascending=False).index).head(TOP_REASONS)
    reasons = []
    for name, value in top.items():
        facts = evidence.get(name, {})
        reasons.append(
            {
                "feature": name,
                "effect_log_odds": float(value),
                "direction": TOWARD_OVERTURNED if value > 0 else TOWARD_UPHELD,
                "value": facts.get("value"),
                "evidence": facts.get("evidence", [])[:3],
            }
        )
    return reasons


def what_if(
    pipeline, items: pd.DataFrame, base: np.ndarray, evidence: list[dict] | None = None
) -> list[list[dict]]:
    """For each item, the facts it lacks and how re-scoring with each one moves P.

    All modified cases are scored in one call. ``evidence`` is each item's
    :func:`features.structured.explain` output, when the caller has it already.
    """
    evidence = evidence or [explain(row.to_dict()) for _, row in items.iterrows()]
    modified, owners = [], []
    for position, (_, row) in enumerate(items.iterrows()):
        for label, feature, sentence in WHAT_IF_FACTS:
            if evidence[position].get(feature, {}).get("value"):
                continue  # the draft already documents it
            case = row.copy()
            case["case_summary"] = f"{row['case_summary']} {sentence}".strip()
            modified.append(case)
            owners.append((position, label, sentence))
    rows: list[list[dict]] = [[] for _ in range(len(items))]
    if modified:
        p = score(pipeline, pd.DataFrame(modified).reset_index(drop=True))["p_overturned"]
        for (position, label, sentence), value in zip(owners, p, strict=True):
            rows[position].append(
                {
                    "fact": label,
                    "added_text": sentence,
                    "p_overturned": float(value),
                    "change": float(value - base[position]),
                }
            )
    return [sorted(changes, key=lambda c: -abs(c["change"])) for changes in rows]


def explain_items(pipeline, items: pd.DataFrame, *, with_what_if: bool = True) -> list[Scored]:
    """Score items and attach reasons (and what-ifs)."""
    matrix = feature_matrix(pipeline, items)  # once, for the scores and the reasons
    scores = score(pipeline, items, matrix)
    contrib = contributions(pipeline, items, matrix)
    evidence = [explain(row.to_dict()) for _, row in items.iterrows()]
    base = scores["p_overturned"].to_numpy()
    changes = what_if(pipeline, items, base, evidence) if with_what_if else None
    out = []
    for position, (index, row) in enumerate(items.iterrows()):
        reasons = _reasons(contrib.loc[index], evidence[position]) if contrib is not None else []
        out.append(
            Scored(
                service=str(row.get("service", "")),
                p_overturned=float(scores.at[index, "p_overturned"]),
                p_low=float(scores.at[index, "p_low"]),
                p_high=float(scores.at[index, "p_high"]),
                reasons=reasons,
                what_if=changes[position] if changes else [],
            )
        )
    return out


def pre_filing_frame(rows: list[dict]) -> pd.DataFrame:
    """A frame of the pre-filing columns (missing ones empty), one row per item."""
    frame = pd.DataFrame(rows)
    for column in PRE_FILING_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame.loc[:, list(PRE_FILING_COLUMNS)]
