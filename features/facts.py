"""The facts of one IMR item that the guideline criteria read, each with its evidence.

:func:`extract_row` reads only :data:`settings.PRE_FILING_COLUMNS` (the case summary, the
service and its UR handling, header dates before filing, age, sex, the claims
administrator's guideline). Post-decision columns (decision, IMR guideline, rationale,
reviewer) are never read, so adding or changing them cannot change a fact.

Every fact is a :class:`features.extractors.Finding`: a number (counts and days 0 when
unknown, with an explicit ``*_unknown`` fact) and the text spans it came from.
Extraction of the case summary is cached per distinct summary text (items of one letter
share it); :func:`features.clear_caches` empties the caches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from features import extractors as ex
from features.lexicon import BODY_REGIONS, IMAGING_MODALITIES, MEDICATION_CLASSES
from features.services import categories, service_kind
from settings import PRE_FILING_COLUMNS

WORK_STATUSES = ("not_working", "modified", "working", "unknown")
REQUEST_REGIONS = (*BODY_REGIONS, "multiple", "unknown")
SEXES = ("male", "female", "unknown")
RANGE_POLICIES = ("upper", "midpoint")


def _feature_names() -> tuple[str, ...]:
    names: list[str] = []
    for m in ex.THERAPY_MODALITIES:
        names += [f"prior_{m}_sessions", f"prior_{m}_unknown_count", f"prior_{m}_any"]
    names += ["prior_total_sessions", "prior_total_unknown"]
    names += [
        "requested_amount",
        "requested_amount_unknown",
        "requested_amount_is_range",
        "request_adds_to_prior",
        "request_total_sessions",
        "request_total_unknown",
        "request_exceeds_trial",
        "request_exceeds_ceiling",
        "request_is_postsurgical",
    ]
    names += ["documented_failure", "benefit_improvement", "benefit_no_improvement"]
    names += [f"imaging_{m}_performed" for m in IMAGING_MODALITIES]
    names += [
        "imaging_any_performed",
        "imaging_results_available",
        "imaging_report_unavailable",
        "request_repeats_prior_imaging",
    ]
    names += ["chronicity_days", "chronicity_log_days", "chronicity_unknown"]
    names += ["n_body_regions", "n_diagnoses", "n_diagnoses_unknown"]
    names += [f"request_region__{r}" for r in REQUEST_REGIONS]
    names += [f"work_status__{w}" for w in WORK_STATUSES]
    names += [f"med_{c}_in_use" for c in MEDICATION_CLASSES] + ["n_medication_classes"]
    names += ["surgery_history", "psych_comorbidity"]
    names += [f"service_cat__{c}" for c in categories()]
    names += [f"request_med_class__{c}" for c in ex.SERVICE_MED_CLASSES] + [
        "request_med_class__none"
    ]
    names += [f"ca_family__{f}" for f in ex.CA_FAMILIES]
    names += ["ur_modified", "retrospective", "age", "age_unknown"]
    names += [f"sex__{s}" for s in SEXES]
    return tuple(names)


#: Output columns, in order.
FEATURE_NAMES = _feature_names()


def _clean(value: Any) -> Any:
    """None for missing values (None, NaN, NaT, empty string)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


@lru_cache(maxsize=4096)
def _summary_findings(summary: str) -> dict[str, Any]:
    """Everything extracted from one case summary (shared by the items of a letter)."""
    prior = ex.prior_therapy(summary)
    return {
        "prior": prior,
        "prior_total": ex.prior_total(prior),
        "failure": ex.documented_failure(summary),
        "benefit": ex.documented_benefit(summary),
        "studies": ex.imaging_studies(summary),
        "regions": ex.body_regions(summary),
        "diagnoses": ex.diagnosis_count(summary),
        "work": ex.work_status(summary),
        "meds": ex.medication_classes(summary),
        "surgery": ex.surgery_history(summary),
        "psych": ex.psych_comorbidity(summary),
    }


def _flag(value: bool, evidence: Iterable = ()) -> ex.Finding:
    return ex.Finding(1.0 if value else 0.0, tuple(evidence))


@lru_cache(maxsize=4096)
def _summary_features(summary: str) -> dict[str, ex.Finding]:
    """The features that depend on the case summary alone (cached per summary text)."""
    sf = _summary_findings(summary)
    out: dict[str, ex.Finding] = {}
    prior = sf["prior"]
    for m in ex.THERAPY_MODALITIES:
        f = prior[m]
        count = float(f.value) if isinstance(f.value, int) else 0.0
        out[f"prior_{m}_sessions"] = ex.Finding(count, f.evidence)
        out[f"prior_{m}_unknown_count"] = _flag(f.value == "unknown", f.evidence)
        out[f"prior_{m}_any"] = _flag(f.value != 0, f.evidence)
    pt = sf["prior_total"]
    out["prior_total_sessions"] = ex.Finding(float(pt.value), pt.evidence, pt.note)
    out["prior_total_unknown"] = _flag(bool(pt.note), pt.evidence)

    benefit = sf["benefit"]
    out["documented_failure"] = _flag(sf["failure"].value, sf["failure"].evidence)
    out["benefit_improvement"] = _flag(benefit.value in ("improvement", "both"), benefit.evidence)
    out["benefit_no_improvement"] = _flag(
        benefit.value in ("no_improvement", "both"), benefit.evidence
    )

    studies = sf["studies"]
    for m in IMAGING_MODALITIES:
        out[f"imaging_{m}_performed"] = _flag(studies[m].value, studies[m].evidence)
    any_ev = [sp for m in IMAGING_MODALITIES for sp in studies[m].evidence]
    out["imaging_any_performed"] = _flag(bool(any_ev), any_ev)
    for key in ("results_available", "report_unavailable"):
        out[f"imaging_{key}"] = _flag(studies[key].value, studies[key].evidence)
    out["n_body_regions"] = ex.Finding(float(len(sf["regions"].value)), sf["regions"].evidence)
    dx = sf["diagnoses"]
    out["n_diagnoses"] = ex.Finding(float(dx.value or 0), dx.evidence)
    out["n_diagnoses_unknown"] = _flag(dx.value is None)
    for w in WORK_STATUSES:
        out[f"work_status__{w}"] = _flag(sf["work"].value == w, sf["work"].evidence)
    meds = sf["meds"]
    for c in MEDICATION_CLASSES:
        out[f"med_{c}_in_use"] = _flag(meds[c].value, meds[c].evidence)
    out["n_medication_classes"] = ex.Finding(float(sum(bool(meds[c].value) for c in meds)))
    out["surgery_history"] = _flag(sf["surgery"].value, sf["surgery"].evidence)
    out["psych_comorbidity"] = _flag(sf["psych"].value, sf["psych"].evidence)

    return out


#: Features computed from the summary alone, and the rest (item, header, UR fields).
SUMMARY_FEATURE_NAMES = tuple(n for n in FEATURE_NAMES if n in _summary_features(""))
ITEM_FEATURE_NAMES = tuple(n for n in FEATURE_NAMES if n not in SUMMARY_FEATURE_NAMES)
_SUMMARY_IDX = np.array([FEATURE_NAMES.index(n) for n in SUMMARY_FEATURE_NAMES])
_ITEM_IDX = np.array([FEATURE_NAMES.index(n) for n in ITEM_FEATURE_NAMES])


#: Room for every summary of a 100k-item dataset (~52k letters), so that the folds of a
#: cross-validation after the first reuse the extraction (~1 KB an entry; the keys are the
#: dataset's own strings). The richer per-summary caches above stay small.
_SUMMARY_VECTOR_CACHE = 1 << 16


@lru_cache(maxsize=_SUMMARY_VECTOR_CACHE)
def _summary_vector(summary: str) -> np.ndarray:
    feats = _summary_features(summary)
    vector = np.array([feats[n].value for n in SUMMARY_FEATURE_NAMES], dtype=np.float64)
    vector.flags.writeable = False
    return vector


def _item_features(
    get: Mapping[str, Any], summary: str, range_policy: str
) -> dict[str, ex.Finding]:
    """Features of the item itself (service, UR handling, header fields)."""
    service = str(get["service"] or get["item_text"] or "")
    sf = _summary_findings(summary)
    prior = sf["prior"]
    studies = sf["studies"]
    out: dict[str, ex.Finding] = {}
    kind = service_kind(service)
    category = ex.Finding(kind.category, ((*kind.span, kind.evidence),) if kind.evidence else ())
    region = ex.request_region(service)
    partial = ex.ur_modified(get["partial_authorization"], get["authorized_portion"])
    amount = ex.requested_amount(service, get["quantity"], range_policy)
    modality = ex.request_modality(service, category.value)
    # A partial authorization's course is the original request (authorized + disputed).
    course_text = get["original_request"] if partial.value and get["original_request"] else service
    course = ex.requested_amount(str(course_text), None, range_policy)
    if course.value is None:
        course = amount
    adds = ex.adds_to_prior(service, modality, prior)
    cmp_ = ex.guideline_comparison(modality, prior, course, service, region.value)
    out["requested_amount"] = ex.Finding(amount.value or 0.0, amount.evidence, amount.note)
    out["requested_amount_unknown"] = _flag(amount.value is None)
    out["requested_amount_is_range"] = _flag("range" in amount.note, amount.evidence)
    out["request_adds_to_prior"] = _flag(adds.value, adds.evidence)
    total = cmp_["total"]
    out["request_total_sessions"] = ex.Finding(
        float(total.value or 0.0), total.evidence, total.note
    )
    out["request_total_unknown"] = _flag(modality is not None and total.value is None)
    out["request_exceeds_trial"] = _flag(
        cmp_["exceeds_trial"].value, cmp_["exceeds_trial"].evidence
    )
    out["request_exceeds_ceiling"] = _flag(
        cmp_["exceeds_ceiling"].value, cmp_["exceeds_ceiling"].evidence
    )
    out["request_is_postsurgical"] = _flag(cmp_["postsurgical"].value)

    rep = ex.repeat_imaging(service, category.value, summary, studies, region.value)
    out["request_repeats_prior_imaging"] = _flag(rep.value, rep.evidence)

    reference = get["ur_denial_date"] or get["application_received_date"] or get["date_assigned"]
    days = ex.chronicity_days(get["injury_date"], reference)
    out["chronicity_days"] = ex.Finding(float(days.value or 0), days.evidence, days.note)
    out["chronicity_log_days"] = ex.Finding(math.log1p(days.value or 0), (), days.note)
    out["chronicity_unknown"] = _flag(days.value is None)

    region_value = region.value or "unknown"
    for r in REQUEST_REGIONS:
        out[f"request_region__{r}"] = _flag(region_value == r, region.evidence)
    for c in categories():
        out[f"service_cat__{c}"] = _flag(category.value == c, category.evidence)
    med = ex.service_medication_class(service, category.value)
    for c in (*ex.SERVICE_MED_CLASSES, "none"):
        out[f"request_med_class__{c}"] = _flag((med.value or "none") == c, med.evidence)

    families = get["claims_admin_families"]
    fams = ex.ca_guideline_families(
        None if families is None else list(families), get["claims_admin_guideline"]
    )
    for f in ex.CA_FAMILIES:
        out[f"ca_family__{f}"] = _flag(f in fams.value, fams.evidence)
    out["ur_modified"] = _flag(partial.value, partial.evidence)
    out["retrospective"] = _flag(bool(get["retrospective"]))
    age = get["age"]
    try:
        age = float(age) if age is not None else None
    except (TypeError, ValueError):
        age = None
    out["age"] = ex.Finding(age or 0.0)
    out["age_unknown"] = _flag(age is None)
    sex = str(get["sex"]).lower() if get["sex"] else "unknown"
    for s in SEXES:
        out[f"sex__{s}"] = _flag(sex == s if sex in SEXES else s == "unknown")
    return out


def _inputs(row: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    get = {c: _clean(row.get(c)) for c in PRE_FILING_COLUMNS}
    return get, str(get["case_summary"] or "")


def extract_row(row: Mapping[str, Any], range_policy: str = "upper") -> dict[str, ex.Finding]:
    """Every feature of one item as ``{name: Finding(number, evidence)}``, in FEATURE_NAMES."""
    get, summary = _inputs(row)
    feats = {**_summary_features(summary), **_item_features(get, summary, range_policy)}
    return {name: feats[name] for name in FEATURE_NAMES}
