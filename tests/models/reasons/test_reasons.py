"""Likely denial reasons: the vocabulary, the ranking, what a scored service lists, and how
the ranking does against the sub-category table on the real letters."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from features.criteria import assess
from features.guideline import with_letter_services
from features.reason_vocabulary import (
    CODES,
    VocabularyError,
    criterion_codes,
    listed_only_when_checked,
    reason_code_of,
    vocabulary,
)
from models.reasons.evaluation import cross_validate
from models.reasons.ranking import (
    FALLBACK_CODE,
    LISTED,
    RANKED_CODES,
    Profile,
    ReasonRanking,
    frequency_ranking,
    item_profiles,
    label_counts,
    listed_reasons,
)
from models.scoring.prediction import GUIDELINE_RANKING, NOT_CHECKED, denial_reasons

SUMMARY = (
    "The injured worker is a 52 year old male with chronic low back pain after a lifting "
    "injury in 2014. Treatment to date has included medications."
)


def _draft(services, summary=SUMMARY) -> pd.DataFrame:
    return with_letter_services(
        pd.DataFrame({"case_summary": [summary] * len(services), "service": services})
    )


def _reasons(services, ranking=None, summary=SUMMARY) -> list[list[dict]]:
    frame = _draft(services, summary)
    return [
        denial_reasons(assess(row), row["service"], len(row["letter_services"]), ranking)
        for row in frame.to_dict("records")
    ]


# --- the vocabulary ----------------------------------------------------------------------


def test_the_vocabulary_table_is_the_published_codes():
    table = vocabulary()
    assert tuple(table) == CODES
    assert len(criterion_codes()) == len(CODES) - 1  # every code but `other` has a criterion
    for reason in table.values():
        if reason.code != "other":
            assert reason.label and reason.to_document and reason.source


def test_a_vocabulary_table_with_an_unknown_code_is_refused(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text(
        "code,criterion,label,meaning,to_document,source,listed_when\n"
        "not_recommended,guideline_recommends,a,b,c,d,always\n"
        "made_up,x,a,b,c,d,always\n"
    )
    with pytest.raises(VocabularyError, match=r"row 3: code 'made_up'"):
        vocabulary.__wrapped__(path)


def test_a_vocabulary_row_says_when_it_may_be_listed(tmp_path):
    assert listed_only_when_checked() == {"associated_service_not_needed"}
    path = tmp_path / "v.csv"
    path.write_text(
        "code,criterion,label,meaning,to_document,source,listed_when\n"
        "not_recommended,guideline_recommends,a,b,c,d,sometimes\n"
    )
    with pytest.raises(VocabularyError, match=r"row 2 \(not_recommended\): listed_when"):
        vocabulary.__wrapped__(path)


def test_a_criterion_is_taken_at_its_own_reason_code_when_it_has_one():
    class Criterion:  # as the knowledge tables' criteria will carry it
        code = "some_new_criterion"
        reason_code = "no_monitoring"

    assert reason_code_of(Criterion()) == "no_monitoring"
    (mri,) = [assess({"case_summary": SUMMARY, "service": "MRI of the lumbar spine"})]
    codes = {c.code: reason_code_of(c) for c in mri.criteria}
    assert codes["objective_findings"] == "no_objective_findings"
    assert codes["failed_conservative_care"] == "no_conservative_care_failure"


# --- the ranking -------------------------------------------------------------------------


def _toy(n=40, seed=0):
    """Sub-category A: reviewers give no_indication; B: exceeds_quantity, and
    no_functional_improvement when the draft does not document it."""
    rng = np.random.default_rng(seed)
    profiles, labels, groups = [], [], []
    for i in range(n):
        if i % 2:
            profiles.append(Profile("a", "cat", {}))
            labels.append(["no_indication"])
        else:
            open_ = bool(rng.random() < 0.5)
            status = {"no_functional_improvement": "not_documented" if open_ else "met"}
            profiles.append(Profile("b", "cat", status))
            labels.append(["exceeds_quantity", *(["no_functional_improvement"] if open_ else [])])
        groups.append(f"case{i // 2}")
    return profiles, labels, groups


def test_the_ranking_learns_the_sub_category_and_the_drafts_criteria():
    profiles, labels, groups = _toy()
    ranking = ReasonRanking.fit(profiles, labels, groups)
    assert ranking.learned
    assert ranking.rank(Profile("a", "cat", {}))[0][0] == "no_indication"
    assert ranking.rank(Profile("b", "cat", {}))[0][0] == "exceeds_quantity"
    open_ = ranking.probabilities(
        Profile("b", "cat", {"no_functional_improvement": "not_documented"})
    )
    met = ranking.probabilities(Profile("b", "cat", {"no_functional_improvement": "met"}))
    assert open_["no_functional_improvement"] > met["no_functional_improvement"] + 0.2
    # a sub-category no letter holds falls back to its category
    new = ranking.rank(Profile("never_seen", "cat", {}))
    assert {c for c, _ in new[:2]} == {"no_indication", "exceeds_quantity"}


def test_a_surgery_reason_is_listed_only_for_an_item_that_belongs_to_a_surgery():
    # reviewers of sub-category "c" mostly say the surgery it belongs to is not certified
    profiles = [Profile("c", "cat", {}) for _ in range(30)]
    labels = [["associated_service_not_needed"]] * 20 + [["no_indication"]] * 10
    ranking = ReasonRanking.fit(profiles, labels, [f"case{i}" for i in range(30)])
    assert ranking.rank(Profile("c", "cat", {}))[0][0] == "associated_service_not_needed"
    alone = [c for c, _ in listed_reasons(ranking, Profile("c", "cat", {}))]
    linked = Profile("c", "cat", {"associated_service_not_needed": "not_documented"})
    assert "associated_service_not_needed" not in alone and alone
    assert listed_reasons(ranking, linked)[0][0] == "associated_service_not_needed"


def test_the_ranking_is_plain_json_and_reads_back_the_same():
    profiles, labels, groups = _toy()
    ranking = ReasonRanking.fit(profiles, labels, groups, sources=["gold"] * len(labels))
    text = json.dumps(ranking.to_json())  # numbers, strings, lists only
    again = ReasonRanking.from_json(json.loads(text))
    p = Profile("b", "cat", {"no_functional_improvement": "not_met"})
    assert again.probabilities(p) == pytest.approx(ranking.probabilities(p), abs=1e-12)
    assert again.trained_on == {"gold": 40, "items": 40}
    with pytest.raises(ValueError, match="format"):
        ReasonRanking.from_json({**ranking.to_json(), "format": "something/9"})


def test_overturned_items_and_items_without_a_code_are_not_learned_from():
    profiles, labels, groups = _toy()
    with_overturned = ReasonRanking.fit(
        [*profiles, Profile("a", "cat", {})] * 1, [*labels, []], [*groups, "x"]
    )
    assert with_overturned.trained_on["items"] == len(labels)


def test_with_no_reviewer_codes_the_open_criteria_are_listed_else_the_fallback():
    ranking = ReasonRanking.fit([Profile("a", "cat", {})], [[]], ["g"])
    assert not ranking.learned
    p = Profile("a", "cat", {"no_objective_findings": "not_documented", "not_recommended": "met"})
    assert [c for c, _ in listed_reasons(ranking, p)] == ["no_objective_findings"]
    assert [c for c, _ in listed_reasons(ranking, Profile("a", "cat", {}))] == [FALLBACK_CODE]


def test_the_baseline_is_the_sub_category_frequency_table():
    profiles, labels, _ = _toy()
    counts = label_counts(profiles, labels)
    assert frequency_ranking(counts, Profile("b", "cat", {}))[:2] == [
        "exceeds_quantity",
        "no_functional_improvement",
    ]
    assert set(frequency_ranking(counts, Profile("z", "other", {}))) == set(RANKED_CODES)


def test_grouped_cv_scores_the_listed_reasons_with_intervals():
    profiles, labels, groups = _toy(60)
    table = cross_validate(profiles, labels, groups, n_splits=3, repeats=2).table(boot=50)
    rows = table.set_index(["predictor", "measure"])
    # the toy's first reason is fully determined by the sub-category
    assert rows.loc[("ranking", "first"), "mean"] == 1.0
    assert rows.loc[("baseline_subcategory_frequency", "top3"), "mean"] == 1.0
    assert rows.loc[("ranking", "first"), "cases"] == 30
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()


def test_a_profile_reads_nothing_written_after_the_decision():
    row = {"case_summary": SUMMARY, "service": "MRI of the lumbar spine", "letter_services": ["x"]}
    frame = pd.DataFrame([row, {**row, "decision_rationale": "There are no red flags.",
                                "decision": "Upheld", "imr_guideline": "ACOEM"}])  # fmt: skip
    first, second = item_profiles(frame)
    assert first == second


# --- what a scored service lists ---------------------------------------------------------

SERVICES = [
    "MRI of the lumbar spine",
    "Physical therapy 2 times a week for 6 weeks",
    "Norco 10/325mg #60",
    "Omeprazole 20mg #30",
    "Cyclobenzaprine 7.5mg #60",
    "Lumbar epidural steroid injection",
    "Follow-up visit with the treating physician",
    "Lumbar support brace",
    "Acupuncture 6 sessions",
    "Ketoprofen 20% cream",
    "Urine drug screen",
    "Left knee arthroscopy",
    "Associated surgical service: cold therapy unit",
]


@pytest.mark.parametrize("learned", [False, True], ids=["guideline order", "learned ranking"])
def test_every_recognised_service_lists_reasons_in_the_vocabulary(learned, request):
    ranking = request.getfixturevalue("real_ranking") if learned else None
    frame = _draft(SERVICES)
    for row, reasons in zip(frame.to_dict("records"), _reasons(SERVICES, ranking), strict=True):
        assert assess(row).kind.recognised, row["service"]
        assert reasons, f"no likely denial reason for {row['service']}"
        for reason in reasons:
            assert reason["reason_code"] in CODES
            assert reason["status"] in ("met", "not_met", "not_documented", NOT_CHECKED)
            assert reason["to_document"] and reason["source"] and reason["label"]
            if learned:
                assert 0 <= reason["p_cited"] <= 1
            else:  # an order without letters behind it reports no chance
                assert reason["p_cited"] is None
            if reason["status"] == NOT_CHECKED:
                assert reason["evidence"] == []
        if learned:  # the most likely first
            p = [r["p_cited"] for r in reasons]
            assert p == sorted(p, reverse=True) and len(reasons) >= LISTED


def test_the_guideline_order_lists_what_the_draft_leaves_open():
    (mri,) = _reasons(["MRI of the lumbar spine"], GUIDELINE_RANKING)
    assert {r["reason_code"] for r in mri} == {
        "no_conservative_care_failure",
        "no_objective_findings",
        "no_indication",
    }
    assert all(r["status"] == "not_documented" for r in mri)


@pytest.fixture(scope="module")
def real_ranking(shared_items):
    """The ranking fitted on the real letters, as training fits it (gold labels)."""
    from analysis.reason_labels import reason_labels
    from models.evaluation import case_groups

    items = with_letter_services(shared_items)
    labels, sources = reason_labels(items)
    return ReasonRanking.fit(item_profiles(items), labels, case_groups(items), sources=sources)


OPIOID_REFILL = "Norco 10/325mg #90 refill"
PPI = "Omeprazole 20mg #60"
#: A summary that documents neither opioid monitoring nor a GI risk factor.
PLAIN = (
    "The injured worker is a 48 year old female with chronic neck pain since a 2013 "
    "industrial injury. Medications include Norco and omeprazole. She reports pain 6/10."
)


def test_learned_an_opioid_refill_without_monitoring_lists_no_monitoring(real_ranking):
    (reasons,) = _reasons([OPIOID_REFILL], real_ranking, PLAIN)
    assert "no_monitoring" in [r["reason_code"] for r in reasons[:LISTED]]


def test_learned_a_ppi_without_gi_risk_lists_no_indication_first(real_ranking):
    (reasons,) = _reasons([PPI], real_ranking, PLAIN)
    assert reasons[0]["reason_code"] == "no_indication"


def test_learned_a_follow_up_visit_with_no_surgery_lists_no_surgery_reason(real_ranking):
    (visit,) = _reasons(["Follow-up visit with the treating physician"], real_ranking, PLAIN)
    assert visit and "associated_service_not_needed" not in [r["reason_code"] for r in visit]


def test_guideline_an_opioid_refill_without_monitoring_lists_no_monitoring():
    """With no letters at all, the service's own criteria must name it."""
    (reasons,) = _reasons([OPIOID_REFILL], GUIDELINE_RANKING, PLAIN)
    monitoring = [r for r in reasons if r["reason_code"] == "no_monitoring"]
    assert monitoring and monitoring[0]["status"] in ("not_met", "not_documented")


def test_guideline_a_ppi_without_gi_risk_lists_no_indication():
    (reasons,) = _reasons([PPI], GUIDELINE_RANKING, PLAIN)
    indication = [r for r in reasons if r["reason_code"] == "no_indication"]
    assert indication and indication[0]["status"] in ("not_met", "not_documented")


# --- on the real letters -----------------------------------------------------------------


def test_the_ranking_against_the_sub_category_table_in_grouped_cv(shared_items):
    """The figures in the README (5 folds x 5 repeats, case-grouped): the ranking's first
    reason is the reviewer's in 0.615 of upheld items [0.551, 0.664], one of its first three
    in 0.891 [0.838, 0.930]; the sub-category table 0.599 and 0.882. The ranking is ahead
    on both, by less than its interval (+0.017 [-0.014, +0.050] and +0.009 [-0.014,
    +0.033])."""
    from analysis.reason_labels import reason_labels
    from models.evaluation import case_groups

    items = with_letter_services(shared_items)
    labels, _ = reason_labels(items)
    table = cross_validate(item_profiles(items), labels, case_groups(items)).table()
    rows = table.set_index(["predictor", "measure"])["mean"]
    assert rows[("ranking", "first")] >= rows[("baseline_subcategory_frequency", "first")]
    assert rows[("ranking", "top3")] >= rows[("baseline_subcategory_frequency", "top3")]
    assert rows[("ranking", "first")] >= 0.6
    assert rows[("ranking", "top3")] >= 0.85
    assert table["items"].max() == 273


# --- the training step -------------------------------------------------------------------


def test_the_training_step_on_letters_without_rationale_codes_learns_nothing():
    from models.training import reason_metrics, reasons

    items = with_letter_services(
        pd.DataFrame(
            {
                "letter_id": ["a", "a", "b"],
                "item_index": [0, 1, 0],
                "case_summary": [SUMMARY] * 3,
                "service": ["MRI of the lumbar spine", "Norco 10/325mg #60", "Omeprazole"],
                "decision": ["Upheld", "Overturned", "Upheld"],
                "decision_rationale": ["Synthetic decision drawn with probability 0.1."] * 3,
            }
        )
    )
    result = reasons(items, seed=0, n_splits=2, repeats=1)
    assert not result.ranking.learned
    assert (result.table["items"] == 0).all()
    assert reason_metrics(result) == {}


def test_the_training_step_on_real_letters_logs_and_ships_the_ranking(shared_items):
    from models.training import base_rates, reason_metrics, reasons

    items = with_letter_services(shared_items)
    items = items[items["letter_id"].isin(sorted(set(items["letter_id"]))[:60])]
    result = reasons(items, seed=0, n_splits=3, repeats=1)
    assert result.ranking.learned and result.labels["gold"] > 50
    metrics = reason_metrics(result)
    for predictor in ("ranking", "baseline_subcategory_frequency"):
        for measure in ("first", "top3"):
            assert 0 <= metrics[f"reasons_{predictor}_{measure}_mean"] <= 1
    shipped = json.loads(json.dumps(base_rates(items, result.ranking)))["reason_ranking"]
    p = item_profiles(items.iloc[:1])[0]
    assert ReasonRanking.from_json(shipped).rank(p) == result.ranking.rank(p)
