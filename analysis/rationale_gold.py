"""The hand-checked gold of the reviewers' rationales: load it, check it, look labels up.

``analysis/gold/rationale_gold.json`` (package data) holds, for every item of the 139
training letters, the denial reasons the reviewer gave (codes of
:mod:`features.reason_vocabulary`, most important first) and the criterion statuses the
reviewer states, each with its quote. Two people labelled it by reading; the rules they
follow are in ``analysis/gold/README.md``.

POST-DECISION: the labels come from the rationale. They are training-time targets and
measurements only; nothing under ``features/`` or ``models/`` imports this module.

    .venv/bin/python -m analysis.rationale_gold [--dataset DIR]

checks the file (and, with the letters, that every quote is in its rationale) and prints
the counts by code.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from features.reason_vocabulary import CODES, STATUSES, criterion_codes

GOLD_FILE = Path(__file__).resolve().parent / "gold" / "rationale_gold.json"
MAX_QUOTE = 200
_REQUIRED = {
    "letter_id": str,
    "item_index": int,
    "service": str,
    "decision": str,
    "reasons": list,
    "statements": list,
    "perioperative": bool,
    "dwc_request_category": str,
}


class GoldError(ValueError):
    """The gold file breaks a rule; the message names the item, the field and the fix."""


def _where(path: Path, item: dict) -> str:
    return f"{path} item {item.get('letter_id')}/{item.get('item_index')}"


def check_item(item: dict, path: Path = GOLD_FILE) -> None:
    """Raise :class:`GoldError` unless ``item`` follows the labelling rules' form."""
    where = _where(path, item)
    for name, kind in _REQUIRED.items():
        if not isinstance(item.get(name), kind) or (kind is int and isinstance(item[name], bool)):
            raise GoldError(f"{where}: field {name!r} must be a {kind.__name__}")
    reasons = item["reasons"]
    unknown = [r for r in reasons if r not in CODES]
    if unknown:
        raise GoldError(f"{where}: reason(s) {unknown} are not codes of the vocabulary")
    if len(set(reasons)) != len(reasons):
        raise GoldError(f"{where}: a reason appears twice in {reasons}")
    if item["decision"] == "Upheld" and not reasons:
        raise GoldError(f"{where}: an upheld item needs at least one reason ('other' if none fits)")
    if item["decision"] == "Overturned" and reasons:
        raise GoldError(f"{where}: an overturned item has no denial reasons (reasons must be [])")
    if item["decision"] not in ("Upheld", "Overturned"):
        raise GoldError(f"{where}: decision must be Upheld or Overturned")
    criteria = criterion_codes()
    seen = set()
    for statement in item["statements"]:
        criterion, status = statement.get("criterion"), statement.get("status")
        quote = statement.get("quote")
        if criterion not in criteria:
            raise GoldError(f"{where}: statement criterion {criterion!r} is not in the vocabulary")
        if status not in STATUSES:
            raise GoldError(f"{where}: statement status {status!r} is not one of {STATUSES}")
        if not isinstance(quote, str) or not quote.strip() or len(quote) > MAX_QUOTE:
            raise GoldError(f"{where}: a quote must be 1 to {MAX_QUOTE} characters ({criterion})")
        if criterion in seen:
            raise GoldError(f"{where}: two statements of criterion {criterion!r}")
        seen.add(criterion)


def load_gold(path: Path = GOLD_FILE) -> list[dict]:
    """The gold items, each checked (:func:`check_item`); one item per letter and index."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise GoldError(f"{path}: not a readable gold file ({exc})") from exc
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise GoldError(f"{path}: expected an object with an 'items' list")
    keys = Counter()
    for item in items:
        if not isinstance(item, dict):
            raise GoldError(f"{path}: every item must be an object")
        check_item(item, path)
        keys[(item["letter_id"], item["item_index"])] += 1
    twice = [k for k, n in keys.items() if n > 1]
    if twice:
        raise GoldError(f"{path}: item(s) labelled twice: {twice[:5]}")
    return items


def _squash(text: object) -> str:
    """Whitespace collapsed: a letter's line wrapping is not part of what the reviewer said."""
    return " ".join(str(text or "").split())


def match_items(gold: list[dict], items: pd.DataFrame) -> tuple[dict, list[str]]:
    """``({(letter_id, item_index): dataset row}, problems)`` for the gold items.

    A problem is a gold item absent from ``items``, whose service differs, or one of whose
    quotes is not in the row's rationale (whitespace collapsed on both sides).
    """
    rows = {(r["letter_id"], int(r["item_index"])): r for r in items.to_dict("records")}
    found, problems = {}, []
    for item in gold:
        key = (item["letter_id"], item["item_index"])
        row = rows.get(key)
        if row is None:
            problems.append(f"{key[0]}/{key[1]}: not in the dataset")
            continue
        if _squash(row.get("service")) != _squash(item["service"]):
            problems.append(f"{key[0]}/{key[1]}: service differs from the dataset's")
        rationale = _squash(row.get("decision_rationale"))
        for statement in item["statements"]:
            if _squash(statement["quote"]) not in rationale:
                problems.append(
                    f"{key[0]}/{key[1]}: quote for {statement['criterion']} is not in the "
                    f"rationale: {statement['quote'][:60]!r}"
                )
        found[key] = row
    return found, problems


def gold_reasons(items: pd.DataFrame, gold: Iterable[dict] | None = None) -> list[list[str] | None]:
    """The gold reason codes of each row of ``items`` (``None`` where the item is not gold)."""
    table = {
        (g["letter_id"], g["item_index"]): list(g["reasons"])
        for g in (load_gold() if gold is None else gold)
    }
    keys = zip(items["letter_id"].astype(str), items["item_index"].astype(int), strict=True)
    return [table.get(key) for key in keys]


def code_counts(gold: list[dict]) -> pd.DataFrame:
    """Per code: upheld items citing it, and citing it first."""
    upheld = [g for g in gold if g["decision"] == "Upheld"]
    rows = [
        {
            "code": code,
            "items": sum(code in g["reasons"] for g in upheld),
            "first": sum(g["reasons"][:1] == [code] for g in upheld),
        }
        for code in CODES
    ]
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="dataset folder (default: ../shared)")
    parser.add_argument("--gold", type=Path, default=GOLD_FILE)
    args = parser.parse_args(argv)
    from data.ingest import dataset_or_shared_letters

    try:
        gold = load_gold(args.gold)
    except GoldError as exc:
        print(f"error: {exc}")
        return 1
    _, problems = match_items(gold, dataset_or_shared_letters(args.dataset))
    for problem in problems:
        print(f"problem: {problem}")
    upheld = sum(g["decision"] == "Upheld" for g in gold)
    print(f"{len(gold)} items ({upheld} upheld), {len(problems)} problem(s)")
    print(code_counts(gold).to_string(index=False))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
