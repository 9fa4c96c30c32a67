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
import threading
from dataclasses import asdict, dataclass, field
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
    #: repeated CV: header row, then per measure "mean [95% interval]" per predictor
    repeated: list[list[str]] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: whether MLflow answered (what the run lacks is then known to be lacking)
    complete: bool = False

    @property
    def synthetic(self) -> bool:
        return bool(self.data_source) and self.data_source != "real"

    def category_rates(self) -> list[tuple[str, str, int, str]]:
        """(category, overturn rate, items, rate pulled toward the published rates or "")
        from the run's ``baseline_rates.json``."""
        from web.present import pct

        rates = self.baseline.get("categories", {})
        rows = [
            (
                c.replace("_", " "),
                pct(r["rate"]),
                int(r["n"]),
                pct(r["shrunk_rate"]) if r.get("shrunk_rate") is not None else "",
            )
            for c, r in rates.items()
        ]
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


_MEASURE_NAMES = {
    "roc_auc_items": "ROC-AUC (items)",
    "roc_auc_fold_mean": "ROC-AUC fold mean",
    "roc_auc_letters": "ROC-AUC (letters)",
    "within_letter": "within-letter discrimination",
    "brier_skill": "Brier skill",
    "log_loss": "log loss",
}


def repeated_rows(table: pd.DataFrame) -> list[list[str]]:
    """Repeated CV (``repeated_cv.csv``): per measure, "mean [low, high]" per predictor."""
    predictors = list(dict.fromkeys(table["predictor"]))
    rows = [["measure", *(_PREDICTOR_NAMES.get(p, p) for p in predictors)]]
    for name in dict.fromkeys(table["measure"]):
        cells = []
        for predictor in predictors:
            found = table[(table["predictor"] == predictor) & (table["measure"] == name)]
            if found.empty or pd.isna(found.iloc[0]["mean"]):
                cells.append("")
                continue
            row = found.iloc[0]
            cell = f"{row['mean']:.3f}"
            if pd.notna(row.get("ci_low")) and pd.notna(row.get("ci_high")):
                cell += f" [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
            cells.append(cell)
        rows.append([_MEASURE_NAMES.get(name, name.replace("_", " ")), *cells])
    return rows


def _baseline(run_id: str, info: ModelInfo) -> None:
    import json

    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory(prefix="imr-model-page-") as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path="baseline_rates.json", dst_path=tmp
            )
            info.baseline = json.loads(Path(local).read_text(encoding="utf-8"))
        except (MlflowException, OSError, ValueError) as exc:
            info.problems.append(f"the run has no baseline_rates.json ({type(exc).__name__})")


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
        for name in ("metrics.csv", "repeated_cv.csv", "per_category.csv", *IMAGES):
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
            elif name == "repeated_cv.csv":
                info.repeated = repeated_rows(pd.read_csv(io.BytesIO(data)))
            elif name == "per_category.csv":
                info.per_category = per_category_rows(pd.read_csv(io.BytesIO(data), index_col=0))
            else:
                info.images[name] = data


def read_model_info(uri: str, run_id: str | None = None, baseline: dict | None = None) -> ModelInfo:
    """Everything the pages show about the model at ``uri`` (its run found by the registry
    when ``run_id`` is not given); ``baseline``: its training rates, when already loaded."""
    info = ModelInfo(uri=uri, run_id=run_id, baseline=baseline or {})
    try:
        import mlflow
        from mlflow.exceptions import MlflowException

        from settings import tracking_uri

        mlflow.set_tracking_uri(tracking_uri())
        client = mlflow.MlflowClient()
        try:
            _registry(client, uri, info)
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
        if not info.baseline:
            _baseline(info.run_id, info)
        info.complete = True
    except Exception as exc:  # any store or server trouble: the page must still score drafts
        log.warning("model details unavailable: %s", type(exc).__name__)
        info.problems.append(f"model details unavailable ({type(exc).__name__}: {exc})")
    return info


class ReadyInfo:
    """Model details already read."""

    def __init__(self, info: ModelInfo | None):
        self.info = info

    def get(self, timeout: float | None = None) -> ModelInfo | None:
        return self.info


def _cache_file(run_id: str) -> Path:
    """Where the details of a run are kept between starts (model data only, never input)."""
    import hashlib
    import os

    from settings import WORK_DIR, tracking_uri

    store = hashlib.sha256(tracking_uri().encode()).hexdigest()[:12]
    root = Path(os.environ.get("IMR_MODEL_CACHE") or WORK_DIR / "model_cache")
    return root / store / "web" / f"{run_id}.json"


#: What the signature of a kept copy of the details is for (see models.store.resolution_memo).
_SIGNED_AS = "web model details"


def save_cached(info: ModelInfo) -> None:
    """Keep ``info`` for the next start (JSON, images base64), signed with the cache key."""
    import base64
    import json

    from models.store.resolution_memo import sign
    from settings import tracking_uri

    if not info.run_id or not info.complete:  # a failed read is tried again next start
        return
    record = asdict(info)
    record["images"] = {k: base64.b64encode(v).decode() for k, v in info.images.items()}
    text = json.dumps(record)
    signature = sign(_SIGNED_AS, [tracking_uri(), info.run_id, text])
    if signature is None:  # no key of our own: nothing kept that could not be checked
        return
    path = _cache_file(info.run_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"record": text, "signature": signature}), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:  # a read-only cache only costs the next start its speed
        log.warning("cannot keep the model details in %s: %s", path.parent, exc.strerror)


def load_cached(uri: str, run_id: str | None) -> ModelInfo | None:
    """The details a previous start kept for ``run_id``, or None.

    Only a copy signed with this user's cache key for this tracking store and run is
    used: a copy planted or edited in the cache folder is ignored (with a warning) and the
    details are read from MLflow.
    """
    import base64
    import binascii
    import json

    from models.store.resolution_memo import verify
    from settings import tracking_uri

    if not run_id:
        return None
    path = _cache_file(run_id)
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        text, signature = kept["record"], kept["signature"]
    except (OSError, ValueError, TypeError, KeyError):
        return None  # absent or unreadable: read it again
    if not isinstance(text, str) or not verify(
        _SIGNED_AS, [tracking_uri(), run_id, text], signature
    ):
        log.warning("ignoring the model details in %s: their signature does not match", path)
        return None
    try:
        record = json.loads(text)
        record["images"] = {k: base64.b64decode(v) for k, v in record["images"].items()}
        info = ModelInfo(**record)
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
        return None
    info.uri = uri
    return info


class LiveInfo:
    """The model's details: at once from the last start's copy, refreshed in a thread.

    Importing MLflow and opening its store take seconds; a start with a kept copy of the
    details serves at once and replaces them when MLflow has answered. The first start
    of a model version has no copy and waits for MLflow (see :meth:`get`).
    """

    def __init__(self, loaded):
        self._info = load_cached(loaded.uri, loaded.run_id)
        self._ready = threading.Event()
        if self._info is not None:
            self._ready.set()

        def refresh():
            try:
                info = read_model_info(loaded.uri, loaded.run_id, loaded.baseline)
                save_cached(info)
                self._info = info
            finally:
                self._ready.set()

        self._thread = threading.Thread(target=refresh, name="model-info", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the refresh from MLflow to end."""
        self._thread.join(timeout)

    def get(self, timeout: float | None = 30.0) -> ModelInfo | None:
        """The details, waiting up to ``timeout`` s for the first ones; None if not there."""
        self._ready.wait(timeout)
        return self._info
