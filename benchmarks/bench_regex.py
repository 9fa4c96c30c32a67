"""Feature extraction with and without the first-character lookahead of ``features.fast_regex``.

``_rx`` puts ``(?=[first chars])`` in front of a pattern when the characters a match can
start with are known. This measures what that saves on the real letters, and what it costs
at import (the patterns are parsed once more).

Each variant runs in its own process, because the patterns are compiled when the
extractors are imported: the plain variant turns ``features.fast_regex.LOOKAHEAD`` off
first. In each process the real items are replicated ``--copies`` times, each copy of a
letter with its own summary text (a suffix), and every pass starts with
:func:`features.clear_caches`, so every pass pays for the whole extraction. Timed per pass:

* ``extract_row``: :func:`features.facts.extract_row` over every item;
* ``guideline``: ``GuidelineFeatures.transform`` over every item (the default model's
  features: the guideline criteria, which read ``extract_row`` and their own cues).

The variants alternate (``--rounds``) so that load from other work on the machine falls
on both; the figure is the median pass. Usage::

    .venv/bin/python benchmarks/bench_regex.py [--dataset DIR] [--copies 3] [--passes 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

VARIANTS = ("lookahead", "plain")


def _items(dataset: str | None, copies: int):
    import pandas as pd

    from data.ingest import dataset_or_shared_letters

    real = dataset_or_shared_letters(Path(dataset) if dataset else None)
    real = real[~real["synthetic"].astype(bool)] if "synthetic" in real else real
    frames = [
        real.assign(case_summary=real["case_summary"].fillna("") + f" [copy {i}]")
        for i in range(copies)
    ]
    return pd.concat(frames, ignore_index=True), real["source_file"].nunique()


def _patterns_with_lookahead() -> tuple[int, int]:
    """(patterns with the lookahead, all patterns) compiled by the feature modules."""
    from features.fast_regex import compiled_patterns

    seen = compiled_patterns()
    with_lookahead = sum(p.pattern.startswith("(?=[") for p in seen)
    return with_lookahead, len(seen)


def run_variant(variant: str, dataset: str | None, copies: int, passes: int) -> dict:
    """Time one variant in this process (it must not have imported the extractors yet)."""
    if "features.extractors" in sys.modules:
        raise RuntimeError("run each variant in a fresh process")
    import features.fast_regex

    features.fast_regex.LOOKAHEAD = variant == "lookahead"
    start = time.perf_counter()
    import features
    from features.facts import extract_row
    from features.guideline import GuidelineFeatures
    from settings import PRE_FILING_COLUMNS

    import_seconds = time.perf_counter() - start
    items, letters = _items(dataset, copies)
    rows = items[[c for c in PRE_FILING_COLUMNS if c in items.columns]].to_dict("records")
    guideline = GuidelineFeatures(n_jobs=1).fit(items)
    timings: dict[str, list[float]] = {"extract_row": [], "guideline": []}
    for _ in range(passes):
        features.clear_caches()
        start = time.perf_counter()
        for row in rows:
            extract_row(row)
        timings["extract_row"].append(time.perf_counter() - start)
        features.clear_caches()
        start = time.perf_counter()
        guideline.transform(items)
        timings["guideline"].append(time.perf_counter() - start)
    with_lookahead, patterns = _patterns_with_lookahead()
    return {
        "variant": variant,
        "items": len(rows),
        "letters": letters,
        "import_seconds": import_seconds,
        "timings": timings,
        "with_lookahead": with_lookahead,
        "patterns": patterns,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", help="dataset folder holding items.parquet")
    parser.add_argument("--copies", type=int, default=3, help="copies of the real items")
    parser.add_argument("--passes", type=int, default=5, help="timed passes per process")
    parser.add_argument("--rounds", type=int, default=2, help="processes per variant")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.variant:  # a child process: one variant, result as JSON on stdout
        print(json.dumps(run_variant(args.variant, args.dataset, args.copies, args.passes)))
        return 0
    results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for _ in range(args.rounds):
        for variant in VARIANTS:
            command = [sys.executable, __file__, "--variant", variant]
            command += ["--copies", str(args.copies), "--passes", str(args.passes)]
            command += ["--dataset", args.dataset] if args.dataset else []
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"the {variant} run failed:\n{done.stderr}", file=sys.stderr)
                return 1
            results[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
    first = results["lookahead"][0]
    print(
        f"{first['items']} items ({first['letters']} real letters x {args.copies} copies), "
        f"{args.passes} passes x {args.rounds} processes per variant, caches cleared per pass"
    )
    for variant in VARIANTS:
        r = results[variant][0]
        imports = statistics.median(x["import_seconds"] for x in results[variant])
        print(
            f"  {variant:9}: {r['with_lookahead']:3} of {r['patterns']} patterns with a "
            f"lookahead; import of the feature modules {imports:.2f} s"
        )
    median = {
        (v, task): statistics.median(t for r in results[v] for t in r["timings"][task])
        for v in VARIANTS
        for task in ("extract_row", "guideline")
    }
    for task in ("extract_row", "guideline"):
        fast, plain = median["lookahead", task], median["plain", task]
        print(
            f"{task:11}: lookahead {fast:6.3f} s, plain {plain:6.3f} s per pass "
            f"({first['items'] / fast:5.0f} vs {first['items'] / plain:5.0f} items/s): "
            f"{1 - fast / plain:.0%} less time with the lookahead"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
