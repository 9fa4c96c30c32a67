"""Scoring drafts and letters: probability with a band, reasons, and what-if re-scoring.

The uncertainty band is the range of the calibration folds' models: the calibrated
classifier keeps one (classifier, calibrator) pair per letter-grouped calibration fold,
each fitted on a different 80% of the letters; their spread on an item shows how much the
probability depends on which letters trained it. It is not a confidence interval of the
true probability.

The likely denial reasons are the ranking's (:mod:`models.reasons.ranking`, fitted by the
training run and shipped as JSON beside the model): the reason a reviewer is most likely to
give first, each with its ``reason_code`` (the published vocabulary), the status of its
criterion in the draft (``not_met``, ``not_documented``, ``met``, or ``not_checked`` when no
criterion of the service reads it from the draft), the evidence, what to document, the
guideline ``source`` and ``p_cited`` (``None`` when the run's ranking learned from no
reviewer's code). They are separate from ``reasons`` (what moved the probability).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from features.criteria import (
    CRITERION_FEATURES,
    FEATURE_LABELS,
    MET,
    NOT_DOCUMENTED,
    NOT_MET,
    assess_items,
    what_if_text,
    with_criterion_met,
)
from features.extractors.readability import EMPTY, NOT_ENGLISH
from features.guideline import INPUT_COLUMNS, matrix_of, with_letter_services
from features.reason_vocabulary import criterion_of, reason_code_of, vocabulary
from models.importance import TOWARD_OVERTURNED, TOWARD_UPHELD, feature_names
from models.reasons.ranking import ReasonRanking, listed_reasons, profile

TOP_REASONS = 6
#: The status of a likely reason whose criterion no check of the service reads from the draft.
NOT_CHECKED = "not_checked"
#: With no fitted ranking (a model trained before rankings were shipped): the guideline's.
GUIDELINE_RANKING = ReasonRanking.fit([], [], [])


@dataclass
class Scored:
    """One item's probability, band, reasons and what-ifs."""

    service: str
    p_overturned: float
    p_low: float
    p_high: float
    reasons: list[dict] = field(default_factory=list)
    what_if: list[dict] = field(default_factory=list)
    subcategory: str = ""
    recognised: bool = True
    warnings: list[str] = field(default_factory=list)
    denial_reasons: list[dict] = field(default_factory=list)
    criteria: list[dict] = field(default_factory=list)
    perioperative: bool = False
    dwc_request_category: str = ""
    summary_readable: bool = True

    def as_dict(self) -> dict:
        return dict(vars(self))


UNRECOGNISED_WARNING = (
    "unrecognised service: only the overall rate applies; name the treatment as the "
    "provider's request does (e.g. 'MRI of the lumbar spine', 'Physical therapy x 6 visits')"
)
#: A summary the extractors cannot read: every criterion would read "not documented".
UNREADABLE_WARNINGS = {
    NOT_ENGLISH: (
        "the case summary does not read as English: the criteria could not be read from it, "
        "so this estimate rests on the service alone; give the summary in English"
    ),
    EMPTY: (
        "there is no case summary: the criteria could not be read, so this estimate rests "
        "on the service alone; give the summary of the medical records"
    ),
}
NO_CLINICAL_CONTENT_WARNING = (
    "no clinical content was recognised in the case summary (no diagnosis, treatment, body "
    "part or examination): this estimate rests on the service alone; give the summary of "
    "the medical records"
)


def feature_matrix(pipeline, items: pd.DataFrame, assessments=None):
    """The classifier's input for ``items`` (every step before the classifier); from
    their assessments when given (the feature step then assesses nothing again)."""
    if assessments is None:
        return pipeline[:-1].transform(items)
    features = pipeline.steps[0][1]
    matrix = features.transform_assessed(assessments)
    return pipeline[1:-1].transform(matrix) if len(pipeline) > 2 else matrix


def fold_probabilities(pipeline, items: pd.DataFrame, matrix=None) -> np.ndarray:
    """P(Overturned) of each calibration fold's model and of the final fit: (folds + 1, items)."""
    matrix = feature_matrix(pipeline, items) if matrix is None else matrix
    classifier = pipeline.steps[-1][1]
    final = classifier.predict_proba(matrix)[:, 1]
    if not len(classifier.fold_coef_):
        return final[None, :]
    return np.vstack([expit(classifier.fold_decision_function(matrix)), final])


def score(pipeline, items: pd.DataFrame, matrix=None) -> pd.DataFrame:
    """``p_overturned`` (the final fit's) with ``p_low``/``p_high``: the range of the
    calibration folds' models and the final fit."""
    matrix = feature_matrix(pipeline, items) if matrix is None else matrix
    folds = fold_probabilities(pipeline, items, matrix)
    return pd.DataFrame(
        {"p_overturned": folds[-1], "p_low": folds.min(axis=0), "p_high": folds.max(axis=0)},
        index=items.index,
    )


def contributions(pipeline, items: pd.DataFrame, matrix=None) -> pd.DataFrame:
    """Per-feature contributions to each item's calibrated log-odds.

    They add up exactly to the item's log-odds minus the average training item's (the
    intercept: the scaler centres every feature).
    """
    coef = pipeline.steps[-1][1].coef_[0]
    matrix = feature_matrix(pipeline, items) if matrix is None else matrix
    values = np.asarray(matrix) * coef
    return pd.DataFrame(values, columns=feature_names(pipeline), index=items.index)


def _guideline_reasons(row_contrib: pd.Series, row_values: pd.Series, criteria: list) -> list:
    """Readable reasons from the guideline model's contributions, with their evidence.

    Only what the item has is a reason (a criterion that applies, a case fact); the
    contributions of absent criteria (the item against the average training item) are
    still in the sum, not in the list.
    """
    by_feature = {}
    for c in criteria:
        for feature in CRITERION_FEATURES.get(c.code, ()):
            by_feature.setdefault(feature, c)
    # plain Python over the row (pandas per row cost a batch of 3,000 items seconds)
    values = dict(zip(row_values.index, row_values.to_numpy(), strict=True))
    nonzero = [
        (name, float(value))
        for name, value in zip(row_contrib.index, row_contrib.to_numpy(), strict=True)
        if abs(value) > 1e-6 and values.get(name, 0) != 0
    ]
    top = sorted(nonzero, key=lambda pair: -abs(pair[1]))[:TOP_REASONS]
    reasons = []
    for name, value in top:
        crit = by_feature.get(name)
        reasons.append(
            {
                "feature": name,
                "reason": FEATURE_LABELS.get(name, name.replace("_", " ")),
                "effect_log_odds": float(value),
                "direction": TOWARD_OVERTURNED if value > 0 else TOWARD_UPHELD,
                "evidence": [e["text"] for e in crit.as_dict()["evidence"][:3]] if crit else [],
            }
        )
    return reasons


def denial_reasons(
    assessment, service: str = "", n_services: int = 1, ranking: ReasonRanking | None = None
) -> list[dict]:
    """The likely denial reasons of one service, the one the reviewer is most likely to give
    first (:func:`models.reasons.ranking.listed_reasons`).

    Each: ``reason_code``, ``code`` (the criterion's id), ``label`` and ``criterion`` (its
    words), ``status``, ``evidence`` (spans of the summary), ``to_document``, ``source`` (the
    criterion's own, else the vocabulary's), ``p_cited`` (P(the reviewer cites it | the
    denial is upheld); ``None`` for a ranking that learned from no reviewer's code);
    ``cited_in_upheld_share`` repeats ``p_cited`` for the pages that show it."""
    ranking = ranking or GUIDELINE_RANKING
    by_code: dict[str, object] = {}
    order = {NOT_MET: 0, NOT_DOCUMENTED: 1, MET: 2}
    for c in sorted(assessment.criteria, key=lambda c: order.get(c.status, 3)):
        code = reason_code_of(c)
        if code is not None:
            by_code.setdefault(code, c)  # the one speaking most against it
    words = vocabulary()
    out = []
    for code, p in listed_reasons(ranking, profile(assessment, service, n_services)):
        c, entry = by_code.get(code), words[code]
        if c is not None:
            item = c.as_dict()
            item["criterion"] = c.label
            item["to_document"] = c.to_document or entry.to_document
            item["source"] = getattr(c, "source", "") or entry.source
        else:
            item = {
                "code": criterion_of(code),
                "label": entry.label,
                "criterion": entry.label,
                "status": NOT_CHECKED,
                "evidence": [],
                "to_document": entry.to_document,
                "source": entry.source,
            }
        # a ranking that learned nothing has no chance to report, only an order
        share = round(p, 4) if ranking.learned else None
        item.update(reason_code=code, p_cited=share, cited_in_upheld_share=share)
        out.append(item)
    return out


def _guideline_what_if(pipeline, items: pd.DataFrame, base: np.ndarray, assessments):
    """Each criterion a service does not document, added as its sentence, and the re-score.

    Only criteria the draft does not document are offered. The sentence is added for its
    own service (:func:`features.criteria.what_if_text`), so it sets that service's
    criterion and nothing else; the re-score reuses the item's assessment with that
    criterion met (the tests check it equals re-scoring the summary with the sentence
    added), and the model's sign constraints make the change >= 0.
    """
    names = pipeline.steps[0][1].names_
    modified, owners = [], []
    for position, assessment in enumerate(assessments):
        for c in assessment.criteria:
            if c.status != NOT_DOCUMENTED or not c.what_if:
                continue
            modified.append(with_criterion_met(assessment, c.code))
            owners.append((position, c))
    rows: list[list[dict]] = [[] for _ in range(len(items))]
    if modified:
        matrix = matrix_of(modified, names)
        if len(pipeline) > 2:
            matrix = pipeline[1:-1].transform(matrix)
        p = pipeline.steps[-1][1].predict_proba(matrix)[:, 1]
        services = items["service"].astype(str).tolist()
        for (position, c), value in zip(owners, p, strict=True):
            rows[position].append(
                {
                    "fact": c.label,
                    "criterion": c.code,
                    "reason_code": c.reason_code,
                    "added_text": what_if_text(services[position], c.what_if),
                    "p_overturned": float(value),
                    "change": float(value - base[position]),
                }
            )
    return [sorted(changes, key=lambda c: -c["change"]) for changes in rows]


def _warnings(assessment) -> list[str]:
    out = []
    if not assessment.kind.recognised:
        out.append(UNRECOGNISED_WARNING)
    if not assessment.readable:
        out.append(
            UNREADABLE_WARNINGS.get(assessment.readability.value, NO_CLINICAL_CONTENT_WARNING)
        )
    return out


def explain_items(
    pipeline,
    items: pd.DataFrame,
    *,
    with_what_if: bool = True,
    ranking: ReasonRanking | None = None,
) -> list[Scored]:
    """Score items and attach reasons, likely denial reasons (ranked by ``ranking``; the
    guideline's order without one) and what-ifs.

    One pass: the draft's services are linked once (``letter_services``, when the caller
    has not already), each item is assessed once, and that assessment gives the model's
    numbers, the reasons, the denial reasons and the what-ifs.
    """
    if "letter_services" not in items or not items["letter_services"].map(_is_list).all():
        items = with_letter_services(items)
    assessments = assess_items(items.to_dict("records"))
    matrix = feature_matrix(pipeline, items, assessments)
    scores = score(pipeline, items, matrix)
    contrib = contributions(pipeline, items, matrix)
    base = scores["p_overturned"].to_numpy()
    changes = _guideline_what_if(pipeline, items, base, assessments) if with_what_if else None
    out = []
    columns = list(contrib.columns)
    for position, (index, row) in enumerate(items.iterrows()):
        assessment = assessments[position]
        values = pd.Series([assessment.values.get(c, 0.0) for c in columns], index=columns)
        scored = Scored(
            service=str(row.get("service", "")),
            p_overturned=float(scores.at[index, "p_overturned"]),
            p_low=float(scores.at[index, "p_low"]),
            p_high=float(scores.at[index, "p_high"]),
            reasons=_guideline_reasons(contrib.iloc[position], values, assessment.criteria),
            what_if=changes[position] if changes else [],
            subcategory=assessment.kind.subcategory,
            recognised=assessment.kind.recognised,
            denial_reasons=denial_reasons(
                assessment,
                str(row.get("service", "")),
                len(row["letter_services"]) if isinstance(row.get("letter_services"), list) else 1,
                ranking,
            ),
            criteria=[c.as_dict() for c in assessment.criteria if c.status == MET],
            perioperative=assessment.perioperative,
            dwc_request_category=assessment.dwc,
            summary_readable=assessment.readable,
            warnings=_warnings(assessment),
        )
        out.append(scored)
    return out


def _is_list(value) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def score_assessed(pipeline, items: pd.DataFrame) -> list[dict]:
    """Probability, band, kind, surgery link and warnings of each item: no reasons, no
    what-ifs (the batch path). Each item is assessed once, as in :func:`explain_items`."""
    assessments = assess_items(items.to_dict("records"))
    table = score(pipeline, items, feature_matrix(pipeline, items, assessments))
    out = []
    for position, assessment in enumerate(assessments):
        out.append(
            {
                "service": str(items["service"].iloc[position]),
                **{k: float(v) for k, v in table.iloc[position].items()},
                "subcategory": assessment.kind.subcategory,
                "recognised": assessment.kind.recognised,
                "perioperative": assessment.perioperative,
                "dwc_request_category": assessment.dwc,
                "summary_readable": assessment.readable,
                "warnings": _warnings(assessment),
            }
        )
    return out


def pre_filing_frame(rows: list[dict]) -> pd.DataFrame:
    """A frame of the pre-filing columns (missing ones empty), one row per item.

    Each row also gets ``letter_services``, the services requested with it: the rows of
    one letter file, or of one case summary.
    """
    frame = pd.DataFrame(rows)
    for column in INPUT_COLUMNS:
        if column not in frame:
            frame[column] = None
    return with_letter_services(frame.loc[:, list(INPUT_COLUMNS)], rows)
