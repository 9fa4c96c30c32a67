"""MLflow: log a trained model as a pyfunc, register it, and move the aliases.

Every trained model becomes a new version of the registered model. The ``champion`` alias
moves to it only when it beats the current champion on the same evaluation data; otherwise
it gets ``challenger``. Aliases, not stages (MLflow 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, DataType, Schema
from mlflow.types.schema import Array

import data
import features
import models
from data.config import CHALLENGER_ALIAS, CHAMPION_ALIAS
from features.structured import PRE_FILING_COLUMNS
from models.serving import OUTPUT_COLUMN, PIPELINE_ARTIFACT

REQUIRED_INPUTS = ("case_summary", "service")
_INPUT_TYPES = {
    "age": DataType.double,
    "quantity": DataType.double,
    "partial_authorization": DataType.boolean,
    "retrospective": DataType.boolean,
}
_LIST_INPUTS = ("claims_admin_families",)


def model_signature() -> ModelSignature:
    """Inputs: the pre-filing columns (only summary and service required); output: P."""
    inputs = []
    for column in PRE_FILING_COLUMNS:
        required = column in REQUIRED_INPUTS
        if column in _LIST_INPUTS:
            inputs.append(ColSpec(Array(DataType.string), column, required=required))
        else:
            inputs.append(ColSpec(_INPUT_TYPES.get(column, DataType.string), column, required))
    return ModelSignature(
        inputs=Schema(inputs), outputs=Schema([ColSpec(DataType.double, OUTPUT_COLUMN)])
    )


def input_example(items: pd.DataFrame) -> pd.DataFrame:
    """Two real rows of pre-filing columns, typed as the signature says."""
    example = items.loc[:, [c for c in PRE_FILING_COLUMNS if c in items.columns]].head(2).copy()
    for column in _LIST_INPUTS:
        if column in example:
            example[column] = example[column].map(lambda v: list(v) if v is not None else [])
    for column, kind in _INPUT_TYPES.items():
        if column in example:
            if kind == DataType.boolean:
                example[column] = example[column].fillna(False).astype(bool)
            else:
                example[column] = pd.to_numeric(example[column], errors="coerce").astype(float)
    return example.reset_index(drop=True)


def log_pyfunc_model(skops_path: Path, items: pd.DataFrame, registered_name: str):
    """Log the pipeline as a models-from-code pyfunc and register a new version."""
    code = [str(Path(pkg.__file__).parent) for pkg in (data, features, models)]
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=str(Path(models.__file__).parent / "pyfunc_model.py"),
        artifacts={PIPELINE_ARTIFACT: str(skops_path)},
        code_paths=code,
        signature=model_signature(),
        input_example=input_example(items),
        registered_model_name=registered_name,
        pip_requirements=pip_requirements(),
    )


def pip_requirements() -> list[str]:
    """The serving environment, pinned to what trained the model.

    Given explicitly because MLflow's inference of it starts a subprocess that loads the
    model, several seconds per training.
    """
    from importlib.metadata import version

    packages = (
        "mlflow",
        "scikit-learn",
        "scipy",
        "numpy",
        "pandas",
        "skops",
        "joblib",
        "pyarrow",
        "pypdfium2",
        "filelock",
    )
    return [f"{name}=={version(name)}" for name in packages]


@dataclass
class Champion:
    """The current champion's version, its run and that run's parameters and metrics."""

    version: str
    run_id: str
    params: dict
    metrics: dict


def current_champion(client: mlflow.MlflowClient, name: str) -> Champion | None:
    """The version holding the ``champion`` alias, if the model and alias exist."""
    try:
        version = client.get_model_version_by_alias(name, CHAMPION_ALIAS)
    except mlflow.exceptions.MlflowException:
        return None
    run = client.get_run(version.run_id)
    return Champion(
        str(version.version), version.run_id, dict(run.data.params), dict(run.data.metrics)
    )


def set_alias(client: mlflow.MlflowClient, name: str, version: str, promote: bool) -> str:
    """Give ``version`` the champion alias (promote) or the challenger alias."""
    alias = CHAMPION_ALIAS if promote else CHALLENGER_ALIAS
    client.set_registered_model_alias(name, alias, version)
    return alias
