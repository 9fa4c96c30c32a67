"""Honest evaluation: letter-grouped cross-validation, a temporal hold-out, and baselines.

Every split keeps the items of one letter together. Baselines are computed inside each
fold from that fold's training items only: the training prior, and the overturn rate of
the service's treatment category (shrunk toward the prior).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from data.config import POSITIVE_LABEL
from features.extractors import service_category
from models.candidates import LetterFolds

#: Pseudo-count that shrinks a category's overturn rate toward the training prior.
CATEGORY_SHRINKAGE = 10.0
#: Per-category metrics only where a category has this many items and 3+ of each class.
MIN_CATEGORY_ITEMS = 30
TEMPORAL_TRAIN_SHARE = 0.75
_EPS = 1e-6


def labels(items: pd.DataFrame) -> np.ndarray:
    """1 for Overturned, 0 for Upheld."""
    return (items["decision"] == POSITIVE_LABEL).to_numpy(dtype=int)


def treatment_categories(items: pd.DataFrame) -> np.ndarray:
    """The service's treatment category for each item (pre-filing: from the service text)."""
    return np.asarray([service_category(s).value for s in items["service"].fillna("")])


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """ECE with quantile (equal-count) bins, weighted by bin size."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    n_bins = max(1, min(n_bins, len(p) // 10 or 1))
    order = np.argsort(p, kind="stable")
    error = 0.0
    for chunk in np.array_split(order, n_bins):
        if len(chunk):
            error += len(chunk) * abs(p[chunk].mean() - y[chunk].mean())
    return float(error / len(p))


def metrics(y: np.ndarray, p: np.ndarray, prior_p: np.ndarray | None = None) -> dict[str, float]:
    """ROC-AUC, average precision, Brier (and skill against ``prior_p``), log loss, ECE."""
    y, p = np.asarray(y), np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    both = len(np.unique(y)) == 2
    out = {
        "n": len(y),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "average_precision": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "ece": expected_calibration_error(y, p),
    }
    if prior_p is not None:
        reference = brier_score_loss(y, np.asarray(prior_p, dtype=float))
        out["brier_skill"] = float(1 - out["brier"] / reference) if reference > 0 else float("nan")
    return out


def baseline_predictions(
    y_train: np.ndarray, cat_train: np.ndarray, cat_test: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(training prior, shrunk training overturn rate of each test item's category)."""
    prior = float(np.mean(y_train)) if len(y_train) else 0.5
    frame = pd.DataFrame({"cat": cat_train, "y": y_train}).groupby("cat")["y"].agg(["sum", "count"])
    rates = (frame["sum"] + CATEGORY_SHRINKAGE * prior) / (frame["count"] + CATEGORY_SHRINKAGE)
    category = np.asarray([rates.get(c, prior) for c in cat_test], dtype=float)
    return np.full(len(cat_test), prior), category


@dataclass
class Predictions:
    """Held-out probabilities of a model and of both baselines, aligned with the items."""

    y: np.ndarray
    model: np.ndarray
    prior: np.ndarray
    category: np.ndarray
    categories: np.ndarray
    fold: np.ndarray
    extra: dict = field(default_factory=dict)

    def table(self, name: str = "model") -> pd.DataFrame:
        """Metrics of the model and the baselines, one row each (skill against the prior).

        ``roc_auc`` pools every fold's predictions; with few positives it is biased low,
        because each fold's training prior moves against its test prevalence (the constant
        prior baseline shows the size of that bias). ``roc_auc_fold_mean`` averages the
        within-fold AUCs, which that shift cannot touch.
        """
        rows = {}
        for row, p in (
            (name, self.model),
            ("baseline_prior", self.prior),
            ("baseline_category_rate", self.category),
        ):
            rows[row] = {**metrics(self.y, p, self.prior), "roc_auc_fold_mean": self.fold_auc(p)}
        return pd.DataFrame(rows).T

    def fold_auc(self, p: np.ndarray) -> float:
        """Mean ROC-AUC within folds (folds with both classes only)."""
        aucs = [
            roc_auc_score(self.y[m], p[m])
            for k in np.unique(self.fold)
            if len(np.unique(self.y[m := self.fold == k])) == 2
        ]
        return float(np.mean(aucs)) if aucs else float("nan")

    def per_category(self) -> pd.DataFrame:
        """Model metrics per treatment category, where a category has enough items."""
        rows = {}
        for cat in sorted(set(self.categories)):
            mask = self.categories == cat
            positives = int(self.y[mask].sum())
            if mask.sum() >= MIN_CATEGORY_ITEMS and 3 <= positives <= mask.sum() - 3:
                rows[cat] = metrics(self.y[mask], self.model[mask], self.prior[mask])
        return pd.DataFrame(rows).T


def grouped_folds(y: np.ndarray, groups: np.ndarray, n_splits: int, seed: int):
    """Stratified folds that never split a letter; fewer folds if positives are scarce."""
    positive_groups = len(set(groups[y == 1]))
    n_groups = len(set(groups))
    n_splits = max(2, min(n_splits, positive_groups, n_groups))
    if n_groups > LetterFolds.STRATIFY_UP_TO:  # stratifying many letters is slow, and moot
        splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    else:
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def out_of_fold(
    build: Callable[[], Pipeline],
    fit: Callable[[Pipeline, pd.DataFrame, np.ndarray, np.ndarray], Pipeline],
    items: pd.DataFrame,
    *,
    n_splits: int = 5,
    seed: int = 0,
    progress: Callable[[], None] | None = None,
) -> Predictions:
    """Letter-grouped cross-validated probabilities for every item."""
    y, groups = labels(items), items["letter_id"].to_numpy()
    categories = treatment_categories(items)
    out = np.zeros(len(y))
    prior, category, fold_of = np.zeros(len(y)), np.zeros(len(y)), np.zeros(len(y), dtype=int)
    for k, (train, test) in enumerate(grouped_folds(y, groups, n_splits, seed)):
        model = fit(build(), items.iloc[train], y[train], groups[train])
        out[test] = model.predict_proba(items.iloc[test])[:, 1]
        prior[test], category[test] = baseline_predictions(
            y[train], categories[train], categories[test]
        )
        fold_of[test] = k
        if progress:
            progress()
    return Predictions(y, out, prior, category, categories, fold_of)


def temporal_split(items: pd.DataFrame, train_share: float = TEMPORAL_TRAIN_SHARE):
    """(train, test) index arrays: the earlier ``train_share`` of letters by decision date.

    ``None`` when too few letters carry a decision date for the split to mean anything.
    """
    dates = pd.to_datetime(items["decision_date"], errors="coerce")
    letter_dates = dates.groupby(items["letter_id"]).min().dropna().sort_values(kind="stable")
    if len(letter_dates) < 20 or letter_dates.nunique() < 2:
        return None
    cut = letter_dates.index[: round(train_share * len(letter_dates))]
    is_train = items["letter_id"].isin(set(cut)).to_numpy()
    dated = items["letter_id"].isin(set(letter_dates.index)).to_numpy()
    return np.flatnonzero(is_train), np.flatnonzero(dated & ~is_train)


def temporal_holdout(
    build: Callable[[], Pipeline],
    fit: Callable[[Pipeline, pd.DataFrame, np.ndarray, np.ndarray], Pipeline],
    items: pd.DataFrame,
) -> Predictions | None:
    """Train on the earlier letters, predict the later ones."""
    split = temporal_split(items)
    if split is None:
        return None
    train, test = split
    y, groups = labels(items), items["letter_id"].to_numpy()
    if len(set(y[train])) < 2 or len(test) == 0:
        return None
    categories = treatment_categories(items)
    model = fit(build(), items.iloc[train], y[train], groups[train])
    prior, category = baseline_predictions(y[train], categories[train], categories[test])
    p = model.predict_proba(items.iloc[test])[:, 1]
    cutoff = pd.to_datetime(items["decision_date"].iloc[test], errors="coerce").min()
    return Predictions(
        y[test],
        p,
        prior,
        category,
        categories[test],
        np.zeros(len(test), dtype=int),
        extra={
            "test_from": str(cutoff.date()) if pd.notna(cutoff) else None,
            "train_items": len(train),
            "test_items": len(test),
        },
    )
