"""Prediction speed: a cold ``python predict.py`` on one draft, and batch throughput.

    .venv/bin/python benchmarks/bench_predict.py [--runs 5] [--batch-items 3000]

Uses the champion in ``MLFLOW_TRACKING_URI`` (train first). The first call warms the
local model cache (as a user's first prediction after training does); the cold timings
are whole fresh processes after that. Batch items are the real letters' summaries with
their services when ../shared/letters is present, else synthetic ones (said in the output).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from data.csv_output import write_csv

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
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
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        print(
            f"cold predict.py, one draft with reasons and what-ifs: median "
            f"{statistics.median(times):.2f} s, max {max(times):.2f} s over {args.runs} runs"
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
