"""Inputs to prediction: drafts (summary + services), JSON cases, letters, batch CSVs.

Every input becomes rows of pre-filing columns. Letters contribute only their pre-decision
parts: the case summary, the services, the header dates and the claims administrator's
guideline; decisions, rationales and reviewer lines are never read into a row.

JSON case schema (``--case FILE``)::

    {"case_summary": "...",                 # required, non-empty
     "services": ["...", "..."],            # required, one or more, each with words
     "injury_date": "2016-10-13",           # optional, ISO date
     "ur_denial_date": "2016-11-03",        # optional, ISO date
     "claims_admin_guideline": "..."}       # optional
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pandas as pd

from data.guidelines import guideline_families
from data.letter_parser import parse_service

CASE_FIELDS = {
    "case_summary": str,
    "services": list,
    "injury_date": str,
    "ur_denial_date": str,
    "claims_admin_guideline": str,
}
REQUIRED_CASE_FIELDS = ("case_summary", "services")
BATCH_OPTIONAL = ("injury_date", "ur_denial_date", "claims_admin_guideline", "age", "sex")


class InputError(ValueError):
    """Bad input; the message names the source, the field and the fix."""


def _has_words(text: str) -> bool:
    return bool(re.search(r"[A-Za-z]{2,}", text or ""))


def _iso(value, source: str, name: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise InputError(
            f"{source}: field '{name}' = {value!r} is not a date; use YYYY-MM-DD"
        ) from exc


def draft_rows(
    case_summary: str,
    services: list[str],
    *,
    source: str = "draft",
    injury_date=None,
    ur_denial_date=None,
    claims_admin_guideline: str | None = None,
) -> list[dict]:
    """Validated pre-filing rows, one per requested service."""
    if not _has_words(case_summary):
        raise InputError(f"{source}: field 'case_summary' is empty; give the clinical case summary")
    if not services:
        raise InputError(
            f"{source}: field 'services' is empty; give at least one requested service"
        )
    rows = []
    for i, service in enumerate(services):
        if not isinstance(service, str) or not _has_words(service):
            raise InputError(
                f"{source}: service {i + 1} ({service!r}) has no words; describe the requested "
                "service, e.g. 'Physical therapy x 6 visits for the left hip'"
            )
        parsed = parse_service(service)
        rows.append(
            {
                "case_summary": case_summary.strip(),
                "service": parsed["service"],
                "item_text": service.strip(),
                "quantity": parsed["quantity"],
                "partial_authorization": parsed["partial_authorization"],
                "original_request": parsed["original_request"],
                "authorized_portion": parsed["authorized_portion"],
                "retrospective": parsed["retrospective"],
                "injury_date": _iso(injury_date, source, "injury_date"),
                "ur_denial_date": _iso(ur_denial_date, source, "ur_denial_date"),
                "claims_admin_guideline": claims_admin_guideline,
                "claims_admin_families": guideline_families(claims_admin_guideline),
            }
        )
    return rows


def case_rows(payload: object, source: str) -> list[dict]:
    """Rows from a JSON case object, validated against the documented schema."""
    if not isinstance(payload, dict):
        raise InputError(f"{source}: expected a JSON object with 'case_summary' and 'services'")
    unknown = sorted(set(payload) - set(CASE_FIELDS))
    if unknown:
        raise InputError(
            f"{source}: unknown field(s) {', '.join(repr(u) for u in unknown)}; allowed: "
            f"{', '.join(CASE_FIELDS)}"
        )
    for name in REQUIRED_CASE_FIELDS:
        if name not in payload:
            raise InputError(f"{source}: missing required field '{name}'")
    for name, kind in CASE_FIELDS.items():
        if name in payload and payload[name] is not None and not isinstance(payload[name], kind):
            raise InputError(
                f"{source}: field '{name}' must be a JSON {'array' if kind is list else 'string'}"
            )
    return draft_rows(
        payload["case_summary"],
        payload["services"],
        source=source,
        injury_date=payload.get("injury_date"),
        ur_denial_date=payload.get("ur_denial_date"),
        claims_admin_guideline=payload.get("claims_admin_guideline"),
    )


def read_case_file(text: str, source: str) -> list[dict]:
    """Rows from the text of a JSON case file."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    return case_rows(payload, source)


def letters_rows(paths: list[Path]) -> tuple[list[dict], list[dict]]:
    """(rows, unscorable) of letter files and folders, real letters or drafts.

    Files are found, read and parsed exactly as ingestion does (regular files only, under
    the parsing workers' limits) and rows come from the same row builder
    (:func:`data.letter_records.letter_records`), keeping only ``source_file``,
    ``item_index`` and the pre-filing columns: a letter and its draft give the same rows.
    Each unscorable file is ``{"source_file", "error", "kind"}`` (names escaped).
    """
    from data.file_names import display_name
    from data.letter_files import find_letter_files
    from data.parse_pool import parse_files
    from features.structured import PRE_FILING_COLUMNS

    files, missing = find_letter_files(paths)
    outcomes = [*missing, *parse_files(files, allow_draft=True)]
    sources = [None] * len(missing) + files
    rows, unscorable = [], []
    for path, outcome in zip(sources, outcomes, strict=True):
        if outcome.status == "failed":
            unscorable.append(
                {"source_file": outcome.path, "error": outcome.reason, "kind": outcome.kind}
            )
            continue
        name = display_name(path.name)
        for record in outcome.records:
            row = {"source_file": name, "item_index": record["item_index"]}
            rows.append(row | {column: record[column] for column in PRE_FILING_COLUMNS})
    return rows, unscorable


def letter_rows(path: Path, data: bytes | None = None) -> list[dict]:
    """Pre-filing rows of one letter file, real or draft (``LetterError`` if unparseable).

    ``data``: the file's bytes when they are already in memory (an upload to the web page,
    never written to disk); ``path`` then only names the file and tells PDF from text, and
    the bytes are parsed in this process by the same row builder (the web page caps an
    upload's size; the worker limits of ingestion apply to files on disk).
    """
    from data.errors import LetterError

    if data is not None:
        from data.file_names import display_name
        from data.letter_records import file_records
        from features.structured import PRE_FILING_COLUMNS

        path = Path(path)
        return [
            {"source_file": display_name(path.name), "item_index": record["item_index"]}
            | {column: record[column] for column in PRE_FILING_COLUMNS}
            for record in file_records(data, path.suffix, allow_draft=True)
        ]
    rows, unscorable = letters_rows([Path(path)])
    if unscorable:
        raise LetterError(unscorable[0]["error"], kind=unscorable[0]["kind"])
    return rows


def batch_rows(path: Path, data: bytes | None = None) -> tuple[list[dict], list[dict]]:
    """(rows to score, rows that cannot be scored with their reason) from a batch CSV.

    ``data``: the CSV's bytes when already in memory (the web page's upload); ``path`` then
    only names it in messages.
    """
    try:
        frame = pd.read_csv(
            path if data is None else io.BytesIO(data), dtype=str, keep_default_na=False
        )
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the CSV ({exc})") from exc
    missing = [c for c in ("case_summary", "service") if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; see README")
    good, bad = [], []
    for i, record in frame.iterrows():
        try:
            (row,) = draft_rows(
                record["case_summary"],
                [record["service"]],
                source=f"{path} row {i + 2}",
                injury_date=record.get("injury_date") or None,
                ur_denial_date=record.get("ur_denial_date") or None,
                claims_admin_guideline=record.get("claims_admin_guideline") or None,
            )
        except InputError as exc:
            bad.append({"row": i + 2, "service": record.get("service", ""), "error": str(exc)})
            continue
        if record.get("age"):
            try:
                row["age"] = float(record["age"])
            except ValueError:
                bad.append(
                    {
                        "row": i + 2,
                        "service": record["service"],
                        "error": f"{path} row {i + 2}: field 'age' = {record['age']!r} is not "
                        "a number; give the age in years or leave it empty",
                    }
                )
                continue
        if record.get("sex"):
            row["sex"] = record["sex"]
        row["row"] = i + 2
        good.append(row)
    return good, bad
