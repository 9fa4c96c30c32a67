"""predict.py as a user meets it: drafts, letters, batches, bad input, and model behaviour."""

from __future__ import annotations

import json
import re
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from data.drafts.rows import letter_rows
from data.letters.names import printable
from models.scoring.prediction import explain_items, pre_filing_frame, score
from tests.helpers.letters import letter
from tests.helpers.pdf_maker import text_pdf
from tests.helpers.web import cli

REPO = Path(__file__).resolve().parent.parent


SUMMARY = (
    "The injured worker is a 45 year old female with low back pain after an industrial "
    "injury. Treatment to date has included medications."
)


def test_draft_scores_with_band_baseline_reasons_and_what_if(trained_store, tmp_path):
    env = trained_store.env
    summary = tmp_path / "summary.txt"
    summary.write_text(SUMMARY)
    run = cli(["--summary", str(summary), "--service", "MRI of the lumbar spine", "--json"], env)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    (item,) = out["items"]
    assert 0 < item["p_low"] <= item["p_overturned"] <= item["p_high"] < 1
    assert item["category"] == "imaging" and item["baseline_rate"] is not None
    # an MRI needs failed conservative care and objective findings; the draft has neither
    missing = {r["code"] for r in item["denial_reasons"]}
    assert {"failed_conservative_care", "objective_findings"} <= missing
    assert all(r["to_document"] for r in item["denial_reasons"])
    assert {w["criterion"] for w in item["what_if"]} == missing
    # the sign constraints: no what-if lowers P(Overturned); a criterion whose weight is 0
    # moves it by rounding only (the same bound as tests/models/test_guideline_model.py)
    assert all(w["change"] >= -1e-12 for w in item["what_if"])
    assert "Traceback" not in run.stderr


def test_human_readable_output_and_stdin(trained_store):
    env = trained_store.env
    run = cli(["--summary", "-", "--service", "MRI of the lumbar spine"], env, input=SUMMARY)
    assert run.returncode == 0, run.stderr
    assert "P(Overturned) =" in run.stdout and "What if" in run.stdout
    assert "Likely denial reasons" in run.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["--summary", "EMPTY", "--service", "MRI"],
            None,
            "the case summary (field 'case_summary') is empty",
        ),
        (["--summary", "SUMMARY", "--service", " 12 # "], None, "has no words"),
        (
            ["--case", "-"],
            '{"case_summary": "x y z", "services": ["MRI"], "colour": 1}',
            "unknown field(s) 'colour'",
        ),
        (["--case", "-"], '{"case_summary": "back pain"}', "missing required field 'services'"),
        (["--summary", "/does/not/exist.txt", "--service", "MRI"], None, "no such file"),
        (
            ["--summary", "SUMMARY", "--service", "MRI", "--model", "models:/nope@champion"],
            None,
            "train one first",
        ),
    ],
)
def test_bad_input_is_a_clear_error_without_traceback(
    trained_store, tmp_path, args, stdin, message
):
    env = trained_store.env
    (tmp_path / "empty.txt").write_text("   ")
    (tmp_path / "summary.txt").write_text(SUMMARY)
    args = [
        a.replace("EMPTY", str(tmp_path / "empty.txt")).replace(
            "SUMMARY", str(tmp_path / "summary.txt")
        )
        for a in args
    ]
    run = cli(args, env, input=stdin)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


def _letter_text():
    return letter(
        summary=SUMMARY + " Conservative care has failed.",
        items=(
            ("MRI of the lumbar spine", "Upheld"),
            ("Physical therapy 2 times a week for 3 weeks", "Overturned"),
        ),
    )


def test_pdf_and_text_of_a_letter_give_the_same_probabilities(trained_store, tmp_path):
    env = trained_store.env
    text = _letter_text()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "letter.txt").write_text(text)
    (tmp_path / "in" / "letter.pdf").write_bytes(text_pdf(text.splitlines()))
    run = cli([str(tmp_path / "in"), "--csv", str(tmp_path / "out.csv")], env)
    assert run.returncode == 0, run.stderr
    out = pd.read_csv(tmp_path / "out.csv")
    by_file = {name: g.sort_values("item_index") for name, g in out.groupby("source_file")}
    assert list(by_file["letter.pdf"]["service"]) == list(by_file["letter.txt"]["service"])
    assert by_file["letter.pdf"]["p_overturned"].to_numpy() == pytest.approx(
        by_file["letter.txt"]["p_overturned"].to_numpy(), abs=1e-9
    )


def test_decision_rationale_and_reviewer_do_not_change_predictions(trained_store, tmp_path):
    loaded = trained_store.loaded
    original = _letter_text()
    changed = (
        original.replace(": Upheld", ": Overturned")
        .replace(
            "Decision rationale: The guideline", "Decision rationale: Clearly needed; the guideline"
        )
        .replace("Orthopedic Surgery", "Psychiatry")
        .replace(
            "MAXIMUS guideline: Decision based on MTUS", "MAXIMUS guideline: Decision based on ODG"
        )
    )
    assert changed != original
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(original)
    b.write_text(changed)
    pa = score(loaded.pipeline, pre_filing_frame(letter_rows(a)))["p_overturned"]
    pb = score(loaded.pipeline, pre_filing_frame(letter_rows(b)))["p_overturned"]
    assert pa.to_numpy() == pytest.approx(pb.to_numpy(), abs=0)


def test_documented_failure_does_not_lower_the_probability(trained_store):
    """Documenting failed conservative care sets that criterion of an MRI request, and the
    model's sign constraint keeps P(Overturned) from falling."""
    loaded = trained_store.loaded
    base = {"case_summary": SUMMARY, "service": "MRI of the lumbar spine"}
    with_failure = {**base, "case_summary": SUMMARY + " Conservative care has failed."}
    frame = pre_filing_frame([base, with_failure])
    p = score(loaded.pipeline, frame)["p_overturned"].to_numpy()
    assert p[1] >= p[0]
    statuses = [
        {c["code"]: c["status"] for c in [*s.criteria, *s.denial_reasons]}
        for s in explain_items(loaded.pipeline, frame, with_what_if=False)
    ]
    assert statuses[0]["failed_conservative_care"] == "not_documented"
    assert statuses[1]["failed_conservative_care"] == "met"


def test_imaging_report_raises_probability_for_injection(trained_store):
    """An imaging report that supports an injection raises its probability: the feature's
    weight is held >= 0 by the sign constraints and is above 0 in the champion trained on
    the real letters and in the one trained on synthetic letters (whose rule rewards it)."""
    loaded = trained_store.loaded
    base = {"case_summary": SUMMARY, "service": "Corticosteroid injection of the lumbar spine"}
    imaged = {
        **base,
        "case_summary": SUMMARY + " MRI of the lumbar spine dated 03/02/2016 "
        "showed mild degenerative changes.",
    }
    p = score(loaded.pipeline, pre_filing_frame([base, imaged]))["p_overturned"].to_numpy()
    assert p[1] > p[0]


def test_reasons_agree_in_sign_with_global_importances(in_trained_store):
    """A criterion the item has (a yes/no input at 1) pushes the same way in the item's
    reasons as in the global importances: both come from the same coefficients."""
    from features.criteria import SIGNS

    loaded = in_trained_store.loaded
    local = mlflow.artifacts.download_artifacts(
        run_id=loaded.run_id, artifact_path="importances.csv"
    )
    table = pd.read_csv(local).set_index("feature")
    rows = [
        {
            "case_summary": SUMMARY + " Conservative care has failed. MRI showed a disc bulge.",
            "service": s,
        }
        for s in ("MRI of the lumbar spine", "Physical therapy x 6", "Compounded cream")
    ]
    checked = 0
    for scored in explain_items(loaded.pipeline, pre_filing_frame(rows), with_what_if=False):
        for reason in scored.reasons:
            name = reason["feature"]
            if SIGNS.get(name, 0) == 0:  # counts and case facts: the sign depends on the value
                continue
            global_effect = table.loc[name, "signed_effect"]
            assert (global_effect > 0) == (reason["effect_log_odds"] > 0), name
            checked += 1
    assert checked >= 2


def test_batch_scores_rows_and_lists_unscorable_ones(trained_store, tmp_path):
    env = trained_store.env
    pd.DataFrame(
        {"case_summary": [SUMMARY, SUMMARY, ""], "service": ["MRI of the knee", "", "TENS unit"]}
    ).to_csv(tmp_path / "cases.csv", index=False)
    run = cli(["--batch", str(tmp_path / "cases.csv"), "--csv", str(tmp_path / "out.csv")], env)
    assert run.returncode == 1
    out = pd.read_csv(tmp_path / "out.csv")
    assert out["p_overturned"].notna().sum() == 1
    assert out["error"].notna().sum() == 2
    # rows are numbered from 1, the first record after the header
    assert "row 2" in run.stderr and "row 3" in run.stderr and "row 1" not in run.stderr


def test_importances_command(trained_store, tmp_path):
    env = trained_store.env
    run = cli(["importances", "--top", "5", "--png", str(tmp_path / "imp.png"), "--json"], env)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert len(out["features"]) == 5 and out["families"]
    assert {f["direction"] for f in out["features"]} <= {"toward Overturned", "toward Upheld"}
    assert (tmp_path / "imp.png").stat().st_size > 1000


def test_draft_letter_without_decisions_is_scored(trained_store, tmp_path):
    env = trained_store.env
    real = _letter_text()
    draft = real.split("The Final Determination was based")[0] + (
        "MRI of the lumbar spine:\nPhysical therapy 2 times a week for 3 weeks: Pending\n"
    )
    (tmp_path / "draft.txt").write_text(draft)
    (tmp_path / "real.txt").write_text(real)
    run = cli([str(tmp_path / "draft.txt"), str(tmp_path / "real.txt"), "--json"], env)
    assert run.returncode == 0, run.stderr
    items = json.loads(run.stdout)["items"]
    by_file = {}
    for item in items:
        by_file.setdefault(item["source_file"], []).append(item)
    assert [i["service"] for i in by_file["draft.txt"]] == [
        "MRI of the lumbar spine",
        "Physical therapy 2 times a week for 3 weeks",
    ]
    # the same services in the decided letter score the same: decisions are never read
    for a, b in zip(by_file["draft.txt"], by_file["real.txt"], strict=True):
        assert a["p_overturned"] == pytest.approx(b["p_overturned"], abs=0.05)


def test_markup_and_control_characters_in_services_print_as_typed(trained_store):
    """Issue 16: a service holding ``[/bold]`` ended in a MarkupError traceback (exit 1, no
    result for either service); a ``[link=...]`` was a link; escapes reached the terminal."""
    env = trained_store.env
    services = [
        "MRI [/bold] spine",
        "Physical therapy x 6",
        "[link=https://evil.example/x]TENS unit[/link] :warning: for home use",
        "Acupuncture \x1b[2J\x1b]0;pwned\x07 x 6",
    ]
    args = ["--summary", str(REPO / "examples" / "draft_summary.txt"), "--no-what-if"]
    for service in services:
        args += ["--service", service]
    # rich writes to the pipe as to a terminal: colours, and links if it made any
    run = cli(args, {**env, "TTY_COMPATIBLE": "1", "COLUMNS": "200"})
    assert run.returncode == 0, run.stderr
    screen = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout)
    assert "\x1b" not in screen and "\x07" not in screen  # no OSC link or title, no clear
    assert screen.count("P(Overturned) = ") == len(services)
    for service in services:
        assert printable(service) in screen, service


def test_a_malformed_batch_row_is_set_aside_and_the_rest_scored(trained_store, tmp_path):
    """Issue 16: an unbalanced quote put r2's id on r3's service (r3 gone, exit 0), and one
    row with an extra field refused the whole file (exit 2)."""
    env = trained_store.env
    (tmp_path / "cases.csv").write_text(
        "id,case_summary,service\n"
        f'r1,"{SUMMARY}",MRI of the knee\n'
        f'r2,"{SUMMARY},Physical therapy x 6\n'
        f'r3,"{SUMMARY}",TENS unit\n'
        f'r4,"{SUMMARY}",Acupuncture x 6,extra field\n'
        f'r5,"{SUMMARY}",Lumbar epidural steroid injection\n',
        encoding="utf-8",
    )
    run = cli(["--batch", str(tmp_path / "cases.csv"), "--csv", str(tmp_path / "out.csv")], env)
    assert run.returncode == 1, run.stderr
    out = pd.read_csv(tmp_path / "out.csv", dtype={"id": str})
    scored = out[out["p_overturned"].notna()]
    assert list(zip(scored["row"], scored["id"], scored["service"], strict=True)) == [
        (1, "r1", "MRI of the knee"),
        (3, "r3", "TENS unit"),
        (5, "r5", "Lumbar epidural steroid injection"),
    ]
    set_aside = out[out["error"].notna()]
    assert list(set_aside["row"]) == [2, 4] and set_aside["id"].isna().all()
    assert "line 3" in run.stderr and "line 5" in run.stderr


def test_importances_never_cut_a_feature_name_in_an_80_column_terminal(in_trained_store):
    env = in_trained_store.env
    run = cli(["importances", "--top", "16"], {**env, "COLUMNS": "80"})
    assert run.returncode == 0, run.stderr
    names = pd.read_csv(
        mlflow.artifacts.download_artifacts(
            run_id=in_trained_store.loaded.run_id, artifact_path="importances.csv"
        )
    )["feature"].head(16)
    assert "…" not in run.stdout
    for name in names:
        assert name in run.stdout, name
    assert max(len(line) for line in run.stdout.splitlines()) <= 80


def test_batch_csv_carries_reasons_warnings_and_the_kind_rate(trained_store, tmp_path):
    env = trained_store.env
    cases = pd.DataFrame(
        {
            "claim_id": ["A", "B", "C"],
            "case_summary": [SUMMARY, SUMMARY, SUMMARY],
            "service": ["MRI of the lumbar spine", "Zorbulator treatment", "=cmd|' /C calc'!A0"],
        }
    )
    cases.to_csv(tmp_path / "cases.csv", index=False)
    run = cli(["--batch", str(tmp_path / "cases.csv"), "--csv", str(tmp_path / "out.csv")], env)
    assert run.returncode == 0, run.stderr
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    json_run = cli(
        ["--summary", "-", *(a for s in cases["service"] for a in ("--service", s)), "--json"],
        env,
        input=SUMMARY,
    )
    items = json.loads(json_run.stdout)["items"]
    for (_, row), item in zip(out.iterrows(), items, strict=True):
        assert float(row["baseline_rate"]) == item["baseline_rate"]
        assert int(row["baseline_items"]) == item["baseline_items"]
        assert row["how_sure"] == item["how_sure"]["label"]
        for n, reason in enumerate(item["denial_reasons"][:3], start=1):
            assert row[f"denial_reason_{n}"].endswith(reason["criterion"])
            assert row[f"to_document_{n}"] == reason["to_document"]
        assert row["warnings"] == "; ".join(item["warnings"])
    assert out.loc[0, "denial_reason_1"]  # an MRI without failed care has reasons
    assert "unrecognised service" in out.loc[1, "warnings"]
    # spreadsheet-safe: the formula-looking service is text
    assert out.loc[2, "service"].startswith("'=")
