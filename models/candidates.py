"""The model candidates: one scikit-learn ``Pipeline`` each, calibrated, with stable steps.

Steps: ``features`` (the pre-filing gate, structured facts and text, see
:mod:`features.pipeline`) then ``classifier``, a ``CalibratedClassifierCV`` whose
calibration folds are grouped by letter (items of one letter share a case summary, so an
ungrouped fold would calibrate on near-copies of its training rows). The groups reach the
calibration splitter through scikit-learn's metadata routing: fit with :func:`fit_model`.

No resampling or class weights: the 1-in-9 overturn rate is real and the probabilities
must reflect it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from features.criteria import FEATURES, SIGNS
from features.guideline import GuidelineFeatures
from features.pipeline import build_features
from models.monotone import MonotoneLogisticRegression

#: Calibration needs this many minority-class items per calibration fold before isotonic
#: regression is worth trying; below it, isotonic overfits the few positives.
MIN_POSITIVES_FOR_ISOTONIC = 200
CALIBRATION_FOLDS = 5


@dataclass(frozen=True)
class Candidate:
    """A named model family and how to build it."""

    name: str
    description: str
    build: Callable[[int, str, int], Pipeline]
    #: calibrates itself (one Platt step, or none): no calibration methods to compare
    own_calibration: bool = False


class LetterFolds(StratifiedGroupKFold):
    """Calibration folds grouped by letter; stratified only while that is cheap.

    scikit-learn's stratified group split searches every group against every fold (39 s
    of a 10k-item training); above :attr:`STRATIFY_UP_TO` letters a plain group split
    balances a 1-in-9 outcome well enough by itself.
    """

    STRATIFY_UP_TO = 2000

    def split(self, X, y=None, groups=None):
        if groups is not None and len(np.unique(groups)) > self.STRATIFY_UP_TO:
            return GroupKFold(n_splits=self.n_splits).split(X, y, groups)
        return super().split(X, y, groups)


def _calibrated(estimator, method: str, folds: int) -> CalibratedClassifierCV:
    return CalibratedClassifierCV(
        estimator, method=method, cv=LetterFolds(n_splits=folds), ensemble=True
    )


#: Weight of the standardized structured features against TF-IDF in the combined linear
#: model; 0.1 puts a 100x stronger L2 penalty on them, which on the real letters, where
#: most of them carry no signal, keeps them from drowning the text.
STRUCTURED_WEIGHT = 0.1


def build_logreg(seed: int, method: str = "sigmoid", folds: int = CALIBRATION_FOLDS) -> Pipeline:
    """L2 logistic regression on (down-weighted) structured features plus TF-IDF text."""
    classifier = LogisticRegression(C=1.0, max_iter=5000, random_state=seed)
    features = build_features("linear", structured_weight=STRUCTURED_WEIGHT)
    return Pipeline(
        [("features", features), ("classifier", _calibrated(classifier, method, folds))]
    )


def build_text_logreg(
    seed: int, method: str = "sigmoid", folds: int = CALIBRATION_FOLDS
) -> Pipeline:
    """L2 logistic regression on the TF-IDF of the case summary alone."""
    classifier = LogisticRegression(C=1.0, max_iter=5000, random_state=seed)
    features = build_features("summary_text")
    return Pipeline(
        [("features", features), ("classifier", _calibrated(classifier, method, folds))]
    )


def build_gbm(seed: int, method: str = "sigmoid", folds: int = CALIBRATION_FOLDS) -> Pipeline:
    """Gradient-boosted trees on raw structured features plus an SVD reduction of the text."""
    classifier = HistGradientBoostingClassifier(
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=7,
        min_samples_leaf=10,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )
    return Pipeline(
        [
            ("features", build_features("trees")),
            ("classifier", _calibrated(classifier, method, folds)),
        ]
    )


#: The guideline model's strongest inputs on the letters (see benchmarks/model_study.py);
#: every other criterion enters with a 100x stronger L2 penalty: the letters show little
#: of it, and a what-if should move only as far as the letters support.
CORE_FEATURES = (
    "guideline_not_recommended",
    "guideline_supported",
    "perioperative_with_surgery",
    "initial_trial_within_guideline",
    "log_items_in_letter",
)
WEAK_PENALTY = 100.0
GUIDELINE_C = 0.03
#: The penalised likelihood fit is already calibrated in the large; a Platt step on the
#: out-of-fold scores cost Brier skill on the letters (repeated CV: -0.009 with it, +0.016
#: without; benchmarks/model_study.py), so it is off. It can only flatten, never invert.
GUIDELINE_PLATT = False


def build_guideline(
    seed: int, method: str = "sigmoid", folds: int = CALIBRATION_FOLDS, *, core_only=False
) -> Pipeline:
    """Sign-constrained logistic regression on the guideline criteria, one Platt step."""
    del seed, method  # deterministic; its calibration is always the one Platt step
    names = CORE_FEATURES if core_only else FEATURES
    classifier = MonotoneLogisticRegression(
        C=GUIDELINE_C,
        signs=[SIGNS[n] for n in names],
        penalty_factors=[1.0 if n in CORE_FEATURES else WEAK_PENALTY for n in names],
        calibration_folds=folds,
        platt=GUIDELINE_PLATT,
    )
    return Pipeline(
        [
            ("features", GuidelineFeatures(features=names, n_jobs=-1)),
            ("scale", StandardScaler()),
            ("classifier", classifier),
        ]
    )


def build_guideline_core(seed: int, method: str = "sigmoid", folds: int = CALIBRATION_FOLDS):
    """The same model on its five strongest criteria only (the simpler alternative)."""
    return build_guideline(seed, method, folds, core_only=True)


CANDIDATES = {
    "guideline": Candidate(
        "guideline",
        "sign-constrained logistic regression on the service's guideline criteria",
        build_guideline,
        own_calibration=True,
    ),
    "guideline_core": Candidate(
        "guideline_core",
        "the guideline model on its five strongest criteria only",
        build_guideline_core,
        own_calibration=True,
    ),
    "logreg": Candidate("logreg", "L2 logistic regression, structured + TF-IDF text", build_logreg),
    "text_logreg": Candidate(
        "text_logreg",
        "L2 logistic regression, TF-IDF of the case summary only",
        build_text_logreg,
    ),
    "gbm": Candidate(
        "gbm", "histogram gradient boosting, structured + SVD-reduced text", build_gbm
    ),
}


def calibration_methods(y: np.ndarray, folds: int = CALIBRATION_FOLDS) -> list[str]:
    """Sigmoid always; isotonic too when every calibration fold has enough positives."""
    minority = int(min(np.sum(y == 1), np.sum(y == 0)))
    methods = ["sigmoid"]
    if minority / folds >= MIN_POSITIVES_FOR_ISOTONIC:
        methods.append("isotonic")
    return methods


def fit_model(model: Pipeline, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> Pipeline:
    """Fit with the letter groups routed to the calibration splitter."""
    if isinstance(model.steps[-1][1], MonotoneLogisticRegression):
        return model.fit(X, y, classifier__groups=groups)
    with sklearn.config_context(enable_metadata_routing=True):
        model.fit(X, y, groups=groups)
    return model


def calibration_folds(groups: np.ndarray, y: np.ndarray) -> int:
    """As many calibration folds as the data allows, at most :data:`CALIBRATION_FOLDS`."""
    positive_groups = len(set(np.asarray(groups)[np.asarray(y) == 1]))
    return max(2, min(CALIBRATION_FOLDS, positive_groups))
