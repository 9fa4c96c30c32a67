"""Ingestion: the dataset files, incremental and idempotent runs, atomicity, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from data.ingest import dataset as dataset_module
from data.ingest import ingest
from data.ingest.dataset import DatasetBusy, dataset_lock, load_items
from tests.helpers.letters import letter
from tests.helpers.pdf_maker import blank_pdf, text_pdf

REPO = Path(__file__).resolve().parents[3]


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_items_and_report_have_the_documented_shape(tmp_path):
    write(
        tmp_path / "in",
        "a.txt",
        letter(items=(("MRI of the knee", "Overturned"), ("TENS unit", "Upheld"))),
    )
    result = ingest([tmp_path / "in"], tmp_path / "out")
    items = pd.read_parquet(tmp_path / "out" / "items.parquet")
    assert list(items["item_index"]) == [0, 1]
    assert list(items["service"]) == ["MRI of the knee", "TENS unit"]
    assert list(items["decision"]) == ["Overturned", "Upheld"]
    row = items.iloc[0]
    assert row["source_file"] == "a.txt"
    assert bytes.fromhex(row["source_path_hex"]) == bytes(tmp_path / "in" / "a.txt")
    assert row["case_group"] == "CM16-0000001"
    assert (row["case_number"], row["injury_date"], row["decision_date"]) == (
        "CM16-0000001",
        "2015-03-04",
        "2016-12-09",
    )
    assert (row["age"], row["sex"]) == (45, "female")
    assert list(row["claims_admin_families"]) == ["MTUS"]
    report = json.loads((tmp_path / "out" / "ingest_report.json").read_text())
    assert report == result.report
    path = tmp_path / "in" / "a.txt"
    assert report["files"] == [
        {
            "path": str(path),
            "path_hex": bytes(path).hex(),
            "status": "parsed",
            "items": 2,
            "sha256": items.iloc[0]["letter_sha256"],
        }
    ]


def test_rerun_adds_nothing_and_new_letters_are_appended(tmp_path):
    src = tmp_path / "in"
    write(src, "a.txt", letter(case_number="CM16-0000001"))
    write(src, "b.txt", letter(case_number="CM16-0000002"))
    first = ingest([src], tmp_path / "out")
    assert first.report["summary"]["items_added"] == 2
    before = (tmp_path / "out" / "items.parquet").read_bytes()
    again = ingest([src], tmp_path / "out")
    assert again.report["summary"] | {} == again.report["summary"]
    assert [f["status"] for f in again.report["files"]] == ["duplicate", "duplicate"]
    assert (tmp_path / "out" / "items.parquet").read_bytes() == before
    write(src, "c.txt", letter(case_number="CM16-0000003"))
    third = ingest([src], tmp_path / "out")
    assert [f["status"] for f in third.report["files"]] == ["duplicate", "duplicate", "parsed"]
    assert list(load_items(tmp_path / "out")["case_number"]) == [
        "CM16-0000001",
        "CM16-0000002",
        "CM16-0000003",
    ]


def test_same_letter_under_another_name_is_a_duplicate(tmp_path):
    src = tmp_path / "in"
    write(src, "a.txt", letter())
    write(src, "copy_of_a.txt", letter())
    result = ingest([src], tmp_path / "out")
    statuses = {Path(f["path"]).name: f for f in result.report["files"]}
    assert statuses["a.txt"]["status"] == "parsed"
    assert statuses["copy_of_a.txt"]["status"] == "duplicate"
    assert statuses["copy_of_a.txt"]["duplicate_of"] == "a.txt"
    assert len(load_items(tmp_path / "out")) == 1


def test_interrupted_write_leaves_previous_dataset_intact(tmp_path, monkeypatch):
    src = tmp_path / "in"
    write(src, "a.txt", letter(case_number="CM16-0000001"))
    ingest([src], tmp_path / "out")
    before = (tmp_path / "out" / "items.parquet").read_bytes()
    write(src, "b.txt", letter(case_number="CM16-0000002"))

    def crash(self, path, **kwargs):
        Path(path).write_bytes(b"half a parquet file")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest([src], tmp_path / "out")
    assert (tmp_path / "out" / "items.parquet").read_bytes() == before
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_a_second_writer_gets_a_clear_error(tmp_path):
    with dataset_lock(tmp_path / "out"), pytest.raises(DatasetBusy, match="another run"):
        ingest([tmp_path], tmp_path / "out")


def _bad_inputs(folder: Path, seed_text: str) -> dict[str, str]:
    """Write every kind of bad input; return {file name: expected failure kind}."""
    expected = {}

    def bad(name, content, kind):
        write(folder, name, content)
        expected[name] = kind

    bad("empty.txt", b"", "empty")
    bad("blank.pdf", b"   \n", "empty")
    bad("not_really.pdf", b"PK\x03\x04 this is a zip", "not_pdf")
    good_pdf = text_pdf(seed_text.splitlines())
    bad("truncated.pdf", good_pdf[: len(good_pdf) // 3], "corrupt_pdf")
    bad("garbled.pdf", b"%PDF-1.4\n" + os.urandom(2000), "corrupt_pdf")
    bad("scanned.pdf", blank_pdf(2), "no_text_layer")
    bad("binary.txt", seed_text.encode()[:500] + b"\x00\x01\x02" * 100, "binary")
    bad("latin1.txt", seed_text.replace("worker", "wörker").encode("latin-1"), "encoding")
    no_decisions = seed_text.split("IMR ISSUES, DECISIONS AND RATIONALES")[0]
    bad("no_decisions.txt", no_decisions, "no_decisions")
    bad("approved.txt", seed_text.replace(": Upheld", ": Approved"), "bad_decision")
    bad(
        "other_layout.txt",
        "MEDICAL PROFESSIONAL REVIEW\nISSUE AT DISPUTE:\nMRI\nCASE SUMMARY:\nx\n",
        "unsupported_layout",
    )
    return expected


def test_every_bad_input_is_reported_and_the_rest_ingested(tmp_path):
    src = tmp_path / "in"
    text = letter()
    expected = _bad_inputs(src, text)
    write(src, "good.txt", letter(case_number="CM16-0000009"))
    write(src, "utf16.txt", letter(case_number="CM16-0000010").encode("utf-16"))
    write(src, "good.pdf", text_pdf(letter(case_number="CM16-0000011").splitlines()))
    unreadable = write(src, "locked.txt", letter(case_number="CM16-0000012"))
    unreadable.chmod(0)
    can_lock_out = (
        os.geteuid() != 0
    )  # root reads everything; the check only means something otherwise
    if can_lock_out:
        expected["locked.txt"] = "unreadable"
    missing = tmp_path / "does_not_exist.txt"
    result = ingest([src, missing], tmp_path / "out")
    by_name = {Path(f["path"]).name: f for f in result.report["files"]}
    for name, kind in expected.items():
        assert by_name[name]["status"] == "failed", name
        assert by_name[name]["kind"] == kind, (name, by_name[name])
        assert len(by_name[name]["reason"]) > 15, name
    assert by_name["does_not_exist.txt"]["kind"] == "missing"
    for name in ("good.txt", "utf16.txt", "good.pdf"):
        assert by_name[name]["status"] == "parsed", (name, by_name[name])
    assert result.report["summary"]["failed"] == len(expected) + 1
    items = load_items(tmp_path / "out")
    assert {"CM16-0000009", "CM16-0000010", "CM16-0000011"} <= set(items["case_number"])


def test_cli_exit_status_says_some_files_failed(tmp_path):
    src = tmp_path / "in"
    write(src, "good.txt", letter())
    write(src, "empty.txt", b"")
    run = subprocess.run(
        [sys.executable, "-m", "data.ingest", str(src), "--out", str(tmp_path / "out"), "--quiet"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert run.returncode == 1
    assert "empty.txt" in run.stdout and "empty file" in run.stdout
    assert "Traceback" not in run.stderr
    assert len(load_items(tmp_path / "out")) == 1


def test_directory_with_thousands_of_files(tmp_path):
    src = tmp_path / "many"
    src.mkdir()
    for i in range(2500):
        if i % 10 == 0:
            content = "not a letter at all, just notes"
        else:
            content = letter(case_number=f"CM16-{i:07d}")
        (src / f"letter_{i:05d}.txt").write_text(content)
    result = ingest([src], tmp_path / "out", workers=2)
    summary = result.report["summary"]
    assert summary["files_seen"] == 2500
    assert summary["parsed"] == 2250 and summary["failed"] == 250
    assert len(load_items(tmp_path / "out")) == 2250


def test_config_import_has_no_side_effects(tmp_path):
    code = (
        "import os; import settings, data.ingest, data.ingest.dataset; "
        "print(sorted(os.listdir('.')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_module_keeps_post_decision_columns_documented():
    assert {"decision", "decision_rationale", "imr_guideline", "reviewer_specialty"} <= set(
        dataset_module.ITEM_COLUMNS
    )


def _data_imports() -> dict[str, set[str]]:
    """{module: data modules it imports, at the top or inside functions} for data/."""
    import ast

    modules = {}
    for path in sorted((REPO / "data").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = ast.parse(path.read_text(encoding="utf-8"))
    graph = {}
    for name, tree in modules.items():
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            else:
                continue
            targets.update(m for m in found if m in modules and m != name)
        graph[name] = targets
    return graph


def test_ingestion_modules_import_each_other_without_cycles():
    """No cycle through the modules ingestion runs (lazy imports included)."""
    graph = _data_imports()
    ingestion: set[str] = set()
    stack = ["data.ingest.__main__", "data.letters.worker"]
    while stack:
        module = stack.pop()
        if module not in ingestion:
            ingestion.add(module)
            stack.extend(graph[module])
    assert {"data.ingest", "data.letters.pool", "data.letters.parser"} <= ingestion
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for target in graph[module]:
            visit(target, (*path, module))
        done.add(module)

    for module in sorted(ingestion):
        visit(module, ())


def test_a_dataset_from_before_the_identity_columns_keeps_working(tmp_path):
    src = tmp_path / "in"
    write(src, "a.txt", letter(case_number="CM16-0000001"))
    ingest([src], tmp_path / "out")
    items = pd.read_parquet(tmp_path / "out" / "items.parquet")
    old = items.drop(columns=["content_sha256", "case_group", "source_path_hex"])
    old.to_parquet(tmp_path / "out" / "items.parquet", index=False)
    loaded = load_items(tmp_path / "out")
    assert list(loaded["content_sha256"]) == list(items["content_sha256"])
    assert list(loaded["case_group"]) == ["CM16-0000001"]
    write(src, "b.txt", "\n\n".join(letter(case_number="CM16-0000001").splitlines()))
    again = ingest([src], tmp_path / "out")
    assert [(f["status"], f.get("duplicate_of")) for f in again.report["files"]] == [
        ("duplicate", "a.txt"),
        ("duplicate", "a.txt"),
    ]
