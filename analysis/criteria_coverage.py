"""Do the criteria the tables list cover the reasons reviewers gave? (training letters)

For every upheld item of the hand-labelled gold (``analysis/gold/rationale_gold.json``):
which of the reviewer's reason codes appear among the item's criteria that are not met or
not documented (its candidate denial reasons), by code, and how many items have no
candidate at all. A code that is rarely covered for a kind of service points at a missing
criterion or a status read wrongly. The gold is post-decision: a measurement of the
tables and extractors, never a model input.

    .venv/bin/python -m analysis.criteria_coverage [--dataset DIR] [--gold FILE]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import pandas as pd

from analysis.taxonomy_check import GOLD_FILE, load_gold


def coverage(items: pd.DataFrame, gold: dict[tuple[str, int], dict]) -> dict:
    """``{"items", "no_candidate", "covered", "reasons", "by_code": {code: (covered, n)}}``."""
    from features.criteria import NOT_DOCUMENTED, NOT_MET, assess
    from features.guideline import with_letter_services

    covered, total = Counter(), Counter()
    upheld = no_candidate = 0
    for row in with_letter_services(items).to_dict("records"):
        g = gold.get((str(row["letter_id"]), int(row["item_index"])))
        if g is None or g["decision"] != "Upheld":
            continue
        upheld += 1
        a = assess(row)
        candidates = {c.reason_code for c in a.criteria if c.status in (NOT_MET, NOT_DOCUMENTED)}
        no_candidate += not candidates
        for code in g["reasons"]:
            total[code] += 1
            covered[code] += code in candidates
    return {
        "items": upheld,
        "no_candidate": no_candidate,
        "covered": sum(covered.values()),
        "reasons": sum(total.values()),
        "by_code": {code: (covered[code], n) for code, n in total.most_common()},
    }


def report(result: dict) -> str:
    share = result["covered"] / result["reasons"] if result["reasons"] else 0.0
    lines = [
        f"upheld items: {result['items']}; with no candidate denial reason: "
        f"{result['no_candidate']}",
        f"reviewers' reasons among the item's criteria not met or not documented: "
        f"{result['covered']}/{result['reasons']} ({share:.2f})",
    ]
    lines += [f"  {code:32s} {c:3d}/{n:3d}" for code, (c, n) in result["by_code"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="dataset folder (default: ../shared letters)")
    parser.add_argument("--gold", type=Path, default=GOLD_FILE, help="the gold JSON")
    args = parser.parse_args(argv)
    from data.ingest import dataset_or_shared_letters

    print(report(coverage(dataset_or_shared_letters(args.dataset), load_gold(args.gold))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
