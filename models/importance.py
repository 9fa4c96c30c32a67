"""Global feature importances of a fitted model, by feature and by feature family.

Names always come from the pipeline's ``get_feature_names_out``. For a linear classifier
the importance of a feature is |coefficient x its standard deviation| (the coefficient on
the standardized feature), averaged over the calibration folds' models, and its direction
is the coefficient's sign. For any other classifier it is the permutation importance
(increase in log loss) on items the model was not fitted on, and its direction is the sign
of the correlation between the feature and the predicted probability.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

TOWARD_OVERTURNED = "toward Overturned"
TOWARD_UPHELD = "toward Upheld"

#: Feature families, first matching prefix or substring wins (see :func:`feature_family`).
_FAMILIES = (
    ("summary__", "summary text"),
    ("service__", "service text"),
    ("service_cat", "service category"),
    ("service_med", "service category"),
    ("imaging_supports", "imaging and diagnostics"),
    ("repeat_imaging", "imaging and diagnostics"),
    ("request", "requested amount"),
    ("prior_", "prior therapy"),
    ("guideline_", "guideline stance"),
    ("failure", "documented failures"),
    ("benefit", "documented benefit"),
    ("improvement", "documented benefit"),
    ("failed_", "documented failures"),
    ("objective_", "objective findings"),
    ("perioperative", "service category"),
    ("initial_trial", "requested amount"),
    ("quantity_", "requested amount"),
    ("imaging", "imaging and diagnostics"),
    ("repeat_", "imaging and diagnostics"),
    ("ca_", "claims administrator"),
    ("ur_", "claims administrator"),
    ("med_", "medications in use"),
)


def feature_family(name: str) -> str:
    """The family a feature name belongs to (``case facts`` when nothing else fits)."""
    for key, family in _FAMILIES:
        if name.startswith(key) or (not key.endswith("__") and key in name):
            return family
    return "case facts"


def feature_names(model: Pipeline) -> np.ndarray:
    """Names of the classifier's inputs, from the feature step."""
    return np.asarray(model.named_steps["features"].get_feature_names_out(), dtype=object)


def fold_estimators(model: Pipeline) -> list:
    """The fitted base classifiers inside the calibrated classifier (one per fold)."""
    classifier = model.named_steps["classifier"]
    return [c.estimator for c in classifier.calibrated_classifiers_]


def linear_coefficients(model: Pipeline) -> np.ndarray | None:
    """The linear model's coefficients on the feature step's output, or ``None``.

    For the guideline model (a scaler between the features and the classifier) the
    calibrated coefficients are divided by the scaler's spread, so that ``coef x std`` is
    the effect of one standard deviation; for a calibrated ensemble, the mean over folds.
    """
    classifier = model.steps[-1][1]
    if hasattr(classifier, "calibration_"):
        coef = classifier.coef_.ravel()
        scale = model.named_steps.get("scale")
        return coef / scale.scale_ if scale is not None else coef
    estimators = fold_estimators(model)
    if not all(hasattr(e, "coef_") for e in estimators):
        return None
    return np.mean([e.coef_.ravel() for e in estimators], axis=0)


def _column_std(matrix) -> np.ndarray:
    if sp.issparse(matrix):
        matrix = matrix.tocsc()
        mean = np.asarray(matrix.mean(axis=0)).ravel()
        mean_sq = np.asarray(matrix.multiply(matrix).mean(axis=0)).ravel()
        return np.sqrt(np.maximum(mean_sq - mean**2, 0))
    return np.asarray(matrix, dtype=float).std(axis=0)


def _table(names, importance, signed) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "feature": names,
            "family": [feature_family(n) for n in names],
            "importance": importance,
            "signed_effect": signed,
            "direction": np.where(np.asarray(signed) >= 0, TOWARD_OVERTURNED, TOWARD_UPHELD),
        }
    )
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def global_importances(
    model: Pipeline, items: pd.DataFrame, y: np.ndarray | None = None, *, seed: int = 0
) -> pd.DataFrame:
    """Per-feature importances, largest first.

    ``items`` are the items to measure on: for a linear model, any representative sample
    (the training items) to standardize by; for any other model they must be held out
    from its fit, with labels ``y``.
    """
    names = feature_names(model)
    matrix = model.named_steps["features"].transform(items)
    coef = linear_coefficients(model)
    if coef is not None:
        signed = coef * _column_std(matrix)
        return _table(names, np.abs(signed), signed)
    if y is None:
        raise ValueError("permutation importance needs held-out labels y")
    dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix, dtype=float)
    result = permutation_importance(
        model.named_steps["classifier"],
        dense,
        y,
        scoring="neg_log_loss",
        n_repeats=3,
        random_state=seed,
    )
    p = model.named_steps["classifier"].predict_proba(dense)[:, 1]
    direction = np.array([_corr(dense[:, j], p) for j in range(dense.shape[1])])
    importance = np.maximum(result.importances_mean, 0)
    return _table(names, importance, np.sign(direction) * importance)


def _corr(x: np.ndarray, p: np.ndarray) -> float:
    if np.std(x) == 0 or np.std(p) == 0:
        return 0.0
    return float(np.corrcoef(x, p)[0, 1])


def family_importances(table: pd.DataFrame) -> pd.DataFrame:
    """Importances summed by family, largest first, with the net direction."""
    grouped = table.groupby("family").agg(
        importance=("importance", "sum"),
        signed_effect=("signed_effect", "sum"),
        features=("feature", "count"),
    )
    grouped["direction"] = np.where(grouped["signed_effect"] >= 0, TOWARD_OVERTURNED, TOWARD_UPHELD)
    return grouped.sort_values("importance", ascending=False).reset_index()
