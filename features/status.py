"""The status functions: how each criterion is read from a draft, by name.

:file:`features/knowledge/criteria.toml` names, for each criterion, the status function
that reads it (``status = "indication"``); a sub-category may name another. Each function
takes the :class:`Item` (the service, its own summary, its kind, its surgery link, its
facts) and the criterion as it applies (:class:`features.knowledge.CriterionUse`, with
its parameters: the evidence set, the first-line classes, the specifics), and returns a
:class:`Status` (``met``, ``not_met`` or ``not_documented``, with evidence) or ``None``
when the criterion does not apply to this item (e.g. functional improvement of a
medication not yet in use).

Three criteria are read from the summary alone by tri-state extractors (value ``"met"``,
``"not_met"`` or ``None`` for not documented): :data:`SUMMARY_STATUS` names them, one line
each, so that a better extractor is wired in by changing that line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from features import extractors as ex
from features.extractors.documented import documented
from features.extractors.request_specifics import request_specifics
from features.facts import extract_row
from features.guideline_limits import quantity_text, request_figures, trial_text
from features.knowledge import CriterionUse, knowledge
from features.lexicon import MEDICATION_CLASSES
from features.services import Link, ServiceKind

MET, NOT_MET, NOT_DOCUMENTED = "met", "not_met", "not_documented"


class Status(NamedTuple):
    """A criterion's status for one item, the evidence, a note (e.g. what is missing) and
    the guideline's figures against the request, when it has them (e.g. ``8 requested + 12
    prior > 10 visits (MTUS Chronic Pain, Physical Medicine)``)."""

    status: str
    evidence: tuple[ex.Span, ...] = ()
    note: str = ""
    figures: str = ""


@dataclass
class Item:
    """One requested service as the status functions see it."""

    row: Mapping[str, Any]
    service: str
    summary: str  # its own summary: other services' what-if sentences blanked out
    kind: ServiceKind
    link: Link
    siblings: tuple[str, ...] = ()
    quantity: Any = None
    extra: dict = field(default_factory=dict)

    @cached_property
    def facts(self) -> dict[str, ex.Finding]:
        return extract_row({**self.row, "case_summary": self.summary})

    @cached_property
    def region(self) -> str | None:
        return ex.request_region(self.service).value

    def in_use(self, drug: str) -> ex.Finding:
        """Is a drug of this class already in use per the summary (a continued drug)?"""
        drugs = knowledge().drugs
        cls = drugs[drug]["in_use"] if drug in drugs else drug
        if cls not in MEDICATION_CLASSES:
            return ex.Finding(False)
        return self.facts[f"med_{cls}_in_use"]


# ------------------------------------------------------- tri-state summary readers
#: Summary -> Finding("met" | "not_met" | None, evidence). One line each: negation before
#: and after the cue, hedges, UR and prior-denial text and statements of absence are read
#: by the extractors (features/extractors/context.py).
SUMMARY_STATUS: dict[str, Callable[[str], ex.Finding]] = {
    "objective_findings": ex.findings_status,
    "functional_improvement": ex.improvement_status,
    "conservative_care": ex.conservative_care_status,
}


def _tri_state(name: str, item: Item, limit: int = 3) -> Status:
    found = SUMMARY_STATUS[name](item.summary)
    status = found.value if found.value in (MET, NOT_MET) else NOT_DOCUMENTED
    return Status(status, tuple(found.evidence[:limit]))


# ------------------------------------------------------------------ status functions
def _stance(item: Item, use: CriterionUse) -> Status | None:
    spec = item.kind.spec
    words = (
        (item.kind.span[0], item.kind.span[1], item.kind.evidence) if item.kind.evidence else None
    )
    evidence = (words,) if words else ()
    if spec.stance == "not_recommended":
        return Status(NOT_MET, evidence)
    if item.region in spec.not_recommended_regions:
        return Status(NOT_MET, evidence, f"not recommended for the {item.region.replace('_', ' ')}")
    if spec.stance == "supported":
        return Status(MET, evidence)
    return None


def _visit_quantity(item: Item, use: CriterionUse) -> Status | None:
    f, modality = item.facts, item.kind.spec.modality
    if not modality:
        return None
    exceeds, trial = f["request_exceeds_ceiling"], f["request_exceeds_trial"]
    prior_any = f[f"prior_{modality}_any"].value
    figures = request_figures(f, item.service)
    if exceeds.value or (trial.value and prior_any):
        text = quantity_text(*figures) if figures else ""
        return Status(NOT_MET, exceeds.evidence or trial.evidence, figures=text)
    known = not f["requested_amount_unknown"].value
    initial = item.kind.spec.perioperative != "always"
    if known and not prior_any and not trial.value and initial:
        text = trial_text(figures[0], figures[2]) if figures else ""
        return Status(MET, f["requested_amount"].evidence, figures=text)
    if known and prior_any and f["request_total_unknown"].value:
        evidence = f[f"prior_{modality}_any"].evidence[:2]
        return Status(NOT_DOCUMENTED, evidence, "the number of visits already done is not stated")
    return None  # unknown amount: request_specified says so; prior within the ceiling


def _device_trial(item: Item, use: CriterionUse) -> Status | None:
    specifics = request_specifics(item.service)
    low = item.service.lower()
    if "rent" in low or "trial" in low:
        return Status(MET, specifics["duration"].evidence)
    if "purchase" in low or "buy" in low:
        trial = documented(item.summary, knowledge().evidence[use.evidence].pattern)
        return Status(MET if trial.value else NOT_DOCUMENTED, trial.evidence[:3])
    return None


def _continuing(item: Item) -> bool:
    spec = item.kind.spec
    if spec.modality:
        return bool(item.facts[f"prior_{spec.modality}_any"].value)
    return bool(spec.drug) and bool(item.in_use(spec.drug).value)


def _functional_improvement(item: Item, use: CriterionUse) -> Status | None:
    if not _continuing(item):
        return None
    return _tri_state("functional_improvement", item)


def _conservative_care(item: Item, use: CriterionUse) -> Status:
    return _tri_state("conservative_care", item)


def _objective_findings(item: Item, use: CriterionUse) -> Status:
    return _tri_state("objective_findings", item)


def _imaging_results(item: Item, use: CriterionUse) -> Status:
    results = item.facts["imaging_results_available"]
    return Status(MET if results.value else NOT_DOCUMENTED, results.evidence[:3])


def _repeat_imaging(item: Item, use: CriterionUse) -> Status | None:
    repeat = item.facts["request_repeats_prior_imaging"]
    return Status(NOT_MET, repeat.evidence) if repeat.value else None


def _opioid_requested(item: Item) -> bool:
    if item.kind.spec.drug == "opioid":
        return True
    return ex.service_medication_class(item.service, "medication").value == "opioid"


def _drug_monitoring(item: Item, use: CriterionUse) -> Status | None:
    if not _opioid_requested(item):
        return None
    evidence = knowledge().evidence
    failed = documented(item.summary, evidence["opioid_monitoring_failed"].pattern)
    if failed.value:
        return Status(NOT_MET, failed.evidence[:3])
    done = documented(item.summary, evidence[use.evidence].pattern)
    return Status(MET if done.value else NOT_DOCUMENTED, done.evidence[:3])


def _short_term_limit(item: Item, use: CriterionUse) -> Status | None:
    drug = item.kind.spec.drug
    limit = knowledge().drugs.get(drug)
    if limit is None:
        return None
    using = item.in_use(drug)
    if using.value:
        return Status(NOT_MET, using.evidence[:3], f"beyond the {limit['weeks']}-week limit")
    return None


def _associated_procedure(item: Item, use: CriterionUse) -> Status | None:
    link = item.link
    if not link.perioperative:
        return None
    if link.in_draft:
        return Status(NOT_DOCUMENTED, link.evidence, "decided with the surgery requested with it")
    if link.status == "certified":
        return Status(MET, link.evidence)
    if link.status == "denied":
        return Status(NOT_MET, link.evidence)
    if link.surgery and link.status in ("performed", "scheduled"):
        return Status(MET, link.evidence)
    return Status(NOT_DOCUMENTED, link.evidence)


def _indication(item: Item, use: CriterionUse) -> Status:
    found = documented(item.summary, knowledge().evidence[use.evidence].pattern)
    return Status(MET if found.value else NOT_DOCUMENTED, found.evidence[:3])


def _first_line(item: Item, use: CriterionUse) -> Status:
    for cls in use.first_line:
        using = item.in_use(cls)
        if using.value:
            return Status(MET, using.evidence[:3])
    found = documented(item.summary, knowledge().evidence[use.evidence].pattern)
    return Status(MET if found.value else NOT_DOCUMENTED, found.evidence[:3])


def _request_specifics(item: Item, use: CriterionUse) -> Status | None:
    found = request_specifics(item.service, item.quantity)
    if found["unspecified"].value:
        return Status(NOT_MET, found["unspecified"].evidence, "the request leaves it unknown")
    if not use.specifics:
        return None
    missing = [s for s in use.specifics if not found[s].value]
    if missing:
        return Status(
            NOT_DOCUMENTED, (), "missing: " + ", ".join(m.replace("_", " ") for m in missing)
        )
    return Status(MET, tuple(sp for s in use.specifics for sp in found[s].evidence[:1]))


#: Status function by name (the ``status`` field of the knowledge tables).
STATUS_FUNCTIONS: dict[str, Callable[[Item, CriterionUse], Status | None]] = {
    "stance": _stance,
    "visit_quantity": _visit_quantity,
    "device_trial": _device_trial,
    "functional_improvement": _functional_improvement,
    "conservative_care": _conservative_care,
    "objective_findings": _objective_findings,
    "imaging_results": _imaging_results,
    "repeat_imaging": _repeat_imaging,
    "drug_monitoring": _drug_monitoring,
    "short_term_limit": _short_term_limit,
    "associated_procedure": _associated_procedure,
    "indication": _indication,
    "first_line": _first_line,
    "request_specifics": _request_specifics,
}
