"""Guideline criteria of the requested service, read from what the draft documents.

:func:`assess` looks up what kind of service is requested (:mod:`features.services`, from
the one taxonomy of :mod:`features.knowledge`), whether it belongs to a surgery, and
checks each criterion its sub-category lists, with the status function the tables name
(:mod:`features.status`): ``met`` (documented), ``not_met`` (documented against, or the
guideline's own stance) or ``not_documented``, with the evidence it relied on, what to
document, the reason code a reviewer would give and the guideline's citation.

:data:`FEATURES` turns the statuses into a few numbers, each with the sign the guideline
gives it (:data:`SIGNS`): the criteria's inputs come from :file:`criteria.toml`
(``met_feature`` +1, ``not_met_feature`` -1), then the case facts. The model is
constrained to respect the signs: documenting a criterion never lowers P(Overturned).

Only pre-filing inputs are read: the case summary, the service, the other services of the
same draft (``letter_services``), header dates, age.

What-ifs change only their own service. A what-if sentence is added to the summary as
``Regarding the requested <service>: <sentence>`` (:func:`what_if_text`); that addendum is
read for its own service only (:func:`own_summary`) and blanked for the other services of
the draft, so ticking one service's what-if never changes another service's criteria.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from features import extractors as ex
from features.extractors.readability import READABLE, summary_readability
from features.knowledge import KnowledgeError, knowledge, source_text
from features.services import NO_LINK, Link, ServiceKind, link, service_kind
from features.status import MET, NOT_DOCUMENTED, NOT_MET, STATUS_FUNCTIONS, Item

__all__ = [
    "CRITERION_FEATURES",
    "FEATURES",
    "FEATURE_LABELS",
    "MET",
    "NOT_DOCUMENTED",
    "NOT_MET",
    "SIGNS",
    "Assessment",
    "Criterion",
    "assess",
    "assess_items",
    "own_summary",
    "what_if_text",
]

_ACUTE_DAYS = 90

#: The case facts the model reads beside the criteria (sign 0: free, except the link).
_CASE_FACTS: dict[str, int] = {
    "perioperative_with_surgery": +1,
    "unrecognised_service": 0,
    "acute_injury": 0,
    "age_decades": 0,
    "n_body_regions": 0,
    "log_items_in_letter": 0,
}

#: Model inputs, each with the sign the guideline gives it (+1 never lowers P(Overturned),
#: -1 never raises it, 0 free). Everything here is 0 when it does not apply.
SIGNS: dict[str, int] = {**knowledge().features(), **_CASE_FACTS}
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
    "first_line_documented": "first-line treatment was tried first",
    "objective_findings_documented": "objective findings (neurological deficits, red flags)",
    "imaging_supports_request": "imaging findings support the request",
    "repeat_imaging": "the region has been imaged before",
    "drug_monitoring_documented": "drug monitoring is documented",
    "drug_monitoring_not_met": (
        "the drug is continued beyond its limit or its monitoring went against it"
    ),
    "associated_procedure_certified": "the surgery it belongs to is certified",
    "indication_documented": "a documented indication for the request",
    "request_unspecified": "the request leaves its amount unknown",
    "perioperative_with_surgery": "requested together with a surgery",
    "unrecognised_service": "the service was not recognised",
    "acute_injury": "injury within the last 3 months",
    "age_decades": "the worker's age",
    "n_body_regions": "number of body regions involved",
    "log_items_in_letter": "number of services disputed together",
}

#: The model inputs each criterion sets (for evidence next to a reason).
CRITERION_FEATURES: dict[str, tuple[str, ...]] = {
    spec.id: tuple(f for f in (spec.met_feature, spec.not_met_feature) if f)
    for spec in knowledge().criteria.values()
}
CRITERION_FEATURES["associated_procedure_certified"] += ("perioperative_with_surgery",)


def _check_tables() -> None:
    k = knowledge()
    missing = sorted(
        {u.status for s in k.subcategories.values() for u in s.criteria} - set(STATUS_FUNCTIONS)
    )
    if missing:
        raise KnowledgeError(
            f"features/knowledge: status function {missing[0]!r} is not one of "
            f"{', '.join(sorted(STATUS_FUNCTIONS))} (features/status.py); fix the table"
        )
    unlabelled = [f for f in FEATURES if f not in FEATURE_LABELS]
    if unlabelled:
        raise KnowledgeError(
            f"features/criteria.py: add a label for the model input {unlabelled[0]!r}"
        )


_check_tables()


@dataclass(frozen=True)
class Criterion:
    """One guideline criterion of one requested service, as the draft documents it."""

    code: str  # the criterion id
    label: str
    status: str
    evidence: tuple[ex.Span, ...] = ()
    to_document: str = ""
    what_if: str = ""  # a sentence that documents it, when the draft can still add it
    reason_code: str = ""  # the denial reason when it is not met / not documented
    source: str = ""  # the guideline citation

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "status": self.status,
            "evidence": [{"start": s, "end": e, "text": t} for s, e, t in self.evidence],
            "to_document": self.to_document,
            "reason_code": self.reason_code,
            "source": self.source,
        }


_READABLE = ex.Finding(READABLE)


@dataclass
class Assessment:
    """A service's kind, surgery link, criteria and the numbers the model reads."""

    kind: ServiceKind
    criteria: list[Criterion] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)
    link: Link = NO_LINK
    readability: ex.Finding = _READABLE
    dwc: str = ""  # its DWC request category

    @property
    def perioperative(self) -> bool:
        return self.link.perioperative

    @property
    def readable(self) -> bool:
        return self.readability.value == READABLE


# ----------------------------------------------------------------- what-if addenda
_PREFIX = "Regarding the requested {service}: "


def _clean(service: str) -> str:
    return " ".join(str(service or "").split())


def what_if_text(service: str, sentence: str) -> str:
    """The text a what-if adds to the summary: read for ``service`` only."""
    return _PREFIX.format(service=_clean(service)) + sentence


@lru_cache(maxsize=4096)
def _addenda(summary: str, siblings: tuple[str, ...]) -> tuple[tuple[int, int, int, str], ...]:
    """(start, end of its prefix, end, service) of every what-if addendum in ``summary``."""
    if "Regarding the requested " not in summary:
        return ()
    out = []
    for service in sorted({_clean(s) for s in siblings}, key=len, reverse=True):
        prefix = _PREFIX.format(service=service)
        for m in re.finditer(re.escape(prefix), summary):
            if any(a <= m.start() < b for a, _, b, _ in out):
                continue
            stop = re.compile(r"\.(?=\s|$)").search(summary, m.end())
            end = stop.end() if stop else len(summary)
            out.append((m.start(), m.end(), end, service))
    return tuple(sorted(out))


def _blank(text: str, spans) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def own_summary(summary: str, service: str, siblings: tuple[str, ...]) -> str:
    """The summary as ``service`` reads it: other services' what-if addenda blanked (and
    its own addenda's prefixes), offsets unchanged."""
    found = _addenda(summary, siblings)
    if not found:
        return summary
    me = _clean(service)
    return _blank(summary, [(a, b if s == me else c) for a, b, c, s in found])


def base_summary(summary: str, siblings: tuple[str, ...]) -> str:
    """The summary without any what-if addendum (what the user wrote)."""
    found = _addenda(summary, siblings)
    return _blank(summary, [(a, c) for a, _, c, _ in found]) if found else summary


# --------------------------------------------------------------------- assessment
def _letter_services(row: Mapping[str, Any], service: str) -> tuple[str, ...]:
    others = row.get("letter_services")
    if others is None or (isinstance(others, float) and math.isnan(others)):
        return (service,)
    return tuple(str(s) for s in others) or (service,)


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _quantity(row: Mapping[str, Any]) -> float | None:
    return _float(row.get("quantity"))


def _reference(row: Mapping[str, Any]) -> str | None:
    for column in ("ur_denial_date", "application_received_date", "date_assigned"):
        value = row.get(column)
        if (
            value is not None
            and str(value).strip()
            and str(value).lower() not in ("nan", "nat", "none")
        ):
            return str(value)
    return None


def _criterion(item: Item, use, status) -> Criterion:
    label = use.label.replace("{kind}", item.kind.label)
    if status.figures:
        label = f"{label}: {status.figures}"
    to_document = use.to_document
    if status.note and status.status != MET:
        to_document = f"{to_document} ({status.note})" if to_document else status.note
    return Criterion(
        code=use.id,
        label=label,
        status=status.status,
        evidence=tuple(status.evidence),
        to_document=to_document if status.status != MET else "",
        what_if=use.what_if if status.status == NOT_DOCUMENTED else "",
        reason_code=use.reason_code,
        source=source_text(use.source, item.region),
    )


def assess(row: Mapping[str, Any]) -> Assessment:
    """The criteria of one item's requested service and the model's inputs for it."""
    summary = str(row.get("case_summary") or "")
    service = str(row.get("service") or row.get("item_text") or "")
    siblings = _letter_services(row, service)
    base = base_summary(summary, siblings)
    kind = service_kind(service)
    facts_row = {**row, "case_summary": own_summary(summary, service, siblings)}
    item = Item(
        facts_row, service, facts_row["case_summary"], kind, NO_LINK, siblings, _quantity(row)
    )
    chronic = item.facts["chronicity_days"]
    injury_days = None if item.facts["chronicity_unknown"].value else int(chronic.value)
    item.link = link(service, siblings, base, reference=_reference(row), injury_days=injury_days)
    out = Assessment(kind, link=item.link, readability=summary_readability(base))
    out.dwc = knowledge().perioperative["dwc"] if item.link.perioperative else kind.dwc
    v = dict.fromkeys(FEATURES, 0.0)
    spec = kind.spec
    for use in spec.criteria if spec else ():
        status = STATUS_FUNCTIONS[use.status](item, use)
        if status is None:
            continue
        criterion = _criterion(item, use, status)
        out.criteria.append(criterion)
        if criterion.status == MET and use.met_feature:
            v[use.met_feature] = 1.0
        elif criterion.status == NOT_MET and use.not_met_feature:
            v[use.not_met_feature] = 1.0

    # Case facts.
    f = item.facts
    v["unrecognised_service"] = 0.0 if kind.recognised else 1.0
    v["perioperative_with_surgery"] = 1.0 if item.link.perioperative and item.link.in_draft else 0.0
    if injury_days is not None and injury_days <= _ACUTE_DAYS:
        v["acute_injury"] = 1.0
    age = _float(row.get("age"))
    v["age_decades"] = (age - 45.0) / 10.0 if age is not None else 0.0
    v["n_body_regions"] = float(f["n_body_regions"].value or 0)
    v["log_items_in_letter"] = math.log(len(siblings))
    out.values = v
    return out


def assess_items(rows: list[Mapping[str, Any]]) -> list[Assessment]:
    """:func:`assess` for each row, once."""
    return [assess(row) for row in rows]


def with_criterion_met(assessment: Assessment, code: str) -> dict[str, float]:
    """The model inputs as they would be with criterion ``code`` met (a what-if)."""
    spec = knowledge().criteria[code]
    values = dict(assessment.values)
    if spec.not_met_feature:
        values[spec.not_met_feature] = 0.0
    if spec.met_feature:
        values[spec.met_feature] = 1.0
    return values
