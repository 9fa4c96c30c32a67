"""The guideline figure a reason cites: the visit limit of a request and where it is set.

One small lookup, :func:`visit_limit`, answers "what number does the guideline give for
this kind of request, and which section says so" from the reviewed table
``features/knowledge/limits.toml`` (its ``trial``, ``ceiling`` and short ``cite``);
:func:`quantity_text` writes the request against it in a reason's words, e.g. ``8
requested + 12 prior > 10 visits (MTUS Chronic Pain, Physical Medicine)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from features.knowledge import knowledge


@dataclass(frozen=True)
class GuidelineLimit:
    """A guideline's number for a request: the initial trial (if any), the usual limit."""

    trial: int | None
    limit: int
    unit: str
    source: str


def _region_words(region: str | None) -> str:
    return (region or "").replace("_", " and ")


def visit_limit(
    modality: str | None, *, postsurgical: bool = False, region: str | None = None
) -> GuidelineLimit | None:
    """The visit numbers the guideline gives a therapy ``modality`` (None for others).

    After surgery the post-surgical number of the body ``region`` applies, with no trial.
    """
    k = knowledge()
    if modality not in k.visits:
        return None
    visits = k.visits[modality]
    if postsurgical:
        post = k.postsurgical
        ceiling = post["regions"].get(region or "", post["default"])
        where = _region_words(region) if region in post["regions"] else ""
        source = f"{post['cite']}, {where}" if where else post["cite"]
        return GuidelineLimit(None, ceiling, "visits", source)
    return GuidelineLimit(visits["trial"], visits["ceiling"], "visits", visits["cite"])


def _n(value: float) -> str:
    return f"{value:g}"


def quantity_text(requested: float, prior: float | None, limit: GuidelineLimit) -> str:
    """The request against the guideline's number, e.g. ``8 requested + 12 prior > 10 visits
    (MTUS Chronic Pain, Physical Medicine)``.

    ``prior``: visits already given (0 none, None given but not counted). Against the usual
    limit when the request and prior visits reach past it, or when nothing was given
    before; against the initial trial otherwise (more therapy after a first course).
    """
    cite = f"({limit.source})"
    asked = f"{_n(requested)} requested"
    if prior is None:
        if requested > limit.limit:  # past the limit on its own, whatever came before
            return f"{asked} (prior visits not counted) > {limit.limit} {limit.unit} {cite}"
        if limit.trial is not None:
            sign = ">" if requested > limit.trial else "≤"
            return f"{asked} after prior visits {sign} {limit.trial}-visit trial {cite}"
        return f"{asked} after prior visits; limit {limit.limit} {limit.unit} {cite}"
    past_limit = requested + prior > limit.limit
    if past_limit or not prior or limit.trial is None:
        sign = ">" if past_limit else "≤"
        amount = f"{asked} + {_n(prior)} prior" if prior else asked
        return f"{amount} {sign} {limit.limit} {limit.unit} {cite}"
    sign = ">" if requested > limit.trial else "≤"
    return f"{asked} {sign} {limit.trial}-visit trial, after {_n(prior)} prior {cite}"


def trial_text(requested: float, limit: GuidelineLimit) -> str:
    """A first course against the initial trial: ``6 requested ≤ 6-visit trial (...)``."""
    if limit.trial is None:
        return quantity_text(requested, 0, limit)
    sign = ">" if requested > limit.trial else "≤"
    return f"{_n(requested)} requested {sign} {limit.trial}-visit trial ({limit.source})"


def request_figures(
    facts: Mapping[str, Any], service: str
) -> tuple[float, float | None, GuidelineLimit] | None:
    """(visits requested, prior visits of that therapy or None when not counted, the limit)
    of a therapy request, from its extracted ``facts`` (:func:`features.facts.extract_row`);
    None when the request is not therapy or its number of visits is not stated."""
    from features import extractors as ex
    from features.services import service_kind

    modality = ex.request_modality(service, service_kind(service).category)
    limit = visit_limit(
        modality,
        postsurgical=bool(facts["request_is_postsurgical"].value),
        region=ex.request_region(service).value,
    )
    if limit is None or facts["requested_amount_unknown"].value:
        return None
    prior = float(facts[f"prior_{modality}_sessions"].value or 0)
    if facts[f"prior_{modality}_unknown_count"].value:
        return float(facts["requested_amount"].value), None, limit
    if facts["request_total_unknown"].value:
        return float(facts["requested_amount"].value), prior, limit
    # the course compared (for a partial authorization, the original request)
    requested = float(facts["request_total_sessions"].value) - prior
    return requested, prior, limit
