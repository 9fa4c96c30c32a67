"""Guideline criteria of the requested service, read from what the case summary documents.

For each item, :func:`assess` looks up what kind of service is requested
(:mod:`features.services`) and checks the criteria that MTUS/ACOEM/ODG set for that kind
of service, each as ``met`` (documented), ``not_met`` (documented against, or the
guideline's own stance) or ``not_documented``, with the evidence spans it relied on:

===============================  =================================================  =====
criterion                        applies to                                         sign
===============================  =================================================  =====
guideline_recommends             every recognised service (its general stance)      +/-
quantity_within_guideline        therapies with a visit count (MTUS trial/ceiling)  +/-
functional_improvement           continued therapy, continued medication             +/-
failed_conservative_care         imaging, injections, surgery, consultations, FRP    +
objective_findings               imaging, injections, surgery, consultations         +
imaging_supports_request         surgery and injections                              +
no_repeat_imaging                imaging                                             -
with_surgery_request             peri-operative services of a surgery in the letter  +
===============================  =================================================  =====

These are what reviewers cite when they uphold a denial (see :mod:`analysis.rationale_tags`,
which counted them in the training letters' rationales). :data:`FEATURES` turns them into
a few numbers, each with the direction the guideline gives it (:data:`SIGNS`), so that the
model can be constrained to respect it: documenting a criterion never lowers P(Overturned).

Only pre-filing inputs are read: the case summary, the service, the other services of the
same draft (``letter_services``), header dates, age. The text added by a what-if
(:attr:`Criterion.what_if`) is written so that it sets its criterion and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from features import extractors as ex
from features.facts import extract_row
from features.guideline_limits import quantity_text, request_figures, trial_text
from features.services import (
    NOT_RECOMMENDED,
    PERIOPERATIVE,
    SUPPORTED,
    ServiceKind,
    service_kind,
)

MET, NOT_MET, NOT_DOCUMENTED = "met", "not_met", "not_documented"

_ACUTE_DAYS = 90


@dataclass(frozen=True)
class Criterion:
    """One guideline criterion of one requested service, as the summary documents it."""

    code: str
    label: str
    status: str
    evidence: tuple[ex.Span, ...] = ()
    to_document: str = ""
    what_if: str = ""  # a sentence that documents it, when the draft can still add it

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "status": self.status,
            "evidence": [{"start": s, "end": e, "text": t} for s, e, t in self.evidence],
            "to_document": self.to_document,
        }


@dataclass
class Assessment:
    """A service's kind, its criteria and the numbers the model reads."""

    kind: ServiceKind
    criteria: list[Criterion] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)


#: Model inputs, each with the sign the guideline gives it (+1 never lowers P(Overturned),
#: -1 never raises it, 0 free). Everything here is 0 when it does not apply.
SIGNS: dict[str, int] = {
    "guideline_not_recommended": -1,
    "guideline_supported": +1,
    "quantity_exceeds_guideline": -1,
    "initial_trial_within_guideline": +1,
    "functional_improvement_documented": +1,
    "no_improvement_documented": -1,
    "failed_conservative_care_documented": +1,
    "objective_findings_documented": +1,
    "imaging_supports_request": +1,
    "repeat_imaging": -1,
    "perioperative_with_surgery": +1,
    "unrecognised_service": 0,
    "acute_injury": 0,
    "age_decades": 0,
    "n_body_regions": 0,
    "log_items_in_letter": 0,
}
FEATURES: tuple[str, ...] = tuple(SIGNS)

#: What each input means, in the words a reason is shown with.
FEATURE_LABELS: dict[str, str] = {
    "guideline_not_recommended": "the guidelines do not generally recommend this kind of service",
    "guideline_supported": "the guidelines generally support this kind of service",
    "quantity_exceeds_guideline": "more visits than the guideline's number",
    "initial_trial_within_guideline": "an initial trial within the guideline's visit count",
    "functional_improvement_documented": "functional improvement from treatment is documented",
    "no_improvement_documented": "the summary says treatment has not helped",
    "failed_conservative_care_documented": "failed conservative care is documented",
    "objective_findings_documented": "objective findings (neurological deficits, red flags)",
    "imaging_supports_request": "imaging findings support the request",
    "repeat_imaging": "the region has been imaged before",
    "perioperative_with_surgery": "requested together with a surgery",
    "unrecognised_service": "the service was not recognised",
    "acute_injury": "injury within the last 3 months",
    "age_decades": "the worker's age",
    "n_body_regions": "number of body regions involved",
    "log_items_in_letter": "number of services disputed together",
}

#: The model inputs each criterion sets (for evidence next to a reason).
CRITERION_FEATURES: dict[str, tuple[str, ...]] = {
    "guideline_recommends": ("guideline_not_recommended", "guideline_supported"),
    "quantity_within_guideline": ("quantity_exceeds_guideline", "initial_trial_within_guideline"),
    "functional_improvement": ("functional_improvement_documented", "no_improvement_documented"),
    "failed_conservative_care": ("failed_conservative_care_documented",),
    "objective_findings": ("objective_findings_documented",),
    "imaging_supports_request": ("imaging_supports_request",),
    "no_repeat_imaging": ("repeat_imaging",),
    "with_surgery_request": ("perioperative_with_surgery",),
}

_CONTINUING_MEDS = frozenset(
    {"med_opioid", "med_muscle_relaxant", "med_nsaid", "med_neuropathic", "med_antidepressant",
     "med_lidocaine", "med_topical_nsaid", "med_sleep_anxiolytic", "med_ppi", "med_other"}
)  # fmt: skip
_NEEDS_FAILED_CARE = ("imaging_", "injection_", "surgery", "visit_consult", "program_frp")
_NEEDS_FINDINGS = ("imaging_", "injection_epidural", "injection_facet", "surgery", "visit_consult")
_MODALITY = {
    "therapy_pt": "pt",
    "therapy_pt_generic": "pt",
    "postop_therapy": "pt",
    "therapy_chiro": "chiro",
    "therapy_acupuncture": "acupuncture",
    "therapy_psych": "psych",
}


def _with_figures(label: str, figures: str) -> str:
    """A criterion's words with the guideline's figures, when the request states them."""
    return f"{label}: {figures}" if figures else label


def _starts(sub: str, prefixes: tuple[str, ...]) -> bool:
    return any(sub == p or (p.endswith("_") and sub.startswith(p)) for p in prefixes)


def _letter_services(row: Mapping[str, Any], service: str) -> list[str]:
    others = row.get("letter_services")
    if others is None or (isinstance(others, float) and math.isnan(others)):
        return [service]
    return [str(s) for s in others] or [service]


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def assess(row: Mapping[str, Any]) -> Assessment:
    """The criteria of one item's requested service and the model's inputs for it."""
    summary = str(row.get("case_summary") or "")
    service = str(row.get("service") or row.get("item_text") or "")
    kind = service_kind(service)
    facts = extract_row(row)
    sub = kind.subcategory
    out = Assessment(kind)
    v = dict.fromkeys(FEATURES, 0.0)

    def add(code, label, status, evidence=(), to_document="", what_if=""):
        out.criteria.append(Criterion(code, label, status, tuple(evidence), to_document, what_if))

    # The guideline's general stance on this kind of service.
    if not kind.recognised:
        v["unrecognised_service"] = 1.0
    elif kind.stance == NOT_RECOMMENDED:
        v["guideline_not_recommended"] = 1.0
        add(
            "guideline_recommends",
            f"guidelines do not generally recommend a {kind.label}",
            NOT_MET,
            to_document="the specific exception the guideline allows (e.g. failed first-line "
            "treatment, a short time-limited course) and why this case meets it",
        )
    elif kind.stance == SUPPORTED:
        v["guideline_supported"] = 1.0
        add("guideline_recommends", f"guidelines generally support a {kind.label}", MET)

    # Visit counts against the MTUS trial and ceiling.
    modality = _MODALITY.get(sub)
    if modality:
        exceeds = facts["request_exceeds_ceiling"]
        trial = facts["request_exceeds_trial"]
        prior_any = facts[f"prior_{modality}_any"].value
        amount_known = not facts["requested_amount_unknown"].value
        figures = request_figures(facts, service)
        if exceeds.value or (trial.value and prior_any):
            v["quantity_exceeds_guideline"] = 1.0
            add(
                "quantity_within_guideline",
                _with_figures(
                    "visits requested (with prior visits) exceed the guideline's number",
                    quantity_text(*figures) if figures else "",
                ),
                NOT_MET,
                exceeds.evidence or trial.evidence,
                "a smaller request within the guideline's visit count, or why more is needed",
            )
        elif amount_known and not prior_any and not trial.value and sub != "postop_therapy":
            v["initial_trial_within_guideline"] = 1.0
            add(
                "quantity_within_guideline",
                _with_figures(
                    "an initial trial within the guideline's visit count",
                    trial_text(figures[0], figures[2]) if figures else "",
                ),
                MET,
                facts["requested_amount"].evidence,
            )
        elif not amount_known:
            add(
                "quantity_within_guideline",
                "number of visits requested",
                NOT_DOCUMENTED,
                to_document="the number and frequency of visits requested",
            )

    # Functional improvement: continued therapy or medication must show it.
    continuing = (modality and facts[f"prior_{modality}_any"].value) or (
        sub in _CONTINUING_MEDS and _med_in_use(facts, sub)
    )
    if continuing:
        improvement = ex.improvement_status(summary)
        if improvement.value == MET:
            v["functional_improvement_documented"] = 1.0
            add(
                "functional_improvement",
                "functional improvement from the treatment so far",
                MET,
                improvement.evidence,
            )
        elif improvement.value == NOT_MET:
            v["no_improvement_documented"] = 1.0
            add(
                "functional_improvement",
                "functional improvement from the treatment so far",
                NOT_MET,
                improvement.evidence,
                "objective functional gains from the treatment so far (activities, work, "
                "measured pain and function scores)",
            )
        else:
            add(
                "functional_improvement",
                "functional improvement from the treatment so far",
                NOT_DOCUMENTED,
                to_document="objective functional gains from the treatment so far "
                "(activities, work, measured pain and function scores)",
                what_if="The treatment to date has produced objective functional improvement "
                "with increased activity tolerance and decreased medication use.",
            )

    # Failed conservative care before imaging, injections, surgery and referrals.
    if _starts(sub, _NEEDS_FAILED_CARE):
        care = ex.conservative_care_status(summary)
        if care.value == MET:
            v["failed_conservative_care_documented"] = 1.0
            add(
                "failed_conservative_care",
                "conservative care tried and failed",
                MET,
                care.evidence,
            )
        elif care.value == NOT_MET:
            # documented against ("PT has helped", "has not had PT"): no what-if to offer
            add(
                "failed_conservative_care",
                "conservative care tried and failed",
                NOT_MET,
                care.evidence[:3],
                "which conservative treatments were tried, for how long, and that they failed",
            )
        else:
            add(
                "failed_conservative_care",
                "conservative care tried and failed",
                NOT_DOCUMENTED,
                to_document="which conservative treatments were tried, for how long, and "
                "that they failed",
                what_if="Symptoms have persisted despite conservative care.",
            )

    # Objective findings (neurological deficits, red flags) behind diagnostics and procedures.
    if _starts(sub, _NEEDS_FINDINGS):
        found = ex.findings_status(summary)
        if found.value == MET:
            v["objective_findings_documented"] = 1.0
            add(
                "objective_findings",
                "objective findings (neurological deficits, red flags) on examination",
                MET,
                found.evidence[:3],
            )
        elif found.value == NOT_MET:
            # the summary documents their absence ("no red flags were noted"): no what-if
            add(
                "objective_findings",
                "objective findings (neurological deficits, red flags) on examination",
                NOT_MET,
                found.evidence[:3],
                "the examination's objective findings: neurological deficits, positive "
                "provocative tests, red flags",
            )
        else:
            add(
                "objective_findings",
                "objective findings (neurological deficits, red flags) on examination",
                NOT_DOCUMENTED,
                to_document="the examination's objective findings: neurological deficits, "
                "positive provocative tests, red flags",
                what_if="Examination documents objective neurological deficits with "
                "decreased sensation in a dermatomal distribution.",
            )

    # Imaging behind surgery and injections; repeat imaging of a region already imaged.
    if sub == "surgery" or sub.startswith("injection_"):
        results = facts["imaging_results_available"]
        if results.value:
            v["imaging_supports_request"] = 1.0
            add("imaging_supports_request", "imaging findings support it", MET, results.evidence)
        else:
            add(
                "imaging_supports_request",
                "imaging findings support it",
                NOT_DOCUMENTED,
                to_document="the imaging report and the findings that correlate with the request",
                what_if="An MRI showed findings that correlate with the examination.",
            )
    if sub.startswith("imaging_"):
        repeat = facts["request_repeats_prior_imaging"]
        if repeat.value:
            v["repeat_imaging"] = 1.0
            add(
                "no_repeat_imaging",
                "the region has been imaged before",
                NOT_MET,
                repeat.evidence,
                "a significant change in symptoms or findings since the prior study",
            )

    # Peri-operative services follow the surgery requested with them.
    if sub in PERIOPERATIVE or sub in ("postop_therapy",):
        siblings = [service_kind(s).subcategory for s in _letter_services(row, service)]
        if "surgery" in siblings:
            v["perioperative_with_surgery"] = 1.0
            add("with_surgery_request", "requested together with the surgery", MET)

    # Case facts.
    days = facts["chronicity_days"]
    if not facts["chronicity_unknown"].value and days.value <= _ACUTE_DAYS:
        v["acute_injury"] = 1.0
    age = _float(row.get("age"))
    v["age_decades"] = (age - 45.0) / 10.0 if age is not None else 0.0
    v["n_body_regions"] = float(facts["n_body_regions"].value or 0)
    v["log_items_in_letter"] = math.log(len(_letter_services(row, service)))
    out.values = v
    return out


_MED_CLASS_OF = {
    "med_opioid": "opioid",
    "med_muscle_relaxant": "muscle_relaxant",
    "med_nsaid": "nsaid",
    "med_neuropathic": "neuropathic",
    "med_antidepressant": "antidepressant",
    "med_lidocaine": "topical",
    "med_topical_nsaid": "topical",
    "med_sleep_anxiolytic": "sleep_anxiolytic",
    "med_ppi": "ppi",
}


def _med_in_use(facts: Mapping[str, ex.Finding], sub: str) -> bool:
    """A medication request continues a drug of the same class already in use."""
    cls = _MED_CLASS_OF.get(sub)
    if cls is None:
        return bool(facts["n_medication_classes"].value)
    return bool(facts[f"med_{cls}_in_use"].value)
