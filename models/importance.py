"""Global feature importances of the fitted model, by feature and by feature family.

Names always come from the pipeline's ``get_feature_names_out``. The importance of a
feature is |coefficient x its standard deviation| on the training items (the calibrated
coefficient on the standardized feature), and its direction is the coefficient's sign.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

TOWARD_OVERTURNED = "toward Overturned"
TOWARD_UPHELD = "toward Upheld"

#: Feature families, first matching prefix or substring wins (see :func:`feature_family`).
_FAMILIES = (
    ("guideline_", "guideline stance"),
    ("perioperative", "service category"),
    ("associated_procedure", "service category"),
    ("request_unspecified", "service category"),
    ("drug_monitoring", "drug monitoring"),
    ("first_line", "first-line treatment"),
    ("indication", "indication"),
    ("unrecognised", "service category"),
    ("imaging_supports", "imaging and diagnostics"),
    ("repeat_imaging", "imaging and diagnostics"),
    ("quantity_", "requested amount"),
    ("initial_trial", "requested amount"),
    ("improvement", "documented benefit"),
    ("failed_", "documented failures"),
    ("objective_", "objective findings"),
)


def feature_family(name: str) -> str:
    """The family a feature name belongs to (``case facts`` when nothing else fits)."""
    for key, family in _FAMILIES:
        if name.startswith(key) or key in name:
            return family
    return "case facts"


def feature_names(model: Pipeline) -> np.ndarray:
    """Names of the classifier's inputs, from the feature step."""
    return np.asarray(model.named_steps["features"].get_feature_names_out(), dtype=object)


def linear_coefficients(model: Pipeline) -> np.ndarray:
    """The calibrated coefficients on the feature step's output.

    The guideline model has a scaler between the features and the classifier: its
    coefficients are divided by the scaler's spread, so that ``coef x std`` is the effect
    of one standard deviation of the feature.
    """
    coef = model.steps[-1][1].coef_.ravel()
    scale = model.named_steps.get("scale")
    return coef / scale.scale_ if scale is not None else coef


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


def global_importances(model: Pipeline, items: pd.DataFrame) -> pd.DataFrame:
    """Per-feature importances on ``items`` (the training items), largest first."""
    names = feature_names(model)
    matrix = np.asarray(model.named_steps["features"].transform(items), dtype=float)
    signed = linear_coefficients(model) * matrix.std(axis=0)
    return _table(names, np.abs(signed), signed)


def family_importances(table: pd.DataFrame) -> pd.DataFrame:
    """Importances summed by family, largest first, with the net direction."""
    grouped = table.groupby("family").agg(
        importance=("importance", "sum"),
        signed_effect=("signed_effect", "sum"),
        features=("feature", "count"),
    )
    grouped["direction"] = np.where(grouped["signed_effect"] >= 0, TOWARD_OVERTURNED, TOWARD_UPHELD)
    return grouped.sort_values("importance", ascending=False).reset_index()
