"""Ingest determination letters (PDF or text) into the item-level dataset, incrementally.

Usage: ``python -m data.ingest PATH... --out DIR`` (the command line is
:mod:`data.ingest.__main__`; this module holds the pure functions and no terminal code).
Directories are walked. Every input file gets one entry in the report:

- ``parsed``: a new letter, its items added;
- ``duplicate`` (with ``duplicate_of``): a letter already in the dataset or earlier in
  this run, recognised by content (:mod:`data.letters.identity`): the same bytes, or the
  same case number, decision date and normalised text (the PDF and its extracted text,
  or the file with bytes appended); nothing added;
- ``conflict`` (with ``conflict_with`` and a reason): the same case number as another
  letter but different content; its items are added, in the same ``case_group``;
- ``failed`` (with ``kind`` and ``reason``): set aside; the rest goes on.

Letter files are untrusted: they are read by :mod:`data.letters.files` (regular files only,
bounded reads, escaped names) and parsed in worker processes under memory, time and
size limits (:mod:`data.letters.pool`), so no file can take the run down.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data.ingest.dataset import (
    ITEM_COLUMNS,
    dataset_lock,
    load_items,
    typed_items,
    write_items,
    write_report,
)
from data.letters.errors import LetterError
from data.letters.files import LETTER_SUFFIXES, find_letter_files, read_letter_bytes
from data.letters.identity import case_group, content_key
from data.letters.names import display_name, path_hex
from data.letters.outcome import FileOutcome
from data.letters.pool import ParseJob, ParseLimits, parse_all
from data.letters.records import file_records
from settings import DEFAULT_DATASET_DIR, POSITIVE_LABEL

__all__ = [
    "LETTER_SUFFIXES",
    "FileOutcome",
    "IngestResult",
    "ParseLimits",
    "dataset_or_shared_letters",
    "find_letter_files",
    "ingest",
    "process_file",
    "summarise",
]


def identified_records(records: list[dict], path: Path, sha256: str) -> list[dict]:
    """``records`` with the file's identity columns: ids, content key, case group, names."""
    letter_id = sha256[:16]
    identity = {
        "letter_id": letter_id,
        "letter_sha256": sha256,
        "content_sha256": content_key(records),
        "case_group": case_group(records[0].get("case_number") if records else None, letter_id),
        "source_file": display_name(path.name),
        "source_path": display_name(path),
        "source_path_hex": path_hex(path),
    }
    return [{**record, **identity} for record in records]


def process_file(path: Path, data: bytes | None = None) -> FileOutcome:
    """Read (unless ``data`` is given) and parse one file **in this process**, with the
    size caps but without the memory and time limits of :func:`ingest`'s worker processes
    (:func:`data.letters.pool.parse_all` is the safe path for untrusted files). Never raises
    for bad input."""
    path = Path(path)
    sha256 = None
    try:
        if data is None:
            data = read_letter_bytes(path)
        sha256 = hashlib.sha256(data).hexdigest()
        records = identified_records(file_records(data, path.suffix), path, sha256)
    except LetterError as exc:
        return FileOutcome.failed(path, exc.reason, kind=exc.kind, sha256=sha256)
    except RecursionError:
        return FileOutcome.failed(path, "letter too deeply nested to parse", kind="unparseable")
    return FileOutcome.of(path, "parsed", items=len(records), sha256=sha256, records=records)


@dataclass
class _Triage:
    """Reads every file once, safely, and sorts it before any parsing.

    Files that cannot be read, or whose bytes are those of a letter in the dataset, get
    their outcome here; a byte-for-byte copy of a file earlier in this run waits for that
    file's outcome; the rest become parse jobs, drawn lazily so that only the files being
    parsed are held in memory.
    """

    files: list[Path]
    known_bytes: dict[str, str]  # sha256 -> source_file, of the letters in the dataset
    advance: Callable[[int], None]
    outcomes: dict[int, FileOutcome] = field(default_factory=dict)
    digests: dict[int, str] = field(default_factory=dict)
    first_with: dict[str, int] = field(default_factory=dict)  # sha256 -> first index
    copies: dict[int, int] = field(default_factory=dict)  # index -> index of the first

    def jobs(self) -> Iterator[ParseJob]:
        for index, path in enumerate(self.files):
            try:
                data = read_letter_bytes(path)
            except LetterError as exc:
                self._settle(index, FileOutcome.failed(path, exc.reason, kind=exc.kind))
                continue
            digest = hashlib.sha256(data).hexdigest()
            self.digests[index] = digest
            if digest in self.known_bytes:
                self._settle(
                    index,
                    FileOutcome.of(
                        path, "duplicate", sha256=digest, duplicate_of=self.known_bytes[digest]
                    ),
                )
            elif digest in self.first_with:
                self.copies[index] = self.first_with[digest]
                self.advance(1)
            else:
                self.first_with[digest] = index
                yield ParseJob(index, data, path.suffix)

    def _settle(self, index: int, outcome: FileOutcome) -> None:
        self.outcomes[index] = outcome
        self.advance(1)


@dataclass
class _Identities:
    """The letters known so far, by content key and by case number, for duplicates and
    conflicts; seeded with the dataset's letters, then grown in input order."""

    by_content: dict[str, str] = field(default_factory=dict)  # content key -> source_file
    by_case: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    # case number -> (content key, source_file, decision date)

    @classmethod
    def of(cls, items: pd.DataFrame) -> _Identities:
        known = cls()
        letters = items.drop_duplicates("letter_id")
        for key, case, name, decided in zip(
            letters["content_sha256"],
            letters["case_number"],
            letters["source_file"],
            letters["decision_date"],
            strict=True,
        ):
            known.add(key, case, name, decided)
        return known

    def add(self, key: str, case: str | None, name: str, decided: str | None) -> None:
        self.by_content.setdefault(key, name)
        if isinstance(case, str) and case:
            self.by_case.setdefault(case, (key, name, decided))

    def outcome(self, path: Path, sha256: str, records: list[dict]) -> FileOutcome:
        """Parsed, duplicate or conflict, for a file parsed into ``records``."""
        records = identified_records(records, path, sha256)
        first = records[0]
        key, case, decided = first["content_sha256"], first["case_number"], first["decision_date"]
        if key in self.by_content:
            return FileOutcome.of(
                path, "duplicate", sha256=sha256, duplicate_of=self.by_content[key]
            )
        name = first["source_file"]
        outcome = FileOutcome.of(path, "parsed", items=len(records), sha256=sha256)
        if case and case in self.by_case:
            _, other, other_decided = self.by_case[case]
            differs = (
                f"decision date {decided} here, {other_decided} there"
                if decided != other_decided
                else "the text differs"
            )
            outcome.status = "conflict"
            outcome.conflict_with = other
            outcome.reason = (
                f"case {case} is also in {other}, with different content ({differs}); both "
                "are kept, in one case_group; check which version is right"
            )
        self.add(key, case, name, decided)
        outcome.records = records
        return outcome


def _copy_outcome(path: Path, sha256: str, first: FileOutcome) -> FileOutcome:
    """The outcome of a byte-for-byte copy of a file whose outcome is ``first``."""
    if first.status == "failed":  # a copy of a bad file is just as bad
        return FileOutcome.failed(path, first.reason, kind=first.kind, sha256=sha256)
    original = first.duplicate_of or (first.records[0]["source_file"] if first.records else None)
    return FileOutcome.of(path, "duplicate", sha256=sha256, duplicate_of=original)


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
        "conflicts": sum(o.status == "conflict" for o in outcomes),
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
    limits: ParseLimits | None = None,
) -> IngestResult:
    """Add the new letters among ``paths`` to the dataset in ``out_dir``.

    ``progress(total)`` may return a callback that is told how many files were processed.
    ``workers`` parsing processes (default: one per core) run under ``limits``.
    Raises :class:`data.ingest.dataset.DatasetBusy` if another run holds the dataset.
    """
    out_dir = Path(out_dir)
    workers = workers or os.cpu_count() or 1
    files, missing = find_letter_files(paths)
    with dataset_lock(out_dir, timeout=lock_timeout):
        existing = load_items(out_dir)
        advance = (progress(len(files)) if progress else None) or (lambda n: None)
        triage = _Triage(
            files,
            dict(zip(existing["letter_sha256"], existing["source_file"], strict=True)),
            advance,
        )
        replies: dict[int, dict] = {}
        for job, reply in parse_all(triage.jobs(), workers=workers, limits=limits):
            replies[job.key] = reply
            advance(1)
        known = _Identities.of(existing)
        outcomes = triage.outcomes
        for index in sorted(replies):  # input order: the first of two twins is the original
            path, reply, sha256 = files[index], replies[index], triage.digests[index]
            if reply["status"] == "failed":
                outcomes[index] = FileOutcome.failed(
                    path, reply["reason"], kind=reply["kind"], sha256=sha256
                )
            else:
                outcomes[index] = known.outcome(path, sha256, reply["records"])
        for index, first in sorted(triage.copies.items()):
            outcomes[index] = _copy_outcome(files[index], triage.digests[index], outcomes[first])
        ordered = [*missing, *(outcomes[i] for i in range(len(files)))]
        records = [r for o in ordered for r in o.records]
        added = typed_items(
            pd.DataFrame(records, columns=list(ITEM_COLUMNS)) if records else existing.iloc[:0]
        )
        if records:
            combined = pd.concat([existing, added], ignore_index=True) if len(existing) else added
            write_items(out_dir, combined)
            total = len(combined)
        else:
            total = len(existing)
        report = {
            "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "out_dir": display_name(out_dir),
            "summary": summarise(ordered, added, total),
            "files": [o.report_entry() for o in ordered],
        }
        write_report(out_dir, report)
    return IngestResult(report, added.reset_index(drop=True))


def dataset_or_shared_letters(dataset: Path | None) -> pd.DataFrame:
    """The items of a dataset folder or, when none is given, of the real letters in
    ``../shared/letters`` ingested into a temporary folder (for evaluations and benchmarks)."""
    if dataset:
        return load_items(Path(dataset))
    import tempfile

    from settings import SHARED_LETTERS_DIR

    with tempfile.TemporaryDirectory() as tmp:
        return ingest([SHARED_LETTERS_DIR], Path(tmp), workers=1).added
