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
import json
import re
from pathlib import Path

from data.drafts.batch_csv import BatchFileError, read_records
from data.drafts.input_files import BATCH, InputError, read_bytes
from data.letters.guidelines import guideline_families
from data.letters.parser import parse_service
from settings import MAX_BATCH_BYTES, MAX_BATCH_LINES, MAX_BATCH_ROWS, MAX_SUMMARY_CHARS

CASE_FIELDS = {
    "case_summary": str,
    "services": list,
    "injury_date": str,
    "ur_denial_date": str,
    "claims_admin_guideline": str,
}
REQUIRED_CASE_FIELDS = ("case_summary", "services")
BATCH_REQUIRED = ("case_summary", "service")
BATCH_OPTIONAL = ("injury_date", "ur_denial_date", "claims_admin_guideline", "age", "sex")
#: Column of a batch CSV that names its rows, when present (kept as it is).
BATCH_ID = "id"
#: Columns predict.py writes; an input column of the same name would be overwritten.
RESERVED_COLUMNS = (
    "source_file",
    "item_index",
    "row",
    "p_overturned",
    "p_low",
    "p_high",
    "category",
    "baseline_rate",
    "baseline_items",
    "baseline_shrunk_rate",
    "how_sure",
    "denial_reason_1",
    "to_document_1",
    "denial_reason_2",
    "to_document_2",
    "denial_reason_3",
    "to_document_3",
    "warnings",
    "error",
)
SEXES = {"male": "male", "m": "male", "female": "female", "f": "female"}
MAX_AGE = 120


#: A letter item's parts in a person's words, for messages.
_ITEM_WORDS = {"case_summary": "case summary", "service": "requested service"}
#: The draft's fields in a person's words, for messages.
FIELD_WORDS = {
    "case_summary": "the case summary",
    "services": "the requested services",
    "injury_date": "the date of injury",
    "ur_denial_date": "the UR denial date",
    "claims_admin_guideline": "the claims administrator's guideline",
}


def _has_words(text) -> bool:
    return isinstance(text, str) and bool(re.search(r"[A-Za-z]{2,}", text))


def shown(value, limit: int = 60) -> str:
    """A value quoted for a message: escaped (no terminal control) and shortened."""
    if not isinstance(value, str):
        text = repr(value)
        return text[:limit] + ("..." if len(text) > limit else "")
    return repr(value[:limit] + ("..." if len(value) > limit else ""))


def _iso(value, source: str, name: str) -> str | None:
    if value in (None, ""):
        return None
    words = FIELD_WORDS.get(name, name)
    if not isinstance(value, str):
        raise InputError(f"{source}: {words} (field '{name}') must be a date string YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError as exc:
        raise InputError(
            f"{source}: {words} (field '{name}') = {shown(value)} is not a date; use YYYY-MM-DD",
            plain=f"{words.capitalize()} {shown(value)} is not a date: give it as "
            "year-month-day, e.g. 2016-10-13, or leave it empty.",
        ) from exc


def _age(value, source: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        age = float(value)
    except (TypeError, ValueError):
        age = float("nan")
    if not 0 <= age <= MAX_AGE:  # also refuses nan and inf
        raise InputError(
            f"{source}: field 'age' = {shown(value)} is not an age; give years as a number "
            f"from 0 to {MAX_AGE}, or leave it empty"
        )
    return age


def _sex(value, source: str) -> str | None:
    if value in (None, ""):
        return None
    sex = SEXES.get(str(value).strip().lower())
    if sex is None:
        raise InputError(
            f"{source}: field 'sex' = {shown(value)} is not understood; use male or female, "
            "or leave it empty"
        )
    return sex


def _service_row(case_summary: str, service: str, common: dict) -> dict:
    parsed = parse_service(service)
    return {
        "case_summary": case_summary.strip(),
        "service": parsed["service"],
        "item_text": service.strip(),
        "quantity": parsed["quantity"],
        "partial_authorization": parsed["partial_authorization"],
        "original_request": parsed["original_request"],
        "authorized_portion": parsed["authorized_portion"],
        "retrospective": parsed["retrospective"],
        **common,
    }


def draft_rows(
    case_summary: str,
    services: list[str],
    *,
    source: str = "draft",
    injury_date=None,
    ur_denial_date=None,
    claims_admin_guideline: str | None = None,
) -> list[dict]:
    """Validated pre-filing rows, one per service; ``InputError`` for any bad one.

    For callers that take a draft whole (the web form); :func:`draft_items` sets a bad
    service aside instead.
    """
    rows, unscorable = draft_items(
        case_summary,
        services,
        source=source,
        injury_date=injury_date,
        ur_denial_date=ur_denial_date,
        claims_admin_guideline=claims_admin_guideline,
    )
    if unscorable:
        bad = unscorable[0]
        number, service = bad["item_index"] + 1, services[bad["item_index"]]
        raise InputError(
            bad["error"],
            plain=f"Requested service {number} ({shown(service)}) has no words: describe the "
            "service as the provider requested it, e.g. 'Physical therapy x 6 visits for the "
            "left hip'.",
        )
    return rows


def draft_items(
    case_summary: str,
    services: list[str],
    *,
    source: str = "draft",
    injury_date=None,
    ur_denial_date=None,
    claims_admin_guideline: str | None = None,
) -> tuple[list[dict], list[dict]]:
    """(validated pre-filing rows, one per good service; unscorable services with reasons).

    A fault of the whole case (no summary, no services, a bad date) raises ``InputError``;
    a bad service is set aside as unscorable (``item_index``, ``service``, ``error``) and
    the others are scored.
    """
    if not isinstance(case_summary, str) or not _has_words(case_summary):
        raise InputError(
            f"{source}: the case summary (field 'case_summary') is empty; give the clinical "
            "case summary",
            plain="The case summary is empty: paste the clinical case summary (history, "
            "treatment so far and its results, examination and imaging findings), then score.",
        )
    if len(case_summary.strip()) > MAX_SUMMARY_CHARS:
        raise InputError(
            f"{source}: the case summary (field 'case_summary') has "
            f"{len(case_summary.strip()):,} characters, more than {MAX_SUMMARY_CHARS:,} "
            "(MAX_SUMMARY_CHARS, the limit of a letter's summary in ingestion too); give the "
            "clinical case summary only",
            plain=f"The case summary is longer than {MAX_SUMMARY_CHARS:,} characters, the "
            "most a letter's summary may hold: paste the clinical case summary only.",
        )
    if not services:
        raise InputError(
            f"{source}: no requested service (field 'services' is empty); give at least one "
            "requested service",
            plain="No requested service: write at least one, one per line, e.g. "
            "'MRI of the lumbar spine'.",
        )
    if claims_admin_guideline is not None and not isinstance(claims_admin_guideline, str):
        raise InputError(
            f"{source}: the claims administrator's guideline (field 'claims_admin_guideline') "
            "must be text"
        )
    common = {
        "injury_date": _iso(injury_date, source, "injury_date"),
        "ur_denial_date": _iso(ur_denial_date, source, "ur_denial_date"),
        "claims_admin_guideline": claims_admin_guideline,
        "claims_admin_families": guideline_families(claims_admin_guideline),
    }
    rows, unscorable = [], []
    for i, service in enumerate(services):
        if not _has_words(service):
            kind = "has no words" if isinstance(service, str) else "is not text"
            unscorable.append(
                {
                    "source_file": source,
                    "item_index": i,
                    "service": service if isinstance(service, str) else None,
                    "error": f"{source}: service {i + 1} ({shown(service)}) {kind}; describe "
                    "the requested service, e.g. 'Physical therapy x 6 visits for the left hip'",
                }
            )
            continue
        rows.append({**_service_row(case_summary, service, common), "item_index": i})
    return rows, unscorable


def case_rows(payload: object, source: str) -> tuple[list[dict], list[dict]]:
    """(rows, unscorable services) from a JSON case object checked against the schema."""
    if not isinstance(payload, dict):
        raise InputError(f"{source}: expected a JSON object with 'case_summary' and 'services'")
    unknown = sorted(set(payload) - set(CASE_FIELDS))
    if unknown:
        raise InputError(
            f"{source}: unknown field(s) {', '.join(shown(u) for u in unknown)}; allowed: "
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
    return draft_items(
        payload["case_summary"],
        payload["services"],
        source=source,
        injury_date=payload.get("injury_date"),
        ur_denial_date=payload.get("ur_denial_date"),
        claims_admin_guideline=payload.get("claims_admin_guideline"),
    )


def read_case_file(text: str, source: str) -> tuple[list[dict], list[dict]]:
    """(rows, unscorable services) from the text of a JSON case file."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except RecursionError as exc:
        raise InputError(
            f"{source}: the JSON is nested too deeply to be a case; a case is one object of "
            "the fields listed in the README"
        ) from exc
    return case_rows(payload, source)


def letters_rows(paths: list[Path]) -> tuple[list[dict], list[dict]]:
    """(rows, unscorable) of letter files and folders, real letters or drafts.

    Files are found, read and parsed exactly as ingestion does (regular files only, under
    the parsing workers' limits) and rows come from the same row builder
    (:func:`data.letters.records.letter_records`), keeping only ``source_file``,
    ``item_index`` and the pre-filing columns: a letter and its draft give the same rows.
    Each unscorable file is ``{"source_file", "error", "kind"}`` (names escaped).
    """
    from data.letters.files import find_letter_files
    from data.letters.names import display_name
    from data.letters.pool import parse_files

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
        rows.extend(rows_of_records(display_name(path.name), outcome.records))
    return rows, unscorable


def rows_of_records(source_file: str, records: list[dict]) -> list[dict]:
    """Rows of a parsed letter's records: ``source_file`` (a display name), ``item_index``
    and the pre-filing columns only."""
    from settings import PRE_FILING_COLUMNS

    return [
        {"source_file": source_file, "item_index": record["item_index"]}
        | {column: record[column] for column in PRE_FILING_COLUMNS}
        for record in records
    ]


def letter_rows(path: Path, data: bytes | None = None) -> list[dict]:
    """Pre-filing rows of one letter file, real or draft (``LetterError`` if unparseable).

    ``data``: the file's bytes when they are already in memory (never written to disk);
    ``path`` then only names the file and tells PDF from text. Either way the file is
    parsed by a limited worker (:mod:`data.letters.pool`), never in this process.
    """
    from data.letters.errors import LetterError

    if data is not None:
        from data.letters.names import display_name
        from data.letters.pool import ParseJob, parse_one
        from settings import MAX_LETTER_BYTES

        path = Path(path)
        if len(data) > MAX_LETTER_BYTES:
            raise LetterError(
                f"file is {len(data) / 2**20:.0f} MiB, larger than any letter "
                f"({MAX_LETTER_BYTES // 2**20} MiB limit); is it really a determination letter?",
                kind="too_large",
            )
        reply = parse_one(ParseJob(0, data, path.suffix, allow_draft=True))
        if reply["status"] == "failed":
            raise LetterError(reply["reason"], kind=reply["kind"])
        return rows_of_records(display_name(path.name), reply["records"])
    rows, unscorable = letters_rows([Path(path)])
    if unscorable:
        raise LetterError(unscorable[0]["error"], kind=unscorable[0]["kind"])
    return rows


def split_unscorable(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """(rows with a summary and a service that have words, the others with the reason).

    For rows built elsewhere (letters): a letter item without a summary or a service is
    set aside, keyed by its ``source_file`` and ``item_index``.
    """
    good, bad = [], []
    for row in rows:
        empty = [c for c in BATCH_REQUIRED if not _has_words(row.get(c))]
        if not empty:
            good.append(row)
            continue
        where = f"{row.get('source_file', 'letter')} item {row.get('item_index', '?')}"
        bad.append(
            {
                "source_file": row.get("source_file"),
                "item_index": row.get("item_index"),
                "service": row.get("service") if isinstance(row.get("service"), str) else None,
                "error": f"{where}: no {' and no '.join(_ITEM_WORDS[c] for c in empty)} "
                "found; nothing to "
                "score (is this a letter in the supported layout?)",
            }
        )
    return good, bad


def _batch_key(fields: dict, number: int, line: int) -> str:
    """How messages name a batch row: by its ``id`` when the CSV has one, its number (1 =
    the first after the header) and the line it starts on."""
    if fields.get(BATCH_ID, "") != "":
        return f"id {shown(fields[BATCH_ID])} (row {number}), line {line}"
    return f"row {number}, line {line}"


def _batch_text(path: Path, data: bytes) -> str:
    if len(data) > MAX_BATCH_BYTES:
        raise InputError(
            f"{path}: more than {MAX_BATCH_BYTES / 2**20:g} MiB; a batch CSV holds at most "
            f"{MAX_BATCH_BYTES / 2**20:g} MiB (MAX_BATCH_BYTES); split it into smaller batches"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the CSV as UTF-8"
        ) from exc


def batch_rows(path: Path, data: bytes | None = None) -> tuple[list[dict], list[dict]]:
    """(rows to score, rows that cannot be scored with their reason) from a batch CSV.

    ``data``: the CSV's bytes when already in memory (the web page's upload); ``path`` then
    only names it in messages. Rows are numbered from 1 (the first record after the
    header) in ``row``. Columns other than the inputs (``case_summary``, ``service`` and
    :data:`BATCH_OPTIONAL`) are carried as they are, as text, under ``extra`` (an ``id``
    column among them also names the row in messages); they never reach the model.

    A bad row is set aside with its reason, the line it starts on and its number: a row
    with a bad value, and a malformed row (quotes that do not balance, more or fewer fields
    than the header: :mod:`data.drafts.batch_csv`), whose fields are never guessed, so
    no row's id is ever put on another row's content. A file that cannot be read as a whole
    (not UTF-8, no header, over the size limits) is an :class:`InputError`.
    """
    if data is None:
        data = read_bytes(str(path), "--batch", BATCH)
    try:
        columns, records = read_records(_batch_text(path, data), MAX_BATCH_ROWS, MAX_BATCH_LINES)
    except BatchFileError as exc:
        raise InputError(f"{path}: cannot read the CSV: {exc}") from exc
    missing = [c for c in BATCH_REQUIRED if c not in columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; see README")
    clashing = [c for c in columns if c in RESERVED_COLUMNS]
    if clashing:
        raise InputError(
            f"{path}: column(s) {', '.join(shown(c) for c in clashing)} would be overwritten by "
            "the output; rename them"
        )
    inputs = {*BATCH_REQUIRED, *BATCH_OPTIONAL}
    extras = [c for c in columns if c not in inputs]
    good, bad = [], []
    for record in records:
        number, fields = record.number, record.fields
        if fields is None:
            bad.append(
                {
                    "row": number,
                    "service": None,
                    "extra": {},
                    "error": f"{path} row {number} (line {record.line}): malformed, set aside "
                    f"and not read: {record.error}; the line starts {shown(record.text, 50)}",
                }
            )
            continue
        extra = {c: fields[c] for c in extras}
        source = f"{path} {_batch_key(fields, number, record.line)}"
        try:
            rows, unscorable = draft_items(
                fields["case_summary"],
                [fields["service"]],
                source=source,
                injury_date=fields.get("injury_date") or None,
                ur_denial_date=fields.get("ur_denial_date") or None,
                claims_admin_guideline=fields.get("claims_admin_guideline") or None,
            )
            if unscorable:
                raise InputError(unscorable[0]["error"])
            (row,) = rows
            row["age"] = _age(fields.get("age"), source)
            row["sex"] = _sex(fields.get("sex"), source)
        except InputError as exc:
            bad.append(
                {"row": number, "service": fields["service"], "extra": extra, "error": str(exc)}
            )
            continue
        del row["item_index"]
        good.append({**row, "row": number, "extra": extra})
    return good, bad
