"""The rationale tagger (post-decision analysis): codes, what it leaves out, its measure."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from analysis.rationale_tags import against_gold, reason_table, tag_rationale, tagged_reasons
from features.reason_vocabulary import CODES

ROOT = Path(__file__).resolve().parents[2]

#: One sentence in a reviewer's words per code (each from the kinds of rationales in the
#: letters), inside a rationale that first quotes the guideline.
CASES = {
    "not_recommended": "Given that the requested cream contains gabapentin, its usage is not "
    "supported.",
    "exceeds_quantity": "The request for 12 sessions exceeds the guideline recommendation.",
    "no_functional_improvement": "There is a lack of documentation of objective functional "
    "improvement with the prior sessions.",
    "no_conservative_care_failure": "There is no documentation that the patient has failed "
    "conservative treatment including physical therapy.",
    "no_first_line_trial": "There was no documentation of a failed trial of antidepressants "
    "or anticonvulsants.",
    "no_objective_findings": "The physical examination did not reveal any neurological deficits.",
    "no_imaging_support": "There is no MRI or electrodiagnostic study supporting a diagnosis "
    "of radiculopathy.",
    "repeat_imaging_no_change": "It is unclear why a repeat MRI is requested.",
    "no_monitoring": "There is no documentation of a recent urine drug screen or a CURES "
    "report for this patient.",
    "associated_service_not_needed": "As the requested surgical intervention is not medically "
    "necessary, the ancillary service is not medically necessary.",
    "no_indication": "There was no clear rationale provided by the physician for the request.",
    "insufficient_documentation": "The request failed to specify the body part and the frequency.",
    "other": "The patient was already approved for these visits.",
}
GUIDELINE = "The California MTUS 2016 Chronic Pain Guidelines recommend this as an option. "


@pytest.mark.parametrize(("code", "sentence"), CASES.items())
def test_each_code_is_found_in_a_reviewers_sentence(code, sentence):
    assert code in tag_rationale(GUIDELINE + sentence)


def test_every_published_code_has_a_case():
    assert set(CASES) == set(CODES)


def test_a_guideline_quoted_is_not_a_reason():
    text = (
        "The ODG states that surface EMG is not recommended. Any compounded product that "
        'contains at least one drug that is not recommended is not recommended. "Repeat MRI '
        'is not routinely recommended." The requested follow-up visit is medically necessary.'
    )
    assert tag_rationale(text) == []


def test_codes_come_in_the_reviewers_order():
    text = (
        "There was no clear rationale provided by the physician for the request. The physical "
        "examination did not reveal any neurological deficits. There is no documentation that "
        "the patient has failed conservative treatment."
    )
    assert tag_rationale(text) == [
        "no_indication",
        "no_objective_findings",
        "no_conservative_care_failure",
    ]


def test_an_overturned_item_has_no_denial_reason():
    items = pd.DataFrame(
        {
            "decision_rationale": [CASES["no_indication"]] * 2,
            "decision": ["Upheld", "Overturned"],
        }
    )
    assert tagged_reasons(items) == [["no_indication"], []]


def test_table_counts_by_category_and_decision():
    items = pd.DataFrame(
        {
            "service": ["MRI of the lumbar spine", "MRI of the knee", "Norco 10/325mg #60"],
            "decision": ["Upheld", "Upheld", "Overturned"],
            "decision_rationale": [
                CASES["no_objective_findings"],
                CASES["no_objective_findings"] + " " + CASES["no_indication"],
                "Short-term opioids are appropriate here.",
            ],
        }
    )
    table = reason_table(items).set_index(["category", "decision"])
    assert table.loc[("imaging", "Upheld"), "items"] == 2
    assert table.loc[("imaging", "Upheld"), "no_objective_findings"] == 2
    assert table.loc[("imaging", "Upheld"), "no_indication"] == 1
    assert table.loc[("medication", "Overturned")][list(CODES)].sum() == 0


def test_tagger_against_the_gold_on_the_real_letters(shared_items):
    """The measure in docs/reasons.md: micro precision 0.87 and recall 0.89 (patterns
    written reading these rationales; a held-out half measured 0.84 / 0.74)."""
    table = against_gold(shared_items).set_index("code")
    assert table.attrs["items"] == 273
    assert table.loc["any", "precision"] >= 0.85
    assert table.loc["any", "recall"] >= 0.85
    assert table.attrs["first_in_gold"] >= 0.85
    # the most frequent codes are each read well
    for code in ("no_indication", "no_objective_findings", "no_conservative_care_failure"):
        assert table.loc[code, "precision"] >= 0.8 and table.loc[code, "recall"] >= 0.8


def test_no_feature_or_model_module_imports_the_rationale_analysis():
    """Rationales are post-decision: only training may pass their labels on, as targets."""
    for package in ("features", "models", "data", "web"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "training.py":
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                assert not any(n.startswith("analysis") for n in names), path
