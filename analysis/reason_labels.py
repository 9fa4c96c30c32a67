"""The denial-reason codes each training item is labelled with: the gold, else the tagger.

POST-DECISION: the labels come from the reviewers' rationales. They are the reason
ranking's training targets and its evaluation's truth (``models/training.py`` passes them
on), never model inputs.
"""

from __future__ import annotations

import pandas as pd

from analysis.rationale_gold import gold_reasons
from analysis.rationale_tags import tag_rationale

GOLD, TAGGER, NONE = "gold", "tagger", "none"


def reason_labels(items: pd.DataFrame) -> tuple[list[list[str]], list[str]]:
    """``(labels, sources)`` per item: the hand-checked gold's codes where the item is in
    it, else the tagger's; ``[]`` for an overturned item (no denial reason). ``sources``
    says which (``gold``, ``tagger`` or ``none`` for overturned items)."""
    labels, sources = [], []
    gold = gold_reasons(items)
    rationales = (
        items["decision_rationale"] if "decision_rationale" in items else [None] * len(items)
    )
    for codes, decision, rationale in zip(gold, items["decision"], rationales, strict=True):
        if decision != "Upheld":
            labels.append([])
            sources.append(NONE)
        elif codes is not None:
            labels.append(list(codes))
            sources.append(GOLD)
        else:
            labels.append(tag_rationale(rationale))
            sources.append(TAGGER)
    return labels, sources
