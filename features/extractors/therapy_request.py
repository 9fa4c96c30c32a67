"""The requested service as therapy: amount, modality, and prior + requested vs guideline."""

from __future__ import annotations

from features.extractors.text import NUM, Finding, _span, lower, to_number
from features.fast_regex import _rx
from features.lexicon import (
    DEFAULT_POSTSURGICAL_CEILING,
    GUIDELINE_CEILINGS,
    POSTSURGICAL_CEILINGS,
    THERAPY_PATTERNS,
)

_RANGE = rf"(?P<lo>{NUM})(?:\s*(?:-|to|or)\s*(?P<hi>{NUM}))?"
_FREQ_DURATION = _rx(
    rf"{_RANGE}\s*(?:x|times|visits?|sessions?)?\s*(?:a|an|per|/|each|every)?\s*"
    rf"(?:week|wk)(?:ly|s)?\s*(?:,\s*)?(?:for|x|times|over|during)?\s*"
    rf"(?P<w>{NUM})(?:\s*(?:-|to)\s*(?P<w2>{NUM}))?\s*(?:weeks?|wks?)\b",
)
_FREQ_TIMES = _rx(rf"\b(?P<a>{NUM})\s*(?:x|times)\s*(?P<b>{NUM})\b(?!\s*(?:mg|%))")
_PAREN_TOTAL = _rx(r"\(\s*(?P<p>\d+)\s*(?:sessions?|visits?|treatments?)?\s*\)")
_EXPLICIT_TOTAL = _rx(
    rf"(?:\(\s*(?P<p>\d+)\s*(?:sessions?|visits?)?\s*\))|"
    rf"\b(?P<n>{NUM})\s*(?:\(\s*\d+\s*\)\s*)?(?:additional\s+)?"
    rf"(?:(?!times\b|x\b|per\b|a\b|weekly\b)[a-z/-]+\s+){{0,3}}?"
    rf"(?:sessions?|visits?|treatments?)\b|"
    rf"\b(?:sessions?|visits?|treatments?)\s*,?\s*(?:#\s*)?(?P<m>\d+)\b",
)
_TIMES_N = _rx(rf"(?:\bx\s*|\btimes\s+|#\s*)(?P<n>{NUM})\b(?!\s*(?:weeks?|a\s+week|mg))")
_LEADING_NUM = _rx(rf"^\s*(?P<n>{NUM})\b(?!\s*(?:mg|%|-?day|month|week|refill|phase|level))")


def requested_amount(
    service: str | None, quantity: float | None = None, range_policy: str = "upper"
) -> Finding:
    """How much the service asks for: sessions for therapy, units ('#90') for the rest.

    Ranges ("2-3 times a week for 6 weeks") use the upper bound (18) by default, because UR
    and IMR weigh the most the request could authorize; ``range_policy="midpoint"`` gives 15.
    The note says which was used. ``quantity`` (the letter's 'QTY: 3.00') is the fallback
    when the text states no amount. Value None = unknown.
    """
    text = service or ""
    low = lower(text)
    if m := _PAREN_TOTAL.search(low):  # "two times four visits (8)", "(12 sessions)"
        return Finding(float(m["p"]), (_span(text, m.start(), m.end()),))
    if m := _FREQ_DURATION.search(low):
        lo, hi = to_number(m["lo"]), to_number(m["hi"]) if m["hi"] else None
        w_lo, w_hi = to_number(m["w"]), to_number(m["w2"]) if m["w2"] else None
        if lo is not None and w_lo is not None:
            is_range = hi is not None or w_hi is not None
            hi, w_hi = (hi if hi is not None else lo), (w_hi if w_hi is not None else w_lo)
            if range_policy == "midpoint":
                amount, note = (lo + hi) / 2 * (w_lo + w_hi) / 2, "midpoint of range"
            else:
                amount, note = hi * w_hi, "upper bound of range"
            explicit = _EXPLICIT_TOTAL.search(low)
            if explicit and m.start() <= explicit.start() < m.end():
                explicit = None  # "3 visits per week for 2 weeks" is the frequency itself
            if explicit and (explicit["p"] or explicit["n"]) and not is_range:
                n = to_number(explicit["p"] or explicit["n"])
                if n is not None:  # "Four sessions ... two times a week times 2 weeks"
                    return Finding(n, (_span(text, explicit.start(), explicit.end()),))
            return Finding(amount, (_span(text, m.start(), m.end()),), note if is_range else "")
    if m := _EXPLICIT_TOTAL.search(low):
        n = to_number(m["p"] or m["n"] or m["m"])
        if n is not None:
            return Finding(n, (_span(text, m.start(), m.end()),))
    if m := _FREQ_TIMES.search(low):
        a, b = to_number(m["a"]), to_number(m["b"])
        if a is not None and b is not None:
            return Finding(a * b, (_span(text, m.start(), m.end()),), "frequency x duration")
    if m := _TIMES_N.search(low):
        n = to_number(m["n"])
        if n is not None:
            return Finding(n, (_span(text, m.start(), m.end()),))
    if m := _LEADING_NUM.search(low):
        n = to_number(m["n"])
        if n is not None:
            return Finding(n, (_span(text, m.start("n"), m.end("n")),))
    if quantity is not None and quantity == quantity:  # not NaN
        return Finding(float(quantity), (), "from the letter's QTY field")
    return Finding(None)


_THERAPY_CATEGORY = {
    "physical_therapy": "pt",
    "chiropractic": "chiro",
    "acupuncture": "acupuncture",
    "psychological": "psych",
}
_OT_RE = _rx(r"occupational\s+therap|(?-i:\bOT\b)")
_AQUATIC_RE = _rx(THERAPY_PATTERNS["aquatic"])
_POSTSURGICAL_RE = _rx(
    r"post[\s-]?op\w*|post[\s-]?surg\w*|associated\s+surgical\s+service|after\s+surgery"
)
_ADDITIONAL_RE = _rx(
    r"\b(?:additional|continu\w*|more|further|extension|extend\w*|remaining|repeat)\b"
)


def request_modality(service: str | None, category: str) -> str | None:
    """The therapy modality a request belongs to (pt/ot/aquatic/chiro/acupuncture/psych)."""
    text = service or ""
    low = lower(text)
    if category == "physical_therapy":
        if _AQUATIC_RE.search(low):
            return "aquatic"
        if _OT_RE.search(low):
            return "ot"
    return _THERAPY_CATEGORY.get(category)


def adds_to_prior(service: str | None, modality: str | None, prior: dict[str, Finding]) -> Finding:
    """Whether the request extends therapy of the same modality already given."""
    if modality is None:
        return Finding(False)
    text = service or ""
    low = lower(text)
    same = prior.get(modality)
    if modality in ("pt", "ot", "aquatic"):  # therapists' notes use PT and OT loosely
        same_kind = [prior[m] for m in ("pt", "ot", "aquatic") if prior[m].value != 0]
    else:
        same_kind = [same] if same is not None and same.value != 0 else []
    if same_kind:
        return Finding(True, tuple(sp for f in same_kind for sp in f.evidence[:2]))
    if m := _ADDITIONAL_RE.search(low):
        return Finding(True, (_span(text, m.start(), m.end()),), "request says additional")
    return Finding(False)


def guideline_comparison(
    modality: str | None,
    prior: dict[str, Finding],
    requested: Finding,
    service: str | None,
    region: str | None,
) -> dict[str, Finding]:
    """Prior + requested sessions against the MTUS trial size and visit ceiling.

    Returns ``total`` (None when the prior count or the amount is unknown), ``exceeds_trial``
    (the request alone is bigger than the usual initial trial), ``exceeds_ceiling`` and
    ``postsurgical``. See :data:`features.lexicon.GUIDELINE_CEILINGS` for the numbers.
    """
    text = service or ""
    low = lower(text)
    post = _POSTSURGICAL_RE.search(low)
    out = {"postsurgical": Finding(bool(post) and modality is not None)}
    if modality is None or modality not in GUIDELINE_CEILINGS:
        out.update(
            total=Finding(None), exceeds_trial=Finding(False), exceeds_ceiling=Finding(False)
        )
        return out
    trial, ceiling, source = GUIDELINE_CEILINGS[modality]
    if post:
        ceiling = POSTSURGICAL_CEILINGS.get(region or "", DEFAULT_POSTSURGICAL_CEILING)
        source = f"MTUS postsurgical ({region or 'default'}): {ceiling} visits"
    prior_value = prior[modality].value if modality in prior else 0
    amount = requested.value
    total = None
    if amount is not None and isinstance(prior_value, int):
        total = prior_value + amount
    evidence = requested.evidence + (prior[modality].evidence if modality in prior else ())
    out["total"] = Finding(total, evidence, source)
    out["exceeds_trial"] = Finding(
        amount is not None and amount > trial and prior_value == 0 and not post,
        requested.evidence,
        f"trial {trial}",
    )
    # the request alone past the ceiling exceeds it whatever was given before (counted or not)
    alone = amount is not None and amount > ceiling
    out["exceeds_ceiling"] = Finding(
        (total is not None and total > ceiling) or alone, evidence, source
    )
    return out
