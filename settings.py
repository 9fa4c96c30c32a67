"""The project's settings: paths, names, the model URI, the cache folder, the limits.

One module, side-effect free: importing it creates no directory, sets no tracking URI and
configures no logging. Paths that depend on the environment are resolved by the functions
that need them, when they are called.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
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
#: The model every front end scores with unless told otherwise.
DEFAULT_MODEL_URI = f"models:/{DEFAULT_MODEL_NAME}@{CHAMPION_ALIAS}"
#: A registry URI: ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``.
REGISTRY_URI_PATTERN = r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$"

POSITIVE_LABEL = "Overturned"
NEGATIVE_LABEL = "Upheld"
DECISIONS = (NEGATIVE_LABEL, POSITIVE_LABEL)
GUIDELINE_FAMILIES = ("MTUS", "ACOEM", "ODG")

#: Marker line every synthetic letter carries; the parser records it as ``synthetic=True``.
SYNTHETIC_MARKER = "SYNTHETIC LETTER - NOT A REAL DETERMINATION"

#: Columns known before filing: the only ones a feature may read.
PRE_FILING_COLUMNS = (
    "case_summary",
    "service",
    "item_text",
    "original_request",
    "authorized_portion",
    "partial_authorization",
    "retrospective",
    "quantity",
    "injury_date",
    "ur_denial_date",
    "application_received_date",
    "date_assigned",
    "age",
    "sex",
    "claims_admin_guideline",
    "claims_admin_families",
)

#: Columns known only after the IMR decision. Kept for analysis, never fed to a model.
POST_DECISION_COLUMNS = (
    "decision",
    "imr_guideline",
    "imr_guideline_families",
    "decision_rationale",
    "reviewer_licensure",
    "reviewer_specialty",
)

#: Limits on one letter file. Letter files are not trusted (anyone can drop a file in a
#: folder), so every limit is far above any real letter and far below what hurts the machine.
#: The 139 real letters: at most 10 pages, 344 lines, 21 items, a 4,794-character summary.
#: Larger files are not letters (a determination letter is a few pages of text).
MAX_LETTER_BYTES = 20 * 1024 * 1024
#: Pages of a PDF letter; checked from the page tree before any page is read.
MAX_LETTER_PAGES = 100
#: Characters of text extracted from one letter (PDF or text file).
MAX_LETTER_CHARS = 2_000_000
#: Characters of the clinical case summary.
MAX_SUMMARY_CHARS = 50_000
#: Disputed items in one letter.
MAX_ITEMS_PER_LETTER = 100
#: Address space of each process that parses letters (RLIMIT_AS); a parse needs ~30 MiB.
PARSE_MEMORY_BYTES = 1024 * 1024 * 1024
#: Wall-clock seconds one letter may take to parse (the real ones take ~5 ms).
PARSE_SECONDS = 30.0

#: Limits on one batch CSV (``predict.py --batch``): far above a day's cases, far below what
#: hurts the machine (every row becomes a dict of its fields).
MAX_BATCH_BYTES = 32 * 1024 * 1024
MAX_BATCH_ROWS = 100_000
#: Lines of a batch CSV (a row may span several: a quoted field with line breaks).
MAX_BATCH_LINES = 1_000_000


def tracking_uri() -> str:
    """The MLflow tracking URI: ``MLFLOW_TRACKING_URI`` or the embedded SQLite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def model_cache_dir() -> Path:
    """Where verified model files and the web page's model details are kept between runs."""
    return Path(os.environ.get("IMR_MODEL_CACHE") or WORK_DIR / "model_cache")
