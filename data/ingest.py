"""Ingest determination letters (PDF or text) into the item-level dataset, incrementally.

Usage: ``python -m data.ingest PATH... --out DIR``. Directories are walked. A letter already
in the dataset (same content, whatever its name) is counted as a duplicate and not added
again; a letter that cannot be parsed is reported with its path and reason and set aside,
and the exit status is 1 when any file failed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data.config import DEFAULT_DATASET_DIR, POSITIVE_LABEL
from data.dataset import (
    ITEM_COLUMNS,
    dataset_lock,
    load_items,
    typed_items,
    write_items,
    write_report,
)
from data.errors import LetterError
from data.letter_parser import parse_letter
from data.letter_text import letter_text, read_bytes

#: Suffixes picked up when walking a directory (files named explicitly are always tried).
LETTER_SUFFIXES = (".pdf", ".txt", ".text")
#: Below this many new files, parsing in-process beats starting worker processes.
_MIN_FILES_FOR_POOL = 24


@dataclass
class FileOutcome:
    """What became of one input file."""

    path: str
    status: str  # parsed | duplicate | failed
    items: int = 0
    reason: str | None = None
    kind: str | None = None
    sha256: str | None = None
    duplicate_of: str | None = None
    records: list[dict] = field(default_factory=list, repr=False)

    def report_entry(self) -> dict:
        fields = ("path", "status", "items", "reason", "kind", "sha256", "duplicate_of")
        return {k: v for k in fields if (v := getattr(self, k)) is not None}


def find_letter_files(paths: Iterable[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Expand directories (recursively, sorted) into letter files; report missing paths."""
    files: list[Path] = []
    missing: list[FileOutcome] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(
                    Path(root) / name
                    for name in sorted(names)
                    if not name.startswith(".") and name.lower().endswith(LETTER_SUFFIXES)
                )
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            missing.append(
                FileOutcome(
                    str(path),
                    "failed",
                    reason="no such file or directory; check the path",
                    kind="missing",
                )
            )
    return files, missing


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def letter_records(path: Path, data: bytes, sha256: str) -> list[dict]:
    """Parse one letter's bytes into item records (raises :class:`LetterError`)."""
    letter = parse_letter(letter_text(path, data))
    shared = {
        "letter_id": sha256[:16],
        "letter_sha256": sha256,
        "source_file": path.name,
        "source_path": str(path),
        "layout": letter.layout,
        "synthetic": letter.synthetic,
        "case_number": letter.case_number,
        "date_assigned": _iso(letter.date_assigned),
        "decision_date": _iso(letter.decision_date),
        "priority": letter.priority,
        "injury_date": _iso(letter.injury_date),
        "ur_denial_date": _iso(letter.ur_denial_date),
        "application_received_date": _iso(letter.application_received_date),
        "age": letter.age,
        "sex": letter.sex,
        "case_summary": letter.case_summary,
        "reviewer_licensure": letter.reviewer_licensure,
        "reviewer_specialty": letter.reviewer_specialty,
    }
    # vars(), not asdict(): asdict deep-copies every field, a third of the parse time
    return [{**shared, **vars(item)} for item in letter.items]


def process_file(path: Path, data: bytes | None = None, sha256: str | None = None) -> FileOutcome:
    """Read, hash and parse one file; never raises for bad input."""
    try:
        if data is None:
            data = read_bytes(path)
        sha256 = sha256 or hashlib.sha256(data).hexdigest()
        records = letter_records(path, data, sha256)
        return FileOutcome(str(path), "parsed", len(records), sha256=sha256, records=records)
    except LetterError as exc:
        return FileOutcome(str(path), "failed", reason=exc.reason, kind=exc.kind, sha256=sha256)
    except RecursionError:
        return FileOutcome(
            str(path), "failed", reason="letter too deeply nested to parse", kind="unparseable"
        )
    except Exception as exc:  # a parser bug must not lose the other files
        return FileOutcome(
            str(path),
            "failed",
            reason=f"internal parser error ({type(exc).__name__}: {exc}); please report it",
            kind="internal_error",
            sha256=sha256,
        )


def _process_path(path: str) -> FileOutcome:
    return process_file(Path(path))


def _hash_files(files: list[Path]) -> tuple[dict[Path, str], list[FileOutcome]]:
    hashes: dict[Path, str] = {}
    unreadable = []
    for path in files:
        try:
            hashes[path] = hashlib.sha256(read_bytes(path)).hexdigest()
        except LetterError as exc:
            unreadable.append(FileOutcome(str(path), "failed", reason=exc.reason, kind=exc.kind))
    return hashes, unreadable


def _parse_all(
    paths: list[Path], workers: int, advance: Callable[[int], None] | None
) -> list[FileOutcome]:
    if workers <= 1 or len(paths) < _MIN_FILES_FOR_POOL:
        outcomes = []
        for path in paths:
            outcomes.append(process_file(path))
            if advance:
                advance(1)
        return outcomes
    chunk = max(1, min(64, len(paths) // (workers * 8)))
    outcomes = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for outcome in pool.map(_process_path, [str(p) for p in paths], chunksize=chunk):
            outcomes.append(outcome)
            if advance:
                advance(1)
    return outcomes


@dataclass
class IngestResult:
    """The report written to ``ingest_report.json`` and the items this run added."""

    report: dict
    added: pd.DataFrame

    @property
    def failed(self) -> int:
        return self.report["summary"]["failed"]


def summarise(outcomes: list[FileOutcome], added: pd.DataFrame, total_items: int) -> dict:
    """Counts for the summary table and the report."""
    decisions = added["decision"] if len(added) else pd.Series(dtype=object)
    return {
        "files_seen": len(outcomes),
        "parsed": sum(o.status == "parsed" for o in outcomes),
        "duplicates": sum(o.status == "duplicate" for o in outcomes),
        "failed": sum(o.status == "failed" for o in outcomes),
        "items_added": len(added),
        "overturned_added": int((decisions == POSITIVE_LABEL).sum()),
        "items_total": total_items,
    }


def ingest(
    paths: Iterable[Path],
    out_dir: Path = DEFAULT_DATASET_DIR,
    *,
    workers: int | None = None,
    progress: Callable[[int], Callable[[int], None]] | None = None,
    lock_timeout: float = 0,
) -> IngestResult:
    """Add the new letters among ``paths`` to the dataset in ``out_dir``.

    ``progress(total)`` may return a callback that is told how many files were processed.
    Raises :class:`data.dataset.DatasetBusy` if another run holds the dataset.
    """
    out_dir = Path(out_dir)
    workers = workers or os.cpu_count() or 1
    files, outcomes = find_letter_files(paths)
    with dataset_lock(out_dir, timeout=lock_timeout):
        existing = load_items(out_dir)
        known = dict(zip(existing["letter_sha256"], existing["source_file"], strict=True))
        hashes, unreadable = _hash_files(files)
        outcomes.extend(unreadable)
        to_parse: list[Path] = []
        copies: list[tuple[Path, str]] = []  # same content as a file parsed in this run
        order: dict[str, int] = {}
        for path, digest in hashes.items():
            if digest in known:
                outcomes.append(
                    FileOutcome(str(path), "duplicate", sha256=digest, duplicate_of=known[digest])
                )
            elif digest in order:
                copies.append((path, digest))
            else:
                order[digest] = len(to_parse)
                to_parse.append(path)
        advance = progress(len(to_parse)) if progress else None
        parsed = _parse_all(to_parse, workers, advance)
        outcomes.extend(parsed)
        for path, digest in copies:
            first = parsed[order[digest]]
            if first.status == "parsed":
                copy = FileOutcome(
                    str(path), "duplicate", sha256=digest, duplicate_of=Path(first.path).name
                )
            else:  # a copy of a bad file is just as bad
                copy = FileOutcome(str(path), "failed", reason=first.reason, kind=first.kind)
            outcomes.append(copy)
        records = [r for o in parsed for r in o.records]
        added = typed_items(
            pd.DataFrame(records, columns=list(ITEM_COLUMNS)) if records else existing.iloc[:0]
        )
        if records:
            combined = pd.concat([existing, added], ignore_index=True) if len(existing) else added
            write_items(out_dir, combined)
            total = len(combined)
        else:
            total = len(existing)
        input_order = {str(p): i for i, p in enumerate(files)}
        outcomes.sort(key=lambda o: input_order.get(o.path, -1))
        report = {
            "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "out_dir": str(out_dir),
            "summary": summarise(outcomes, added, total),
            "files": [o.report_entry() for o in outcomes],
        }
        write_report(out_dir, report)
    return IngestResult(report, added.reset_index(drop=True))


def dataset_or_shared_letters(dataset: Path | None) -> pd.DataFrame:
    """The items of a dataset folder or, when none is given, of the real letters in
    ``../shared/letters`` ingested into a temporary folder (for evaluations and benchmarks)."""
    if dataset:
        return load_items(Path(dataset))
    import tempfile

    from data.config import SHARED_LETTERS_DIR

    with tempfile.TemporaryDirectory() as tmp:
        return ingest([SHARED_LETTERS_DIR], Path(tmp), workers=1).added


if __name__ == "__main__":
    from data.ingest_cli import app

    app()
