"""What the model page and the meaning line say about the model, read from its MLflow run.

Read once per server (the model does not change while it serves), through the MLflow
client: the registry version and its aliases, the run's parameters, metrics and start
time, its evaluation table (``metrics.csv``), per-category metrics, and the reliability
diagram and importances chart. Artifacts are downloaded to a temporary folder, read into
memory and the folder is removed. Whatever the run lacks is simply absent; why, is kept
in ``problems`` for the page to say.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

IMAGES = ("reliability.png", "importances.png")
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")
#: metrics.csv columns, in the order the table shows them, with their headers
EVALUATION_COLUMNS = {
    "n": "items",
    "positives": "overturned",
    "roc_auc": "ROC-AUC",
    "roc_auc_fold_mean": "ROC-AUC fold mean",
    "average_precision": "average precision",
    "brier": "Brier",
    "brier_skill": "Brier skill",
    "log_loss": "log loss",
    "ece": "ECE",
}
_PREDICTOR_NAMES = {
    "model": "the model",
    "baseline_prior": "training prior",
    "baseline_category_rate": "category rate",
}
_EVALUATION_NAMES = {"cv": "letter-grouped CV", "temporal_holdout": "temporal hold-out"}
_INTERVAL_SUFFIXES = (("_ci_low", "_ci_high"), ("_low", "_high"), ("_lower", "_upper"))


@dataclass
class ModelInfo:
    """The served model's identity, training data and evaluation, as far as they are known."""

    uri: str
    run_id: str | None = None
    name: str | None = None
    version: str | None = None
    aliases: list[str] = field(default_factory=list)
    trained_at: str | None = None
    data_source: str | None = None
    candidate: str | None = None
    letters: int | None = None
    items: int | None = None
    overturned: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    #: header row, then rows of cells (strings), "value [low, high]" where intervals exist
    evaluation: list[list[str]] = field(default_factory=list)
    per_category: list[list[str]] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def synthetic(self) -> bool:
        return bool(self.data_source) and self.data_source != "real"

    def category_rates(self) -> list[tuple[str, str, int]]:
        """(category, overturn rate, items) from the run's ``baseline_rates.json``."""
        from web.present import pct

        rates = self.baseline.get("categories", {})
        rows = [(c.replace("_", " "), pct(r["rate"]), int(r["n"])) for c, r in rates.items()]
        return sorted(rows, key=lambda r: -r[2])


def _int(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _cell(row: pd.Series, column: str) -> str:
    value = row.get(column)
    if value is None or pd.isna(value):
        return ""
    if column in ("n", "positives"):
        return f"{int(value)}"
    text = f"{float(value):.3f}"
    for low, high in _INTERVAL_SUFFIXES:
        lo, hi = row.get(column + low), row.get(column + high)
        if lo is not None and hi is not None and pd.notna(lo) and pd.notna(hi):
            return f"{text} [{float(lo):.3f}, {float(hi):.3f}]"
    return text


def evaluation_rows(table: pd.DataFrame) -> list[list[str]]:
    """The evaluation table for people: known columns, intervals beside their metric."""
    columns = [c for c in EVALUATION_COLUMNS if c in table.columns]
    rows = [["evaluation", "predictor", *(EVALUATION_COLUMNS[c] for c in columns)]]
    for _, row in table.iterrows():
        evaluation = str(row.get("evaluation", ""))
        predictor = str(row.get("predictor", ""))
        rows.append(
            [
                _EVALUATION_NAMES.get(evaluation, evaluation),
                _PREDICTOR_NAMES.get(predictor, predictor),
                *(_cell(row, c) for c in columns),
            ]
        )
    return rows


def per_category_rows(table: pd.DataFrame) -> list[list[str]]:
    columns = [c for c in EVALUATION_COLUMNS if c in table.columns]
    rows = [["category", *(EVALUATION_COLUMNS[c] for c in columns)]]
    for name, row in table.iterrows():
        rows.append([str(name).replace("_", " "), *(_cell(row, c) for c in columns)])
    return rows


def _registry(client, uri: str, info: ModelInfo) -> None:
    match = _REGISTRY_URI.match(uri)
    if not match:
        return
    if match["alias"]:
        version = client.get_model_version_by_alias(match["name"], match["alias"])
    else:
        version = client.get_model_version(match["name"], match["version"])
    info.name, info.version = version.name, str(version.version)
    info.aliases = sorted(version.aliases or [])
    info.run_id = info.run_id or version.run_id


def _artifacts(run_id: str, info: ModelInfo) -> None:
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory(prefix="imr-model-page-") as tmp:
        for name in ("metrics.csv", "per_category.csv", *IMAGES):
            try:
                local = Path(
                    mlflow.artifacts.download_artifacts(
                        run_id=run_id, artifact_path=name, dst_path=tmp
                    )
                )
                data = local.read_bytes()
            except (MlflowException, OSError) as exc:
                info.problems.append(f"the run has no {name} ({type(exc).__name__})")
                continue
            if name == "metrics.csv":
                info.evaluation = evaluation_rows(pd.read_csv(io.BytesIO(data)))
            elif name == "per_category.csv":
                info.per_category = per_category_rows(pd.read_csv(io.BytesIO(data), index_col=0))
            else:
                info.images[name] = data


def read_model_info(loaded) -> ModelInfo:
    """Everything the pages show about ``loaded`` (a :class:`models.loading.LoadedModel`)."""
    info = ModelInfo(uri=loaded.uri, run_id=loaded.run_id, baseline=loaded.baseline or {})
    try:
        import mlflow
        from mlflow.exceptions import MlflowException

        from data.config import tracking_uri

        mlflow.set_tracking_uri(tracking_uri())
        client = mlflow.MlflowClient()
        try:
            _registry(client, loaded.uri, info)
        except MlflowException as exc:
            info.problems.append(f"registry details unavailable ({type(exc).__name__})")
        if not info.run_id:
            info.problems.append("the model has no MLflow run: no evaluation to show")
            return info
        run = client.get_run(info.run_id)
        params = run.data.params
        info.metrics = dict(run.data.metrics)
        info.trained_at = (
            dt.datetime.fromtimestamp(run.info.start_time / 1000, tz=dt.UTC).strftime(
                "%Y-%m-%d %H:%M UTC"
            )
            if run.info.start_time
            else None
        )
        info.data_source = run.data.tags.get("data_source") or params.get("data_source")
        info.candidate = params.get("candidate")
        info.letters, info.items = _int(params.get("letters")), _int(params.get("items"))
        info.overturned = _int(params.get("overturned"))
        _artifacts(info.run_id, info)
    except Exception as exc:  # any store or server trouble: the page must still score drafts
        log.warning("model details unavailable: %s", type(exc).__name__)
        info.problems.append(f"model details unavailable ({type(exc).__name__}: {exc})")
    return info
