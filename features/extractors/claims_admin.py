"""What the claims administrator's utilization review did: guidelines cited, modified or not."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from features.extractors.text import Finding

CA_FAMILIES = ("mtus", "acoem", "odg", "none")


def ca_guideline_families(families: Iterable[str] | None, statement: str | None = None) -> Finding:
    """Guideline families the claims administrator's UR relied on ('none' when it cited none).

    Uses the parsed ``claims_admin_families`` when present, else parses the statement.
    """
    fams: Sequence[str]
    if families is not None and not isinstance(families, str | float):
        fams = [str(f).lower() for f in families]
    elif statement:
        from data.letters.guidelines import guideline_families

        fams = [f.lower() for f in guideline_families(statement)]
    else:
        fams = []
    evidence = ((0, len(statement), statement),) if statement else ()
    return Finding(sorted(set(fams)) or ["none"], evidence)


def ur_modified(partial_authorization: Any, authorized_portion: str | None = None) -> Finding:
    """True when UR modified (partially authorized) the request rather than denying it."""
    flag = bool(partial_authorization) if partial_authorization == partial_authorization else False
    ev = ((0, len(authorized_portion), authorized_portion),) if flag and authorized_portion else ()
    return Finding(flag, ev)
