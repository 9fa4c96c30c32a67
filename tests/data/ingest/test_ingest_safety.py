"""Hostile letter files: each costs only itself, with a reason; names are data; one letter
has one identity. Hostile files are made here and ingested only in a subprocess under
``ulimit -v 4000000`` and a time limit (:func:`tests.helpers.hostile_files.run_limited`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from data.letters.errors import LetterError
from data.letters.files import read_letter_bytes
from data.letters.names import display_name, path_hex
from data.letters.parser import parse_letter
from data.letters.text import decode_text
from tests.helpers import hostile_files as hostile
from tests.helpers.letters import letter
from tests.helpers.pdf_maker import text_pdf

REPO = Path(__file__).resolve().parents[3]
GOOD = [f"CM16-00020{i:02d}" for i in range(4)]
NEWLINE_NAME = "evil\nfailed forged.txt: this line was forged.txt"
ANSI_NAME = "\x1b[2J\x1b[31mred.txt"
MARKUP_NAME = "[bold red]markup[reverse].txt"


def _build_hostile_folder(folder: Path) -> None:
    folder.mkdir(parents=True)
    for i, case in enumerate(GOOD[:3]):
        (folder / f"good_{i}.txt").write_text(letter(case_number=case))
    (folder / "good_3.pdf").write_bytes(text_pdf(letter(case_number=GOOD[3]).splitlines()))
    os.symlink("/dev/zero", folder / "z.txt")
    hostile.make_fifo(folder / "p.txt")
    hostile.make_socket(folder / "s.txt")
    hostile.make_bytes_name(folder, b"\xff.txt", letter(case_number="CM16-0002100"))
    for name in (NEWLINE_NAME, ANSI_NAME, MARKUP_NAME):
        (folder / name).write_text("not a letter")
    (folder / "locked.pdf").write_bytes(hostile.password_pdf(letter(case_number="CM16-0002200")))
    (folder / "pages.pdf").write_bytes(hostile.many_pages_pdf())
    (folder / "long_summary.txt").write_text(hostile.long_summary_letter(1.0))
    # one letter four ways, and a different letter under its case number
    twin = letter(case_number="CM16-0002300")
    (folder / "twin.pdf").write_bytes(text_pdf(twin.splitlines()))
    (folder / "twin_appended.pdf").write_bytes(
        text_pdf(twin.splitlines()) + b"\n% a trailing comment\n"
    )
    (folder / "twin_original.txt").write_text(twin)
    rewrapped = twin.replace("industrial injury on", "industrial\ninjury on")  # other wrapping
    (folder / "twin_respaced.txt").write_text("".join(f"{x}  \n\n" for x in rewrapped.split("\n")))
    (folder / "twin_zz_conflict.txt").write_text(
        letter(case_number="CM16-0002300", summary="A 61 year old male with neck pain since 2014.")
    )


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One CLI run over a folder of good letters and every cheap hostile file."""
    tmp = tmp_path_factory.mktemp("hostile")
    _build_hostile_folder(tmp / "in")
    run = hostile.run_limited(
        ["-m", "data.ingest", "in", "--out", "out", "--quiet"], cwd=tmp, timeout=180
    )
    report = json.loads((tmp / "out" / "ingest_report.json").read_text())
    items = pd.read_parquet(tmp / "out" / "items.parquet")
    by_name = {Path(entry["path"]).name: entry for entry in report["files"]}
    assert len(report["files"]) == len(by_name) == len(os.listdir(tmp / "in"))
    return run, report, items, by_name


def test_the_run_survives_and_says_some_files_failed(hostile_run):
    run, _, items, by_name = hostile_run
    output = (run.stdout + run.stderr).decode(errors="replace")
    assert run.returncode == 1, output
    assert "Traceback" not in output
    assert set(GOOD) <= set(items["case_number"])
    assert len(by_name) == 19  # a report line for every file (the fixture checks the names)


@pytest.mark.parametrize(
    ("name", "what"),
    [("z.txt", "character device"), ("p.txt", "FIFO"), ("s.txt", "socket")],
)
def test_device_files_fifos_and_sockets_are_refused(hostile_run, name, what):
    entry = hostile_run[3][name]
    assert (entry["status"], entry["kind"]) == ("failed", "not_a_file")
    assert what in entry["reason"]


def test_a_name_that_is_not_utf8_is_stored_losslessly(hostile_run):
    _, _, items, by_name = hostile_run
    entry = by_name["\\xff.txt"]
    assert entry["status"] == "parsed"
    assert bytes.fromhex(entry["path_hex"]).endswith(b"/\xff.txt")
    (row,) = items[items["case_number"] == "CM16-0002100"].to_dict("records")
    assert row["source_file"] == "\\xff.txt"
    assert bytes.fromhex(row["source_path_hex"]).endswith(b"/\xff.txt")


def test_names_cannot_forge_lines_or_reach_the_terminal_raw(hostile_run):
    run, _, _, by_name = hostile_run
    stdout = run.stdout.decode()
    assert "\x1b" not in stdout
    assert not [line for line in stdout.splitlines() if line.startswith("failed forged.txt")]
    assert "evil\\nfailed forged.txt: this line was forged.txt: " in stdout
    assert "\\x1b[2J\\x1b[31mred.txt" in stdout
    assert f"{MARKUP_NAME}: " in stdout  # printed as it is, not read as rich markup
    failed = [e for e in by_name.values() if e["status"] == "failed"]
    assert len([line for line in stdout.splitlines() if line.startswith("failed ")]) == len(failed)
    assert bytes.fromhex(by_name[display_name(NEWLINE_NAME)]["path_hex"]).endswith(
        NEWLINE_NAME.encode()
    )


def test_a_pdf_with_a_user_password_has_its_own_kind(hostile_run):
    entry = hostile_run[3]["locked.pdf"]
    assert (entry["status"], entry["kind"]) == ("failed", "encrypted_pdf")
    assert "password" in entry["reason"] and "corrupt" not in entry["reason"]


def test_a_pdf_of_100000_pages_is_refused_by_its_page_count(hostile_run):
    entry = hostile_run[3]["pages.pdf"]
    assert (entry["status"], entry["kind"]) == ("failed", "too_many_pages")
    assert "100,000 pages" in entry["reason"]


def test_a_megabyte_summary_is_too_long_not_a_truncated_letter(hostile_run):
    entry = hostile_run[3]["long_summary.txt"]
    assert (entry["status"], entry["kind"]) == ("failed", "summary_too_long")


@pytest.mark.parametrize("name", ["twin_appended.pdf", "twin_original.txt", "twin_respaced.txt"])
def test_the_same_letter_by_content_is_a_duplicate(hostile_run, name):
    by_name = hostile_run[3]
    assert by_name["twin.pdf"]["status"] == "parsed"
    assert (by_name[name]["status"], by_name[name]["duplicate_of"]) == ("duplicate", "twin.pdf")


def test_the_same_case_with_other_content_is_a_conflict_in_the_same_case_group(hostile_run):
    run, report, items, by_name = hostile_run
    entry = by_name["twin_zz_conflict.txt"]
    assert (entry["status"], entry["conflict_with"]) == ("conflict", "twin.pdf")
    case = items[items["case_number"] == "CM16-0002300"]
    assert sorted(case["source_file"]) == ["twin.pdf", "twin_zz_conflict.txt"]
    assert set(case["case_group"]) == {"CM16-0002300"}
    assert report["summary"]["conflicts"] == 1
    assert "conflict twin_zz_conflict.txt" in run.stdout.decode().replace("in/", "")


_INGEST_WITH_LIMITS = """
import json, sys
from pathlib import Path
from data.ingest import ingest
from data.letters.pool import ParseLimits
limits = ParseLimits(memory_bytes=int(sys.argv[1]), seconds=float(sys.argv[2]))
result = ingest([Path("in")], Path("out"), workers=2, limits=limits)
print(json.dumps(result.report))
"""


def _ingest_with_limits(tmp: Path, memory_mib: int, seconds: float) -> dict:
    run = hostile.run_limited(
        ["-c", _INGEST_WITH_LIMITS, str(memory_mib * 2**20), str(seconds)], cwd=tmp, timeout=120
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    return json.loads(run.stdout)


def test_a_flate_bomb_costs_only_its_own_file(tmp_path):
    """A 1 GiB bomb against a 256 MiB worker: the cheap twin of the 4 GiB one below."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a_bomb.pdf").write_bytes(hostile.flate_bomb_pdf(gib=1))
    for i in range(6):
        (tmp_path / "in" / f"good_{i}.txt").write_text(letter(case_number=f"CM16-00030{i:02d}"))
    report = _ingest_with_limits(tmp_path, memory_mib=256, seconds=60)
    by_name = {Path(e["path"]).name: e for e in report["files"]}
    assert (by_name["a_bomb.pdf"]["status"], by_name["a_bomb.pdf"]["kind"]) == (
        "failed",
        "resource_limit",
    )
    assert "memory limit (256 MiB" in by_name["a_bomb.pdf"]["reason"]
    assert report["summary"]["parsed"] == 6


def test_a_letter_over_the_time_limit_costs_only_its_own_file(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a_slow.pdf").write_bytes(hostile.slow_pdf())
    for i in range(6):  # some of them queued behind the slow one, in the same worker
        (tmp_path / "in" / f"good_{i}.txt").write_text(letter(case_number=f"CM16-00031{i:02d}"))
    report = _ingest_with_limits(tmp_path, memory_mib=1024, seconds=0.25)
    by_name = {Path(e["path"]).name: e for e in report["files"]}
    entry = by_name["a_slow.pdf"]
    assert (entry["status"], entry["kind"]) == ("failed", "resource_limit")
    assert "time limit (0.25 s" in entry["reason"]
    assert report["summary"]["parsed"] == 6


def test_a_memory_limit_too_low_for_any_letter_fails_each_file_with_the_limit(tmp_path):
    (tmp_path / "in").mkdir()
    for i in range(3):
        (tmp_path / "in" / f"good_{i}.txt").write_text(letter(case_number=f"CM16-00032{i:02d}"))
    report = _ingest_with_limits(tmp_path, memory_mib=4, seconds=30)  # Python alone needs more
    assert [e["kind"] for e in report["files"]] == ["resource_limit"] * 3
    assert all("memory limit (4 MiB" in e["reason"] for e in report["files"])


@pytest.mark.slow
def test_a_4_gib_flate_bomb_beside_30_good_letters(tmp_path):
    """The issue's case: 4 MB inflating to 4 GiB, default limits, the command line."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bomb.pdf").write_bytes(hostile.flate_bomb_pdf(gib=4))
    for i in range(30):
        (tmp_path / "in" / f"good_{i:02d}.txt").write_text(letter(case_number=f"CM16-00040{i:02d}"))
    run = hostile.run_limited(["-m", "data.ingest", "in", "--out", "out", "--quiet"], cwd=tmp_path)
    output = (run.stdout + run.stderr).decode(errors="replace")
    assert run.returncode == 1 and "Traceback" not in output, output
    assert re.search(r"failed in/bomb\.pdf: .*memory limit \(1024 MiB", output), output
    assert len(pd.read_parquet(tmp_path / "out" / "items.parquet")) == 30


def test_reading_refuses_a_symlink_to_dev_zero_without_reading(tmp_path):
    os.symlink("/dev/zero", tmp_path / "z.txt")
    with pytest.raises(LetterError) as err:
        read_letter_bytes(tmp_path / "z.txt")
    assert err.value.kind == "not_a_file"


def test_reading_stops_at_the_byte_limit(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"x" * 2000)
    assert read_letter_bytes(tmp_path / "big.txt", limit=2000) == b"x" * 2000
    with pytest.raises(LetterError) as err:
        read_letter_bytes(tmp_path / "big.txt", limit=1999)
    assert err.value.kind == "too_large"


def test_too_many_items_has_its_own_kind():
    items = tuple((f"Physical therapy session {i}", "Upheld") for i in range(101))
    with pytest.raises(LetterError) as err:
        parse_letter(letter(items=items))
    assert err.value.kind == "too_many_items"
    assert len(parse_letter(letter(items=items[:100])).items) == 100


def test_too_much_text_has_its_own_kind():
    with pytest.raises(LetterError) as err:
        decode_text(b"word " * 500_000)
    assert err.value.kind == "too_much_text"


def test_layout_is_found_past_a_long_summary_within_the_limit():
    summary = "\n".join(["Pain 6/10 today."] * 2500)  # 2,500 lines, ~42,000 characters
    parsed = parse_letter(letter(summary=summary))
    assert [i.decision for i in parsed.items] == ["Upheld"]


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("\x1b[31m", "\\x1b[31m"),
        ("back\\slash", "back\\\\slash"),
        ("right\u202eleft", "right\\u202eleft"),
        (os.fsdecode(b"\xff\xfe"), "\\xff\\xfe"),
        ("caf\u00e9 \u00fc", "caf\u00e9 \u00fc"),
    ],
)
def test_display_names_are_one_printable_line(name, shown):
    assert display_name(name) == shown
    assert os.fsdecode(bytes.fromhex(path_hex(name))) == name


def test_importing_ingestion_loads_no_terminal_code():
    code = (
        "import sys, data.ingest; print(sorted(m for m in ('rich', 'typer') if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert run.stdout.strip() == "[]", run.stderr


def test_any_folder_of_good_and_hostile_files_yields_every_good_letter(tmp_path):
    """The hypothesis property of ``tests/helpers/hostile_property.py``, run under limits."""
    run = hostile.run_limited(
        ["-m", "tests.helpers.hostile_property", "12"], cwd=tmp_path, timeout=300
    )
    output = (run.stdout + run.stderr).decode(errors="replace")
    assert run.returncode == 0, output
    assert "12 folders ingested as expected" in output and "Traceback" not in output


def _real_twins(dwc_dir: Path, folder: Path, extract) -> dict[str, str]:
    """For every real PDF letter, its text by ``extract`` and the PDF with bytes appended;
    returns {twin name: original name}."""
    folder.mkdir()
    twins = {}
    for pdf in sorted(dwc_dir.glob("*.pdf")):
        text = extract(pdf)
        # as the seeds were extracted: a blank line after each line, trailing spaces kept
        (folder / f"{pdf.stem}.txt").write_text(
            "".join(f"{line} \n\n" for line in text.split("\n"))
        )
        (folder / f"{pdf.stem}_appended.pdf").write_bytes(pdf.read_bytes() + b"\n% comment\n")
        twins |= {f"{pdf.stem}.txt": pdf.name, f"{pdf.stem}_appended.pdf": pdf.name}
    return twins


def _assert_twins_are_duplicates(dwc_dir: Path, tmp_path: Path, extract) -> None:
    from data.ingest import ingest

    twins = _real_twins(dwc_dir, tmp_path / "twins", extract)
    report = ingest([dwc_dir, tmp_path / "twins"], tmp_path / "out").report
    by_name = {Path(e["path"]).name: e for e in report["files"]}
    outcome = {name: (by_name[name]["status"], by_name[name].get("duplicate_of")) for name in twins}
    assert outcome == {name: ("duplicate", original) for name, original in twins.items()}
    assert report["summary"]["parsed"] == len(list(dwc_dir.glob("*.pdf")))


def test_every_real_letter_is_one_letter_as_pdf_as_text_and_with_bytes_appended(dwc_dir, tmp_path):
    from data.letters.text import letter_text

    _assert_twins_are_duplicates(dwc_dir, tmp_path, letter_text)


@pytest.mark.slow
def test_every_real_letter_extracted_by_another_library_is_the_same_letter(dwc_dir, tmp_path):
    """pypdf breaks lines and spaces words its own way: still the same letters."""
    import pypdf

    def extract(pdf: Path) -> str:
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)

    _assert_twins_are_duplicates(dwc_dir, tmp_path, extract)
