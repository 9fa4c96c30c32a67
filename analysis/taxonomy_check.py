"""How well the service taxonomy reads the training letters' services, against the gold.

For every item of the hand-labelled gold (``analysis/gold/rationale_gold.json``): is its
service recognised, does its DWC request category (the sub-category's, or the
peri-operative one) agree with the gold's, and is it flagged peri-operative when the gold
says it belongs to a surgery. The gold is post-decision labelling: this is a measurement,
never a model input.

    .venv/bin/python -m analysis.taxonomy_check [--dataset DIR] [--gold FILE] [--errors]

prints the unrecognised share, the misfiled share (DWC category not the gold's) and the
peri-operative recall and precision, with the disagreements when ``--errors``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.rationale_gold import GOLD_FILE
from analysis.rationale_gold import load_gold as _checked_gold

#: What the taxonomy must reach on the training letters (issue 15).
TARGETS = {
    "unrecognised_share": 0.01,
    "perioperative_recall": 0.90,
    "perioperative_precision": 0.80,
}


@dataclass
class TaxonomyCheck:
    """The figures, and the items behind each disagreement."""

    items: int
    unrecognised: list[dict] = field(default_factory=list)
    misfiled: list[dict] = field(default_factory=list)
    perioperative_missed: list[dict] = field(default_factory=list)
    perioperative_extra: list[dict] = field(default_factory=list)
    perioperative_gold: int = 0
    perioperative_flagged: int = 0

    @property
    def figures(self) -> dict[str, float]:
        hits = self.perioperative_gold - len(self.perioperative_missed)
        return {
            "items": self.items,
            "unrecognised_share": len(self.unrecognised) / self.items,
            "misfiled_share": len(self.misfiled) / self.items,
            "perioperative_recall": hits / self.perioperative_gold
            if self.perioperative_gold
            else 1.0,
            "perioperative_precision": (
                hits / self.perioperative_flagged if self.perioperative_flagged else 1.0
            ),
        }


def load_gold(path: Path = GOLD_FILE) -> dict[tuple[str, int], dict]:
    """The checked gold items (:func:`analysis.rationale_gold.load_gold`) by (letter_id,
    item_index)."""
    return {(str(g["letter_id"]), int(g["item_index"])): g for g in _checked_gold(path)}


def check(items: pd.DataFrame, gold: dict[tuple[str, int], dict]) -> TaxonomyCheck:
    """Compare the taxonomy's reading of ``items`` (a dataset) with ``gold``."""
    from features.criteria import assess_items
    from features.guideline import INPUT_COLUMNS, with_letter_services

    items = with_letter_services(items)
    keys = [(str(r.letter_id), int(r.item_index)) for r in items.itertuples()]
    present = [k in gold for k in keys]
    items = items.loc[present].reset_index(drop=True)
    keys = [k for k, ok in zip(keys, present, strict=True) if ok]
    columns = [c for c in (*INPUT_COLUMNS, "letter_id") if c in items]
    assessments = assess_items(items.loc[:, columns].to_dict("records"))
    out = TaxonomyCheck(items=len(items))
    for key, service, a in zip(keys, items["service"], assessments, strict=True):
        g = gold[key]
        row = {
            "letter_id": key[0],
            "item_index": key[1],
            "service": service,
            "subcategory": a.kind.subcategory,
            "dwc": a.dwc,
            "gold_dwc": g["dwc_request_category"],
            "perioperative": a.perioperative,
            "why": a.link.why,
        }
        if not a.kind.recognised:
            out.unrecognised.append(row)
        if a.dwc != g["dwc_request_category"]:
            out.misfiled.append(row)
        out.perioperative_gold += bool(g["perioperative"])
        out.perioperative_flagged += bool(a.perioperative)
        if g["perioperative"] and not a.perioperative:
            out.perioperative_missed.append(row)
        if a.perioperative and not g["perioperative"]:
            out.perioperative_extra.append(row)
    return out


def report(result: TaxonomyCheck, errors: bool = False) -> str:
    """The figures (and the disagreements) as text."""
    f, t = result.figures, TARGETS
    lines = [
        f"items: {f['items']}",
        f"unrecognised: {len(result.unrecognised)} ({f['unrecognised_share']:.1%}; "
        f"target under {t['unrecognised_share']:.0%})",
        f"misfiled (DWC category not the gold's): {len(result.misfiled)} "
        f"({f['misfiled_share']:.1%})",
        f"peri-operative: recall {f['perioperative_recall']:.2f} "
        f"(target {t['perioperative_recall']:.2f}), precision "
        f"{f['perioperative_precision']:.2f} (target {t['perioperative_precision']:.2f}); "
        f"{result.perioperative_gold} in the gold, {result.perioperative_flagged} flagged",
    ]
    if errors:
        for title, rows in (
            ("unrecognised", result.unrecognised),
            ("misfiled", result.misfiled),
            ("peri-operative missed", result.perioperative_missed),
            ("peri-operative flagged, not in the gold", result.perioperative_extra),
        ):
            lines.append(f"\n{title}:")
            lines += [
                f"  {r['letter_id']}/{r['item_index']} {r['service'][:70]!r} -> "
                f"{r['subcategory']}, {r['dwc']} (gold {r['gold_dwc']}) {r['why']}"
                for r in rows
            ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="dataset folder (default: ../shared letters)")
    parser.add_argument("--gold", type=Path, default=GOLD_FILE, help="the gold JSON")
    parser.add_argument("--errors", action="store_true", help="list the disagreements")
    args = parser.parse_args(argv)
    from data.ingest import dataset_or_shared_letters

    print(report(check(dataset_or_shared_letters(args.dataset), load_gold(args.gold)), args.errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
