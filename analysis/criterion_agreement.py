"""How often a criterion's status read from the summary agrees with what the reviewer says.

The rationale gold (``analysis/gold/rationale_gold.json``, or the labellers' part files)
holds, per item, the reviewer's statements of what the records document: ``{criterion,
status, quote}`` with status ``met``, ``not_met`` or ``not_documented``. This joins each
gold item to its dataset row (``letter_id`` + ``item_index``), reads the criterion's status
from the row's pre-filing text with one of these sources, and counts agreement per
criterion with a confusion of gold against read status:

``statuses``  the extractors' status functions on the summary, for every gold statement
              (:func:`features.extractors.findings_status`, ``improvement_status``,
              ``conservative_care_status``): extraction alone, whatever the service;
``assess``    :func:`features.criteria.assess` of the item: the criteria it checks for
              that service (``not_assessed`` where it checks none);
``legacy``    the yes/no extractors ``assess()`` read before the status functions
              (``objective_findings``, ``documented_failure``, ``documented_benefit``):
              main's reading when run on the code before them.

POST-DECISION: the gold comes from the rationales; this is measurement only, and nothing
under ``features/`` or ``models/`` imports it. Usage::

    .venv/bin/python -m analysis.criterion_agreement --gold FILE [--gold FILE ...]
        [--dataset DIR] [--source statuses|assess|legacy] [--all-criteria] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

from analysis.rationale_gold import GOLD_FILE

MET, NOT_MET, NOT_DOCUMENTED, NOT_ASSESSED = "met", "not_met", "not_documented", "not_assessed"
GOLD_STATUSES = (MET, NOT_MET, NOT_DOCUMENTED)
#: The criteria the summary's status functions read.
SUMMARY_CRITERIA = ("objective_findings", "functional_improvement", "failed_conservative_care")

StatusOf = Callable[[Mapping], dict[str, str]]


class GoldFileError(ValueError):
    """A gold file cannot be read; the message names the file and the fix."""


def load_gold(paths: Iterable[Path]) -> list[dict]:
    """The gold items of one or more files (a JSON list, or an object with ``items``).

    Lenient on purpose, unlike :func:`analysis.rationale_gold.load_gold`: a labeller's
    partial file of criterion statements (no decision, no reasons) is measured too."""
    items: list[dict] = []
    for path in map(Path, paths):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise GoldFileError(f"{path}: not a readable gold JSON file ({exc})") from exc
        part = data.get("items") if isinstance(data, dict) else data
        if not isinstance(part, list):
            raise GoldFileError(f"{path}: expected a list of items or an object with 'items'")
        items += part
    return items


def _status(value) -> str:
    return value if value in (MET, NOT_MET) else NOT_DOCUMENTED


def summary_statuses(row: Mapping, negation=None) -> dict[str, str]:
    """The status functions' reading of the row's summary (``negation``: any detector)."""
    from features import extractors as ex

    summary = str(row.get("case_summary") or "")
    return {
        "objective_findings": _status(ex.findings_status(summary, negation=negation).value),
        "functional_improvement": _status(ex.improvement_status(summary, negation=negation).value),
        "failed_conservative_care": _status(
            ex.conservative_care_status(summary, negation=negation).value
        ),
    }


def legacy_statuses(row: Mapping) -> dict[str, str]:
    """The yes/no extractors read as ``assess()`` read them before the status functions."""
    from features import extractors as ex

    summary = str(row.get("case_summary") or "")
    benefit = ex.documented_benefit(summary).value
    return {
        "objective_findings": MET if ex.objective_findings(summary).value else NOT_DOCUMENTED,
        "functional_improvement": {"improvement": MET, "both": MET, "no_improvement": NOT_MET}.get(
            benefit, NOT_DOCUMENTED
        ),
        "failed_conservative_care": MET if ex.documented_failure(summary).value else NOT_DOCUMENTED,
    }


# assess() codes that name a vocabulary criterion differently, with the status they mean.
_ASSESS_ALIASES = {
    "no_repeat_imaging": "change_since_prior_imaging",
    "with_surgery_request": "associated_procedure_certified",
}


def assess_statuses(row: Mapping) -> dict[str, str]:
    """The statuses :func:`features.criteria.assess` gives the item's criteria."""
    from features.criteria import assess

    return {_ASSESS_ALIASES.get(c.code, c.code): c.status for c in assess(dict(row)).criteria}


SOURCES: dict[str, StatusOf] = {
    "statuses": summary_statuses,
    "assess": assess_statuses,
    "legacy": legacy_statuses,
}


def agreement(
    items: pd.DataFrame,
    gold: list[dict],
    status_of: StatusOf = summary_statuses,
    criteria: Iterable[str] | None = SUMMARY_CRITERIA,
) -> dict:
    """Per criterion: statements, agreement and the confusion (gold x read status).

    Returns ``{"criteria": {criterion: {"n", "agree", "agreement", "met_agree",
    "met_agreement", "confusion": {gold: {read: count}}}}, "missing": [keys]}``:
    ``agreement`` counts a read status equal to the reviewer's; ``met_agreement`` only
    whether both say met or both say not met (not met and not documented alike).
    ``criteria=None`` keeps every criterion the gold states. Gold items absent from
    ``items`` are listed in ``missing``, not counted.
    """
    wanted = None if criteria is None else set(criteria)
    rows = {(str(r["letter_id"]), int(r["item_index"])): r for r in items.to_dict("records")}
    confusion: dict[str, Counter] = {}
    missing = []
    for item in gold:
        key = (str(item["letter_id"]), int(item["item_index"]))
        statements = [
            s for s in item.get("statements", []) if wanted is None or s["criterion"] in wanted
        ]
        if not statements:
            continue
        row = rows.get(key)
        if row is None:
            missing.append(f"{key[0]}/{key[1]}")
            continue
        read = status_of(row)
        for s in statements:
            confusion.setdefault(s["criterion"], Counter())[
                (s["status"], read.get(s["criterion"], NOT_ASSESSED))
            ] += 1
    out = {}
    for criterion in sorted(confusion, key=_order):
        pairs = confusion[criterion]
        n = sum(pairs.values())
        agree = sum(v for (g, p), v in pairs.items() if g == p)
        met_agree = sum(v for (g, p), v in pairs.items() if (g == MET) == (p == MET))
        table: dict[str, dict[str, int]] = {}
        for (g, p), v in sorted(pairs.items()):
            table.setdefault(g, {})[p] = v
        out[criterion] = {
            "n": n,
            "agree": agree,
            "agreement": agree / n,
            "met_agree": met_agree,
            "met_agreement": met_agree / n,
            "confusion": table,
        }
    return {"criteria": out, "missing": missing}


def _order(criterion: str) -> tuple[int, str]:
    known = SUMMARY_CRITERIA.index(criterion) if criterion in SUMMARY_CRITERIA else 99
    return (known, criterion)


_SHORT = {MET: "met", NOT_MET: "nm", NOT_DOCUMENTED: "nd", NOT_ASSESSED: "na"}


def format_table(result: dict) -> str:
    """A Markdown table: criterion, n, agreement, met-vs-not agreement, the confusion.

    The confusion cell reads ``gold -> read: count`` (nm = not met, nd = not documented,
    na = not assessed for that service).
    """
    lines = [
        "| criterion | n | agreement | met vs not | confusion (gold -> read: count) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for criterion, r in result["criteria"].items():
        cells = [
            f"{_SHORT[g]}->{_SHORT.get(p, p)}: {v}"
            for g in GOLD_STATUSES
            for p, v in r["confusion"].get(g, {}).items()
        ]
        lines.append(
            f"| {criterion} | {r['n']} | {r['agreement']:.2f} ({r['agree']}) | "
            f"{r['met_agreement']:.2f} ({r['met_agree']}) | {'; '.join(cells)} |"
        )
    if result["missing"]:
        lines.append(f"\n{len(result['missing'])} gold item(s) not in the dataset")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI: print the agreement table (or JSON) of one source against the gold."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis.criterion_agreement", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--gold", type=Path, action="append", help="gold JSON (repeatable)")
    parser.add_argument("--dataset", type=Path, help="dataset folder holding items.parquet")
    parser.add_argument("--source", choices=sorted(SOURCES), default="statuses")
    parser.add_argument("--all-criteria", action="store_true", help="every criterion stated")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        gold = load_gold(args.gold or [GOLD_FILE])
    except GoldFileError as exc:
        print(f"error: {exc} (give the gold with --gold FILE)", file=sys.stderr)
        return 2
    from data.ingest import dataset_or_shared_letters

    items = dataset_or_shared_letters(args.dataset)
    result = agreement(
        items, gold, SOURCES[args.source], None if args.all_criteria else SUMMARY_CRITERIA
    )
    print(json.dumps(result, indent=1) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
