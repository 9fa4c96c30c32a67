"""Training time and peak memory against dataset size, on SYNTHETIC letters.

    .venv/bin/python benchmarks/bench_training.py [--sizes 1000 10000 100000]

Each size runs in a fresh subprocess (so its peak RSS is its own): generate synthetic
letters until about N items, ingest them, then ``models.training.train`` end to end
(grouped CV of each candidate, temporal hold-out, final fit, MLflow logging) against a
throw-away SQLite store. Synthetic data: these are speed figures, not model quality.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ITEMS_PER_LETTER = 1.9  # the generator's average


def one(size: int, workdir: Path) -> dict:
    from data.ingest import ingest
    from data.synthetic import generate_corpus
    from models.training import train

    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{workdir / 'mlflow.db'}"
    letters = int(size / ITEMS_PER_LETTER)
    start = time.perf_counter()
    generate_corpus(workdir / "letters", letters, seed=size)
    generated = time.perf_counter()
    result = ingest([workdir / "letters"], workdir / "ds")
    ingested = time.perf_counter()
    trained = train(None, dataset_dir=workdir / "ds")
    done = time.perf_counter()
    return {
        "items": result.report["summary"]["items_total"],
        "letters": letters,
        "generate_s": round(generated - start, 1),
        "ingest_s": round(ingested - generated, 1),
        "train_s": round(done - ingested, 1),
        "chosen": trained.recipe["candidate"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(one(args.child, Path(tmp))))
        return
    print(f"SYNTHETIC letters; the guideline model; {os.cpu_count()} cores")
    print(
        f"{'items':>8} {'letters':>8} {'generate s':>10} {'ingest s':>9} {'train s':>8} "
        f"{'peak MB':>8}  chosen"
    )
    for size in args.sizes:
        run = subprocess.run(
            [sys.executable, __file__, "--child", str(size)],
            capture_output=True,
            text=True,
        )
        if run.returncode:
            print(f"{size}: failed\n{run.stderr[-2000:]}")
            continue
        r = json.loads(run.stdout.strip().splitlines()[-1])
        print(
            f"{r['items']:>8} {r['letters']:>8} {r['generate_s']:>10} {r['ingest_s']:>9} "
            f"{r['train_s']:>8} {r['peak_rss_mb']:>8}  {r['chosen']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
