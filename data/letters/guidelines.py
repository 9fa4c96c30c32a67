"""Which guideline families (MTUS, ACOEM, ODG) a guideline statement actually relies on.

A statement such as "The Claims Administrator did not base their decision on the MTUS.
Decision based on Non-MTUS Citation Official Disability Guidelines" cites ODG only: the
negated mention and the "Non-MTUS" label are not citations of MTUS.
"""

from __future__ import annotations

import re

from settings import GUIDELINE_FAMILIES

_NOT_CITATIONS = re.compile(
    r"did\s+not\s+(?:base|rely)\s+(?:their|its|his|her)\s+(?:decision|determination)\s+"
    r"(?:up)?on\s+(?:the\s+)?(?:CA\s+)?(?:MTUS|ACOEM|ODG)"
    r"|non-\s*MTUS"
    r"|outside\s+(?:of\s+)?the\s+(?:CA\s+)?MTUS"
    r"|not\s+(?:address(?:ed)?|cover(?:ed)?)\s+(?:by|in)\s+(?:the\s+)?(?:CA\s+)?MTUS",
    re.IGNORECASE,
)
_FAMILY_PATTERNS = {
    "MTUS": re.compile(r"\bMTUS\b|Medical\s+Treatment\s+Utilization\s+Schedule", re.IGNORECASE),
    "ACOEM": re.compile(
        r"\bACOEM\b|American\s+College\s+of\s+Occupational\s+and\s+Environmental", re.IGNORECASE
    ),
    "ODG": re.compile(r"\bODG\b|Official\s+Disability\s+Guidelines", re.IGNORECASE),
}


def guideline_families(statement: str | None) -> list[str]:
    """Return the families a guideline statement relies on, in canonical order."""
    if not statement:
        return []
    cited = _NOT_CITATIONS.sub(" ", statement)
    return [family for family in GUIDELINE_FAMILIES if _FAMILY_PATTERNS[family].search(cited)]
