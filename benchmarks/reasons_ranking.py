"""The likely denial reasons against the reviewers' codes: the ranking and the sub-category
table in case-grouped repeated CV (what ``train.py`` logs as ``reasons_*``), on its own.

    .venv/bin/python benchmarks/reasons_ranking.py [--dataset DIR] [--repeats 5] [--without-met]

Upheld items whose reviewer gave at least one code (the hand-checked gold where the item is
in it, else the rationale tagger); 5-fold CV grouped by case, repeated over ``--repeats``
fold assignments; mean [95% case-bootstrap interval] of "the first listed reason is one the
reviewer gave" and "one of the first three is", and the paired difference.
``--without-met``: the variant that leaves out of the list a criterion the draft documents
as met (not what is shipped: reviewers still give many of those).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.reason_labels import reason_labels
from data.ingest import dataset_or_shared_letters
from features.guideline import with_letter_services
from models.evaluation import case_groups
from models.reasons.evaluation import cross_validate
from models.reasons.ranking import MET, item_profiles, listed_reasons


def _without_met(ranking, profile):
    shown = [(c, p) for c, p in ranking.rank(profile) if profile.status.get(c) != MET]
    return shown[:3] + [(c, p) for c, p in shown[3:5] if p >= 0.5]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--without-met", action="store_true", help="leave met criteria out")
    args = parser.parse_args(argv)
    items = with_letter_services(dataset_or_shared_letters(args.dataset))
    labels, sources = reason_labels(items)
    table = cross_validate(
        item_profiles(items),
        labels,
        case_groups(items),
        repeats=args.repeats,
        seed=args.seed,
        listing=_without_met if args.without_met else listed_reasons,
    ).table(seed=args.seed)
    gold = sum(1 for s, lab in zip(sources, labels, strict=True) if s == "gold" and lab)
    print(
        f"{int(table['items'].max())} upheld items with a code ({gold} from the gold), "
        f"{int(table['cases'].max())} cases"
    )
    print("| listed reason is the reviewer's | ranking | sub-category table | difference |")
    print("| --- | --- | --- | --- |")
    rows = table.set_index(["predictor", "measure"])
    for measure, label in (("first", "the first"), ("top3", "one of the first three")):
        cells = [
            "{:.3f} [{:.3f}, {:.3f}]".format(*rows.loc[(p, measure), ["mean", "ci_low", "ci_high"]])
            for p in ("ranking", "baseline_subcategory_frequency", "ranking_minus_baseline")
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
