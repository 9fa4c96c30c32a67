"""Throughput of ``StructuredFeatures.transform`` on 10,000 items, one core and all cores.

Three runs, all built from the real items of a dataset (no synthetic text):

* ``replicated``: the real items repeated to 10,000 rows. Copies repeat their letter's
  case summary, so the per-summary extraction cache is hit after the first copy (best case).
* ``new letter per copy``: each copy of a letter gets a distinct summary (a suffix), so the
  cache only helps items of the same letter, as on a fresh corpus (the realistic case).
* ``every summary unique``: every row pays for the full summary extraction (worst case).

Usage::

    python benchmarks/bench_features.py [--dataset DIR] [--n 10000]

Without ``--dataset`` the shared real letters are ingested into a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from data.ingest import dataset_or_shared_letters
from features import extractors as ex
from features import structured


def _items(dataset: str | None) -> pd.DataFrame:
    return dataset_or_shared_letters(Path(dataset) if dataset else None)


def _clear_caches() -> None:
    for cached in (
        structured._summary_findings,
        structured._summary_features,
        structured._summary_vector,
    ):
        cached.cache_clear()
    for fn in (
        ex.sentences,
        ex.lower,
        ex._voice,
        ex._words,
        ex._clause_breaks,
        ex._sentence_starts,
    ):
        fn.cache_clear()


def _time(transformer: structured.StructuredFeatures, items: pd.DataFrame) -> float:
    _clear_caches()
    start = time.perf_counter()
    transformer.transform(items)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", help="dataset folder holding items.parquet")
    parser.add_argument("--n", type=int, default=10_000, help="number of items")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="n_jobs to time")
    args = parser.parse_args(argv)
    all_cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    real = _items(args.dataset)
    real = real[~real["synthetic"].astype(bool)] if "synthetic" in real else real
    reps = -(-args.n // len(real))
    copies = [real.assign(copy=i) for i in range(reps)]
    items = pd.concat(copies, ignore_index=True).iloc[: args.n]
    letters = real["source_file"].nunique()
    print(f"source: {len(real)} real items from {letters} letters, replicated x{reps}")
    for jobs in args.jobs:
        if all_cores:
            # one job: pin to one core, so the figure is per core; more: every core
            os.sched_setaffinity(0, {min(all_cores)} if jobs == 1 else all_cores)
        transformer = structured.StructuredFeatures(n_jobs=jobs).fit(items)
        # Each copy of a letter gets its own summary text: a fresh corpus with the real
        # items-per-letter ratio (items of one letter still share their summary). The tag
        # also keeps worker processes from reusing a previous run's cache.
        tag = f" [{jobs}]#"
        per_letter = items.assign(
            case_summary=items["case_summary"] + tag + items["copy"].astype(str)
        )
        unique = items.assign(case_summary=items["case_summary"] + tag + items.index.astype(str))
        runs = (
            ("replicated (cache hits)", items),
            ("new letter per copy", per_letter),
            ("every summary unique", unique),
        )
        for label, frame in runs:
            seconds = _time(transformer, frame)
            rate = len(frame) / seconds
            print(
                f"n_jobs={jobs} {label:24} {len(frame)} items in {seconds:6.2f} s "
                f"= {rate:6.0f} items/s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
