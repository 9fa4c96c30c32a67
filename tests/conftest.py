"""Shared fixtures: the real letters in ../shared (skipped cleanly when absent)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from data.config import SHARED_LETTERS_DIR

SEEDS_DIR = SHARED_LETTERS_DIR / "seeds"
DWC_DIR = SHARED_LETTERS_DIR / "dwc"
FIXTURES = Path(__file__).parent / "fixtures"


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
    from data.letter_parser import parse_letter
    from data.letter_text import letter_text

    return {p.name: parse_letter(letter_text(p)) for p in sorted(dwc_dir.glob("*.pdf"))}


_HYPOTHESIS_HOME = pytest.StashKey[str]()


def pytest_configure(config):
    """Hypothesis keeps its example database and caches in a temporary folder rather than
    ``./.hypothesis``, so tests leave nothing in the working directory."""
    from hypothesis.configuration import set_hypothesis_home_dir

    config.stash[_HYPOTHESIS_HOME] = tempfile.mkdtemp(prefix="hypothesis-")
    set_hypothesis_home_dir(config.stash[_HYPOTHESIS_HOME])


def pytest_unconfigure(config):
    shutil.rmtree(config.stash.get(_HYPOTHESIS_HOME, ""), ignore_errors=True)
