"""P(Overturned) from the denial reasons, beside today's guideline model: repeated grouped CV.

    .venv/bin/python benchmarks/reasons_probability.py [--dataset DIR] [--repeats 5]

Issue 15, item 7. The reviewers' codes are far more numerous than the overturns (273
upheld items carry 500 codes; 34 items are overturned), so they might teach what the
overturns cannot. Here the codes are auxiliary targets: a reason model (the ranking of
:mod:`models.reasons.ranking` fitted on *every* item, overturned ones citing nothing) gives
q_k = P(the reviewer cites code k) for each code from the pre-filing draft, and P(Overturned)
comes from those chances, fitted on out-of-fold q's (inner case-grouped folds):

- ``reasons_noisy_or``: logit P(Overturned) = a + b * sum_k log(1 - q_k) (the noisy-OR
  chance that no reason is cited, calibrated);
- ``reasons_logistic``: an L2 logistic regression over the twelve logit(q_k).

Both beside the shipped ``guideline`` model, on the same folds (5-fold letter-grouped CV,
``--repeats`` fold assignments), each measure with its 95% letter-bootstrap interval, and
the paired difference to the guideline model with its interval (the same bootstrap draws).
The codes are targets only (fitted in the training folds; a test item's codes are never
read). Rule of the house: the simpler model stays unless the other wins beyond its interval.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from analysis.reason_labels import reason_labels
from data.ingest import dataset_or_shared_letters
from features.guideline import with_letter_services
from models import evaluation
from models.published_rates import published_rates
from models.reasons.ranking import RANKED_CODES, ReasonRanking, item_profiles
from models.recipe import build_model, fit_model


def _key(row) -> tuple[str, int]:
    return str(row["letter_id"]), int(row["item_index"])


class ReasonsProbability(ClassifierMixin, BaseEstimator):
    """P(Overturned) from the predicted chance that each reason is cited.

    ``labels``: {(letter_id, item_index): codes}, the reviewers' codes, read in ``fit``
    only (targets). ``layer``: ``noisy_or`` or ``logistic``."""

    def __init__(self, labels=None, layer="noisy_or", inner_folds=3, C=1.0):
        self.labels = labels
        self.layer = layer
        self.inner_folds = inner_folds
        self.C = C

    def _q(self, ranking, profiles) -> np.ndarray:
        q = np.array([[ranking.probabilities(p)[c] for c in RANKED_CODES] for p in profiles])
        return np.clip(q, 1e-4, 1 - 1e-4)

    def _features(self, q: np.ndarray) -> np.ndarray:
        if self.layer == "noisy_or":
            return np.log1p(-q).sum(axis=1, keepdims=True)
        return np.log(q / (1 - q))

    def fit(self, X: pd.DataFrame, y, groups=None):
        groups = np.asarray(groups if groups is not None else X["letter_id"]).astype(str)
        profiles = item_profiles(X)
        codes = [list((self.labels or {}).get(_key(r)) or []) for r in X.to_dict("records")]
        q = np.zeros((len(X), len(RANKED_CODES)))
        splits = min(self.inner_folds, len(set(groups)))
        for tr, te in GroupKFold(n_splits=splits).split(X, groups=groups):
            inner = ReasonRanking.fit(
                [profiles[i] for i in tr], [codes[i] for i in tr], groups[tr], every_item=True
            )
            q[te] = self._q(inner, [profiles[i] for i in te])
        self.ranking_ = ReasonRanking.fit(profiles, codes, groups, every_item=True)
        self.layer_ = LogisticRegression(C=self.C).fit(self._features(q), np.asarray(y))
        self.classes_ = self.layer_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.layer_.predict_proba(self._features(self._q(self.ranking_, item_profiles(X))))


def paired_differences(runs_a, runs_b, y, groups, *, boot=400, seed=0) -> pd.DataFrame:
    """Measure(a) - measure(b) averaged over repetitions, with a 95% letter-bootstrap
    interval from the same draws for both."""
    rng = np.random.default_rng(seed)
    _, code = np.unique(groups, return_inverse=True)
    pairs = evaluation._mixed_pairs(y, code)
    n = int(code.max()) + 1
    draws = [np.ones(n)] + [
        np.bincount(rng.integers(0, n, n), minlength=n).astype(float) for _ in range(boot)
    ]

    def diff(weights):
        values = {m: [] for m in evaluation.REPEATED_MEASURES}
        for a, b in zip(runs_a, runs_b, strict=True):
            ma = evaluation._measures(y, a.model, a.prior, a.fold, code, weights, pairs)
            mb = evaluation._measures(y, b.model, b.prior, b.fold, code, weights, pairs)
            for m in values:
                values[m].append(ma[m] - mb[m])
        return {m: float(np.nanmean(v)) for m, v in values.items()}

    point, boots = diff(draws[0]), [diff(w) for w in draws[1:]]
    rows = []
    for m in evaluation.REPEATED_MEASURES:
        low, high = np.nanpercentile([b[m] for b in boots], [2.5, 97.5])
        rows.append({"measure": m, "mean": point[m], "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def _cell(r) -> str:
    return f"{r['mean']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    items = with_letter_services(dataset_or_shared_letters(args.dataset)).reset_index(drop=True)
    codes, _ = reason_labels(items)
    labels = {_key(r): c for r, c in zip(items.to_dict("records"), codes, strict=True)}
    y, groups = evaluation.labels(items), evaluation.case_groups(items)

    def fit_plain(model, X, y, groups):
        return model.fit(X, y, groups=groups)

    published = published_rates()
    runs = {
        "guideline": evaluation.repeated_cv(
            build_model, fit_model, items, repeats=args.repeats, published=published
        ),
    }
    for layer in ("noisy_or", "logistic"):
        runs[f"reasons_{layer}"] = evaluation.repeated_cv(
            lambda layer=layer: ReasonsProbability(labels, layer),
            fit_plain,
            items,
            repeats=args.repeats,
            X=items,
            published=published,
        )
    tables = []
    for name, rcv in runs.items():
        table = rcv.table()
        if name == "guideline":
            tables.append(table[table["predictor"] != "model"])
        tables.append(table[table["predictor"] == "model"].assign(predictor=name))
    out = pd.concat(tables)
    out["cell"] = out.apply(
        lambda r: f"{r['mean']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]", axis=1
    )
    order = ["guideline", "reasons_noisy_or", "reasons_logistic", "baseline_prior"]
    order.append("baseline_category_rate")
    print("Mean [95% letter-bootstrap interval], letter-grouped 5-fold CV x", args.repeats)
    print(out.pivot(index="measure", columns="predictor", values="cell")[order].to_string())
    print("\nPaired difference to the guideline model, same folds and draws:")
    diffs = []
    for name in ("reasons_noisy_or", "reasons_logistic"):
        d = paired_differences(runs[name].runs, runs["guideline"].runs, y, groups)
        diffs.append(d.assign(predictor=f"{name} - guideline"))
    d = pd.concat(diffs)
    d["cell"] = d.apply(_cell, axis=1)
    print(d.pivot(index="measure", columns="predictor", values="cell").to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
