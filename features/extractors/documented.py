"""Whether the summary documents something a criterion needs, by a named set of wording.

The sets live in :file:`features/knowledge/evidence.toml` (GI risk factors, opioid
monitoring, a clinical question for imaging, ...). A mention counts only when no negation
or hedge comes before it in its clause ("no GI symptoms", "lack of documented monitoring")
and none follows it ("GI upset was denied").
"""

from __future__ import annotations

import re
from functools import lru_cache

from features.extractors.text import Finding, _span, clause_of, lower
from features.fast_regex import _rx

_NEGATED_BEFORE = _rx(
    r"\b(?:no|not|never|nor|den(?:y|ies|ied)|without|lack\w*|absen\w*|negative\s+for|free\s+of|"
    r"insufficient|unclear|unknown|whether|if|unless|rather\s+than|instead\s+of|n't)\b"
    r"(?:\W+\w+){0,8}\W*$"
)
_NEGATED_AFTER = _rx(
    r"^\W*(?:\w+\W+){0,3}?(?:(?:was|were|is|are|has\s+been|have\s+been)\s+(?:not\s+(?:noted|"
    r"documented|reported|present|found|provided)|denied|absent|negative|ruled\s+out)|"
    r"(?:none|denied|negative|absent)\b)"
)


@lru_cache(maxsize=8192)
def documented(text: str, pattern: re.Pattern) -> Finding:
    """Mentions of ``pattern`` in ``text`` that are not negated or hedged (value: bool)."""
    text = text or ""
    low = lower(text)
    spans = []
    for m in pattern.finditer(low):
        if m.end() == m.start():
            continue
        cs, ce, _ = clause_of(text, m.start())
        if _NEGATED_BEFORE.search(low[max(cs, m.start() - 80) : m.start()]):
            continue
        if _NEGATED_AFTER.match(low[m.end() : min(ce, m.end() + 40)]):
            continue
        spans.append(_span(text, m.start(), m.end()))
    return Finding(bool(spans), tuple(spans))
