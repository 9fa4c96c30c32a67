"""Paths and constants shared by ingestion, features, training and prediction.

Side-effect free: importing this module creates no directory, sets no tracking URI and
configures no logging. Paths are resolved lazily by the functions that need them.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Real letters and tables that are not ours; read in place, never copied into the repo.
SHARED_DIR = Path(os.environ.get("IMR_SHARED_DIR", REPO_ROOT.parent / "shared"))
SHARED_LETTERS_DIR = SHARED_DIR / "letters"
#: Generated state (datasets, demo corpora); git-ignored.
WORK_DIR = REPO_ROOT / "work"
DEFAULT_DATASET_DIR = WORK_DIR / "dataset"

ITEMS_FILE = "items.parquet"
REPORT_FILE = "ingest_report.json"
LOCK_FILE = "dataset.lock"

DEFAULT_EXPERIMENT = "imr-outcome"
DEFAULT_MODEL_NAME = "imr-outcome"
CHAMPION_ALIAS = "champion"
CHALLENGER_ALIAS = "challenger"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"

POSITIVE_LABEL = "Overturned"
NEGATIVE_LABEL = "Upheld"
DECISIONS = (NEGATIVE_LABEL, POSITIVE_LABEL)
GUIDELINE_FAMILIES = ("MTUS", "ACOEM", "ODG")

#: Marker line every synthetic letter carries; the parser records it as ``synthetic=True``.
SYNTHETIC_MARKER = "SYNTHETIC LETTER - NOT A REAL DETERMINATION"

#: Columns known only after the IMR decision. Kept for analysis, never fed to a model.
POST_DECISION_COLUMNS = (
    "decision",
    "imr_guideline",
    "imr_guideline_families",
    "decision_rationale",
    "reviewer_licensure",
    "reviewer_specialty",
)

#: Letters larger than this are not letters (a determination letter is a few pages).
MAX_LETTER_BYTES = 20 * 1024 * 1024


def tracking_uri() -> str:
    """The MLflow tracking URI: ``MLFLOW_TRACKING_URI`` or the embedded SQLite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
