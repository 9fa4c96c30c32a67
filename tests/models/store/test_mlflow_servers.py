"""The registered model behind real MLflow servers: ``mlflow models serve`` and ``mlflow server``.

Each test starts the server as a child process in its own process group, on 127.0.0.1 and a
free port, waits (bounded) for its health endpoint and always stops the whole group, even
when the test fails. Server output goes to files under ``tmp_path`` and is quoted in failures.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from data.synthetic import generate_corpus
from models.training import train

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
MLFLOW = str(VENV_BIN / "mlflow")
HOST = "127.0.0.1"
READY_TIMEOUT = 120.0
REQUEST_TIMEOUT = 30.0
MODEL_URI = "models:/imr-outcome@champion"
DRAFTS = pd.DataFrame(
    {
        "case_summary": [
            "Conservative care has failed. An imaging report is available.",
            "The patient has completed 24 sessions of physical therapy without improvement.",
        ],
        "service": ["MRI of the lumbar spine", "Physical therapy, 12 sessions"],
    }
)


def free_port() -> int:
    """A port nobody listens on now (the kernel's pick for port 0 on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server's process group (workers included); kill it if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    # workers may outlive the leader; make sure nothing of the group is left
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@contextlib.contextmanager
def running(
    args: list[str],
    *,
    port: int,
    env: dict[str, str],
    cwd: Path,
    health: str,
    name: str,
    logs: Path | None = None,
) -> Iterator[str]:
    """Start ``mlflow <args>``, wait until ``health`` answers 200, yield the base URL, stop it.

    ``args`` is a whole command instead when its first item is an absolute program path.
    Server output goes to files in ``logs`` (default ``cwd``).
    """
    cwd.mkdir(parents=True, exist_ok=True)
    logs = logs or cwd
    out, err = logs / f"{name}.stdout.log", logs / f"{name}.stderr.log"
    base = f"http://{HOST}:{port}"
    command = args if Path(args[0]).is_absolute() else [MLFLOW, *args]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # its own process group, so teardown reaches the workers
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            last: object = None
            while True:
                if proc.poll() is not None:
                    pytest.fail(
                        f"{name} exited with {proc.returncode} before it was ready:\n{_tail(err)}"
                    )
                try:
                    with urllib.request.urlopen(base + health, timeout=5) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                    last = exc  # an HTTPError here (e.g. 403 host check) is worth reporting
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"{name} not ready after {READY_TIMEOUT:.0f} s (last: {last!r}):\n"
                        f"{_tail(err)}"
                    )
                time.sleep(0.5)
            yield base
        finally:
            _stop(proc)


def child_env(**overrides: str) -> dict[str, str]:
    """Our environment without MLflow settings, plus ``overrides``, with the venv on PATH.

    ``mlflow models serve`` starts ``bash -c "exec uvicorn ..."``: the venv's ``bin`` must be
    on PATH or it exits with 127 when pytest runs as ``.venv/bin/pytest`` unactivated.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env.update(overrides)
    return env


def probabilities(frame: pd.DataFrame) -> list[float]:
    return [float(p) for p in frame["p_overturned"]]


def _train(tmp_path: Path):
    """Training against a tracking server is what the server test tests: it trains its own."""
    generate_corpus(tmp_path / "letters", 60, seed=1)
    return train(
        [tmp_path / "letters"],
        dataset_dir=tmp_path / "ds",
        n_splits=3,
    )


@pytest.mark.slow
def test_models_serve_answers_invocations_with_probabilities(tmp_path, trained_store):
    """The champion of ``trained_store`` behind ``mlflow models serve``: the probabilities
    of ``predict.py`` (:func:`models.scoring.score.score_rows`) for the same drafts."""
    from data.drafts.rows import draft_rows
    from models.scoring.score import score_rows

    port = free_port()
    args = ["models", "serve", "-m", MODEL_URI, "--env-manager", "local"]
    args += ["--host", HOST, "--port", str(port)]
    payload = {"dataframe_split": json.loads(DRAFTS.to_json(orient="split", index=False))}
    with running(
        args,
        port=port,
        env=child_env(**trained_store.env),
        cwd=tmp_path / "serve",
        health="/ping",
        name="mlflow models serve",
    ) as base:
        request = urllib.request.Request(
            base + "/invocations",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            pytest.fail(f"/invocations answered {exc.code}: {exc.read().decode(errors='replace')}")
    predictions = pd.DataFrame(body["predictions"])
    p = probabilities(predictions)
    assert len(p) == len(DRAFTS), body
    assert all(0 < x < 1 for x in p), body
    expected = [
        score_rows(trained_store.loaded, draft_rows(row.case_summary, [row.service]))[0]
        for row in DRAFTS.itertuples()
    ]
    assert p == pytest.approx([e["p_overturned"] for e in expected], abs=1e-12), body


@pytest.mark.slow
def test_training_against_a_tracking_server_round_trips(tmp_path, monkeypatch):
    port = free_port()
    server_dir = tmp_path / "server"
    artifacts = tmp_path / "artifacts"
    args = [
        "server",
        "--backend-store-uri",
        f"sqlite:///{server_dir / 'server.db'}",
        "--serve-artifacts",
        "--artifacts-destination",
        str(artifacts),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        # the default already admits 127.0.0.1:*, but say it so a changed default cannot bite
        "--allowed-hosts",
        f"{HOST}:{port},{HOST}",
    ]
    server_dir.mkdir()
    # the server itself must not inherit a client-side tracking URI
    with running(
        args, port=port, env=child_env(), cwd=server_dir, health="/health", name="mlflow server"
    ) as base:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", base)
        client_dir = tmp_path / "client"
        client_dir.mkdir()
        monkeypatch.chdir(client_dir)
        try:
            result = _train(client_dir)
            assert result.alias == "champion" and result.version == "1"
            model = mlflow.pyfunc.load_model(MODEL_URI)
            p = probabilities(model.predict(DRAFTS))
            run = mlflow.MlflowClient().get_run(result.run_id)
        finally:
            mlflow.set_tracking_uri(None)
    assert len(p) == len(DRAFTS) and all(0 < x < 1 for x in p), p
    assert run.info.run_id == result.run_id and run.info.status == "FINISHED"
    assert run.data.params["candidate"] == "guideline"
    # artifacts went through the server's proxy into its destination, not the client's disk
    assert run.info.artifact_uri.startswith("mlflow-artifacts:"), run.info.artifact_uri
    assert any(artifacts.rglob("pipeline.json")), sorted(map(str, artifacts.rglob("*")))[:20]
    assert not (client_dir / "mlruns").exists() and not (client_dir / "mlartifacts").exists()


def readme_command(start: str) -> str:
    """The command the README (or a page of docs/ it links) shows starting with ``start``,
    continuation lines (``\\``) joined."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages).replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith(start)]
    assert len(lines) == 1, f"the docs should show one line starting {start!r}: {lines}"
    return lines[0]


def _post(base: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + "/invocations",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
def test_the_readme_serve_command_works_as_written_without_an_activated_venv(
    tmp_path, trained_store
):
    """The README's ``mlflow models serve`` line, run by bash from the repository root with
    no virtual environment on PATH (only the port is changed, to a free one), answers the
    README's curl payload, and refuses an empty summary with a 400 that quotes nothing. The
    model is the champion of ``trained_store``."""
    serve = readme_command("PATH=")
    assert "mlflow models serve" in serve and "-p 5001" in serve
    port = free_port()
    curl = readme_command("curl ")
    payload = re.search(r"-d '(.+)'", curl)[1]
    path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p) != VENV_BIN
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "VIRTUAL_ENV"))}
    env.update(
        PATH=path or "/usr/bin:/bin", MLFLOW_TRACKING_URI=trained_store.env["MLFLOW_TRACKING_URI"]
    )
    before = _untracked()
    with running(
        ["/bin/bash", "-c", serve.replace("-p 5001", f"-p {port}")],
        port=port,
        env=env,
        cwd=REPO,
        logs=tmp_path,
        health="/ping",
        name="readme serve",
    ) as base:
        status, body = _post(base, payload.encode())
        assert status == 200, body
        (p,) = probabilities(pd.DataFrame(body["predictions"]))
        assert 0 < p < 1
        secret = "Jane Roe fell at the warehouse"
        empty = {
            "dataframe_split": {"columns": ["case_summary", "service"], "data": [["", secret]]}
        }
        status, body = _post(base, json.dumps(empty).encode())
        assert status == 400, body
        assert "stack_trace" not in body and "Jane" not in json.dumps(body)
        status, body = _post(
            base, json.dumps({"dataframe_split": {"columns": [], "data": []}}).encode()
        )
        assert status == 400 and "stack_trace" not in body, body
    assert _untracked() == before  # the server left nothing in the repository


def _untracked() -> set[str]:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--ignored"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line for line in out.splitlines() if not line[3:].startswith((".venv", "tests/"))}
