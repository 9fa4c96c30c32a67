"""How each structured feature relates to the outcome on the real letters: a markdown table.

For every feature of :class:`features.structured.StructuredFeatures`, values are binned
(0/1 flags as is; counts and days into a few ranges) and the table lists, per bin, the
number of items and their overturn rate. Synthetic letters (column ``synthetic``) are
left out. This is a look at univariate signal on a small sample, not a model.

Usage::

    python -m features.signal --dataset DIR [--out FILE.md]
"""

from __future__ import annotations

import argparse
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from data.config import POSITIVE_LABEL
from features.structured import StructuredFeatures

#: Bin edges for numeric features (right-open), by name prefix/exact name.
_BINS = {
    "chronicity_days": [0, 30, 90, 180, 365, 730, np.inf],
    "age": [0, 30, 40, 50, 60, np.inf],
    "requested_amount": [0, 1, 7, 13, 31, np.inf],
    "request_total_sessions": [0, 1, 7, 11, 19, np.inf],
    "prior_total_sessions": [0, 1, 7, 13, np.inf],
    "n_body_regions": [0, 1, 3, 5, np.inf],
    "n_diagnoses": [0, 1, 3, 5, np.inf],
    "n_medication_classes": [0, 1, 2, 3, np.inf],
}
_SKIP = {"chronicity_log_days"}  # the same information as chronicity_days


def _bin(name: str, values: pd.Series) -> pd.Series:
    uniques = set(np.unique(values))
    if uniques <= {0.0, 1.0}:
        return values.astype(int).astype(str)
    edges = _BINS.get(name)
    if edges is None:
        if name.startswith("prior_") and name.endswith("_sessions"):
            edges = [0, 1, 7, 13, np.inf]
        else:
            edges = [*np.unique(np.quantile(values, [0, 0.25, 0.5, 0.75])), np.inf]
    labels = []
    for lo, hi in pairwise(edges):
        labels.append(
            f">={lo:g}" if hi == np.inf else f"{lo:g}-{hi - 1:g}" if hi - lo > 1 else f"{lo:g}"
        )
    return pd.cut(values, bins=edges, right=False, labels=labels).astype(str)


def signal_table(items: pd.DataFrame) -> str:
    """Markdown table: feature, binned value, item count, overturn rate (real letters only)."""
    if "synthetic" in items.columns:
        items = items[~items["synthetic"].fillna(False).astype(bool)]
    items = items[items["decision"].notna()].reset_index(drop=True)
    transformer = StructuredFeatures().fit(items)
    X = pd.DataFrame(transformer.transform(items), columns=transformer.get_feature_names_out())
    y = (items["decision"] == POSITIVE_LABEL).astype(float)
    base = y.mean() if len(y) else float("nan")
    lines = [
        f"Real items: {len(items)}, overturned: {int(y.sum())} (base rate {base:.1%}).",
        "",
        "| feature | value | items | overturn rate |",
        "|---|---|---:|---:|",
    ]
    for name in X.columns:
        if name in _SKIP:
            continue
        binned = _bin(name, X[name])
        grouped = y.groupby(binned, sort=True).agg(["count", "mean"])
        for value, row in grouped.iterrows():
            lines.append(f"| {name} | {value} | {int(row['count'])} | {row['mean']:.1%} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: write (or print) the markdown table."""
    parser = argparse.ArgumentParser(prog="python -m features.signal", description=__doc__)
    parser.add_argument("--dataset", required=True, help="dataset folder holding items.parquet")
    parser.add_argument("--out", help="markdown file to write (default: print)")
    args = parser.parse_args(argv)
    items = pd.read_parquet(Path(args.dataset) / "items.parquet")
    table = signal_table(items)
    if args.out:
        Path(args.out).write_text(table, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
