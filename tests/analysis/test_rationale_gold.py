"""The hand-checked rationale gold: its form, its vocabulary, and its quotes in the letters."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest

from analysis.rationale_gold import (
    GoldError,
    check_item,
    code_counts,
    gold_reasons,
    load_gold,
    match_items,
)
from features.reason_vocabulary import CODES, criterion_codes


@pytest.fixture(scope="module")
def gold():
    return load_gold()


def test_every_item_of_the_training_letters_is_labelled(gold):
    assert len(gold) == 307
    assert len({g["letter_id"] for g in gold}) == 139
    assert sum(g["decision"] == "Upheld" for g in gold) == 273


def test_codes_and_criteria_are_the_published_vocabulary(gold):
    criteria = set(criterion_codes())
    for item in gold:
        assert set(item["reasons"]) <= set(CODES)
        assert {s["criterion"] for s in item["statements"]} <= criteria
        # an upheld item has a reason; an overturned one none
        assert bool(item["reasons"]) == (item["decision"] == "Upheld")


def test_counts_by_code_add_up(gold):
    counts = code_counts(gold).set_index("code")
    assert counts["first"].sum() == 273  # one first reason per upheld item
    assert counts.loc["no_indication", "items"] == max(counts["items"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda g: g["reasons"].append("no_such_code"), "not codes of the vocabulary"),
        (lambda g: g["reasons"].clear(), "needs at least one reason"),
        (lambda g: g["reasons"].append(g["reasons"][0]), "appears twice"),
        (lambda g: g["statements"][0].update(criterion="made_up"), "not in the vocabulary"),
        (lambda g: g["statements"][0].update(status="maybe"), "status"),
        (lambda g: g["statements"][0].update(quote="x" * 201), "1 to 200 characters"),
        (lambda g: g["statements"].append(dict(g["statements"][0])), "two statements"),
        (lambda g: g.update(perioperative="yes"), "'perioperative'"),
    ],
)
def test_a_broken_item_is_refused_naming_the_item_and_field(gold, change, message):
    item = copy.deepcopy(next(g for g in gold if g["decision"] == "Upheld" and g["statements"]))
    check_item(item)  # as labelled, it passes
    change(item)
    with pytest.raises(GoldError, match=message) as err:
        check_item(item)
    assert item["letter_id"] in str(err.value)


def test_an_item_labelled_twice_is_refused(tmp_path, gold):
    path = tmp_path / "gold.json"
    path.write_text(json.dumps({"items": [gold[0], gold[0]]}))
    with pytest.raises(GoldError, match="labelled twice"):
        load_gold(path)


def test_every_quote_is_in_its_rationale_in_the_real_letters(gold, shared_items):
    rows, problems = match_items(gold, shared_items)
    assert problems == []
    assert len(rows) == 307


def test_a_quote_not_in_the_rationale_is_reported(gold):
    item = next(g for g in gold if g["statements"])
    row = {
        "letter_id": item["letter_id"],
        "item_index": item["item_index"],
        "service": item["service"],
        "decision_rationale": "Something else entirely.",
    }
    _, problems = match_items([item], pd.DataFrame([row]))
    assert problems and "is not in the rationale" in problems[0]


def test_gold_reasons_are_looked_up_by_letter_and_item(gold):
    first = gold[0]
    items = pd.DataFrame(
        {"letter_id": [first["letter_id"], "not-a-letter"], "item_index": [first["item_index"], 0]}
    )
    assert gold_reasons(items, gold) == [first["reasons"], None]
