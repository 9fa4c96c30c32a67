"""Shared fixtures: the real letters in ../shared (skipped cleanly when absent)."""

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
    """A tracking store holding a champion, with what tests need to reach it."""

    root: Path
    env: dict[str, str]
    loaded: object
    info: object


@pytest.fixture(scope="session")
def web_store(tmp_path_factory) -> TrainedStore:
    """A champion of the default recipe trained on synthetic letters (known ground truth),
    for the web page tests.

    The store, its artifacts and the model cache live in a temporary folder; the process's
    environment and working directory are left as they were. The repeated CV behind the
    intervals runs once instead of five times (the intervals are still computed): the
    tests need them to exist, not to be tight.
    """
    import mlflow

    from data.synthetic import generate_corpus
    from models.store.loading import load
    from models.training import train
    from web.model_info import read_model_info

    root = tmp_path_factory.mktemp("web_store")
    env = {
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "IMR_MODEL_CACHE": str(root / "cache"),
    }
    cwd = Path.cwd()
    with environ(env):
        os.chdir(root)  # MLflow puts a SQLite store's artifacts under ./mlruns
        try:
            generate_corpus(root / "letters", 400, seed=11)
            train([root / "letters"], dataset_dir=root / "ds", n_splits=3, repeats=1)
            loaded = load()
            info = read_model_info(loaded.uri, loaded.run_id, loaded.baseline)
        finally:
            os.chdir(cwd)
            mlflow.set_tracking_uri(None)
    return TrainedStore(root, env, loaded, info)


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
