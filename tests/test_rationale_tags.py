"""Rationale tagger (post-decision analysis): codes, the table, and that no model reads it."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from analysis.rationale_tags import REASON_CODES, citation_shares, reason_table, tag_rationale

ROOT = Path(__file__).resolve().parents[1]


CASES = {
    "quantity_exceeds_guideline": "The request for 12 sessions exceeds the guidelines.",
    "no_functional_improvement": "There is no documentation of functional improvement.",
    "not_recommended": "Compounded topical creams are not recommended by the MTUS.",
    "no_failed_conservative_care": "There was no evidence of failed conservative care.",
    "no_objective_findings": "There is no evidence of any red flag conditions.",
    "repeat_imaging": "A repeat MRI is not indicated without a change in symptoms.",
    "associated_surgery_not_supported": "As the surgery is not medically necessary, neither "
    "is the associated request.",
}


@pytest.mark.parametrize(("code", "rationale"), CASES.items())
def test_each_code_is_found(code, rationale):
    assert code in tag_rationale(rationale)


def test_a_supporting_rationale_has_no_denial_code():
    text = "The requested follow-up visit is appropriate and medically necessary."
    assert tag_rationale(text) == []


def test_table_counts_by_category_and_decision():
    items = pd.DataFrame(
        {
            "service": ["MRI of the lumbar spine", "MRI of the knee", "Norco 10/325mg #60"],
            "decision": ["Upheld", "Upheld", "Overturned"],
            "decision_rationale": [
                "There is no evidence of any red flag conditions.",
                "No red flags were documented and it is not recommended.",
                "Short-term opioids are appropriate here.",
            ],
        }
    )
    table = reason_table(items).set_index(["category", "decision"])
    assert table.loc[("imaging", "Upheld"), "items"] == 2
    assert table.loc[("imaging", "Upheld"), "no_objective_findings"] == 2
    assert table.loc[("imaging", "Upheld"), "not_recommended"] == 1
    assert table.loc[("medication", "Overturned")][list(REASON_CODES)].sum() == 0
    shares = citation_shares(items)
    assert shares["imaging"]["objective_findings"] == 1.0
    assert shares["imaging"]["guideline_recommends"] == 0.5


def test_no_feature_or_model_module_imports_the_rationale_analysis():
    """Rationales are post-decision: only training's artifact writer may read the tags."""
    for package in ("features", "models", "data"):
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
