"""Body regions named in a summary or a request."""

from __future__ import annotations

from features.extractors.text import Finding, _find, _labelled, _span, lower
from features.lexicon import REGION_GATES, REGION_PATTERNS

_REGION_ALL = _labelled(REGION_PATTERNS, REGION_GATES)


def body_regions_in(text: str) -> set[str]:
    """Body regions named anywhere in ``text``."""
    low = lower(text)
    return {region for region, _m in _find(_REGION_ALL, low)}


def body_regions(summary: str | None) -> Finding:
    """Distinct body regions named in the summary (value: sorted list)."""
    text = summary or ""
    low = lower(text)
    evidence = []
    seen = set()
    for region, m in _find(_REGION_ALL, low):
        if region not in seen:
            seen.add(region)
            evidence.append(_span(text, m.start(), m.end()))
    return Finding(sorted(seen), tuple(evidence))


_SPINE = ("cervical", "thoracic", "lumbar")


def request_region(service: str | None) -> Finding:
    """Body region of a request: one region name, 'multiple' or None (unknown)."""
    text = service or ""
    low = lower(text)
    hits = []
    for region, m in _find(_REGION_ALL, low):
        hits.append((region, _span(text, m.start(), m.end())))
    regions = {r for r, _ in hits}
    # "upper extremity" next to a hand/elbow region is the same limb, not a second region.
    if len(regions) > 1:
        regions -= {"upper_extremity", "lower_extremity"}
    if not regions:
        return Finding(None)
    if len(regions) == 1:
        return Finding(regions.pop(), tuple(sp for _, sp in hits))
    return Finding("multiple", tuple(sp for _, sp in hits))
