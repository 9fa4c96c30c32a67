"""No leakage through the shipped model: what is known only after the decision changes nothing.

The champion of ``trained_store`` (conftest: the shipped recipe, trained on the real letters
when present, else on synthetic ones) scores the very items it was trained on, with their
post-decision columns (``settings.POST_DECISION_COLUMNS`` and ``decision_date``) as the
letters give them, changed to other items' values, emptied, and removed. The frames go to
the pipeline itself, not through :func:`models.scoring.prediction.pre_filing_frame` (which
drops those columns before any model sees them), so the model's own steps are what is
tested: the probabilities, bands, contributions, likely denial reasons, reasons and
what-ifs must be identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.guideline import with_letter_services
from models.scoring.prediction import contributions, explain_items, score
from models.scoring.score import reason_ranking
from settings import NEGATIVE_LABEL, POSITIVE_LABEL, POST_DECISION_COLUMNS, PRE_FILING_COLUMNS

POST_DECISION = [*POST_DECISION_COLUMNS, "decision_date"]


@pytest.fixture(scope="module")
def items(trained_store) -> pd.DataFrame:
    """The champion's training items, each with the services of its letter."""
    return with_letter_services(trained_store.items())


#: Values a post-decision column may take instead (when another letter's is the same).
OTHER_VALUES = {
    "imr_guideline": (
        "Decision based on ODG, Low Back Chapter.",
        "Decision based on MTUS Chronic Pain Medical Treatment Guidelines.",
    ),
    "imr_guideline_families": (["ODG"], ["MTUS", "ACOEM"]),
    "decision_rationale": (
        "Medically necessary: conservative care failed and the MRI showed a tear.",
        "Not medically necessary: no objective findings are documented.",
    ),
    "reviewer_licensure": ("Nevada", "California"),
    "reviewer_specialty": ("Psychology", "Orthopedic Surgery"),
    "decision_date": ("2016-05-01", "2019-01-01"),
}


def _changed(items: pd.DataFrame) -> pd.DataFrame:
    """Every decision flipped; every other post-decision column of every item changed: to
    another letter's value (rolled by half the items), else to one of :data:`OTHER_VALUES`."""
    out = items.copy()
    out["decision"] = np.where(items["decision"] == POSITIVE_LABEL, NEGATIVE_LABEL, POSITIVE_LABEL)
    shift = len(items) // 2
    for column, others in OTHER_VALUES.items():
        values = items[column].to_numpy(dtype=object)
        rolled = np.roll(values, shift)
        out[column] = [
            next(v for v in (r, *others) if str(v) != str(old))
            for old, r in zip(values, rolled, strict=True)
        ]
    return out


def _outputs(trained_store, frame: pd.DataFrame) -> tuple:
    pipeline = trained_store.loaded.pipeline
    ranking = reason_ranking(trained_store.loaded.baseline)
    explained = [s.as_dict() for s in explain_items(pipeline, frame, ranking=ranking)]
    return score(pipeline, frame), contributions(pipeline, frame), explained


def test_the_pre_filing_and_post_decision_columns_are_apart():
    assert not set(PRE_FILING_COLUMNS) & set(POST_DECISION)


def test_post_decision_columns_change_nothing_the_shipped_model_gives(trained_store, items):
    assert set(POST_DECISION) <= set(items.columns)
    changed = _changed(items)
    assert set(OTHER_VALUES) | {"decision"} == set(POST_DECISION)
    for column in POST_DECISION:  # the check is not vacuous: every value differs
        assert (changed[column].astype(str) != items[column].astype(str)).all(), column
    emptied = items.assign(**dict.fromkeys(POST_DECISION))
    dropped = items.drop(columns=POST_DECISION)

    p, contrib, explained = _outputs(trained_store, items)
    assert p["p_low"].lt(p["p_high"]).any()  # bands, not points
    assert any(e["denial_reasons"] for e in explained) and any(e["what_if"] for e in explained)
    for frame in (changed, emptied, dropped):
        p_other, contrib_other, explained_other = _outputs(trained_store, frame)
        pd.testing.assert_frame_equal(p_other, p, check_exact=True)
        pd.testing.assert_frame_equal(contrib_other, contrib, check_exact=True)
        assert explained_other == explained
