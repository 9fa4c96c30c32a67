"""What a requested service states about itself: dose, quantity, frequency, visits, body
part, duration, levels, test names (what reviewers call "insufficient documentation")."""

from __future__ import annotations

from features.extractors.regions import request_region
from features.extractors.text import Finding, _span, lower
from features.extractors.therapy_request import requested_amount
from features.fast_regex import _rx

_PATTERNS = {
    "dose": _rx(
        r"\d+(?:\.\d+)?\s*(?:mg|mcg|gm?|grams?|ml|%|meq|iu|units?)\b|\b\d+(?:\.\d+)?\s*/\s*\d+"
        r"(?:\.\d+)?(?:\s*mg)?\b"
    ),
    "quantity": _rx(
        r"#\s*\d+|\b\d+\s*(?:tablets?|tabs?|capsules?|caps|patch(?:es)?|pads?|box(?:es)?|tubes?|"
        r"bottles?|containers?|grams?|gm|ml|refills?)\b|\b(?:quantity|qty)\s*:?\s*\d+|"
        r"\b(?:one|two|three|\d+)[\s-]+(?:months?|weeks?|days?)\W+(?:\w+\W+)?supply|"
        r"\bday\s+supply|\bsupply\s*:\s*\d+|\bcontainers?\s+of|\bone\s+(?:box|tube|bottle|container)"
    ),
    "frequency": _rx(
        r"\bq\.?\s?\d+\s?h\b|\b(?:qd|bid|tid|qid|qhs|prn)\b|\bdaily\b|\bnightly\b|at\s+bedtime|"
        r"\b(?:once|twice|\d+\s+times|one\s+time|two\s+times|three\s+times)\s+(?:a|per)\s+day|"
        r"every\s+\d+\s+hours|\bhours?\s+on\b|\bby\s+mouth\b|\bapply\b"
    ),
    "duration": _rx(
        r"\b\d+\s*(?:-\s*\d+\s*)?(?:days?|weeks?|months?|hours?|hrs?)\b|"
        r"\b(?:one|two|three|four|five|six|seven|eight|ten|twelve|thirty)[\s-]+(?:days?|weeks?|"
        r"months?|hours?)\b|\brental\b|\brent\b|\bpurchase\b|\bbuy\b|\bper\s+(?:day|week)\b"
    ),
    "levels": _rx(r"(?-i:\b[LCTS]\d{1,2}\b)|\blevels?\b"),
    "test_names": _rx(
        r"mmpi|\bbeck\b|\bbdi\b|\bbai\b|inventory|questionnaire|\bscales?\b|battery|\bhours?\b"
    ),
}
_UNSPECIFIED = _rx(
    r"\bunknown\s+(?:quantity|dose|dosage|frequency|amount|number)|\bunspecified\b|"
    r"\b(?:quantity|dose|dosage|frequency|amount)\s+(?:unknown|not\s+(?:specified|stated|given|"
    r"provided|documented))|\bunknown\b"
)


def request_specifics(service: str | None, quantity=None) -> dict[str, Finding]:
    """For each specific, whether the request states it (value: bool, with its words).

    ``unspecified`` is true when the request says an amount is unknown ("Fanatrex (unknown
    quantity)", "Acupuncture treatments (unspecified quantity)").
    """
    text = service or ""
    low = lower(text)
    out = {}
    for name, rx in _PATTERNS.items():
        m = rx.search(low)
        out[name] = Finding(bool(m), (_span(text, m.start(), m.end()),) if m else ())
    amount = requested_amount(text, quantity)
    out["visits"] = Finding(amount.value is not None, amount.evidence)
    if quantity is not None and quantity == quantity and not out["quantity"].value:
        out["quantity"] = Finding(True, (), "from the letter's QTY field")
    region = request_region(text)
    out["body_part"] = Finding(region.value is not None, region.evidence)
    m = _UNSPECIFIED.search(low)
    out["unspecified"] = Finding(bool(m), (_span(text, m.start(), m.end()),) if m else ())
    return out
