"""Prior therapy: sessions of each modality the summary says were already given."""

from __future__ import annotations

import re

from features.extractors.text import (
    NUM,
    Finding,
    _case_ok,
    _find,
    _labelled,
    _span,
    lower,
    sentence_of,
    to_number,
)
from features.extractors.voice import _is_history
from features.fast_regex import _rx
from features.lexicon import THERAPY_GATES, THERAPY_MODALITIES, THERAPY_PATTERNS

_THERAPY_ALL = _labelled(THERAPY_PATTERNS, THERAPY_GATES)
_UNIT = r"(?:sessions?|visits?|treatments?|appointments?|reports?)"
_COUNT_LEFT = _rx(
    rf"(?:\bat\s+least\s+|\b)(?P<n>{NUM})\s*(?:\(\s*\d+\s*\)\s*)?"
    rf"(?:of\s+{NUM}\s+)?(?:(?:additional|prior|previous|completed|authorized|total)\s+)?"
    rf"(?:(?P<unit>{_UNIT})\s+(?:of\s+|with\s+)?(?:\w+\s+)?)?$",
)
_UNIT_RIGHT = _rx(rf"^\s*(?:\w+\s+)?{_UNIT}\b")
_COUNT_RIGHT = _rx(
    rf"^\s*(?:\(|,)?\s*(?:x|for|times|of|with)?\s*(?:at\s+least|approximately|about|"
    rf"a\s+total\s+of|total\s+of|over)?\s*(?P<n>{NUM})\s*(?:\(\s*\d+\s*\)\s*)?"
    rf"(?:additional\s+)?{_UNIT}\b",
)
_WINDOW_STOP = re.compile(r"[,;:]")


def _count_near(text: str, s: int, e: int, ms: int, me: int) -> tuple[int, int, float] | None:
    """A session count attached to the mention text[ms:me] in sentence [s, e), if any."""
    low = lower(text)
    left_start = max(s, ms - 45)
    left = low[left_start:ms]
    stops = list(_WINDOW_STOP.finditer(left))
    if stops:
        left_start += stops[-1].end()
        left = low[left_start:ms]
    right_end = min(e, me + 45)
    right = low[me:right_end]
    if (stop := _WINDOW_STOP.search(right)) and right[: stop.start()].strip():
        right = right[: stop.start()]
    m = _COUNT_LEFT.search(left)
    if m and (m.group("unit") or _UNIT_RIGHT.match(right)):
        n = to_number(m.group("n"))
        if n is not None:
            return (left_start + m.start("n"), me, n)
    if m := _COUNT_RIGHT.match(low[me:right_end]):
        n = to_number(m.group("n"))
        if n is not None:
            return (ms, me + m.end(), n)
    return None


def prior_therapy(summary: str | None) -> dict[str, Finding]:
    """Prior sessions per modality: an int count, ``"unknown"`` (done, count not stated) or 0.

    A mention counts when its sentence describes history, not the request, the plan or the
    UR decision; several stated counts for one modality take the largest ("at least five").
    """
    found: dict[str, list] = {m: [] for m in THERAPY_MODALITIES}
    counts: dict[str, list[float]] = {m: [] for m in THERAPY_MODALITIES}
    text = summary or ""
    low = lower(text)
    for modality, m in _find(_THERAPY_ALL, low):
        if not _case_ok(text, m.start(), m.end()):
            continue
        s, e = sentence_of(text, m.start())
        if not _is_history(text, s, e, m.start()):
            continue
        hit = _count_near(text, s, e, m.start(), m.end())
        if hit:
            counts[modality].append(hit[2])
            found[modality].append(_span(text, hit[0], hit[1]))
        else:
            found[modality].append(_span(text, m.start(), m.end()))
    out = {}
    for modality in THERAPY_MODALITIES:
        if counts[modality]:
            value: int | str = int(max(counts[modality]))
        elif found[modality]:
            value = "unknown"
        else:
            value = 0
        out[modality] = Finding(value, tuple(found[modality]))
    return out


def prior_total(prior: dict[str, Finding]) -> Finding:
    """Total stated prior sessions over modalities; note says if any count is unknown."""
    total = sum(f.value for f in prior.values() if isinstance(f.value, int))
    unknown = [m for m, f in prior.items() if f.value == "unknown"]
    evidence = tuple(sp for f in prior.values() for sp in f.evidence)
    return Finding(total, evidence, "unknown count for " + ",".join(unknown) if unknown else "")
