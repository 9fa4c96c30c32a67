"""The MLflow pyfunc model: its prediction is the probability that an item is Overturned.

Logged as "models from code" (:mod:`models.store.pyfunc_model`), so nothing is pickled: the
fitted pipeline travels as a JSON model document of its fitted parameters
(:mod:`models.store.persistence`). Before reading it, :meth:`ImrOutcomeModel.load_context`
asks the tracking store (``MLFLOW_TRACKING_URI``, as for the ``models:/`` URI itself) for
the SHA-256 its training run recorded, and refuses a document that differs, or a model
whose run it cannot find or ask. The code that does this is the logged model's own
(MLflow runs it from the artifact store): serving trusts the artifact store's code as it
trusts this repository's, and verifies the data.

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

PIPELINE_ARTIFACT = "pipeline"
#: ``model_config`` key naming the training run whose recorded hash the document must match.
RUN_ID_CONFIG = "run_id"
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
        """Read the model document after checking it against its run's recorded SHA-256."""
        import hashlib

        from models.store.loading import recorded_pipeline_sha256
        from models.store.persistence import (
            MAX_DOCUMENT_BYTES,
            UntrustedModelError,
            load_pipeline_bytes,
        )

        path = context.artifacts[PIPELINE_ARTIFACT]
        run_id = (context.model_config or {}).get(RUN_ID_CONFIG)
        if not isinstance(run_id, str) or not re.fullmatch(r"[0-9a-f]{32}", run_id):
            raise UntrustedModelError(
                f"{path}: the logged model names no training run to verify it against; "
                "retrain with train.py"
            )
        _, expected = recorded_pipeline_sha256(run_id, mlflow.get_tracking_uri())
        with open(path, "rb") as f:
            data = f.read(MAX_DOCUMENT_BYTES + 1)
        if hashlib.sha256(data).hexdigest() != expected:
            raise UntrustedModelError(
                f"{path}: the model document does not match the SHA-256 its training run "
                f"{run_id} recorded (it was changed); not loaded. Retrain with train.py"
            )
        self.pipeline = load_pipeline_bytes(data, path)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        problems = request_problems(frame)
        if problems:
            raise RequestRefused("cannot score this request: " + "; ".join(problems))
        return pd.DataFrame({OUTPUT_COLUMN: self.pipeline.predict_proba(frame)[:, 1]})
