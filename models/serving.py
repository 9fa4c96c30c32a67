"""The MLflow pyfunc model: its prediction is the probability that an item is Overturned.

Logged as "models from code" (:mod:`models.pyfunc_model`), so nothing is pickled: the
fitted pipeline travels as a skops artifact and is loaded with trusted types only.
"""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd

from models.persistence import load_pipeline

PIPELINE_ARTIFACT = "pipeline"
OUTPUT_COLUMN = "p_overturned"


class ImrOutcomeModel(mlflow.pyfunc.PythonModel):
    """Items (pre-filing columns) in, ``p_overturned`` out."""

    def load_context(self, context) -> None:
        self.pipeline = load_pipeline(context.artifacts[PIPELINE_ARTIFACT])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        return pd.DataFrame({OUTPUT_COLUMN: self.pipeline.predict_proba(frame)[:, 1]})
