"""Explanations in percentage points, "how sure" labels, guideline figures in a reason's
words, and the terminal's evidence cut at words (models/scoring/explain.py,
features/guideline_limits.py, models/scoring/output.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.criteria import NOT_MET, assess
from features.guideline_limits import visit_limit
from features.knowledge import knowledge
from features.lexicon import GUIDELINE_CEILINGS, POSTSURGICAL_CEILINGS
from models.scoring.explain import (
    CASE,
    CLOSE_POINTS,
    DOCUMENTABLE,
    FEW_ITEMS,
    MODEL_START,
    OTHER,
    explanation,
    how_sure,
    rounded_points,
)
from models.scoring.output import evidence_text

SUMMARY = (
    "The injured worker is a 47 year old male with low back pain radiating to the left leg. "
    "He has completed 12 sessions of physical therapy. Examination shows decreased "
    "sensation in the left L5 dermatome."
)


def _item(p, usual, base, effects, **extra):
    """A scored item as score_rows gives it, with reasons of the given log-odds effects."""
    return {
        "service": "MRI of the lumbar spine",
        "p_overturned": p,
        "p_low": extra.pop("low", p),
        "p_high": extra.pop("high", p),
        "baseline_rate": usual,
        "baseline_shrunk_rate": usual,
        "baseline_items": extra.pop("items", 99),
        "category": "imaging",
        "reasons": [
            {"feature": name, "reason": name, "effect_log_odds": e, "evidence": []}
            for name, e in effects.items()
        ],
        **extra,
    }


rates = st.floats(min_value=0.005, max_value=0.95)


@settings(max_examples=300, deadline=None)
@given(
    p=rates,
    usual=rates,
    base=st.floats(min_value=-5, max_value=2),
    effects=st.lists(st.floats(min_value=-2, max_value=2), max_size=6),
)
def test_points_add_up_to_the_estimate_exactly_and_when_rounded(p, usual, base, effects):
    names = ["log_items_in_letter", "objective_findings_documented", "age_decades", "a", "b", "c"]
    item = _item(p, usual, base, dict(zip(names, effects, strict=False)))
    explained = explanation(item, base)
    total = 100 * usual + sum(s["points"] for s in explained["steps"])
    assert total == pytest.approx(100 * p, abs=1e-9)
    # the model's start is exactly its rate against the usual rate
    start = next(s for s in explained["steps"] if s["kind"] == MODEL_START)
    assert start["points"] == pytest.approx(100 * (1 / (1 + math.exp(-base)) - usual))
    # reasons keep their sign, and carry their points and group
    for reason in item["reasons"]:
        assert reason["effect_points"] * reason["effect_log_odds"] >= 0
    # rounded to 0.1 points: still adds up to the rounded estimate, each within 0.1
    shown = rounded_points(explained)
    assert round(1000 * usual) + round(10 * sum(shown)) == round(1000 * p)
    for step, value in zip(explained["steps"], shown, strict=True):
        assert abs(value - step["points"]) < 0.1 + 0.05 + 1e-9


def test_reasons_a_person_cannot_act_on_are_grouped_apart():
    item = _item(
        0.2,
        0.1,
        -2.0,
        {"log_items_in_letter": 0.3, "objective_findings_documented": 0.2, "age_decades": -0.1},
    )
    explained = explanation(item, -2.0)
    kinds = {s.get("feature"): s["kind"] for s in explained["steps"]}
    assert kinds["log_items_in_letter"] == CASE and kinds["age_decades"] == CASE
    assert kinds["objective_findings_documented"] == DOCUMENTABLE
    assert explained["steps"][0]["kind"] == MODEL_START
    assert explained["steps"][-1]["kind"] == OTHER
    assert [r["can_document"] for r in item["reasons"]] == [False, True, False]


def test_without_a_usual_rate_or_a_linear_model_there_is_no_walk():
    item = _item(0.2, 0.1, -2.0, {})
    assert explanation(item, None) is None
    item.update(baseline_rate=None, baseline_shrunk_rate=None)
    assert explanation(item, -2.0) is None and how_sure(item) is None


@pytest.mark.parametrize(
    ("p", "low", "high", "usual", "items", "code"),
    [
        (0.11, 0.09, 0.12, 0.111, 99, "close"),
        (0.098, 0.078, 0.114, 0.049, 53, "above"),
        (0.05, 0.03, 0.07, 0.2, 40, "below"),
        (0.2, 0.10, 0.25, 0.12, 40, "leans_above"),
        (0.05, 0.02, 0.13, 0.12, 40, "leans_below"),
        (0.11, 0.09, 0.12, 0.111, FEW_ITEMS - 1, "little_data"),
        (0.11, 0.09, 0.12, 0.111, 0, "little_data"),
    ],
)
def test_how_sure_labels(p, low, high, usual, items, code):
    sure = how_sure(_item(p, usual, -2, {}, low=low, high=high, items=items))
    assert sure["code"] == code
    words = {
        "close": "close to the usual rate",
        "above": "above the usual rate",
        "below": "below the usual rate",
        "leans_above": "a little above",
        "leans_below": "a little below",
        "little_data": "little data",
    }
    assert words[code] in sure["label"]
    assert f"{100 * usual:.1f}%" in sure["detail"]


def test_close_means_within_the_stated_points():
    usual = 0.10
    inside = how_sure(_item(usual, usual, -2, {}, low=usual - CLOSE_POINTS / 100 + 1e-6))
    outside = how_sure(_item(usual, usual, -2, {}, low=usual - CLOSE_POINTS / 100 - 1e-3))
    assert inside["code"] == "close" and outside["code"] != "close"


def test_a_scored_item_is_explained_from_its_kind_rate(trained_store):
    from data.drafts.rows import draft_rows
    from models.scoring.score import score_rows

    services = ["MRI of the lumbar spine", "Physical therapy x 8 visits for the lumbar spine"]
    results = score_rows(trained_store.loaded, draft_rows(SUMMARY, services))
    intercept = float(trained_store.loaded.pipeline.steps[-1][1].intercept_[0])
    for item in results:
        explained = item["explanation"]
        assert explained["usual_rate"] == item["baseline_shrunk_rate"]
        total = 100 * explained["usual_rate"] + sum(s["points"] for s in explained["steps"])
        assert total == pytest.approx(100 * item["p_overturned"], abs=1e-9)
        # the walk starts where the model starts: its average training item
        assert explained["model_start_rate"] == pytest.approx(1 / (1 + math.exp(-intercept)))
        assert item["how_sure"]["label"]
        assert all("effect_points" in r and "can_document" in r for r in item["reasons"])


def test_visit_limits_come_from_the_guideline_table():
    for modality, (trial, ceiling, _) in GUIDELINE_CEILINGS.items():
        limit = visit_limit(modality)
        assert (limit.trial, limit.limit) == (trial, ceiling)
        assert limit.source == knowledge().visits[modality]["cite"]
    knee = visit_limit("pt", postsurgical=True, region="knee")
    assert knee.limit == POSTSURGICAL_CEILINGS["knee"] and knee.trial is None
    assert "Postsurgical" in knee.source and "knee" in knee.source
    assert visit_limit(None) is None and visit_limit("mri") is None


def test_the_visit_reason_states_the_numbers_and_the_source():
    trial, ceiling, _ = GUIDELINE_CEILINGS["pt"]
    row = {"case_summary": SUMMARY, "service": "Physical therapy 8 sessions for the lumbar spine"}
    (criterion,) = [c for c in assess(row).criteria if c.code == "quantity_within_guideline"]
    assert criterion.status == NOT_MET
    cite = knowledge().visits["pt"]["cite"]
    expected = f"8 requested + 12 prior > {ceiling} visits ({cite})"
    assert criterion.label.endswith(expected), criterion.label
    first = {"case_summary": "Low back pain for two months.", "service": "Physical therapy x 6"}
    (met,) = [c for c in assess(first).criteria if c.code == "quantity_within_guideline"]
    assert met.label.endswith(f"6 requested ≤ {trial}-visit trial ({cite})")


def test_a_request_past_the_limit_on_its_own_exceeds_it_whatever_came_before():
    _, ceiling, _ = GUIDELINE_CEILINGS["pt"]
    cite = knowledge().visits["pt"]["cite"]
    # prior therapy stated, its number not: the request alone already reaches past the limit
    summary = "Right elbow pain. Treatment to date has included medication and physical therapy."
    over = f"Physical therapy x {ceiling + 2} sessions for the right elbow"
    within = f"Physical therapy x {ceiling - 2} sessions for the right elbow"
    status = {}
    for service in (over, within):
        row = {"case_summary": summary, "service": service}
        (status[service],) = [
            c for c in assess(row).criteria if c.code == "quantity_within_guideline"
        ]
    assert status[over].status == NOT_MET
    expected = f"{ceiling + 2} requested (prior visits not counted) > {ceiling} visits ({cite})"
    assert status[over].label.endswith(expected), status[over].label
    assert status[within].status != NOT_MET  # within it, the uncounted prior visits decide


def test_terminal_evidence_is_cut_at_a_word_never_inside_one():
    evidence = [
        "MRI of the lumbar spine showed a disc protrusion at L4-5 with mild foraminal narrowing",
        "decreased sensation in the left L5 dermatome and a positive straight leg raise test",
    ]
    text = evidence_text(evidence, width=100)
    assert len(text) <= 100 and text.endswith("…")
    words = set(" ".join(evidence).replace("|", " ").split())
    assert all(w in words for w in text.removesuffix("…").replace("|", " ").split())
    assert evidence_text(["short"]) == "short"
