"""Prediction speed: a cold ``python predict.py`` on one draft against a bare import of
scikit-learn and pandas, and batch throughput.

    .venv/bin/python benchmarks/bench_predict.py [--runs 15] [--changed-runs 5] [--batch-items 3000]

Uses the champion in ``MLFLOW_TRACKING_URI`` (train first). The first call warms the
local model cache (as a user's first prediction after training does); the cold timings
are whole fresh processes after that, interleaved with ``python -c "import sklearn,
pandas"`` (one of each per round, so both see the same load on a shared machine), and
compared by their medians. With a local SQLite store, ``--changed-runs`` more rounds
first touch the store's file (its modification time: the remembered answer no longer
holds), so predict.py asks the store through MLflow in a child process, as the first
prediction after a training does; they are interleaved with a bare ``import mlflow``.
Batch items are the real letters' summaries with their services when ../shared/letters
is present, else synthetic ones (said in the output).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from data.csv_output import write_csv
from settings import tracking_uri

REPO = Path(__file__).resolve().parent.parent
SUMMARY = (
    "The injured worker is a 48 year old male who sustained an industrial injury on 10-13-16. "
    "He was treated for right shoulder contusion and neck strain. X-ray of the right shoulder "
    "revealed rotator cuff tendinopathy. Treatment to date has included modified work duties "
    "and a home exercise program."
)


def batch_items(n: int) -> tuple[pd.DataFrame, str]:
    from data.ingest import dataset_or_shared_letters, ingest
    from settings import SHARED_LETTERS_DIR

    with tempfile.TemporaryDirectory() as tmp:
        if (SHARED_LETTERS_DIR / "dwc").is_dir():
            items = dataset_or_shared_letters(None)
            source = "real letters (repeated)"
        else:
            from data.synthetic import generate_corpus

            generate_corpus(Path(tmp) / "letters", 300, seed=0)
            items = ingest([Path(tmp) / "letters"], Path(tmp) / "ds", workers=1).added
            source = "SYNTHETIC letters"
    frame = items[["case_summary", "service"]]
    return pd.concat([frame] * (n // len(frame) + 1)).head(n), source


def _seconds(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--changed-runs", type=int, default=5)
    parser.add_argument("--batch-items", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "summary.txt").write_text(SUMMARY)
        cmd = [
            sys.executable,
            str(REPO / "predict.py"),
            "--summary",
            str(tmp / "summary.txt"),
            "--service",
            "MRI of the right shoulder without contrast",
        ]
        warm = subprocess.run(cmd, capture_output=True, text=True)
        if warm.returncode:
            sys.exit(f"predict.py failed (train a model first?):\n{warm.stderr}")
        bare_cmd = [sys.executable, "-c", "import sklearn, pandas"]
        subprocess.run(bare_cmd, check=True)
        bare, cold = [], []
        for _ in range(args.runs):
            bare.append(_seconds(bare_cmd))
            cold.append(_seconds(cmd))
        bare_median, cold_median = statistics.median(bare), statistics.median(cold)
        print(
            f'bare python -c "import sklearn, pandas": median {bare_median:.2f} s, '
            f"max {max(bare):.2f} s over {args.runs} runs"
        )
        print(
            f"cold predict.py, one draft with reasons and what-ifs: median "
            f"{cold_median:.2f} s, max {max(cold):.2f} s over {args.runs} runs "
            f"(interleaved with the bare import)"
        )
        print(f"ratio of medians: {cold_median / bare_median:.2f}x (goal: within 1.5x)")
        store = tracking_uri().removeprefix("sqlite:///")
        if args.changed_runs and tracking_uri().startswith("sqlite:///") and Path(store).is_file():
            mlflow_cmd = [sys.executable, "-c", "import mlflow"]
            changed, mlflow_import = [], []
            for _ in range(args.changed_runs):
                mlflow_import.append(_seconds(mlflow_cmd))
                os.utime(store)  # the store "changed": its answer must be asked again
                changed.append(_seconds(cmd))
            print(
                f"predict.py after the store changed (asks it through MLflow in a child): "
                f"median {statistics.median(changed):.2f} s over {args.changed_runs} runs; "
                f'bare python -c "import mlflow": median {statistics.median(mlflow_import):.2f} s'
            )
        frame, source = batch_items(args.batch_items)
        write_csv(frame, tmp / "batch.csv", index=False)
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(REPO / "predict.py"),
                "--batch",
                str(tmp / "batch.csv"),
                "--csv",
                str(tmp / "out.csv"),
            ],
            capture_output=True,
            check=True,
        )
        seconds = time.perf_counter() - start
        scored = len(pd.read_csv(tmp / "out.csv"))
        print(
            f"batch: {scored} items of {source} in {seconds:.1f} s including start-up = "
            f"{scored / seconds:,.0f} items/s"
        )


if __name__ == "__main__":
    main()
