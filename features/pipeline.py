"""The feature step of the model: pre-filing columns in, one numeric matrix out.

:class:`PreFilingColumns` is the leakage gate: it keeps only the columns known before
filing (:data:`features.structured.PRE_FILING_COLUMNS`), so a decision, rationale, MAXIMUS
guideline or reviewer column can never reach a later step, whatever the caller passes.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from features.structured import PRE_FILING_COLUMNS, StructuredFeatures

TEXT_COLUMNS = ("case_summary", "service")
STRUCTURED_STEP = "structured"


class PreFilingColumns(TransformerMixin, BaseEstimator):
    """Select the pre-filing columns; add absent ones as missing; text never missing."""

    def fit(self, X: pd.DataFrame, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=X.index)
        for column in PRE_FILING_COLUMNS:
            out[column] = X[column] if column in X.columns else None
        for column in TEXT_COLUMNS:
            out[column] = out[column].fillna("").astype(str)
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(PRE_FILING_COLUMNS, dtype=object)


class Weight(TransformerMixin, BaseEstimator):
    """Multiply every column by a constant: a per-block regularization strength."""

    def __init__(self, weight: float = 1.0):
        self.weight = weight

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) * self.weight

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        return np.asarray(input_features, dtype=object)


#: The case summaries of published letters are written by the IMR reviewer, whose habits
#: ("the injured worker" / "the applicant" / "the claimant", "a review of the medical
#: records indicates") identify the reviewer, and the reviewer is post-decision
#: information. These are reduced to neutral text before the summary's words are counted.
_PERSON = re.compile(
    r"\b(?:the\s+)?(?:injured\s+worker|injured\s+employee|IW|applicant|claimant|patient|"
    r"employee|worker|individual|member)(?:'s)?\b",
    re.IGNORECASE,
)
_NARRATION = re.compile(
    r"\b(?:a\s+)?review\s+of\s+the\s+(?:submitted\s+)?(?:medical\s+)?records?\s+"
    r"(?:indicates?|reveals?|shows?|notes?)\s*(?:that)?|\bmedical\s+records?\b|\brecords?\b|"
    r"\bdocumentation\b|\bdocumented\b|\bper\s+the\b|\baccording\s+to\s+the\b",
    re.IGNORECASE,
)


class ReviewerStyleNeutralizer(TransformerMixin, BaseEstimator):
    """Summary text with the writer's habitual phrasing replaced by neutral words."""

    def fit(self, X, y=None):
        return self

    def transform(self, X) -> list[str]:
        return [_NARRATION.sub(" ", _PERSON.sub(" person ", str(text))) for text in X]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(["case_summary"], dtype=object)


def _summary_text(max_features: int) -> Pipeline:
    return Pipeline([("neutral", ReviewerStyleNeutralizer()), ("tfidf", _tfidf(max_features))])


def feature_name(transformer: str, feature: str) -> str:
    """Readable output names: structured facts bare, text terms as ``summary__tfidf__word``."""
    # step names may not contain "__", so "summary_tfidf" becomes the "summary__tfidf" prefix
    if transformer == STRUCTURED_STEP:
        return feature
    return f"{transformer.replace('_', '__', 1)}__{feature}"


def _tfidf(max_features: int) -> TfidfVectorizer:
    # fixed vocabulary cap and sorted terms keep the matrix deterministic and fast
    return TfidfVectorizer(
        lowercase=True,
        ngram_range=(1, 2),
        min_df=2,
        max_df=0.9,
        max_features=max_features,
        sublinear_tf=True,
        stop_words="english",
        dtype=np.float64,
    )


def build_features(
    kind: str = "linear", *, structured_weight: float = 1.0, text_components: int = 20
) -> Pipeline:
    """The feature pipeline: pre-filing gate, then structured facts and/or text.

    ``kind="linear"``: standardized structured features times ``structured_weight`` (a
    weight below 1 is a stronger L2 penalty on them than on the text) and TF-IDF of the
    summary and the service. ``kind="summary_text"``: TF-IDF of the case summary only.
    ``kind="trees"``: raw structured features and a TruncatedSVD reduction of each TF-IDF.
    """
    if kind == "summary_text":
        columns = ColumnTransformer(
            [("summary_tfidf", _summary_text(1000), "case_summary")],
            verbose_feature_names_out=feature_name,
        )
        return Pipeline([("prefiling", PreFilingColumns()), ("columns", columns)])
    if kind == "linear":
        structured = Pipeline(
            [
                ("extract", StructuredFeatures()),
                ("scale", StandardScaler()),
                ("weight", Weight(structured_weight)),
            ]
        )
        summary = _summary_text(1000)
        service = _tfidf(300)
        sparse_threshold = 1.0
    elif kind == "trees":
        # imported here: loading it costs ~0.1 s that a text model's prediction never needs
        from sklearn.decomposition import TruncatedSVD

        structured = StructuredFeatures()
        summary = Pipeline(
            [
                ("neutral", ReviewerStyleNeutralizer()),
                ("tfidf", _tfidf(3000)),
                ("svd", TruncatedSVD(text_components, random_state=0)),
            ]
        )
        service = Pipeline(
            [("tfidf", _tfidf(500)), ("svd", TruncatedSVD(text_components // 2, random_state=0))]
        )
        sparse_threshold = 0.0
    else:
        raise ValueError(f"kind must be 'linear', 'summary_text' or 'trees', not {kind!r}")
    text_step = "tfidf" if kind == "linear" else "text"
    columns = ColumnTransformer(
        [
            (STRUCTURED_STEP, structured, list(PRE_FILING_COLUMNS)),
            (f"summary_{text_step}", summary, "case_summary"),
            (f"service_{text_step}", service, "service"),
        ],
        sparse_threshold=sparse_threshold,
        verbose_feature_names_out=feature_name,
    )
    return Pipeline([("prefiling", PreFilingColumns()), ("columns", columns)])
