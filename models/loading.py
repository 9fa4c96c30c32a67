"""Load a registered model for prediction, fast, with errors that say what to do.

The first load of a model version goes through MLflow and skops (trusted types only) and
writes a local copy under ``work/model_cache`` (or ``IMR_MODEL_CACHE``); later loads of
the same version read that copy with pickle, skipping the seconds MLflow and skops spend
importing. Which version an alias points to is always asked of the registry: directly by
SQL for the embedded SQLite store, by its REST endpoint for a tracking server, through
MLflow otherwise. Any failure of that fast path falls back to the MLflow path. The cache
holds only what this program wrote from a verified skops load; delete it to drop it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import sqlite3
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from data.config import CHAMPION_ALIAS, DEFAULT_MODEL_NAME, WORK_DIR, tracking_uri

DEFAULT_MODEL_URI = f"models:/{DEFAULT_MODEL_NAME}@{CHAMPION_ALIAS}"
BASELINE_ARTIFACT = "baseline_rates.json"
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


class ModelNotFound(RuntimeError):
    """No model at the URI; the message says to run train.py."""


@dataclass
class LoadedModel:
    """The fitted pipeline, where it came from, and the training base rates."""

    uri: str
    pipeline: object
    run_id: str | None
    baseline: dict


def _not_found(uri: str, why: str) -> ModelNotFound:
    return ModelNotFound(
        f"no model at {uri} in the tracking store {tracking_uri()} ({why}); train one first: "
        "python train.py --letters PATH (or set MLFLOW_TRACKING_URI, or pass --model URI)"
    )


def _resolve_sqlite(store: str, name: str, alias: str | None, version: str | None):
    path = store.removeprefix("sqlite:///")
    if not Path(path).is_file():
        raise _not_found(f"models:/{name}", f"no store file {path}")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        if alias:
            row = db.execute(
                "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                (name, alias),
            ).fetchone()
            if row is None:
                return None
            version = str(row[0])
        row = db.execute(
            "SELECT run_id FROM model_versions WHERE name = ? AND version = ?", (name, int(version))
        ).fetchone()
    return (version, row[0]) if row else None


def _resolve_rest(store: str, name: str, alias: str | None, version: str | None):
    if alias:
        query = urllib.parse.urlencode({"name": name, "alias": alias})
        url = f"{store.rstrip('/')}/api/2.0/mlflow/registered-models/alias?{query}"
    else:
        query = urllib.parse.urlencode({"name": name, "version": version})
        url = f"{store.rstrip('/')}/api/2.0/mlflow/model-versions/get?{query}"
    with urllib.request.urlopen(url, timeout=5) as response:
        found = json.load(response)["model_version"]
    return str(found["version"]), found["run_id"]


def resolve(uri: str) -> tuple[str, str, str] | None:
    """(name, version, run_id) of a registry URI, or ``None`` when it cannot be told fast."""
    match = _REGISTRY_URI.match(uri)
    if not match:
        return None
    store = tracking_uri()
    name, alias, version = match["name"], match["alias"], match["version"]
    try:
        if store.startswith("sqlite:///"):
            found = _resolve_sqlite(store, name, alias, version)
        elif store.startswith(("http://", "https://")):
            found = _resolve_rest(store, name, alias, version)
        else:
            return None
    except ModelNotFound:
        raise
    except Exception:  # schema or server differences: let MLflow answer
        return None
    return (name, *found) if found else None


def _cache_dir(name: str, version: str, run_id: str) -> Path:
    store = hashlib.sha256(tracking_uri().encode()).hexdigest()[:12]
    root = Path(os.environ.get("IMR_MODEL_CACHE") or WORK_DIR / "model_cache")
    return root / store / f"{name}-v{version}-{run_id}"


def _load_with_mlflow(uri: str) -> LoadedModel:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    try:
        model = mlflow.pyfunc.load_model(uri)
    except Exception as exc:  # MLflow raises several types for a missing model
        raise _not_found(uri, type(exc).__name__) from exc
    pipeline = model.unwrap_python_model().pipeline
    run_id = model.metadata.run_id
    baseline = {}
    if run_id:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=BASELINE_ARTIFACT
            )
            baseline = json.loads(Path(local).read_text(encoding="utf-8"))
        except Exception:  # a run without base rates: predictions still work
            baseline = {}
    return LoadedModel(uri, pipeline, run_id, baseline)


def load(uri: str = DEFAULT_MODEL_URI, *, use_cache: bool = True) -> LoadedModel:
    """Load the model at ``uri`` and reach its scikit-learn pipeline."""
    resolved = resolve(uri) if use_cache else None
    if (
        resolved is None
        and _REGISTRY_URI.match(uri)
        and use_cache
        and tracking_uri().startswith("sqlite:///")
    ):
        raise _not_found(uri, "no such registered model or alias")
    if resolved:
        folder = _cache_dir(*resolved)
        if (folder / "pipeline.pickle").is_file():
            baseline = json.loads((folder / "baseline.json").read_text(encoding="utf-8"))
            with open(folder / "pipeline.pickle", "rb") as f:
                pipeline = pickle.load(f)
            return LoadedModel(uri, pipeline, resolved[2], baseline)
    loaded = _load_with_mlflow(uri)
    if resolved:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "pipeline.pickle.tmp"
        with open(tmp, "wb") as f:
            pickle.dump(loaded.pipeline, f, protocol=5)
        tmp.replace(folder / "pipeline.pickle")  # never a half-written cache
        (folder / "baseline.json").write_text(json.dumps(loaded.baseline), encoding="utf-8")
    return loaded


def baseline_rate(baseline: dict, category: str) -> tuple[float | None, int]:
    """(training overturn rate of the category, its item count); prior when unseen."""
    rates = baseline.get("categories", {})
    if category in rates:
        return rates[category]["rate"], rates[category]["n"]
    return baseline.get("prior"), 0
