"""Synthetic letters parse, say they are synthetic, and follow their ground-truth rule."""

from __future__ import annotations

import pandas as pd

from data.ingest import ingest
from data.synthetic import generate_corpus, true_probability


def test_synthetic_letters_parse_and_match_ground_truth(tmp_path):
    truth_path = generate_corpus(tmp_path / "letters", 300, seed=3)
    result = ingest([tmp_path / "letters"], tmp_path / "out", workers=1)
    assert result.report["summary"]["failed"] == 0
    items = result.added
    assert items["synthetic"].all()
    truth = pd.read_csv(truth_path)
    merged = items.merge(truth, on=["source_file", "item_index"], suffixes=("", "_truth"))
    assert len(merged) == len(truth) == len(items)
    assert (merged["service"] == merged["service_truth"]).all()
    assert (merged["decision"] == merged["decision_truth"]).all()
    # the observed overturn rate agrees with the mean true probability (binomial noise)
    observed, expected = (merged["decision"] == "Overturned").mean(), merged["p_overturned"].mean()
    se = (expected * (1 - expected) / len(merged)) ** 0.5
    assert abs(observed - expected) < 4 * se


def test_same_seed_same_corpus(tmp_path):
    a = generate_corpus(tmp_path / "a", 20, seed=1).read_text()
    b = generate_corpus(tmp_path / "b", 20, seed=1).read_text()
    assert a == b


def test_ground_truth_rule_directions():
    base = dict(failure=False, imaging_available=False, improvement=False)
    assert true_probability("therapy", **{**base, "failure": True}) > true_probability(
        "therapy", **base
    )
    assert true_probability("imaging", **{**base, "imaging_available": True}) > true_probability(
        "imaging", **base
    )
    assert true_probability("therapy", **base, prior=30, requested=12) < true_probability(
        "therapy", **base, prior=0, requested=12
    )
