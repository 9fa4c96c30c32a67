"""Hostile and careless input to the model files, predict.py, train.py and the served model.

Each test reproduces a row of issue 10's table: a bad row fails alone, CSV output is safe
in a spreadsheet, and failures are bounded and clear. The model-file rows (a planted
pickle, a tampered model file, a damaged cache) are in tests/models/store/test_model_files.py. The
model is the champion of the shipped recipe (``trained_store`` in conftest). Hostile
inputs run in subprocesses under ``resource`` limits so the test machine stays safe.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from data.csv_output import FORMULA_STARTS, spreadsheet_safe
from data.drafts.rows import read_case_file, split_unscorable
from data.synthetic import generate_corpus
from models.store.registry import fail_stale_runs, owner_tags
from models.store.serving import request_problems
from models.training import train
from tests.helpers.letters import letter

REPO = Path(__file__).resolve().parent.parent
SUMMARY = (
    "The injured worker is a 45 year old female with low back pain after an industrial "
    "injury. Treatment to date has included medications."
)
LIMITS = {resource.RLIMIT_AS: 4 << 30, resource.RLIMIT_CPU: 120}


def _limited():
    for kind, value in LIMITS.items():
        resource.setrlimit(kind, (value, value))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(script, args, env, *, timeout=180, **kw):
    """Run ``script`` (predict.py, train.py) as a user does, under resource limits."""
    return subprocess.run(
        [sys.executable, str(REPO / script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=timeout,
        preexec_fn=_limited,
        **kw,
    )


# --- 5. rows fail alone -----------------------------------------------------------------------


def test_batch_bad_rows_fail_alone_and_extra_columns_are_kept(trained_store, tmp_path):
    env = trained_store.env
    good = (SUMMARY, "MRI of the knee")
    rows = [
        {"claim_id": "C-1", "case_summary": good[0], "service": good[1], "age": "45"},
        {"claim_id": "C-2", "case_summary": good[0], "service": good[1], "age": "abc"},
        {"claim_id": "C-3", "case_summary": "", "service": good[1], "age": ""},
        {"claim_id": "C-4", "case_summary": good[0], "service": "", "age": ""},
        {"claim_id": "007", "case_summary": good[0], "service": "TENS unit", "age": ""},
        {"claim_id": '=HYPERLINK("http://x")', "case_summary": good[0], "service": "x", "age": ""},
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "cases.csv", index=False)
    out = tmp_path / "out.csv"
    run = cli("predict.py", ["--batch", str(tmp_path / "cases.csv"), "--csv", str(out)], env)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    for number, reason in [(2, "'age'"), (3, "'case_summary'"), (4, "service 1"), (6, "service")]:
        assert re.search(rf"row {number}\b.*{reason}", run.stderr), run.stderr
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table.columns[:2]) == ["row", "claim_id"]
    assert list(table["row"]) == ["1", "2", "3", "4", "5", "6"]
    assert list(table["claim_id"]) == [
        "C-1",
        "C-2",
        "C-3",
        "C-4",
        "007",
        '\'=HYPERLINK("http://x")',
    ]
    scored = table["p_overturned"] != ""
    assert list(scored) == [True, False, False, False, True, False]
    assert (table.loc[~scored, "error"] != "").all()


def test_batch_columns_named_like_outputs_are_refused(tmp_path):
    from data.drafts.rows import RESERVED_COLUMNS, InputError, batch_rows
    from models.scoring.output import CSV_COLUMNS

    assert set(CSV_COLUMNS) - {"service"} <= set(RESERVED_COLUMNS)
    pd.DataFrame({"case_summary": [SUMMARY], "service": ["MRI"], "p_overturned": ["0.9"]}).to_csv(
        tmp_path / "cases.csv", index=False
    )
    with pytest.raises(InputError, match="'p_overturned' would be overwritten"):
        batch_rows(tmp_path / "cases.csv")


def test_batch_rows_are_keyed_by_an_id_column(trained_store, tmp_path):
    env = trained_store.env
    pd.DataFrame(
        {"id": ["a17", "b9"], "case_summary": [SUMMARY, SUMMARY], "service": ["MRI", ""]}
    ).to_csv(tmp_path / "cases.csv", index=False)
    run = cli("predict.py", ["--batch", str(tmp_path / "cases.csv"), "--json"], env)
    assert run.returncode == 1
    assert "id 'b9' (row 2)" in run.stderr
    out = json.loads(run.stdout)
    assert [i["extra"]["id"] for i in out["items"]] == ["a17"]
    assert [u["extra"]["id"] for u in out["unscorable"]] == ["b9"]


def test_case_services_fail_alone(trained_store, tmp_path):
    env = trained_store.env
    case = {"case_summary": SUMMARY, "services": ["MRI of the knee", "", 5, "TENS unit"]}
    run = cli("predict.py", ["--case", "-", "--json"], env, input=json.dumps(case))
    assert run.returncode == 1, run.stderr
    out = json.loads(run.stdout)
    assert [i["service"] for i in out["items"]] == ["MRI of the knee", "TENS unit"]
    assert [u["item_index"] for u in out["unscorable"]] == [1, 2]
    assert "service 3 (5) is not text" in run.stderr


def test_case_json_nested_100k_levels_is_a_clear_error(trained_store):
    env = trained_store.env
    deep = "[" * 100_000 + "]" * 100_000
    for text in (deep, '{"case_summary": ' + deep + ', "services": ["MRI"]}'):
        run = cli("predict.py", ["--case", "-"], env, input=text)
        assert run.returncode == 2
        assert "nested too deeply" in run.stderr
        assert "Traceback" not in run.stderr


def test_a_draft_taken_whole_refuses_a_bad_service_and_draft_items_sets_it_aside():
    from data.drafts.rows import InputError, draft_items, draft_rows

    with pytest.raises(InputError, match="service 2"):
        draft_rows(SUMMARY, ["MRI of the knee", " 12 # "])
    rows, bad = draft_items(SUMMARY, ["MRI of the knee", " 12 # "])
    assert [r["service"] for r in rows] == ["MRI of the knee"]
    assert [b["item_index"] for b in bad] == [1]


def test_wrong_types_in_a_case_are_named():
    with pytest.raises(ValueError, match="'case_summary' must be a JSON string"):
        read_case_file('{"case_summary": 5, "services": ["MRI"]}', "case")
    rows, bad = read_case_file('{"case_summary": "' + SUMMARY + '", "services": [null]}', "c")
    assert rows == [] and "is not text" in bad[0]["error"]


def test_letters_without_summary_or_service_are_set_aside():
    rows = [
        {"source_file": "a.txt", "item_index": 0, "case_summary": SUMMARY, "service": "MRI"},
        {"source_file": "b.txt", "item_index": 0, "case_summary": "", "service": "MRI"},
        {"source_file": "b.txt", "item_index": 1, "case_summary": SUMMARY, "service": None},
    ]
    good, bad = split_unscorable(rows)
    assert good == rows[:1]
    assert [b["error"].split(":")[0] for b in bad] == ["b.txt item 0", "b.txt item 1"]


def test_a_bad_letter_beside_good_ones_fails_alone(trained_store, tmp_path):
    env = trained_store.env
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.txt").write_text(letter(summary=SUMMARY))
    (tmp_path / "in" / "bad.txt").write_text("not a letter at all\n")
    run = cli("predict.py", [str(tmp_path / "in"), "--json"], env)
    assert run.returncode == 1
    assert [i["source_file"] for i in json.loads(run.stdout)["items"]] == ["good.txt"]
    assert "bad.txt" in run.stderr and "Traceback" not in run.stderr


SECRET = "Jane Roe, 61, has knee pain after the fall at the warehouse"


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("empty summary", {"columns": ["case_summary", "service"], "data": [["", "MRI"]]}),
        ("null summary", {"columns": ["case_summary", "service"], "data": [[None, "MRI"]]}),
        ("empty service", {"columns": ["case_summary", "service"], "data": [[SECRET, " "]]}),
        ("missing service", {"columns": ["case_summary"], "data": [[SECRET]]}),
        ("no rows", {"columns": ["case_summary", "service"], "data": []}),
    ],
)
def test_the_served_model_answers_400_without_echo_or_stack_trace(in_trained_store, name, payload):
    from mlflow.exceptions import MlflowException
    from mlflow.pyfunc import scoring_server

    model = mlflow.pyfunc.load_model("models:/imr-outcome@champion")
    body = json.dumps({"dataframe_split": payload})
    with pytest.raises(MlflowException) as caught:  # what the server turns into its answer
        scoring_server.invocations(
            body, "application/json", model, model.metadata.get_input_schema()
        )
    answer = json.loads(caught.value.serialize_as_json())
    assert caught.value.get_http_status_code() == 400, answer
    assert "stack_trace" not in answer
    assert "Jane" not in answer["message"] and "knee" not in answer["message"]
    assert "cannot score this request" in answer["message"]


def test_request_problems_names_rows_and_fields_only():
    frame = pd.DataFrame({"case_summary": [SECRET, "", 3], "service": ["MRI", "MRI", "MRI"]})
    (problem,) = request_problems(frame)
    assert "row(s) 1, 2" in problem and "Jane" not in problem


# --- 6. spreadsheet-safe CSV ------------------------------------------------------------------


def test_text_cells_that_start_a_formula_get_a_leading_quote():
    cells = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "", "a=b"]
    frame = pd.DataFrame({"text": cells, "number": [-1.5] * len(cells)}, index=cells)
    frame["=header"] = "x"
    safe = spreadsheet_safe(frame)
    assert list(safe["text"]) == ["'" + c for c in cells[:6]] + cells[6:]
    assert list(safe.index) == list(safe["text"])
    assert (safe["number"] == -1.5).all() and "'=header" in safe.columns
    assert list(frame["text"]) == cells  # the caller's frame is left alone


def test_every_csv_the_project_writes_goes_through_the_safe_writer():
    sources = [
        p
        for p in REPO.rglob("*.py")
        if not {".venv", "tests", "work"} & set(p.relative_to(REPO).parts)
        and p.name != "csv_output.py"
    ]
    assert sources
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert ".to_csv(" not in text, f"{path}: write CSVs with data.csv_output.write_csv"
        if "csv.writer(" in text or "csv.DictWriter(" in text:
            assert "safe_row" in text, f"{path}: pass rows through data.csv_output.safe_row"
    assert all(c in FORMULA_STARTS for c in "=+-@\t\r")


# --- 7. clear, bounded failures ---------------------------------------------------------------


def test_bad_output_paths_and_values_exit_2_naming_them(trained_store, tmp_path):
    env = trained_store.env
    (tmp_path / "s.txt").write_text(SUMMARY)
    draft = ["--summary", str(tmp_path / "s.txt"), "--service", "MRI"]
    cases = [
        ([*draft, "--csv", "/nonexistent/dir/out.csv"], "/nonexistent/dir/out.csv"),
        ([*draft, "--csv", str(tmp_path)], str(tmp_path)),
        (["importances", "--png", "/nonexistent/x.png"], "/nonexistent/x.png"),
        (["importances", "--png", str(tmp_path / "x.xyz")], "x.xyz"),
        (["importances", "--top", "0"], "'0'"),
        (["importances", "--top", "-3"], "'-3'"),
    ]
    for args, named in cases:
        run = cli("predict.py", args, env)
        assert run.returncode == 2, (args, run.stderr)
        assert named in run.stderr, (args, run.stderr)
        assert "Traceback" not in run.stderr


def test_importances_png_says_where_it_wrote(trained_store, tmp_path):
    env = trained_store.env
    run = cli("predict.py", ["importances", "--top", "3", "--png", str(tmp_path / "i.png")], env)
    assert run.returncode == 0, run.stderr
    assert f"wrote the importance chart to {tmp_path / 'i.png'}" in run.stderr
    assert (tmp_path / "i.png").stat().st_size > 1000


NO_STORE_COMMANDS = [
    ["--summary", "SUMMARY", "--service", "MRI"],
    ["importances"],
    ["serve", "--port", "0"],
]


@pytest.mark.parametrize("args", NO_STORE_COMMANDS)
def test_no_store_yet_says_train_first_and_creates_none(tmp_path, args):
    (tmp_path / "s.txt").write_text(SUMMARY)
    args = [a.replace("SUMMARY", str(tmp_path / "s.txt")) for a in args]
    env = {"MLFLOW_TRACKING_URI": "sqlite:///mlflow.db", "IMR_MODEL_CACHE": str(tmp_path / "c")}
    run = cli("predict.py", args, env, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "train one first" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()


@pytest.mark.parametrize("script", ["predict.py", "train.py"])
def test_an_unreachable_tracking_server_fails_fast_naming_it(tmp_path, script):
    uri = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "s.txt").write_text(SUMMARY)
    (tmp_path / "letters").mkdir()
    args = {
        "predict.py": ["--summary", str(tmp_path / "s.txt"), "--service", "MRI"],
        "train.py": ["--letters", str(tmp_path / "letters"), "--dataset", str(tmp_path / "ds")],
    }[script]
    start = time.monotonic()
    run = cli(script, args, {"MLFLOW_TRACKING_URI": uri}, cwd=tmp_path)
    assert time.monotonic() - start < 30
    assert run.returncode == 2, run.stderr
    assert uri in run.stderr and "did not answer" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_a_silent_tracking_server_fails_within_30_seconds(tmp_path):
    """A server that accepts connections and never answers (the worst case: timeouts)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # never accepted: the client connects, sends, and waits
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
        (tmp_path / "s.txt").write_text(SUMMARY)
        start = time.monotonic()
        run = cli(
            "predict.py",
            ["--summary", str(tmp_path / "s.txt"), "--service", "MRI"],
            {"MLFLOW_TRACKING_URI": uri},
            cwd=tmp_path,
        )
        took = time.monotonic() - start
    assert run.returncode == 2 and uri in run.stderr, run.stderr
    assert took < 30, took


KILLED_TRAINING = """
import os, signal, sys
import mlflow
from models.store.registry import owner_tags
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("imr-outcome")
client = mlflow.MlflowClient()
with mlflow.start_run(tags=owner_tags()) as run:
    client.create_registered_model("imr-outcome")
    client.create_model_version(
        "imr-outcome", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
    )
    print(run.info.run_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # killed after registration, before any alias
"""


def test_a_killed_trainings_run_is_marked_failed_by_the_next_training(tmp_path, tracking):
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_TRAINING, tracking],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run_id = killed.stdout.split()[-1]
    client = mlflow.MlflowClient(tracking_uri=tracking)
    assert client.get_run(run_id).info.status == "RUNNING"
    generate_corpus(tmp_path / "letters", 60, seed=1)
    result = train([tmp_path / "letters"], dataset_dir=tmp_path / "ds", n_splits=3)
    stale = client.get_run(run_id)
    assert stale.info.status == "FAILED"
    assert "did not finish" in client.get_model_version("imr-outcome", "1").tags["imr.status"]
    assert "ended without finishing" in stale.data.tags["imr.failure"]
    assert client.get_run(result.run_id).info.status == "FINISHED"
    assert result.version == "2" and result.alias == "champion"


def test_live_and_recent_runs_are_left_alone_and_old_ones_failed(tracking):
    client = mlflow.MlflowClient(tracking_uri=tracking)
    experiment = client.create_experiment("imr-outcome")
    live = client.create_run(experiment, tags=owner_tags()).info.run_id  # this process
    recent = client.create_run(experiment).info.run_id  # another host, started now
    week_ago = int((time.time() - 7 * 24 * 3600) * 1000)
    old = client.create_run(experiment, start_time=week_ago).info.run_id
    assert fail_stale_runs(client, "imr-outcome", "imr-outcome") == [old]
    status = {r: client.get_run(r).info.status for r in (live, recent, old)}
    assert status == {live: "RUNNING", recent: "RUNNING", old: "FAILED"}


def test_too_few_overturned_letters_for_the_folds_exit_2_with_what_is_needed(tmp_path):
    letters = tmp_path / "letters"
    letters.mkdir()
    for i in range(62):
        decision = "Overturned" if i < 2 else "Upheld"
        text = letter(
            summary=f"{SUMMARY} Visit {i}.",
            items=(("Physical therapy 2 times a week for 4 weeks", decision),),
            case_number=f"CM16-{i:07d}",
        )
        (letters / f"l{i}.txt").write_text(text)
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    args = ["--letters", str(letters), "--dataset", str(tmp_path / "ds")]
    run = cli("train.py", args, env, cwd=tmp_path)
    assert run.returncode == 2, run.stderr + run.stdout
    out = " ".join((run.stdout + run.stderr).split())
    assert "2 of them with an overturned item" in out
    assert "5 letters with an overturned item" in out
    assert "Traceback" not in out
