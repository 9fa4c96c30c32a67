"""The MLflow pyfunc model: its prediction is the probability that an item is Overturned.

Logged as "models from code" (:mod:`models.store.pyfunc_model`), so nothing is pickled: the
fitted pipeline travels as a skops artifact with the exact list of types it holds, and is
loaded trusting those types only (:mod:`models.store.persistence`).

Requests are checked before scoring: a request without rows, or a row whose
``case_summary`` or ``service`` is missing, empty or not text, is refused as a whole with
:class:`RequestRefused`, an ``MlflowException`` of ``INVALID_PARAMETER_VALUE``, which
MLflow's scoring server answers with HTTP 400. The message names the rows and fields,
never their text, and carries no stack trace.
"""

from __future__ import annotations

import re

import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from models.store.persistence import load_pipeline

PIPELINE_ARTIFACT = "pipeline"
TYPES_ARTIFACT = "pipeline_types"
OUTPUT_COLUMN = "p_overturned"
REQUIRED_TEXT = ("case_summary", "service")
#: How many bad rows a refusal lists by number before it only counts them.
_LISTED_ROWS = 20


def _has_words(value) -> bool:
    return isinstance(value, str) and re.search(r"[A-Za-z]{2,}", value) is not None


def request_problems(frame: pd.DataFrame) -> list[str]:
    """What makes a request unscorable, naming rows (0-based) and fields, never values."""
    if len(frame) == 0:
        return ["the request has no rows; send at least one row with case_summary and service"]
    problems = []
    for column in REQUIRED_TEXT:
        if column not in frame.columns:
            problems.append(f"column '{column}' is missing")
            continue
        bad = [i for i, value in enumerate(frame[column].tolist()) if not _has_words(value)]
        if bad:
            listed = ", ".join(str(i) for i in bad[:_LISTED_ROWS])
            more = f" and {len(bad) - _LISTED_ROWS} more" if len(bad) > _LISTED_ROWS else ""
            problems.append(f"'{column}' is missing, empty or not text in row(s) {listed}{more}")
    return problems


class RequestRefused(MlflowException):
    """A refused request, whose message cannot be extended with the request's content.

    MLflow's scoring server rewrites the message of an ``MlflowException`` raised by a
    model as ``Failed to predict data '<the whole request>'. Error: ...``, which would send
    case summaries back in the error body (and into logs). This exception keeps the first
    message it was given and ignores later assignments.
    """

    def __init__(self, message: str):
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)

    @property
    def message(self) -> str:
        return self._refusal

    @message.setter
    def message(self, value: str) -> None:
        if not hasattr(self, "_refusal"):  # set once, by MlflowException.__init__
            self._refusal = value


class ImrOutcomeModel(mlflow.pyfunc.PythonModel):
    """Items (pre-filing columns) in, ``p_overturned`` out."""

    def load_context(self, context) -> None:
        path = context.artifacts[PIPELINE_ARTIFACT]
        listing = context.artifacts.get(TYPES_ARTIFACT)
        if listing is None:  # a model logged before type lists: the type policy alone
            import skops.io as sio

            self.pipeline = load_pipeline(path, sio.get_untrusted_types(file=path))
        else:
            from models.store.persistence import recorded_types

            self.pipeline = load_pipeline(path, recorded_types(path, listing))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        problems = request_problems(frame)
        if problems:
            raise RequestRefused("cannot score this request: " + "; ".join(problems))
        return pd.DataFrame({OUTPUT_COLUMN: self.pipeline.predict_proba(frame)[:, 1]})
