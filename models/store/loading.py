"""Load a registered model for prediction: verified, never unpickled, with clear errors.

Only registry URIs are loaded (``models:/NAME@ALIAS``, ``models:/NAME/VERSION``): a model
folder or ``runs:/`` URI is refused (:func:`check_model_uri`), because MLflow would run
the folder's code to load it. Which version an alias names, its training run and the
SHA-256 that run recorded of its model document are asked of the tracking store through
the public MLflow client (:func:`resolve`). The document is kept in a local cache
(``work/model_cache`` or ``IMR_MODEL_CACHE``) so later predictions skip the artifact
download. A cached file is used only when its SHA-256 equals the one recorded in the run
(tag :data:`MODEL_FILES_TAG`); one that differs (changed, truncated, empty) is fetched
again from the artifact store, with a warning. :func:`load_resolved` then reads it into
memory, checks its hash once more and builds the pipeline from its fitted parameters
(:mod:`models.store.persistence`). Nothing is unpickled, nothing in the document is run,
and nothing else placed in the cache folder is read.

Speed: importing MLflow and opening a SQLite store costs about 2.5 s of CPU, more than
the prediction. While a local store's file is unchanged its answer cannot change, so the
answer is remembered, signed, beside the cache (:mod:`models.store.resolution_memo`); when the
store must be asked, :class:`PendingLoad` does it in a child process while the caller
imports and reads its input (``predict.py``).

Models trained before the document format (a skops file, or no recorded hashes) are
refused with a message to retrain: loading them would run their code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from models.store.persistence import UntrustedModelError
from models.store.resolution_memo import recall, remember, store_identity
from models.store.tracking import NotInStore, TrackingUnreachable, ask, tracking_client
from settings import CHAMPION_ALIAS, DEFAULT_MODEL_NAME, REPO_ROOT, WORK_DIR, tracking_uri

logger = logging.getLogger(__name__)

DEFAULT_MODEL_URI = f"models:/{DEFAULT_MODEL_NAME}@{CHAMPION_ALIAS}"
BASELINE_ARTIFACT = "baseline_rates.json"
#: Run tag holding {artifact file name: SHA-256} of the model files (see models.store.registry).
MODEL_FILES_TAG = "imr.model_files"
#: Run tag naming which of those files is the model document.
PIPELINE_TAG = "imr.pipeline_artifact"
#: Upper bound on the child process that asks the store (HTTP waits are bounded inside it).
RESOLVE_TIMEOUT_SECONDS = 120
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")

__all__ = [
    "DEFAULT_MODEL_URI",
    "LoadedModel",
    "ModelNotFound",
    "PendingLoad",
    "Resolved",
    "TrackingUnreachable",
    "baseline_rate",
    "check_model_uri",
    "load",
    "load_resolved",
    "resolve",
]


class ModelNotFound(RuntimeError):
    """No model at the URI; the message says to run train.py."""


class ModelURIRefused(UntrustedModelError):
    """Not a registry URI: a model folder (or ``runs:/`` URI) would run its own code."""


def check_model_uri(uri: str) -> str:
    """``uri`` if it is a registry URI, else :class:`ModelURIRefused` saying why."""
    if _REGISTRY_URI.match(uri):
        return uri
    raise ModelURIRefused(
        f"{uri[:200]!a} is not a registry URI, and only those are loaded (models:/NAME@ALIAS or "
        "models:/NAME/VERSION, e.g. models:/imr-outcome@champion). A model folder is code: "
        "MLflow would run its pyfunc_model.py and its copy of the packages. Register the "
        "model with train.py and give its URI"
    )


@dataclass
class LoadedModel:
    """The fitted pipeline, where it came from, and the training base rates."""

    uri: str
    pipeline: object
    run_id: str | None
    baseline: dict


@dataclass
class Resolved:
    """What the tracking store says about a model URI, with its files verified in the cache."""

    uri: str
    run_id: str
    version: str
    files: dict[str, str]
    pipeline_file: str
    folder: str
    baseline: dict = field(default_factory=dict)


def _not_found(uri: str, why: str) -> ModelNotFound:
    return ModelNotFound(
        f"no model at {uri} in the tracking store {tracking_uri()} ({why}); train one first: "
        "python train.py --letters PATH (or set MLFLOW_TRACKING_URI, or pass --model URI)"
    )


def _store_dir() -> Path:
    """The cache folder of the current tracking store."""
    store = hashlib.sha256(tracking_uri().encode()).hexdigest()[:12]
    return Path(os.environ.get("IMR_MODEL_CACHE") or WORK_DIR / "model_cache") / store


def _cache_dir(name: str, version: str, run_id: str) -> Path:
    return _store_dir() / f"{name}-v{version}-{run_id}"


class CacheChanged(UntrustedModelError):
    """A cached model file went missing or changed after it was verified."""


def _check_store_exists(uri: str) -> None:
    """``ModelNotFound`` for a SQLite store that does not exist (MLflow would create it)."""
    store = tracking_uri()
    if store.startswith("sqlite:///") and not Path(store.removeprefix("sqlite:///")).is_file():
        raise _not_found(uri, f"no store file {store.removeprefix('sqlite:///')}")


def _model_version(client, uri: str, name: str, alias: str | None, version: str | None):
    """The registry's answer for ``uri`` (public client), or ``ModelNotFound``."""
    try:
        if alias:
            return ask(
                f"which version is {name}@{alias}",
                lambda: client.get_model_version_by_alias(name, alias),
            )
        return ask(
            f"model {name} version {version}", lambda: client.get_model_version(name, version)
        )
    except NotInStore as exc:
        raise _not_found(uri, str(exc)) from exc


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def recorded_files(run) -> tuple[str, dict[str, str]]:
    """(the model document's name, {artifact file: SHA-256}) recorded by the training run.

    :class:`UntrustedModelError` for a run without them, or whose model file is not a JSON
    model document (trained before this format: its loading would run code).
    """
    run_id = run.info.run_id
    try:
        files = json.loads(run.data.tags.get(MODEL_FILES_TAG) or "null")
    except json.JSONDecodeError:
        files = None
    pipeline = run.data.tags.get(PIPELINE_TAG)
    if (
        not isinstance(files, dict)
        or pipeline not in files
        or not all(isinstance(k, str) and _SHA256.match(str(v)) for k, v in files.items())
    ):
        raise UntrustedModelError(
            f"run {run_id} recorded no SHA-256 of its model files (tags {MODEL_FILES_TAG}, "
            f"{PIPELINE_TAG}): it was trained by an older version; retrain with train.py"
        )
    if not pipeline.endswith(".json") or "/" in pipeline or pipeline.startswith("."):
        raise UntrustedModelError(
            f"run {run_id} saved its model as {pipeline[:100]!a}, a format of earlier "
            "versions that can call functions when loaded; model files are JSON documents "
            "now: retrain with train.py"
        )
    return pipeline, files


def recorded_pipeline_sha256(run_id: str, uri: str | None = None) -> tuple[str, str]:
    """(model document name, its SHA-256) as run ``run_id`` recorded them, asked of the
    tracking store ``uri`` (default: ``MLFLOW_TRACKING_URI``)."""
    client = tracking_client(uri)
    try:
        run = ask(f"run {run_id}", lambda: client.get_run(run_id), uri)
    except NotInStore as exc:
        raise UntrustedModelError(
            f"cannot verify the model: its run {run_id} is not in the tracking store "
            f"{uri or tracking_uri()}; set MLFLOW_TRACKING_URI to the store that trained it"
        ) from exc
    pipeline, files = recorded_files(run)
    return pipeline, files[pipeline]


def _fetch(run_id: str, name: str, expected: str, folder: Path) -> Path:
    """Download ``name`` from the run's artifacts into ``folder``, checking its hash."""
    import mlflow.artifacts

    from models.store.persistence import file_sha256

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        try:
            local = ask(
                f"artifact {name} of run {run_id}",
                lambda: mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=name, dst_path=tmp, tracking_uri=tracking_uri()
                ),
            )
        except NotInStore as exc:
            raise UntrustedModelError(
                f"artifact {name} of run {run_id} is missing from the artifact store; "
                "retrain with train.py"
            ) from exc
        if file_sha256(local) != expected:
            raise UntrustedModelError(
                f"artifact {name} of run {run_id} does not match the SHA-256 its training "
                "recorded: the artifact store's copy was changed; retrain with train.py"
            )
        os.replace(local, folder / name)  # atomic: never a half-written cache file
    return folder / name


def _verified_files(run_id: str, files: dict[str, str], folder: Path) -> None:
    """Make each recorded file in ``folder`` match its hash, fetching it again if not."""
    from models.store.persistence import file_sha256

    for name, expected in files.items():
        path = folder / name
        if path.is_file() and not path.is_symlink() and file_sha256(path) == expected:
            continue
        if path.exists() or path.is_symlink():
            logger.warning(
                "model cache file %s does not match the SHA-256 recorded in run %s "
                "(changed, truncated or empty); fetching it again from the artifact store",
                path,
                run_id,
            )
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        _fetch(run_id, name, expected, folder)


def _baseline(run_id: str) -> dict:
    """The run's training base rates (empty when the run has none: predictions still work)."""
    import mlflow.artifacts

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = ask(
                f"artifact {BASELINE_ARTIFACT} of run {run_id}",
                lambda: mlflow.artifacts.download_artifacts(
                    run_id=run_id,
                    artifact_path=BASELINE_ARTIFACT,
                    dst_path=tmp,
                    tracking_uri=tracking_uri(),
                ),
            )
            return json.loads(Path(local).read_text(encoding="utf-8"))
        except (NotInStore, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            logger.warning("run %s has no readable %s (%s)", run_id, BASELINE_ARTIFACT, exc)
            return {}


def resolve(uri: str = DEFAULT_MODEL_URI) -> Resolved:
    """Ask the tracking store what ``uri`` is, and make its cached files match their hashes.

    Raises ``ModelNotFound`` (train first), ``TrackingUnreachable`` (naming the store) or
    :class:`models.store.persistence.UntrustedModelError` (not a registry URI, a run of an
    older version, or the artifact store's copy differs).
    """
    match = _REGISTRY_URI.match(check_model_uri(uri))
    identity = store_identity()  # before asking: an answer is kept only if it stays so
    _check_store_exists(uri)
    client = tracking_client()
    found = _model_version(client, uri, match["name"], match["alias"], match["version"])
    run_id = found.run_id
    try:
        run = ask(f"run {run_id}", lambda: client.get_run(run_id))
    except NotInStore as exc:
        raise _not_found(uri, f"its run {run_id} is gone") from exc
    pipeline, files = recorded_files(run)
    files = {pipeline: files[pipeline]}  # the document is all a prediction reads
    folder = _cache_dir(match["name"], str(found.version), run_id)
    _verified_files(run_id, files, folder)
    resolved = Resolved(
        uri, run_id, str(found.version), files, pipeline, str(folder), _baseline(run_id)
    )
    remember(_store_dir(), uri, identity, asdict(resolved))
    return resolved


def load_resolved(resolved: Resolved) -> LoadedModel:
    """The pipeline of a :class:`Resolved` model, read once and checked against its hash."""
    from models.store.persistence import MAX_DOCUMENT_BYTES, load_pipeline_bytes

    name = resolved.pipeline_file
    if not name.endswith(".json") or name not in resolved.files:
        raise UntrustedModelError(
            f"run {resolved.run_id} saved its model as {name[:100]!a}, not a JSON model "
            "document; retrain with train.py"
        )
    path = Path(resolved.folder) / name
    try:
        with open(path, "rb") as f:
            content = f.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise CacheChanged(f"model cache file {path} is unreadable ({exc})") from exc
    if hashlib.sha256(content).hexdigest() != resolved.files[name]:
        raise CacheChanged(f"model cache file {path} changed after it was verified")
    pipeline = load_pipeline_bytes(content, path)
    return LoadedModel(resolved.uri, pipeline, resolved.run_id, resolved.baseline)


def _load_answer(answer: dict) -> LoadedModel | None:
    """The model of a store's answer, or ``None`` when its cache files changed since (or
    the answer is of an older version's shape)."""
    try:
        return load_resolved(Resolved(**answer))
    except TypeError:
        return None
    except CacheChanged as exc:
        logger.info("%s; asking the tracking store again", exc)
        return None


def load(uri: str = DEFAULT_MODEL_URI) -> LoadedModel:
    """Load the model at ``uri`` and reach its scikit-learn pipeline (see :func:`resolve`)."""
    check_model_uri(uri)
    answer = recall(_store_dir(), uri)
    loaded = _load_answer(answer) if answer else None
    return loaded or load_resolved(resolve(uri))


def _reportable() -> dict[str, type[Exception]]:
    """Errors a resolving child reports by name, raised again in the parent."""
    return {cls.__name__: cls for cls in (ModelNotFound, TrackingUnreachable, UntrustedModelError)}


class PendingLoad:
    """:func:`resolve` running in a child process while this one does other work.

    ``PendingLoad(uri)`` starts it; :meth:`result` waits and returns the loaded model (or
    raises what :func:`load` would); :meth:`cancel` stops it. Should the child fail in an
    unforeseen way, the model is resolved here instead, with a warning.
    """

    def __init__(self, uri: str = DEFAULT_MODEL_URI):
        self.uri = check_model_uri(uri)
        self._child = None
        self._answer = recall(_store_dir(), uri)
        if self._answer:
            return  # the store is unchanged since it last answered: nothing to ask
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from models.store.loading import _resolve_in_child; _resolve_in_child(sys.argv[2])"
        )
        self._child = subprocess.Popen(
            [sys.executable, "-c", code, str(REPO_ROOT), uri],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )

    def result(self) -> LoadedModel:
        """Wait for the child's answer, then load the pipeline here."""
        if self._answer:
            return _load_answer(self._answer) or load(self.uri)
        if self._child.poll() is None:  # meanwhile: import what the model is built of
            from models.store.model_document import STEP_CLASSES

            for step in STEP_CLASSES.values():
                step.load()
        try:
            out, _ = self._child.communicate(timeout=RESOLVE_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.cancel()
            raise TrackingUnreachable(
                f"the tracking store {tracking_uri()} did not answer within "
                f"{RESOLVE_TIMEOUT_SECONDS} s (model {self.uri})"
            ) from None
        try:
            answer = json.loads(out.decode("utf-8").strip().splitlines()[-1])
        except (UnicodeDecodeError, IndexError, json.JSONDecodeError):
            logger.warning(
                "resolving %s in a child process failed (exit %s); resolving it here",
                self.uri,
                self._child.returncode,
            )
            return load(self.uri)
        if "error" in answer:
            raise _reportable()[answer["error"]](answer["message"])
        return _load_answer(answer) or load(self.uri)

    def cancel(self) -> None:
        """Stop the child if it still runs (it removes its temporary download folders)."""
        if self._child is not None and self._child.poll() is None:
            self._child.terminate()
            try:
                self._child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()


def _resolve_in_child(uri: str) -> None:
    """Body of the :class:`PendingLoad` child: one JSON line on stdout, logs on stderr."""
    import signal

    from models.logs import setup_logging

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so temporary folders go
    setup_logging()
    answer_to, sys.stdout = sys.stdout, sys.stderr  # nothing else may reach the answer
    try:
        answer = asdict(resolve(uri))
    except tuple(_reportable().values()) as exc:
        kind = next(name for name, cls in _reportable().items() if isinstance(exc, cls))
        answer = {"error": kind, "message": str(exc)}
    answer_to.write(json.dumps(answer) + "\n")
    answer_to.flush()


def baseline_rate(baseline: dict, category: str) -> tuple[float | None, int]:
    """(training overturn rate of the category, its item count); prior when unseen."""
    rates = baseline.get("categories", {})
    if category in rates:
        return rates[category]["rate"], rates[category]["n"]
    return baseline.get("prior"), 0
