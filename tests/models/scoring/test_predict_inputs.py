"""predict.py's inputs: a malformed batch row is set aside alone, and every input is bounded.

Issue 16, item 4: a row with an unbalanced quote swallowed the next one (its id on the
next row's service, that row gone, exit 0) and one extra field refused the whole file.
Item 6: ``--summary - < /dev/zero`` ran out of memory and ``--summary /dev/zero`` said
"no such file"; standard input and devices now have the bounds of files. The runs that
could allocate run under ``resource`` limits (:func:`tests.helpers.hostile_files.run_limited`).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from data.drafts.batch_csv import MAX_MALFORMED_ROWS, MAX_RECORD_LINES, read_records
from data.drafts.input_files import SUMMARY, read_text
from data.drafts.rows import InputError, batch_rows, draft_items
from settings import MAX_BATCH_BYTES, MAX_BATCH_LINES, MAX_BATCH_ROWS, MAX_SUMMARY_CHARS
from tests.helpers.hostile_files import make_fifo, run_limited

REPO = Path(__file__).resolve().parents[3]
HEADER = "id,case_summary,service\n"
R1 = 'r1,"The worker has low back pain after lifting boxes.",MRI of the lumbar spine\n'
R3 = 'r3,"The worker has neck pain after a crash.",TENS unit\n'


def _batch(text: str) -> tuple[list[dict], list[dict]]:
    return batch_rows(Path("cases.csv"), text.encode())


def _scored(good: list[dict]) -> list[tuple]:
    return [(row["row"], row["extra"]["id"], row["service"]) for row in good]


def test_an_unbalanced_quote_sets_its_row_aside_and_never_shifts_an_id():
    """The reproduction: r2's open quote swallowed r3 (r2 scored with r3's service)."""
    good, bad = _batch(HEADER + R1 + 'r2,"The worker has knee pain.,Physical therapy x 6\n' + R3)
    assert _scored(good) == [(1, "r1", "MRI of the lumbar spine"), (3, "r3", "TENS unit")]
    (row2,) = bad
    assert row2["row"] == 2 and row2["extra"] == {} and row2["service"] is None
    assert "line 3" in row2["error"] and "quote" in row2["error"]
    assert "'r2," in row2["error"]  # the line is quoted, so the user finds it


def test_a_quote_never_closed_sets_only_its_row_aside():
    good, bad = _batch(HEADER + R1 + R3.replace("r3", "r2") + 'r3,"no closing quote,TENS unit\n')
    assert _scored(good) == [(1, "r1", "MRI of the lumbar spine"), (2, "r2", "TENS unit")]
    assert [(b["row"], "line 4" in b["error"], "never closed" in b["error"]) for b in bad] == [
        (3, True, True)
    ]


@pytest.mark.parametrize(
    ("row", "found"),
    [
        ('r2,"The worker has knee pain.",Physical therapy x 6,extra\n', "4 fields"),
        ('r2,"The worker has knee pain."\n', "2 fields"),
    ],
)
def test_a_row_with_the_wrong_number_of_fields_is_set_aside_not_the_file(row, found):
    """The reproduction: one row with an extra field refused the whole file (exit 2)."""
    good, bad = _batch(HEADER + R1 + row + R3)
    assert _scored(good) == [(1, "r1", "MRI of the lumbar spine"), (3, "r3", "TENS unit")]
    (row2,) = bad
    assert row2["row"] == 2 and found in row2["error"] and "line 3" in row2["error"]
    assert "the header has 3" in row2["error"]


def test_quoted_fields_with_line_breaks_commas_and_quotes_are_one_field():
    text = (
        HEADER
        + 'r1,"Pain, 6/10.\r\nShe said ""it hurts"".\n\nNo relief.",MRI of the knee\r\n'
        + "\n"  # blank lines are skipped and not numbered
        + ",,\n"  # nor are rows of empty fields
        + R3
    )
    good, bad = _batch(text)
    assert bad == []
    assert _scored(good) == [(1, "r1", "MRI of the knee"), (2, "r3", "TENS unit")]
    assert good[0]["case_summary"] == 'Pain, 6/10.\r\nShe said "it hurts".\n\nNo relief.'


def test_malformed_rows_are_numbered_and_read_again_from_the_next_line():
    columns, records = read_records(
        HEADER + 'a,"b\nr2,x,y\nr3,"c"d,e\n' + R3.replace("r3", "r4"), 100, 100
    )
    assert columns == ["id", "case_summary", "service"]
    summary = [(r.number, r.line, r.fields["id"] if r.fields else r.error[:7]) for r in records]
    assert summary == [(1, 2, "a quote"), (2, 3, "r2"), (3, 4, "a quote"), (4, 5, "r4")]


def test_header_faults_refuse_the_file_with_the_line():
    with pytest.raises(InputError, match="line 1, the header: a quote"):
        _batch('id,"case_summary,service\n' + R1)
    with pytest.raises(InputError, match="'service' appear more than once"):
        _batch("id,case_summary,service,service\n")
    with pytest.raises(InputError, match="no header line"):
        _batch("\n\n")
    with pytest.raises(InputError, match="missing column"):
        _batch("id,summary,service\n" + R1)
    with pytest.raises(InputError, match="not UTF-8"):
        batch_rows(Path("cases.csv"), HEADER.encode() + b"r1,\xff,MRI\n")


def test_hostile_batches_end_quickly_with_the_limit_they_hit():
    """Broken quoting on every line could make the reader start again and again: the
    number of malformed rows, the lines a row may span and the lines of the file are
    bounded, so each of these ends within seconds (generous bound: a shared machine)."""
    cases = {
        "every row opens a quote": (HEADER + 'r,"a,b\n' * 5_000, "malformed rows"),
        "a quote never closed": (HEADER + 'r,"a,b\n' + "x\n" * 50_000, "malformed rows"),
        "too many lines": (HEADER + '"\n' * (MAX_BATCH_LINES + 1), "lines"),
        "too many rows": (HEADER + R1 * (MAX_BATCH_ROWS + 1), "rows"),
    }
    for name, (text, limit) in cases.items():
        start = time.monotonic()
        with pytest.raises(InputError, match=f"more than [0-9,]+ {limit}"):
            _batch(text)
        assert time.monotonic() - start < 30, name
    good, bad = _batch(HEADER + 'r,"a,b\n' * MAX_MALFORMED_ROWS)
    assert good == [] and len(bad) == MAX_MALFORMED_ROWS
    spanning = 'r1,"' + "r,Back pain.,MRI\n" * (MAX_RECORD_LINES + 5)
    good, bad = _batch(HEADER + spanning)
    assert f"more than {MAX_RECORD_LINES:,} lines" in bad[0]["error"]  # then read as rows
    assert len(good) == MAX_RECORD_LINES + 4 and good[0]["row"] == 2
    with pytest.raises(InputError, match="MAX_BATCH_BYTES"):
        batch_rows(Path("big.csv"), b"x" * (MAX_BATCH_BYTES + 1))


def test_a_summary_longer_than_ingestion_allows_is_refused_with_the_limit():
    with pytest.raises(InputError, match=f"more than {MAX_SUMMARY_CHARS:,}.*MAX_SUMMARY_CHARS"):
        draft_items("Back pain. " * (MAX_SUMMARY_CHARS // 10), ["MRI of the knee"])
    good, bad = _batch(HEADER + f'r1,"{"Back pain. " * (MAX_SUMMARY_CHARS // 10)}",MRI\n' + R3)
    assert _scored(good) == [(2, "r3", "TENS unit")] and "MAX_SUMMARY_CHARS" in bad[0]["error"]


def test_files_devices_and_pipes_are_read_within_the_same_bound(tmp_path):
    summary = tmp_path / "summary.txt"
    summary.write_text("The worker has back pain.", encoding="utf-8")
    assert read_text(str(summary), "--summary", SUMMARY) == "The worker has back pain."
    with pytest.raises(InputError, match="50,000 characters"):
        read_text("/dev/zero", "--summary", SUMMARY)
    summary.write_text("x" * (MAX_SUMMARY_CHARS + 1), encoding="utf-8")
    with pytest.raises(InputError, match="50,000 characters"):
        read_text(str(summary), "--summary", SUMMARY)
    with pytest.raises(InputError, match="is a folder"):
        read_text(str(tmp_path), "--summary", SUMMARY)
    with pytest.raises(InputError, match="no such file"):
        read_text(str(tmp_path / "missing"), "--summary", SUMMARY)
    fifo = make_fifo(tmp_path / "pipe")  # what --summary <(...) names
    writer = subprocess.Popen(["sh", "-c", 'printf "The worker has knee pain." > "$0"', fifo])
    try:
        assert read_text(str(fifo), "--summary", SUMMARY) == "The worker has knee pain."
    finally:
        writer.wait(timeout=30)


def _predict_limited(args: list[str], tmp_path: Path, stdin=None):
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'none.db'}"}
    return run_limited(["predict.py", *args], REPO, timeout=120, stdin=stdin, env=env)


@pytest.mark.parametrize(
    ("args", "limit"),
    [
        (["--summary", "-", "--service", "MRI of the knee"], "50,000 characters"),
        (["--summary", "/dev/zero", "--service", "MRI of the knee"], "50,000 characters"),
        (["--case", "-"], "2,000,000 characters"),
        (["--case", "/dev/zero"], "2,000,000 characters"),
        (["--batch", "-"], "32 MiB"),
        (["--batch", "/dev/zero"], "32 MiB"),
    ],
)
def test_stdin_and_devices_end_in_a_message_naming_the_limit(tmp_path, args, limit):
    """The reproduction, under a 4 GB address space: a MemoryError traceback for stdin,
    "no such file" for the device."""
    with open("/dev/zero", "rb") as zeros:
        run = _predict_limited(args, tmp_path, stdin=zeros)
    stderr = run.stderr.decode()
    assert run.returncode == 2, stderr
    assert "Traceback" not in stderr and "no such file" not in stderr
    assert f"error: {args[0]} {args[1]}: more than {limit}" in stderr
