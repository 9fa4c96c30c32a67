"""MLflow: log a trained model as a pyfunc, register it, and move the aliases.

Every trained model becomes a new version of the registered model. The ``champion`` alias
moves to it only when it beats the current champion on the same evaluation data; otherwise
it gets ``challenger``. Aliases, not stages (MLflow 3).

The run records the SHA-256 of the model document (the fitted parameters, JSON) so that
:mod:`models.store.loading` and the served model (:mod:`models.store.serving`) can verify
any copy before reading it, and who is running it (host, pid) so that
:func:`fail_stale_runs` can tell a killed training from a live one.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, DataType, Schema
from mlflow.types.schema import Array

import data
import features
import models
import settings
from models.store.loading import MODEL_FILES_TAG, PIPELINE_TAG
from models.store.persistence import file_sha256
from models.store.serving import OUTPUT_COLUMN, PIPELINE_ARTIFACT, RUN_ID_CONFIG
from models.store.tracking import ask, tracking_client
from settings import CHALLENGER_ALIAS, CHAMPION_ALIAS, PRE_FILING_COLUMNS

logger = logging.getLogger(__name__)

__all__ = [
    "Champion",
    "current_champion",
    "fail_stale_runs",
    "log_pyfunc_model",
    "model_signature",
    "owner_tags",
    "set_alias",
    "tracking_client",
]

OWNER_HOST_TAG = "imr.host"
OWNER_PID_TAG = "imr.pid"
FAILURE_TAG = "imr.failure"
VERSION_STATUS_TAG = "imr.status"
#: A run still RUNNING after this long is stale whoever started it (logging takes minutes).
STALE_AFTER_SECONDS = 24 * 3600

_INPUT_TYPES = {
    "age": DataType.double,
    "quantity": DataType.double,
    "partial_authorization": DataType.boolean,
    "retrospective": DataType.boolean,
}
_LIST_INPUTS = ("claims_admin_families",)


def model_signature() -> ModelSignature:
    """Inputs: the pre-filing columns; output: P.

    No column is marked required: MLflow's schema check would refuse a request without
    ``case_summary`` or ``service`` with an error quoting the request's text, so the model
    checks those itself (:func:`models.store.serving.request_problems`) and answers 400.
    """
    inputs = []
    for column in PRE_FILING_COLUMNS:
        if column in _LIST_INPUTS:
            inputs.append(ColSpec(Array(DataType.string), column, required=False))
        else:
            kind = _INPUT_TYPES.get(column, DataType.string)
            inputs.append(ColSpec(kind, column, required=False))
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


def log_pyfunc_model(pipeline_path: Path, items: pd.DataFrame, registered_name: str):
    """Log the pipeline as a models-from-code pyfunc and register a new version.

    Call inside the active run, after the model document itself was logged as a run
    artifact (training logs it with the others). Tags the run with its SHA-256
    (:data:`models.store.loading.MODEL_FILES_TAG`), which every loader checks; the logged
    model names its run (``model_config``) so the served model can ask for it.
    """
    pipeline_path = Path(pipeline_path)
    run_id = mlflow.active_run().info.run_id
    mlflow.set_tags(
        {
            PIPELINE_TAG: pipeline_path.name,
            MODEL_FILES_TAG: json.dumps({pipeline_path.name: file_sha256(pipeline_path)}),
        }
    )
    code = [str(Path(pkg.__file__).parent) for pkg in (data, features, models)]
    code.append(settings.__file__)
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=str(Path(__file__).parent / "pyfunc_model.py"),
        artifacts={PIPELINE_ARTIFACT: str(pipeline_path)},
        model_config={RUN_ID_CONFIG: run_id},
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
        "joblib",
        "pyarrow",
        "pypdfium2",
        "filelock",
    )
    return [f"{name}=={version(name)}" for name in packages]


@dataclass
class Champion:
    """The current champion's version, its run and that run's parameters and metrics.

    ``loadable`` is False for a champion whose model file this code refuses to load (saved
    by an earlier version, as a skops file or without recorded hashes): a new model
    replaces it, since predictions cannot use it.
    """

    version: str
    run_id: str
    params: dict
    metrics: dict
    loadable: bool = True


def current_champion(client: mlflow.MlflowClient, name: str) -> Champion | None:
    """The version holding the ``champion`` alias, if the model and alias exist."""
    from models.store.loading import recorded_files
    from models.store.persistence import UntrustedModelError

    try:
        version = client.get_model_version_by_alias(name, CHAMPION_ALIAS)
    except mlflow.exceptions.MlflowException:
        return None
    run = client.get_run(version.run_id)
    try:
        recorded_files(run)
        loadable = True
    except UntrustedModelError as exc:
        logger.warning(
            "the champion, %s version %s, cannot be loaded: %s", name, version.version, exc
        )
        loadable = False
    return Champion(
        str(version.version),
        version.run_id,
        dict(run.data.params),
        dict(run.data.metrics),
        loadable,
    )


def set_alias(client: mlflow.MlflowClient, name: str, version: str, promote: bool) -> str:
    """Give ``version`` the champion alias (promote) or the challenger alias."""
    alias = CHAMPION_ALIAS if promote else CHALLENGER_ALIAS
    client.set_registered_model_alias(name, alias, version)
    return alias


def owner_tags() -> dict[str, str]:
    """Tags naming the process that runs a training (for :func:`fail_stale_runs`)."""
    return {OWNER_HOST_TAG: socket.gethostname(), OWNER_PID_TAG: str(os.getpid())}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _stale_reason(run, host: str, now_ms: float) -> str | None:
    """Why a RUNNING run is left over from a dead training, or ``None`` if it may be live."""
    tags = run.data.tags
    pid = tags.get(OWNER_PID_TAG, "")
    mine = tags.get(OWNER_HOST_TAG) == host and pid.isdigit() and int(pid) != os.getpid()
    if mine and not _process_alive(int(pid)):
        return f"its training (process {pid} on {host}) ended without finishing the run"
    age = (now_ms - (run.info.start_time or now_ms)) / 1000
    if age > STALE_AFTER_SECONDS:
        return f"still RUNNING {age / 3600:.0f} h after it started"
    return None


def _mark_failed(client: mlflow.MlflowClient, run_id: str, model_name: str, reason: str) -> None:
    client.set_tag(run_id, FAILURE_TAG, f"marked FAILED by a later training: {reason}")
    client.set_terminated(run_id, status="FAILED")
    for listed in client.search_model_versions(f"run_id = '{run_id}'"):
        if listed.name != model_name:
            continue
        version = client.get_model_version(model_name, listed.version)
        if not version.aliases:
            client.set_model_version_tag(
                model_name,
                version.version,
                VERSION_STATUS_TAG,
                f"failed: its training run {run_id} did not finish ({reason})",
            )


def fail_stale_runs(client: mlflow.MlflowClient, experiment: str, model_name: str) -> list[str]:
    """Mark FAILED the runs of ``experiment`` left RUNNING by a killed training.

    A run is stale when the process that started it (tags :func:`owner_tags`) is gone from
    this host, or when it has been RUNNING for over :data:`STALE_AFTER_SECONDS`. Each
    stale run gets status FAILED and a ``imr.failure`` tag saying why; a version of
    ``model_name`` it registered that holds no alias is tagged ``imr.status`` = failed
    (kept, never deleted). Returns the stale runs' ids; a warning is logged for each.
    Raises ``TrackingUnreachable`` (naming the URI) when the store does not answer, so
    calling it first makes a training fail fast.
    """
    found = ask(f"experiment {experiment}", lambda: client.get_experiment_by_name(experiment))
    if found is None:
        return []
    running = ask(
        f"running runs of {experiment}",
        lambda: client.search_runs(
            [found.experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=500
        ),
    )
    host, now_ms, failed = socket.gethostname(), time.time() * 1000, []
    for run in running:
        reason = _stale_reason(run, host, now_ms)
        if reason is None:
            continue
        run_id = run.info.run_id
        mark = partial(_mark_failed, client, run_id, model_name, reason)
        ask(f"marking run {run_id} FAILED", mark)
        logger.warning("run %s of experiment %s marked FAILED: %s", run_id, experiment, reason)
        failed.append(run_id)
    return failed
