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
from sklearn.base import clone
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from features.services import service_kind
from models.published_rates import shrunk_rate
from settings import POSITIVE_LABEL

#: Per-category metrics only where a category has this many items and 3+ of each class.
MIN_CATEGORY_ITEMS = 30
TEMPORAL_TRAIN_SHARE = 0.75
_EPS = 1e-6


#: Above this many letters a plain group split is used: scikit-learn's stratified group
#: split searches every group against every fold (39 s of a 10k-item training), and with
#: thousands of letters a 1-in-9 outcome balances itself well enough.
STRATIFY_UP_TO = 2000


def labels(items: pd.DataFrame) -> np.ndarray:
    """1 for Overturned, 0 for Upheld."""
    return (items["decision"] == POSITIVE_LABEL).to_numpy(dtype=int)


def case_groups(items: pd.DataFrame) -> np.ndarray:
    """What every split keeps together: the case (``case_group``: the case number, so that
    two versions of one case never sit in two folds), else the letter."""
    column = "case_group" if "case_group" in items else "letter_id"
    return items[column].astype(str).to_numpy()


def treatment_categories(items: pd.DataFrame, level: str = "category") -> np.ndarray:
    """The service's treatment category (or ``level="subcategory"``) for each item, from
    the one service taxonomy (pre-filing: from the service text)."""
    return np.asarray([getattr(service_kind(s), level) for s in items["service"].fillna("")])


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
    y_train: np.ndarray,
    cat_train: np.ndarray,
    cat_test: np.ndarray,
    published: dict[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(training prior, shrunk training overturn rate of each test item's category).

    A category's rate is shrunk toward its published rate (``published``, see
    :mod:`models.published_rates`) where one exists, else toward the training prior.
    """
    prior = float(np.mean(y_train)) if len(y_train) else 0.5
    published = published or {}
    frame = pd.DataFrame({"cat": cat_train, "y": y_train}).groupby("cat")["y"].agg(["sum", "count"])

    def rate(category: str) -> float:
        target = published.get(category, prior)
        if category not in frame.index:
            return target
        row = frame.loc[category]
        return shrunk_rate(row["sum"], row["count"], target)

    category = np.asarray([rate(c) for c in cat_test], dtype=float)
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
    if n_groups > STRATIFY_UP_TO:  # stratifying many letters is slow, and moot
        splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    else:
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def features_once(build: Callable[[], Pipeline], items: pd.DataFrame):
    """``(build, X)`` for cross-validation that extracts features once, not once per fold.

    When the pipeline's first step is stateless (it learns nothing from the items, as
    ``GuidelineFeatures``), its output for every item is computed here once and the
    builder returned builds the rest of the pipeline; otherwise ``(build, items)``.
    """
    first = build().steps[0][1]
    if not getattr(first, "stateless", False):
        return build, items
    matrix = clone(first).fit(items).transform(items)
    return (lambda: build()[1:]), matrix


def _rows(X, index: np.ndarray):
    return X.iloc[index] if isinstance(X, pd.DataFrame) else X[index]


def out_of_fold(
    build: Callable[[], Pipeline],
    fit: Callable[[Pipeline, pd.DataFrame, np.ndarray, np.ndarray], Pipeline],
    items: pd.DataFrame,
    *,
    n_splits: int = 5,
    seed: int = 0,
    progress: Callable[[], None] | None = None,
    X=None,
    published: dict[str, float] | None = None,
    level: str = "category",
) -> Predictions:
    """Letter-grouped cross-validated probabilities for every item.

    ``X``: what the models are fitted on, when not ``items`` (see :func:`features_once`).
    ``level``: the rate baseline looks up the service's ``category`` or ``subcategory``.
    """
    X = items if X is None else X
    y, groups = labels(items), case_groups(items)
    categories = treatment_categories(items, level)
    out = np.zeros(len(y))
    prior, category, fold_of = np.zeros(len(y)), np.zeros(len(y)), np.zeros(len(y), dtype=int)
    for k, (train, test) in enumerate(grouped_folds(y, groups, n_splits, seed)):
        model = fit(build(), _rows(X, train), y[train], groups[train])
        out[test] = model.predict_proba(_rows(X, test))[:, 1]
        prior[test], category[test] = baseline_predictions(
            y[train], categories[train], categories[test], published
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
    groups = pd.Series(case_groups(items), index=items.index)
    letter_dates = dates.groupby(groups).min().dropna().sort_values(kind="stable")
    if len(letter_dates) < 20 or letter_dates.nunique() < 2:
        return None
    cut = letter_dates.index[: round(train_share * len(letter_dates))]
    is_train = groups.isin(set(cut)).to_numpy()
    dated = groups.isin(set(letter_dates.index)).to_numpy()
    return np.flatnonzero(is_train), np.flatnonzero(dated & ~is_train)


def temporal_holdout(
    build: Callable[[], Pipeline],
    fit: Callable[[Pipeline, pd.DataFrame, np.ndarray, np.ndarray], Pipeline],
    items: pd.DataFrame,
    X=None,
    published: dict[str, float] | None = None,
) -> Predictions | None:
    """Train on the earlier letters, predict the later ones (``X`` as in :func:`out_of_fold`)."""
    X = items if X is None else X
    split = temporal_split(items)
    if split is None:
        return None
    train, test = split
    y, groups = labels(items), case_groups(items)
    if len(set(y[train])) < 2 or len(test) == 0:
        return None
    categories = treatment_categories(items)
    model = fit(build(), _rows(X, train), y[train], groups[train])
    prior, category = baseline_predictions(y[train], categories[train], categories[test], published)
    p = model.predict_proba(_rows(X, test))[:, 1]
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


# ------------------------------------------------------------ repeated CV with intervals
#: Measures reported by :func:`repeated_cv`, each with a letter-bootstrap 95% interval.
REPEATED_MEASURES = (
    "roc_auc_items",
    "roc_auc_fold_mean",
    "roc_auc_letters",
    "within_letter",
    "brier_skill",
    "log_loss",
)


def within_letter_discrimination(
    y: np.ndarray,
    p: np.ndarray,
    groups: np.ndarray,
    letter_weight: np.ndarray | None = None,
    pairs: tuple | None = None,
) -> float:
    """In letters with both decisions: how often an overturned item outranks an upheld one.

    Ties count one half; NaN when no letter has mixed decisions. A model that ignores the
    service scores exactly 0.5 here, whatever its AUC. ``letter_weight`` (per letter code
    of ``np.unique(groups, return_inverse=True)``) weighs letters, for the bootstrap;
    ``pairs`` is :func:`_mixed_pairs` computed once by a caller that asks many times.
    """
    pos_i, neg_i, letter = (
        _mixed_pairs(np.asarray(y), np.asarray(groups)) if pairs is None else pairs
    )
    if not len(pos_i):
        return float("nan")
    w = np.ones(len(pos_i)) if letter_weight is None else letter_weight[letter]
    diff = p[pos_i] - p[neg_i]
    total = w.sum()
    return float(((diff > 0) * w + 0.5 * (diff == 0) * w).sum() / total) if total else float("nan")


def _mixed_pairs(y: np.ndarray, groups: np.ndarray):
    """(overturned item, upheld item, letter code) for every pair inside a mixed letter."""
    _, code = np.unique(groups, return_inverse=True)
    pos_i, neg_i, letter = [], [], []
    order = np.argsort(code, kind="stable")
    bounds = np.flatnonzero(np.diff(code[order])) + 1
    for members in np.split(order, bounds):
        pos, neg = members[y[members] == 1], members[y[members] == 0]
        if len(pos) and len(neg):
            pos_i.append(np.repeat(pos, len(neg)))
            neg_i.append(np.tile(neg, len(pos)))
            letter.append(np.full(len(pos) * len(neg), code[members[0]]))
    if not pos_i:
        return np.array([], int), np.array([], int), np.array([], int)
    return np.concatenate(pos_i), np.concatenate(neg_i), np.concatenate(letter)


def _weighted_auc(y, p, w) -> float:
    """Weighted ROC-AUC (ties count one half), by ranks: the bootstrap calls it thousands
    of times, where scikit-learn's input checks would dominate."""
    pos_w, neg_w = w * (y == 1), w * (y == 0)
    total_pos, total_neg = pos_w.sum(), neg_w.sum()
    if total_pos == 0 or total_neg == 0:
        return float("nan")
    values, inverse = np.unique(p, return_inverse=True)
    pos_at = np.bincount(inverse, weights=pos_w, minlength=len(values))
    neg_at = np.bincount(inverse, weights=neg_w, minlength=len(values))
    neg_below = np.cumsum(neg_at) - neg_at
    return float((pos_at * (neg_below + 0.5 * neg_at)).sum() / (total_pos * total_neg))


def _measures(y, p, prior, fold, code, letter_weight, pairs=None) -> dict[str, float]:
    """Every repeated-CV measure, with letters weighted (1 each, or bootstrap counts)."""
    w = letter_weight[code]
    fold_aucs = [
        a
        for k in np.unique(fold)
        if not np.isnan(a := _weighted_auc(y[fold == k], p[fold == k], w[fold == k]))
    ]
    n_letters = len(letter_weight)
    letter_y = np.bincount(code, weights=y, minlength=n_letters) > 0
    letter_q = np.bincount(code, weights=np.log1p(-np.clip(p, 0, 1 - _EPS)), minlength=n_letters)
    pc = np.clip(p, _EPS, 1 - _EPS)
    ref = np.average((prior - y) ** 2, weights=w)
    brier = np.average((p - y) ** 2, weights=w)
    return {
        "roc_auc_items": _weighted_auc(y, p, w),
        "roc_auc_fold_mean": float(np.mean(fold_aucs)) if fold_aucs else float("nan"),
        "roc_auc_letters": _weighted_auc(letter_y.astype(int), 1 - np.exp(letter_q), letter_weight),
        "within_letter": within_letter_discrimination(y, p, code, letter_weight, pairs),
        "brier_skill": float(1 - brier / ref) if ref > 0 else float("nan"),
        "log_loss": float(-np.average(y * np.log(pc) + (1 - y) * np.log(1 - pc), weights=w)),
    }


@dataclass
class RepeatedCV:
    """Out-of-fold predictions of several CV repetitions (one row per repetition)."""

    y: np.ndarray
    groups: np.ndarray
    runs: list[Predictions]

    def table(self, *, boot: int | None = None, seed: int = 0) -> pd.DataFrame:
        """Per predictor and measure: mean over repetitions, 95% letter-bootstrap interval.

        ``boot`` draws (default 400; 100 above 20,000 items). Each resamples letters with
        replacement (as letter weights) and
        averages the measure over the repetitions; ``seed_min``/``seed_max`` show the
        spread between the repetitions (fold assignments) themselves.
        """
        if boot is None:  # intervals narrow with size; keep the time to a few seconds
            boot = 400 if len(self.y) <= 20_000 else 100
        rng = np.random.default_rng(seed)
        _, code = np.unique(self.groups, return_inverse=True)
        pairs = _mixed_pairs(self.y, code)
        n_letters = int(code.max()) + 1
        ones = np.ones(n_letters)
        draws = [
            np.bincount(rng.integers(0, n_letters, n_letters), minlength=n_letters).astype(float)
            for _ in range(boot)
        ]
        rows = []
        for name, attr in (
            ("model", "model"),
            ("baseline_prior", "prior"),
            ("baseline_category_rate", "category"),
        ):

            def measure(r, weights, attr=attr):
                return _measures(self.y, getattr(r, attr), r.prior, r.fold, code, weights, pairs)

            per_run = [measure(r, ones) for r in self.runs]
            boot_values = {m: [] for m in REPEATED_MEASURES}
            for weights in draws:
                values = [measure(r, weights) for r in self.runs]
                for m in REPEATED_MEASURES:
                    boot_values[m].append(np.nanmean([v[m] for v in values]))
            for m in REPEATED_MEASURES:
                seeds = [v[m] for v in per_run]
                low, high = np.nanpercentile(boot_values[m], [2.5, 97.5]) if boot else (np.nan,) * 2
                rows.append(
                    {
                        "predictor": name,
                        "measure": m,
                        "mean": float(np.nanmean(seeds)),
                        "ci_low": float(low),
                        "ci_high": float(high),
                        "seed_min": float(np.nanmin(seeds)),
                        "seed_max": float(np.nanmax(seeds)),
                    }
                )
        return pd.DataFrame(rows)


def repeated_cv(
    build: Callable[[], Pipeline],
    fit: Callable[[Pipeline, pd.DataFrame, np.ndarray, np.ndarray], Pipeline],
    items: pd.DataFrame,
    *,
    n_splits: int = 5,
    repeats: int = 5,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    X=None,
    published: dict[str, float] | None = None,
    level: str = "category",
) -> RepeatedCV:
    """Letter-grouped ``n_splits``-fold CV repeated with ``repeats`` fold assignments
    (``level``: of the rate baseline, as in :func:`out_of_fold`)."""
    if X is None:
        build, X = features_once(build, items)
    runs = []
    for r in range(repeats):
        if progress:
            progress(f"cross-validation repeat {r + 1}/{repeats}")
        runs.append(
            out_of_fold(
                build,
                fit,
                items,
                n_splits=n_splits,
                seed=seed + r,
                X=X,
                published=published,
                level=level,
            )
        )
    return RepeatedCV(labels(items), case_groups(items), runs)
