"""Shared fixtures: the real letters in ../shared (skipped cleanly when absent), and the
champion of the shipped recipe trained once per run (:func:`trained_store`)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from settings import SHARED_LETTERS_DIR

SEEDS_DIR = SHARED_LETTERS_DIR / "seeds"
DWC_DIR = SHARED_LETTERS_DIR / "dwc"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def cache_key(tmp_path_factory):
    """The model cache's signing key lives in a temporary folder, never in the user's home."""
    import os

    path = tmp_path_factory.mktemp("cache-key") / "cache.key"
    old = os.environ.get("IMR_CACHE_KEY")
    os.environ["IMR_CACHE_KEY"] = str(path)
    yield path
    if old is None:
        os.environ.pop("IMR_CACHE_KEY", None)
    else:
        os.environ["IMR_CACHE_KEY"] = old


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """A throw-away MLflow SQLite store for one test, in a temporary working directory."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("IMR_MODEL_CACHE", str(tmp_path / "model_cache"))
    monkeypatch.chdir(tmp_path)
    yield uri
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"real seed letters not present at {SEEDS_DIR}")
    return SEEDS_DIR


@pytest.fixture(scope="session")
def dwc_dir() -> Path:
    if not DWC_DIR.is_dir():
        pytest.skip(f"real DWC letters not present at {DWC_DIR}")
    return DWC_DIR


@pytest.fixture(scope="session")
def seeds_gold(seeds_dir) -> dict:
    return json.loads((SHARED_LETTERS_DIR / "seeds_gold.json").read_text())["letters"]


@pytest.fixture(scope="session")
def dwc_letters(dwc_dir):
    """Every DWC letter parsed once: {file name: ParsedLetter}."""
    from data.letters.parser import parse_letter
    from data.letters.text import letter_text

    return {p.name: parse_letter(letter_text(p)) for p in sorted(dwc_dir.glob("*.pdf"))}


@contextlib.contextmanager
def environ(values: dict[str, str]):
    """Set environment variables for a block, then put the old values back."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class TrainedStore:
    """A tracking store whose champion is the shipped recipe, with what tests need to reach it.

    ``env`` points a process at the store (``MLFLOW_TRACKING_URI``, ``IMR_MODEL_CACHE``);
    ``data_source`` says which letters trained it (``real``: ../shared/letters,
    ``synthetic``: generated ones); ``dataset_dir`` holds their items.
    """

    root: Path
    env: dict[str, str]
    loaded: object  # models.store.loading.LoadedModel
    info: object | None  # web.model_info.ModelInfo (None in a copy)
    result: object  # models.training.TrainingResult
    data_source: str
    dataset_dir: Path

    @contextlib.contextmanager
    def active(self):
        """This process uses the store for a block (MLflow's client, ``load()``)."""
        import mlflow

        with environ(self.env):
            try:
                yield self
            finally:
                mlflow.set_tracking_uri(None)

    def items(self):
        """The items the champion was trained on (a fresh frame on every call)."""
        from data.ingest.dataset import load_items

        return load_items(self.dataset_dir)


#: The model cache's folder inside a store's folder (never copied with the store).
STORE_CACHE = "cache"


def _store_env(root: Path) -> dict[str, str]:
    return {
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "IMR_MODEL_CACHE": str(root / STORE_CACHE),
    }


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory) -> TrainedStore:
    """The shipped recipe trained once per pytest run, by :func:`models.training.train`, on
    the real letters in ../shared/letters when present (``settings.SHARED_LETTERS_DIR``),
    else on 400 synthetic letters (:func:`data.synthetic.generate_corpus`): every CLI,
    safety, web, server and leakage test scores with this champion. ``data_source`` says
    which; an assertion that holds for one of them only says so and skips cleanly on the
    other.

    Read-only: tests use it as a user does (scoring, serving, reading its run; filling the
    model cache is use). A test that tampers with the store (forges run tags, changes an
    artifact, plants or damages cache files) works on a copy from :func:`copy_store`, or
    points ``IMR_MODEL_CACHE`` at its own folder when only the cache is touched.

    The store, its artifacts and the model cache live in a temporary folder; the process's
    environment and working directory are left as they were. The repeated CV behind the
    intervals runs once instead of five times, on 3 folds (the intervals are still
    computed): the tests need them to exist, not to be tight. The fitted model is the same.
    """
    import mlflow

    from data.synthetic import generate_corpus
    from models.store.loading import load
    from models.training import train
    from web.model_info import read_model_info

    root = tmp_path_factory.mktemp("trained_store")
    if SHARED_LETTERS_DIR.is_dir():
        letters, source = SHARED_LETTERS_DIR, "real"
    else:
        letters, source = root / "letters", "synthetic"
        generate_corpus(letters, 400, seed=11)
    env = _store_env(root)
    cwd = Path.cwd()
    with environ(env):
        os.chdir(root)  # MLflow puts a SQLite store's artifacts under ./mlruns
        try:
            result = train([letters], dataset_dir=root / "ds", n_splits=3, repeats=1)
            loaded = load()
            info = read_model_info(loaded.uri, loaded.run_id, loaded.baseline)
        finally:
            os.chdir(cwd)
            mlflow.set_tracking_uri(None)
    assert result.data_summary["data_source"] == source
    return TrainedStore(root, env, loaded, info, result, source, root / "ds")


def copy_store(store: TrainedStore, root: Path) -> TrainedStore:
    """A copy of ``store`` in the empty folder ``root`` that a test may tamper with.

    The store's folder is copied without its model cache (the copy starts with an empty
    one of its own), and every absolute path of the old folder inside the copy is
    rewritten to the new one: in every text column of the SQLite file (artifact
    locations, the model version's storage location, parameters) and in the MLmodel
    files. Run ids and versions are the same as the original's; nothing the copy does
    reaches the original or its cache.
    """
    import sqlite3

    from models.store.loading import load

    shutil.copytree(
        store.root,
        root,
        dirs_exist_ok=True,
        ignore=lambda folder, _: [STORE_CACHE] if Path(folder) == store.root else [],
    )
    old, new = str(store.root), str(root)
    with contextlib.closing(sqlite3.connect(root / "mlflow.db")) as db, db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for _, column, *_ in db.execute(f'PRAGMA table_info("{table}")'):
                db.execute(
                    f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                    f'WHERE typeof("{column}") = \'text\' AND instr("{column}", ?) > 0',
                    (old, new, old),
                )
    for mlmodel in (root / "mlruns").rglob("MLmodel"):
        mlmodel.write_text(mlmodel.read_text().replace(old, new))
    env = _store_env(root)
    copy = TrainedStore(root, env, None, None, store.result, store.data_source, root / "ds")
    with copy.active():
        copy.loaded = load()
    return copy


@pytest.fixture(scope="session")
def trained_store_copy(trained_store, tmp_path_factory):
    """Makes copies of :func:`trained_store` to tamper with: ``trained_store_copy(name)``
    returns a :func:`copy_store` copy in a new temporary folder."""
    return lambda name: copy_store(trained_store, tmp_path_factory.mktemp(name))


@pytest.fixture
def in_trained_store(trained_store):
    """:func:`trained_store`, this process pointed at it for one test."""
    with trained_store.active():
        yield trained_store


_HYPOTHESIS_HOME = pytest.StashKey[str]()


def pytest_configure(config):
    """Hypothesis keeps its example database and caches in a temporary folder rather than
    ``./.hypothesis``, so tests leave nothing in the working directory."""
    from hypothesis.configuration import set_hypothesis_home_dir

    config.stash[_HYPOTHESIS_HOME] = tempfile.mkdtemp(prefix="hypothesis-")
    set_hypothesis_home_dir(config.stash[_HYPOTHESIS_HOME])


def pytest_unconfigure(config):
    shutil.rmtree(config.stash.get(_HYPOTHESIS_HOME, ""), ignore_errors=True)


@pytest.fixture(scope="session")
def shared_items(tmp_path_factory, seeds_dir, dwc_dir):
    """The items of every real letter in ../shared/letters, ingested once per session."""
    import pandas as pd

    from data.ingest import ingest

    out = tmp_path_factory.mktemp("shared_items")
    ingest([SHARED_LETTERS_DIR], out, workers=2)
    return pd.read_parquet(out / "items.parquet")
