"""Model-from-code entry point that MLflow runs when it loads the IMR outcome model."""

import mlflow.models

from models.store.serving import ImrOutcomeModel

mlflow.models.set_model(ImrOutcomeModel())
