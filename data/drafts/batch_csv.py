"""A batch CSV read record by record: a malformed row is set aside, never merged into another.

A spreadsheet or a hand-edited file can hold a row whose quotes do not balance
(``r2,"knee pain,PT x 6``) or that has more or fewer fields than the header. A lenient
reader lets such a row swallow the next one (``r2``'s id on ``r3``'s service, ``r3`` gone)
or refuses the whole file. Here every record is read strictly (a quote may only open and
close a whole field) and must have the header's number of fields; a record that fails is
reported with the line it starts on, and reading starts again on the line after it, so the
rows it would have swallowed are read as themselves.

A field that really holds a line break is quoted, as spreadsheets write it, and is read as
one field. What cannot be told apart: a stray quote that opens a field and a later one
that closes it right before a comma or a line end (``12",``) read as one quoted field
spanning lines, as any CSV reader reads them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass

#: A physical line and its end (``\r\n``, ``\r`` or ``\n``); the last line may have none.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
#: What the reader's strict mode says, in words a user can act on.
_REASONS = (
    (
        "expected after '\"'",
        'a quote (") ends a field that goes on after it: the quotes of this row do not '
        'balance; write a field holding quotes as "..." with each quote inside doubled ("")',
    ),
    (
        "unexpected end of data",
        'a quote (") opened in this row is never closed: the quotes do not balance; close '
        "it, or double each quote inside a quoted field",
    ),
    (
        "field larger than field limit",
        f"a field of more than {csv.field_size_limit():,} characters, longer than any case summary",
    ),
    ("new-line character seen in unquoted field", "a carriage return inside a field"),
)


#: A record spanning more lines than this is a quote that never closes, not a field with
#: line breaks (a summary pasted with its line breaks takes about a hundred at most).
MAX_RECORD_LINES = 1_000
#: More malformed rows than this: the file is not a batch whose quotes can be repaired by
#: setting rows aside (each one may be read again up to MAX_RECORD_LINES lines).
MAX_MALFORMED_ROWS = 1_000
_QUOTED = 80


class BatchFileError(ValueError):
    """The file as a whole cannot be read (its header, its size in rows, its quoting)."""


class _RecordTooLong(Exception):
    pass


@dataclass(frozen=True)
class Record:
    """One row of the batch: its number (1 = the first after the header), the line it
    starts on (the header is line 1), and its fields by column, or why it is malformed."""

    number: int
    line: int
    fields: dict[str, str] | None
    error: str | None = None
    text: str = ""  # the start of the row's first line, to quote in a message


def _reason(exc: csv.Error) -> str:
    message = str(exc)
    return next((words for key, words in _REASONS if key in message), message)


def _lines(text: str, offset: int, ends: list[int]) -> Iterator[str]:
    """The physical lines of ``text`` from ``offset``, noting where each ends in ``ends``;
    :class:`_RecordTooLong` once ``ends`` holds more than :data:`MAX_RECORD_LINES`."""
    for match in _LINE.finditer(text, offset):
        ends.append(match.end())
        if len(ends) > MAX_RECORD_LINES:
            raise _RecordTooLong
        yield match.group()


def _parse(text: str, offset: int, line: int) -> Iterator[tuple[int, int, list | None, str | None]]:
    """(offset, line number of the record's first line, fields or None, error) of each
    record of ``text[offset:]``; after a malformed record, reading starts again on the line
    after its first, so the lines it swallowed are read as rows of their own."""
    while offset < len(text):
        ends: list[int] = []  # where each line of the current record ends
        reader = csv.reader(_lines(text, offset, ends), strict=True)
        try:
            for fields in reader:
                yield offset, line, fields, None
                offset, line = ends[-1], line + len(ends)
                ends.clear()
            return
        except csv.Error as exc:
            error = _reason(exc)
        except _RecordTooLong:
            error = (
                f'a quoted field runs over more than {MAX_RECORD_LINES:,} lines: a quote (") '
                "opened in this row is never closed; close it"
            )
        yield offset, line, None, error
        offset, line = _LINE.match(text, offset).end(), line + 1


def _blank(fields: list[str] | None) -> bool:
    return fields is not None and not any(f.strip() for f in fields)


def _header(text: str) -> tuple[list[str], int, int]:
    """The column names, and the offset and line number of the first line after them."""
    records = _parse(text, 0, 1)
    for _offset, line, fields, error in records:
        if error:
            raise BatchFileError(f"line {line}, the header: {error}")
        if _blank(fields):
            continue  # blank lines before the header
        names = [name or f"Unnamed: {i}" for i, name in enumerate(fields)]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise BatchFileError(
                f"line {line}, the header: column(s) {', '.join(map(repr, doubled))} "
                "appear more than once; give each column one name"
            )
        after = next(records, None)  # where the next record starts
        return names, *((after[0], after[1]) if after else (len(text), line + 1))
    raise BatchFileError("no header line; the first line names the columns")


def read_records(text: str, max_rows: int, max_lines: int) -> tuple[list[str], list[Record]]:
    """(column names, every row of ``text`` in order), malformed rows with their error.

    Blank rows (no field with anything in it) are skipped and not numbered. Raises
    :class:`BatchFileError` for more than ``max_lines`` lines (checked first: reading is
    about a microsecond a line), a header that cannot be read, more than ``max_rows`` rows
    or more than :data:`MAX_MALFORMED_ROWS` malformed ones.
    """
    if max(text.count("\n"), text.count("\r")) > max_lines:
        raise BatchFileError(f"more than {max_lines:,} lines; split it into smaller batches")
    columns, offset, line = _header(text)
    records: list[Record] = []
    malformed = 0
    for start, first, fields, error in _parse(text, offset, line):
        if _blank(fields):
            continue
        if len(records) >= max_rows:
            raise BatchFileError(f"more than {max_rows:,} rows; split it into smaller batches")
        if error is None and len(fields) != len(columns):
            hint = (
                "a comma inside a field that is not quoted? quote the field"
                if len(fields) > len(columns)
                else "a missing field, or a line break inside a field that is not quoted?"
            )
            error = f"{len(fields)} fields where the header has {len(columns)} ({hint})"
        number = len(records) + 1
        if error is None:
            records.append(Record(number, first, dict(zip(columns, fields, strict=True))))
            continue
        malformed += 1
        if malformed > MAX_MALFORMED_ROWS:
            raise BatchFileError(
                f"more than {MAX_MALFORMED_ROWS:,} malformed rows (the first: line "
                f"{next(r.line for r in records if r.error)}); is it a CSV of cases? fix its "
                "quoting"
            )
        quoted = _LINE.match(text, start).group().rstrip("\r\n")[:_QUOTED]
        records.append(Record(number, first, None, error, quoted))
    return columns, records
