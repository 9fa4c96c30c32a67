"""The processed dataset on disk: ``items.parquet`` and ``ingest_report.json`` in one folder.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so an
interrupted run leaves the previous dataset intact. A file lock keeps two writers apart.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from data.letters.records import LETTER_FIELDS
from settings import ITEMS_FILE, LOCK_FILE, POST_DECISION_COLUMNS, REPORT_FILE

#: Column order of ``items.parquet``; documented in the README.
ITEM_COLUMNS = (
    "letter_id",
    "letter_sha256",
    "content_sha256",
    "case_group",
    "source_file",
    "source_path",
    "source_path_hex",
    # the letter's own fields, in the parser's order; its reviewer comes last, post-decision
    *(name for name in LETTER_FIELDS if name not in POST_DECISION_COLUMNS),
    "item_index",
    "item_text",
    "service",
    "quantity",
    "partial_authorization",
    "original_request",
    "authorized_portion",
    "retrospective",
    "claims_admin_guideline",
    "claims_admin_families",
    # post-decision fields: for analysis only, never features
    *POST_DECISION_COLUMNS,
)


FLOAT_COLUMNS = ("age", "quantity")


class DatasetBusy(RuntimeError):
    """Another process holds the dataset lock."""


@contextmanager
def dataset_lock(out_dir: Path, timeout: float = 0) -> Iterator[None]:
    """Hold the dataset folder's lock; raise :class:`DatasetBusy` if it is taken."""
    from filelock import FileLock, Timeout

    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / LOCK_FILE))
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise DatasetBusy(
            f"{out_dir} is being written by another run (lock {out_dir / LOCK_FILE}); "
            "wait for it to finish and try again"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def empty_items() -> pd.DataFrame:
    """An items table with every column and no rows."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in ITEM_COLUMNS})


def load_items(out_dir: Path) -> pd.DataFrame:
    """The dataset's items, or an empty table when the folder has none yet.

    A dataset written before the identity columns existed gets them computed from its own
    columns (content key, case group, name bytes), so older folders keep working.
    """
    path = Path(out_dir) / ITEMS_FILE
    if not path.exists():
        return empty_items()
    items = pd.read_parquet(path)
    for column in ("claims_admin_families", "imr_guideline_families"):
        items[column] = items[column].map(lambda v: [] if v is None else list(v))
    return _with_identity_columns(items)


def _with_identity_columns(items: pd.DataFrame) -> pd.DataFrame:
    from data.letters.identity import case_group, content_key
    from data.letters.names import path_hex

    if "content_sha256" not in items:
        keys = {
            letter_id: content_key(group.to_dict("records"))
            for letter_id, group in items.sort_values("item_index").groupby("letter_id", sort=False)
        }
        items["content_sha256"] = items["letter_id"].map(keys)
    if "case_group" not in items:
        items["case_group"] = [
            case_group(case, letter_id)
            for case, letter_id in zip(items["case_number"], items["letter_id"], strict=True)
        ]
    if "source_path_hex" not in items:
        items["source_path_hex"] = items["source_path"].map(path_hex)
    return items


def typed_items(items: pd.DataFrame) -> pd.DataFrame:
    """The documented columns in order, numeric ones float whether or not some are missing,
    so a column's type never depends on which letters happen to be in the data."""
    items = items.loc[:, list(ITEM_COLUMNS)].reset_index(drop=True)
    return items.astype({column: "float64" for column in FLOAT_COLUMNS})


def write_items(out_dir: Path, items: pd.DataFrame) -> None:
    """Replace ``items.parquet`` atomically."""
    items = typed_items(items)
    _atomic_write(Path(out_dir) / ITEMS_FILE, lambda p: items.to_parquet(p, index=False))


def write_report(out_dir: Path, report: dict) -> None:
    """Replace ``ingest_report.json`` atomically."""

    def dump(path: Path) -> None:
        path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")

    _atomic_write(Path(out_dir) / REPORT_FILE, dump)


def load_report(out_dir: Path) -> dict | None:
    """The last run's ingest report, if any."""
    path = Path(out_dir) / REPORT_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
