"""``GuidelineFeatures``: the guideline criteria of each requested service as numbers.

The model's first step. It reads only pre-filing columns (the case summary, the service,
the other services of the same draft, header dates, age) and returns the columns of
:data:`features.criteria.FEATURES`: a handful of meaningful numbers, each with the sign
the guideline gives it (:data:`features.criteria.SIGNS`). Nothing is learned.

Scoring assesses each item once (:func:`features.criteria.assess_items`) and reuses that
assessment for the reasons, the what-ifs and this step's numbers (:func:`matrix_of`), so
the transformer need not assess again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from features.criteria import FEATURES, Assessment, assess
from settings import PRE_FILING_COLUMNS

REQUIRED_COLUMNS = ("case_summary", "service")
#: Everything the step may read: the pre-filing columns and the draft's list of services.
INPUT_COLUMNS = (*PRE_FILING_COLUMNS, "letter_services")


def _records(X: Any) -> list[dict]:
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            "GuidelineFeatures needs a pandas DataFrame of items with the columns "
            f"{', '.join(REQUIRED_COLUMNS)}; got {type(X).__name__}"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in X.columns]
    if missing:
        raise KeyError(f"items lack the required column(s) {', '.join(missing)}")
    cols = [c for c in INPUT_COLUMNS if c in X.columns]
    return X.loc[:, cols].to_dict("records")


def with_letter_services(items: pd.DataFrame, rows: list[dict] | None = None) -> pd.DataFrame:
    """``items`` with ``letter_services``: the services requested together with each item.

    Items of one letter are those with the same ``letter_id`` (training data), else the
    same source file and case summary (drafts, letters and batch rows given to predict).
    Rows that already carry a list keep it, so a what-if's changed summary keeps its
    siblings.
    """
    out = items.copy()
    if "letter_services" in out and out["letter_services"].map(_is_list).all():
        return out
    if "letter_id" in out:
        key = out["letter_id"].astype(str)
    else:
        source = [str((r or {}).get("source_file", "")) for r in rows] if rows else [""] * len(out)
        key = pd.Series(source, index=out.index) + "\x00" + out["case_summary"].astype(str)
    services = out["service"].astype(str).groupby(key).agg(list)
    fresh = key.map(services)
    if "letter_services" in out:
        keep = out["letter_services"].map(_is_list)
        fresh = out["letter_services"].where(keep, fresh)
    out["letter_services"] = fresh
    return out


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


_MIN_ROWS_PER_JOB = 2000


def matrix_of(values: list[dict[str, float]], names: tuple[str, ...]) -> np.ndarray:
    """The feature matrix of already assessed items (their ``Assessment.values``)."""
    out = np.zeros((len(values), len(names)))
    for i, row in enumerate(values):
        out[i] = [row[name] for name in names]
    return out


def _matrix(rows: list[dict], names: tuple[str, ...]) -> np.ndarray:
    return matrix_of([assess(row).values for row in rows], names)


class GuidelineFeatures(TransformerMixin, BaseEstimator):
    """Items (a DataFrame) to the guideline-criteria matrix.

    Parameters
    ----------
    features : sequence of str or None
        Which of :data:`FEATURES` to output, in that order (None: all).
    n_jobs : int or None
        Processes for large inputs (joblib convention); rows are independent.
    """

    #: learns nothing from the items: cross-validation may extract its output once
    stateless = True

    def __init__(self, features=None, n_jobs=None):
        self.features = features
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any = None) -> GuidelineFeatures:
        """Nothing is learned; checks the input's columns and the feature names."""
        _records(X.iloc[:0] if isinstance(X, pd.DataFrame) else X)
        names = tuple(FEATURES if self.features is None else self.features)
        unknown = [n for n in names if n not in FEATURES]
        if unknown:
            raise ValueError(f"unknown feature(s) {unknown}; choose from {list(FEATURES)}")
        self.names_ = names
        self.n_features_out_ = len(names)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """A float array (n_items, len(FEATURES)); never NaN."""
        check_is_fitted(self, "n_features_out_")
        rows = _records(with_letter_services(X) if isinstance(X, pd.DataFrame) else X)
        jobs = effective_n_jobs(self.n_jobs)
        if jobs > 1 and len(rows) >= 2 * _MIN_ROWS_PER_JOB:
            chunks = np.array_split(np.arange(len(rows)), jobs)
            parts = Parallel(n_jobs=jobs)(
                delayed(_matrix)([rows[i] for i in chunk], self.names_) for chunk in chunks
            )
            return np.vstack(parts)
        return _matrix(rows, self.names_)

    def transform_assessed(self, assessments: list[Assessment]) -> np.ndarray:
        """The same output as :meth:`transform`, from items already assessed."""
        check_is_fitted(self, "n_features_out_")
        return matrix_of([a.values for a in assessments], self.names_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The criteria's names, in output order."""
        check_is_fitted(self, "n_features_out_")
        return np.asarray(self.names_, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
