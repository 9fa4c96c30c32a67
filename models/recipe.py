"""The one model recipe: one scikit-learn ``Pipeline``, the guideline model.

Steps: ``features`` (:class:`features.guideline.GuidelineFeatures`: the guideline criteria
of the requested service, read from pre-filing columns only), ``scale`` and
``classifier`` (:class:`models.monotone.MonotoneLogisticRegression`: an L2 logistic
regression whose coefficients keep the sign the guideline gives them, with letter-grouped
calibration folds whose models give each item its band).

No resampling or class weights: the 1-in-9 overturn rate is real and the probabilities
must reflect it. Older comparison recipes (TF-IDF logistic regression, gradient boosting)
were retired; their figures are in the README's history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from features.criteria import FEATURES, SIGNS
from features.guideline import GuidelineFeatures
from models.monotone import MonotoneLogisticRegression

#: The recipe's name, logged as the run's ``candidate`` parameter (older runs named theirs).
RECIPE_NAME = "guideline"
#: Its calibration, logged as the run's ``calibration`` parameter.
RECIPE_CALIBRATION = "platt"
CALIBRATION_FOLDS = 5

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


def build_model(folds: int = CALIBRATION_FOLDS, *, core_only: bool = False) -> Pipeline:
    """A fresh, unfitted guideline model (``core_only``: its five strongest inputs only)."""
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


def fit_model(model: Pipeline, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> Pipeline:
    """Fit with the letter groups routed to the classifier's calibration folds."""
    return model.fit(X, y, classifier__groups=groups)


def calibration_folds(groups: np.ndarray, y: np.ndarray) -> int:
    """As many calibration folds as the data allows, at most :data:`CALIBRATION_FOLDS`."""
    positive_groups = len(set(np.asarray(groups)[np.asarray(y) == 1]))
    return max(2, min(CALIBRATION_FOLDS, positive_groups))
