"""How often the likely denial reasons are the ones the reviewer gave, in grouped CV.

On the upheld items whose reviewer gave at least one code: case-grouped K-fold CV
repeated over several fold assignments; in each fold the ranking and the baseline ("the
most frequent codes of the sub-category", :func:`~models.reasons.ranking.frequency_ranking`)
are fitted on the training folds only. Measures: the first reason listed is one the
reviewer gave (``first``), one of the first three is (``top3``). Each with the mean over
repetitions and a 95% letter-bootstrap interval (cases resampled with replacement, the
same draws for both predictors, so their difference has an interval too).

What is scored is what a user sees: the reasons listed
(:func:`~models.reasons.ranking.listed_reasons`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from models.reasons.ranking import (
    Profile,
    ReasonRanking,
    frequency_ranking,
    label_counts,
    listed_reasons,
)

MEASURES = ("first", "top3")
PREDICTORS = ("ranking", "baseline_subcategory_frequency")


def _hits(order: Sequence[str], truth: set[str]) -> tuple[float, float]:
    return float(bool(order) and order[0] in truth), float(bool(truth & set(order[:3])))


@dataclass
class ReasonCV:
    """Per repetition, per test item: hits of the ranking and of the baseline."""

    groups: np.ndarray  # case of each labelled item
    hits: dict  # predictor -> array (repeats, items, 2) of (first, top3)

    def table(self, *, boot: int = 400, seed: int = 0) -> pd.DataFrame:
        """Rows per predictor and measure (and ``ranking_minus_baseline``): ``mean`` over
        repetitions, ``ci_low``/``ci_high`` (95% case bootstrap), ``seed_min``/``seed_max``
        (spread over fold assignments), ``items``, ``cases``."""
        rng = np.random.default_rng(seed)
        _, code = np.unique(self.groups, return_inverse=True)
        n_groups = int(code.max()) + 1 if len(code) else 0
        draws = [
            np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)[code]
            for _ in range(boot)
        ]
        rows = []
        series = {name: self.hits[name] for name in PREDICTORS}
        series["ranking_minus_baseline"] = self.hits[PREDICTORS[0]] - self.hits[PREDICTORS[1]]
        for name, hits in series.items():
            for m, measure in enumerate(MEASURES):
                if not hits.shape[1]:  # no item with a reviewer's code (e.g. synthetic letters)
                    rows.append({"predictor": name, "measure": measure, "items": 0, "cases": 0})
                    continue
                per_seed = hits[:, :, m].mean(axis=1)
                values = hits[:, :, m]
                boot_values = [
                    float((values * w).sum(axis=1).mean() / w.sum()) for w in draws if w.sum()
                ]
                low, high = (
                    np.percentile(boot_values, [2.5, 97.5]) if boot_values else (np.nan, np.nan)
                )
                rows.append(
                    {
                        "predictor": name,
                        "measure": measure,
                        "mean": float(per_seed.mean()),
                        "ci_low": float(low),
                        "ci_high": float(high),
                        "seed_min": float(per_seed.min()),
                        "seed_max": float(per_seed.max()),
                        "items": int(hits.shape[1]),
                        "cases": n_groups,
                    }
                )
        columns = ["predictor", "measure", "mean", "ci_low", "ci_high", "seed_min", "seed_max"]
        return pd.DataFrame(rows, columns=[*columns, "items", "cases"])


def cross_validate(
    profiles: Sequence[Profile],
    labels: Sequence[Sequence[str] | None],
    groups: Sequence[str],
    *,
    n_splits: int = 5,
    repeats: int = 5,
    seed: int = 0,
    truth: Sequence[Sequence[str] | None] | None = None,
    listing=listed_reasons,
) -> ReasonCV:
    """Grouped repeated CV of the ranking and the baseline on the labelled items.

    ``labels``: the training targets (the gold, else the tagger); ``truth``: what each test
    item is scored against (default the same labels); ``listing``: what a user is shown of
    a ranking (default :func:`~models.reasons.ranking.listed_reasons`; a variant can be
    measured the same way)."""
    truth = labels if truth is None else truth
    keep = np.array([i for i, lab in enumerate(labels) if lab and truth[i]], dtype=int)
    groups = np.asarray([str(g) for g in groups])
    out = {name: np.zeros((repeats, len(keep), 2)) for name in PREDICTORS}
    n_splits = max(2, min(n_splits, len(set(groups[keep])))) if len(keep) else 2
    for r in range(repeats if len(keep) else 0):
        splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + r)
        for train, test in splitter.split(keep, groups=groups[keep]):
            tr, te = keep[train], keep[test]
            ranking = ReasonRanking.fit(
                [profiles[i] for i in tr], [labels[i] for i in tr], groups[tr]
            )
            counts = label_counts([profiles[i] for i in tr], [labels[i] for i in tr])
            for j, i in zip(test, te, strict=True):
                listed = [c for c, _ in listing(ranking, profiles[i])]
                base = frequency_ranking(counts, profiles[i])
                gold = set(truth[i])
                out["ranking"][r, j] = _hits(listed, gold)
                out["baseline_subcategory_frequency"][r, j] = _hits(base, gold)
    return ReasonCV(groups[keep], out)
