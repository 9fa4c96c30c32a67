"""Pure text -> fact extractors for IMR items, each returning the value and its evidence.

Every extractor takes plain text (the letter's case summary or the item's service text)
and returns a :class:`Finding`: the value plus the spans of the input that support it,
so a prediction can quote why. Only pre-filing text goes in (see
:data:`features.structured.PRE_FILING_COLUMNS`).

Summaries mix three voices: the history (what was done), the plan/request (what is asked
for) and the utilization review's reasons ("lack of documented failure of conservative
care"). Most rules below are about telling them apart, at sentence and clause level:
a therapy or study counts as done only outside request/plan wording unless a past-tense
marker is attached to it, and failure/benefit statements are ignored when hedged or negated.

All regular expressions are compiled once at import; nothing here holds state.
"""

from __future__ import annotations

import datetime as dt
import re
import re._constants as _c
import re._parser as _sre_parser
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from features.lexicon import (
    DEFAULT_POSTSURGICAL_CEILING,
    GUIDELINE_CEILINGS,
    IMAGING_GATES,
    IMAGING_MODALITIES,
    IMAGING_PATTERNS,
    MEDICATION_CLASSES,
    MEDICATION_NAMES,
    NUMBER_WORDS,
    OTHER_MEDICATION_NAMES,
    POSTSURGICAL_CEILINGS,
    REGION_GATES,
    REGION_PATTERNS,
    THERAPY_GATES,
    THERAPY_MODALITIES,
    THERAPY_PATTERNS,
)

Span = tuple[int, int, str]


def _rx(source: str) -> re.Pattern:
    """Compile a case-insensitive pattern for matching against :func:`lower` text.

    Python's ``re`` is several times slower with IGNORECASE, so texts are lower-cased once
    (ASCII only, so offsets stay valid for evidence spans) and patterns are lower-cased
    here, escapes such as ``\\W`` and ``\\S`` excepted. ``(?-i:...)`` marks tokens that
    are case-sensitive in the letters (PT, CT, OT); callers re-check those on the original.
    When the characters a match can start with are known, a lookahead on them is put in
    front: ``re`` then rejects most positions with one class test instead of trying every
    alternative (3-5x faster on these alternations).
    """
    source = source.replace("(?-i:", "(?:")
    out, i = [], 0
    while i < len(source):
        if source[i] == "\\" and i + 1 < len(source):
            out.append(source[i : i + 2])
            i += 2
        else:
            out.append(source[i].lower())
            i += 1
    lowered = "".join(out).replace("(?p<", "(?P<").replace("(?p=", "(?P=")
    parsed = _sre_parser.parse(lowered)
    first = _first_chars(parsed)
    if first and len(first) <= 24 and not _native_prefix(parsed):
        chars = "".join(sorted(re.escape(chr(c)) for c in first))
        return re.compile(f"(?=[{chars}])(?:{lowered})")
    return re.compile(lowered)


def _native_prefix(items) -> bool:
    """True when every alternative starts with a literal: ``re`` already scans fast then."""
    if len(items) != 1:
        return len(items) > 0 and items[0][0] is _c.LITERAL
    op, av = items[0]
    if op is _c.BRANCH:
        return all(branch and branch[0][0] is _c.LITERAL for branch in av[1])
    return op is _c.LITERAL


def _first_chars(items) -> set[int] | None:
    """Code points a match of the parsed pattern can start with; None when unknown/any."""
    chars: set[int] = set()
    for op, av in items:
        if op is _c.AT or op in (_c.ASSERT, _c.ASSERT_NOT):
            continue  # zero-width: look at the next item
        if op is _c.LITERAL:
            return chars | {av}
        if op is _c.IN:
            for kind, value in av:
                if kind is _c.LITERAL:
                    chars.add(value)
                elif kind is _c.RANGE and value[1] - value[0] < 30:
                    chars.update(range(value[0], value[1] + 1))
                elif kind is _c.CATEGORY and value is _c.CATEGORY_DIGIT:
                    chars.update(range(48, 58))
                else:
                    return None
            return chars
        if op is _c.BRANCH:
            for branch in av[1]:
                sub = _first_chars(branch)
                if sub is None:
                    return None
                chars |= sub
            return chars
        if op is _c.SUBPATTERN:
            sub = _first_chars(av[3])
            return None if sub is None else chars | sub
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] >= 1:
            sub = _first_chars(av[2])
            return None if sub is None else chars | sub
        return None
    return None


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@lru_cache(maxsize=8192)
def lower(text: str) -> str:
    """ASCII lower-case copy of ``text`` with identical offsets."""
    return text.translate(_ASCII_LOWER)


# Two-letter tokens that are abbreviations only in capitals ("PT" vs "pt", "CT" vs "ct").
_CASED_TOKENS = frozenset({"pt", "ot", "ct", "ur", "eds", "cmt", "cbt", "ttd"})


def _case_ok(text: str, start: int, end: int) -> bool:
    """False for a lower-case 'pt'/'ct'/... match that is not the capitalised abbreviation."""
    token = text[start:end]
    return token.lower() not in _CASED_TOKENS or token.isupper()


class Finding(NamedTuple):
    """An extracted value with the input spans that support it (and an optional note).

    A NamedTuple rather than a dataclass: thousands are built per second and tuples are
    the cheapest immutable, picklable record.
    """

    value: Any
    evidence: tuple[Span, ...] = ()
    note: str = ""


def _span(text: str, start: int, end: int) -> Span:
    return (start, end, text[start:end])


def _words_to_alt(words: str) -> str:
    """'a b_c' -> regex alternation 'b\\s+c|a'; '_' joins words of one name, longest first."""
    names = sorted(set(words.split()), key=len, reverse=True)
    return "|".join(re.escape(n).replace("_", r"\s+") for n in names)


# ---------------------------------------------------------------------------- text units
_SENT_BREAK = re.compile(r"[.!?]+[\"')\]]*\s+(?=[\"(\[]?[A-Z0-9])")
_ABBREV_TAIL = re.compile(
    r"(?:\b(?:Dr|Mr|Mrs|Ms|vs|No|St|Jr|Sr|approx|etc|e\.g|i\.e|p\.o|a\.m|p\.m|U\.S|Inc|Co)"
    r"|\b[A-Z])\.$"
)
_CLAUSE_BREAK = _rx(r";|\bhowever\b|\bbut\b|\balthough\b|\bwhereas\b|\bthough\b")
_NUM_WORDS = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
NUM = rf"(?:\d{{1,3}}(?:\.\d+)?|{_NUM_WORDS})"


@lru_cache(maxsize=8192)
def sentences(text: str) -> tuple[tuple[int, int], ...]:
    """Sentence (start, end) offsets; abbreviations such as 'Dr.' do not end a sentence."""
    out, start = [], 0
    for m in _SENT_BREAK.finditer(text):
        if _ABBREV_TAIL.search(text[max(start, m.start() - 8) : m.start() + 1]):
            continue
        out.append((start, m.start() + 1))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return tuple(out)


@lru_cache(maxsize=8192)
def _sentence_starts(text: str) -> tuple[int, ...]:
    return tuple(s for s, _ in sentences(text))


def sentence_of(text: str, pos: int) -> tuple[int, int]:
    """(start, end) of the sentence holding offset ``pos``."""
    sents = sentences(text)
    if not sents:
        return (0, len(text))
    return sents[max(0, bisect_right(_sentence_starts(text), pos) - 1)]


@lru_cache(maxsize=8192)
def _clause_breaks(text: str) -> tuple[tuple[int, int], ...]:
    return tuple((m.start(), m.end()) for m in _CLAUSE_BREAK.finditer(lower(text)))


def clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a sentence at ';' and contrastive conjunctions (however, but, although)."""
    out, s = [], start
    for b_start, b_end in _clause_breaks(text):
        if start <= b_start and b_end <= end:
            out.append((s, b_start))
            s = b_end
    out.append((s, end))
    return out


def clause_of(text: str, pos: int) -> tuple[int, int, int]:
    """(start, end, sentence index) of the clause holding offset ``pos``."""
    s, e = sentence_of(text, pos)
    index = max(0, bisect_right(_sentence_starts(text), pos) - 1)
    for cs, ce in clauses(text, s, e):
        if cs <= pos < ce:
            return cs, ce, index
    return s, e, index


def to_number(token: str) -> float | None:
    """'12' -> 12, 'twelve' -> 12, '3.00' -> 3; None if not a number."""
    token = token.strip().lower()
    if token in NUMBER_WORDS:
        return float(NUMBER_WORDS[token])
    try:
        return float(token)
    except ValueError:
        return None


def _gate(low: str, start: int, end: int, keys: tuple[str, ...]) -> bool:
    """Does low[start:end] contain any of the literal ``keys``? (cheap pre-check)"""
    part = low[start:end]
    return any(k in part for k in keys)


Gate = tuple[str, ...] | frozenset[str]


def _labelled(patterns: dict[str, str], gates: dict[str, Gate]) -> dict[str, tuple]:
    """One compiled pattern per label, each with a gate of literals one of which must occur.

    Kept separate because one big named-group alternation is several times slower in
    ``re``; the gate (substrings, or a frozenset of whole words) skips most passes cheaply.
    """
    return {label: (_rx(source), gates[label]) for label, source in patterns.items()}


_WORD_RE = re.compile(r"[a-z0-9#]+(?:-[a-z0-9]+)*")


@lru_cache(maxsize=8192)
def _words(low: str) -> frozenset[str]:
    return frozenset(_WORD_RE.findall(low))


def _find(rxs: dict[str, tuple], low: str, start: int = 0, end: int | None = None):
    """All (label, match) of labelled patterns in low[start:end], in text order."""
    end = len(low) if end is None else end
    part = low if (start == 0 and end == len(low)) else low[start:end]
    hits = []
    for label, (rx, gate) in rxs.items():
        if isinstance(gate, frozenset):
            if gate.isdisjoint(_words(part)):
                continue
        elif not any(k in part for k in gate):
            continue
        hits += [(m.start(), label, m) for m in rx.finditer(low, start, end)]
    hits.sort(key=lambda h: (h[0], -h[2].end()))
    return [(label, m) for _, label, m in hits]


# ---------------------------------------------------------------- sentence voice (context)
# Request / UR voice: the sentence is about the disputed request or the UR decision.
_STRONG_REQUEST = _rx(
    r"original\s+request|request\s+for\s+authori[sz]ation|\bRFA\b|claims\s+administrator|"
    r"IMR\s+eligible|utilization\s+review|(?-i:\bUR\b)|non-?certif\w*|"
    r"\b(?:was|were|is|are|be|been|being)\s+(?:\w+\s+)?(?:requested|denied|modified|"
    r"non-?certified|sought|ordered|recommended|proposed|planned|scheduled|endorsed)\b|"
    r"\brequested\b|\brequests?\s+(?:for|was|were|is|are)\b|\bthe\s+request\b|"
    r"\bprevious(?:ly)?\s+(?:reviewed|denied)|\bprior\s+review",
)
# Plan / intent voice: overridden by a past-tense marker in the same sentence.
_WEAK_PLAN = _rx(
    r"treatment\s+plan|plan\s+of\s+care|\bplan\b|recommend\w*|\bordered\b|\bsought\b|"
    r"referr\w*|\brefer\b|\bwill\b|\bwould\b|\bconsider\w*|\bto\s+(?:start|begin|continue|"
    r"undergo|try|pursue|rule\s+out)\b|\bawait\w*|schedul\w*|\bplanned\b|\bproposed\b|"
    r"pending|candidate|\bif\b|\bshould\b|\bneed(?:s|ed)?\b|\bwarrant\w*|rule\s+out|"
    r"\br/o\b|prescribed\s+(?:services|treatment)|\bappeal\w*|\bunder\s+review\b",
)
_PAST = _rx(
    r"to\s+date|\bha(?:s|d|ve)\b|underw[e]?nt|undergone|completed|attended|received|"
    r"previous\w*|\bprior\b|\bpast\b|history\s+of|\bbegan\b|\bbegun\b|\bstarted\b|\btried\b|"
    r"\bfailed\b|despite|help(?:ed|ing|s)\b|improv\w*|benefit\w*|included|consisted|"
    r"status\s+post|\bs/p\b|\bwent\b|\bgone\b|\bwas\s+treated|\bwere\s+treated|"
    r"\bcurrently\b|\balready\b|\bongoing\b|\bparticipat\w*|\bcourse\s+of\b|\bcourse\b",
)
# A done-marker right before a mention survives even request voice
# ("the UR noted the applicant had completed 6 sessions of physical therapy").
_CLOSE_PAST_BEFORE = _rx(
    r"\b(?:completed|attended|underw[e]?nt|undergone|received|has\s+had|had\s+had|have\s+had|"
    r"previously|prior|already|had\s+been\s+(?:authorized|approved))\b(?:\W+\w+){0,5}\W*$",
)
_NEGATED_BEFORE = _rx(
    r"(?:\bno\b|\bnever\b|\bwithout\b|\black\s+of\b|\babsence\s+of\b|\bdenie[sd]\b|"
    r"\bnot\s+(?:had|received|undergone|attended|tried|participated|started|begun|done|"
    r"performed|obtained)\b|\bno\s+(?:documentation|record|evidence|indication)\s+of\b)"
    r"(?:\W+\w+){0,4}\W*$",
)


# "The treatment plan included ..." is plan voice: its "included" is not a past marker.
_PLAN_LEAD = _rx(
    r"\bplan\s+(?:of\s+care\s+)?(?:\w+\s+){0,4}?(?:included|includes|consisted|was|is)\b"
)


@lru_cache(maxsize=65536)
def _voice(text: str, start: int, end: int) -> tuple[bool, bool, bool]:
    """(request voice, plan voice, past marker) of the sentence text[start:end]."""
    low = lower(text)
    plan_leads = [(m.start(), m.end()) for m in _PLAN_LEAD.finditer(low, start, end)]
    past = any(
        not any(a <= m.start() < b for a, b in plan_leads) for m in _PAST.finditer(low, start, end)
    )
    return (
        _STRONG_REQUEST.search(low, start, end) is not None,
        bool(plan_leads) or _WEAK_PLAN.search(low, start, end) is not None,
        past,
    )


def _is_history(text: str, s: int, e: int, mention_start: int) -> bool:
    """Does a mention at ``mention_start`` in sentence [s, e) describe something done?"""
    low = lower(text)
    before = low[max(s, mention_start - 80) : mention_start]
    if _NEGATED_BEFORE.search(before):
        return False
    request, plan, past = _voice(text, s, e)
    if _CLOSE_PAST_BEFORE.search(before):
        return True
    if request:
        return False
    return past or not plan


# ------------------------------------------------------------------------ prior therapy
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


# ----------------------------------------------------------------------- requested amount
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
    out["exceeds_ceiling"] = Finding(total is not None and total > ceiling, evidence, source)
    return out


# ----------------------------------------------------------------- failure and benefit
_TREATMENT_WORDS = (
    r"therap\w*|treatment|physical|(?-i:\bPT\b)|chiro\w*|acupunct\w*|medications?|\bmeds\b|"
    r"injections?|\bblocks?\b|\bNSAIDs?\b|anti-?inflammator\w*|conservative|exercis\w*|"
    r"\bbraces?\b|splint\w*|\bTENS\b|\bice\b|\bheat\b|surger\w*|modalit\w*|program|\btried\b|"
    r"\btrial\b|\bpills?\b|\bpatch\w*|\bcream\b|\bcare\b|manipulation|massage"
)
_DRUGS = _words_to_alt(" ".join(MEDICATION_NAMES.values()) + " " + OTHER_MEDICATION_NAMES)
_TREATMENT_RE = _rx(rf"{_TREATMENT_WORDS}|\b(?:{_DRUGS})\b")

# "not working" is about a treatment only with a treatment/pronoun subject; "the injured
# worker is currently not working" is work status.
_NOT_WORKING = (
    r"\b(?:it|this|that|they|which|therapy|treatment|medications?|injections?)\s+"
    r"(?:\w+\s+){0,2}?not\s+working\b"
)
_FAIL_CUE = _rx(
    r"\bfailed\b(?!\s+to\s+(?:approve|certify|authori[sz]e|support|document|provide|establish|"
    r"demonstrate|meet|show|indicate|include|mention|report|note|specify|describe|outline|"
    r"attach|submit|address|clarify|discuss|furnish|state|identify))|"
    r"\bfailure\s+(?:of|with|to\s+(?:improve|respond))\b|"
    r"\bdid\s+not\s+(?:help|work|improve|benefit|resolve|alleviate|respond|relieve|"
    r"provide\s+(?:any\s+)?(?:relief|benefit))|"
    r"\b(?:was|were|is|are|has\s+been|have\s+been|being)\s+not\s+(?:beneficial|helpful|effective|"
    r"successful|helping)|" + _NOT_WORKING + "|"
    r"\bnot\s+(?:seem(?:ed)?\s+to\s+)?(?:improv\w*|respond\w*|benefit\w*)\s+(?:with|from|to|after)\b|"
    r"\bno\s+(?:\w+\s+)?(?:relief|benefit|improvement|help)\s+(?:from|with|after|following)\b|"
    r"\bwithout\s+(?:\w+\s+)?(?:relief|benefit|improvement|success)\b|"
    r"\b(?:unsuccessful|ineffective|ineffectual)\b|"
    r"\bdespite\s+(?:\w+\s+){0,3}?(?:" + _TREATMENT_WORDS + r")|"
    r"\b(?:refractory|recalcitrant|unresponsive)\s+to\b|"
    r"\bno\s+longer\s+(?:helps?|helping|effective|working)\b",
)
_FAIL_SELF_CONTAINED = _rx(r"^(?:despite|refractory|recalcitrant|unresponsive)")
_NOT_A_FAILURE = _rx(r"(?:heart|renal|kidney|respiratory|liver|congestive)\s+failure")
# Hedges / negations before a cue in the same clause: UR reasons, conditions, plans.
_HEDGE_BEFORE = _rx(
    r"\b(?:no|not|lack\w*|without|absence|absent|insufficient|unclear|unknown|whether|if|unless|"
    r"should|must|would|could|might|consider\w*|until|prior\s+to|before|to\s+determine|"
    r"need(?:s|ed)?\s+to|require[sd]?|criteria|guidelines?|recommend\w*|candidate|expected|"
    r"anticipated|goal|in\s+order\s+to|to\s+document)\b",
)


def _cue_hits(text: str, cue: re.Pattern, hedge: re.Pattern, need_treatment: bool):
    """(span, treatment_in_clause, sentence index) of unhedged cue matches."""
    low = lower(text)
    for m in cue.finditer(low):
        cs, ce, i = clause_of(text, m.start())
        if m.end() > ce:  # a cue never spans a clause break
            continue
        prefix = low[max(cs, m.start() - 90) : m.start()]
        if hedge.search(prefix):
            continue
        tail = low[m.start() : min(ce, m.end() + 25)]
        if _NOT_A_FAILURE.search(tail) or _NOT_A_FAILURE.search(
            low[max(cs, m.start() - 15) : m.end()]
        ):
            continue
        treated = bool(_TREATMENT_RE.search(low, cs, ce))
        if need_treatment and not treated and not _FAIL_SELF_CONTAINED.match(m[0]):
            continue
        yield _span(text, m.start(), m.end()), treated, i


def documented_failure(summary: str | None) -> Finding:
    """True when the summary states a prior treatment failed / did not help.

    Hedged or negated statements are not failures: "there is no evidence that the applicant
    has failed muscle relaxants", "lack of documented failure of conservative care",
    "consider PT if symptoms fail to improve". "Failed to approve" (UR wording) and organ
    failure are not treatment failures. The clause must name a treatment.
    """
    text = summary or ""
    hits = [sp for sp, _, _ in _cue_hits(text, _FAIL_CUE, _HEDGE_BEFORE, True)]
    return Finding(bool(hits), tuple(hits))


_IMPROVE_CUE = _rx(
    r"\bhelp(?:ed|s|ing|ful)\b|\bbeneficial\b|\bbenefit(?:ed|ted|s)?\s+from\b|"
    r"\b(?:significant|good|some|moderate|great|excellent|mild|partial|\d+\s*%|\d+\s+percent)\s+"
    r"(?:pain\s+)?(?:relief|improvement|reduction|benefit)|"
    r"\bimprov(?:ed|ement|ing|es)\b|\brelie(?:f|ves|ved)\b|"
    r"\bdecreas(?:ed|e)\s+(?:in\s+)?(?:pain|tenderness|symptoms|spasm)|"
    r"\breduc(?:ed|tion)\s+(?:in\s+)?(?:pain|symptoms)|"
    r"\bpain\s+(?:had\s+|has\s+|was\s+|is\s+)?(?:decreased|reduced|better|controlled)|"
    r"\bincreased\s+(?:function\w*|range|mobility|strength|activit\w*|flexibility)|"
    r"\bfunctional\s+(?:improvement|gains?)|\bmore\s+flexible|\bless\s+pain\b|"
    r"\bbetter\s+(?:with|after|since)\b|"
    r"\b(?:noted|found|seemed|appeared|reported|said)\s+to\s+(?:improve|help|relieve|reduce|decrease)",
)
_NO_IMPROVE_CUE = _rx(
    r"\bnot\s+(?:\w+\s+){0,2}?improv\w*|\bno\s+(?:significant\s+|real\s+|lasting\s+|noticeable\s+|"
    r"further\s+)?(?:improvement|relief|benefit|better)\b|\bno\s+changes?\s+in\b|"
    r"\bnot\s+(?:any\s+)?better\b|\b(?:remain(?:s|ed)?|was|were|is|are)\s+unchanged\b|"
    r"\bdid\s+not\s+(?:help|work|improve|benefit|relieve|provide)|"
    r"\bnot\s+(?:beneficial|helpful|effective|helping)\b|" + _NOT_WORKING + "|"
    r"\bwithout\s+(?:\w+\s+)?(?:relief|benefit|improvement)\b|\bdespite\b|\bfailed\b(?!\s+to\s+"
    r"(?:approve|certify|authori[sz]e|support|document|provide|establish|demonstrate))|"
    r"\bno\s+longer\s+(?:helps?|effective|working)|\bminimal\s+(?:relief|improvement|benefit)|"
    r"\bplateau\w*",
)
# Benefit hedges: UR wording and purposes ("injections to reduce pain and restore motion").
_BENEFIT_HEDGE = _rx(
    r"\b(?:lack\w*|documentation|documented|evidence|unclear|whether|if|unless|would|should|"
    r"must|need\w*|required?|criteria|guidelines?|recommend\w*|support\w*|candidate|expected|"
    r"anticipated|goals?|in\s+order|to|for|absence|insufficient|objective)\s*(?:\w+\s+){0,2}$",
)
_BENEFIT_LOOKBACK = 2  # sentences before a cue searched for the treatment it refers to


def documented_benefit(summary: str | None) -> Finding:
    """'improvement', 'no_improvement', 'both' or None, about benefit from prior treatment.

    An improvement counts only when a treatment is named in its clause or the sentence
    before ("physical therapy was helping", "90% improvement following the injection");
    symptoms that merely got better are not a treatment benefit. A statement of no benefit
    counts even without a named treatment ("no changes in complaints or level of
    functioning" over a course of care), but a treatment-attributed improvement outranks an
    unattributed no-improvement ("has not improved much; however, PT has helped").
    """
    text = summary or ""
    low = lower(text)
    sents = sentences(text)

    def attributed(hits):
        out = []
        for sp, treated, i in hits:
            near = treated or any(
                _TREATMENT_RE.search(low, *sents[j])
                for j in range(max(0, i - _BENEFIT_LOOKBACK), i)
            )
            out.append((sp, near))
        return out

    neg_spans = {sp[0] for sp, _, _ in _cue_hits(text, _NO_IMPROVE_CUE, _HEDGE_BEFORE, False)}
    imp = [
        (sp, near)
        for sp, near in attributed(_cue_hits(text, _IMPROVE_CUE, _BENEFIT_HEDGE, False))
        if near and sp[0] not in neg_spans and not _overlaps_negation(text, sp)
    ]
    no = attributed(_cue_hits(text, _NO_IMPROVE_CUE, _HEDGE_BEFORE, False))
    no_attr = [sp for sp, near in no if near]
    if imp and no_attr:
        return Finding("both", tuple(sp for sp, _ in imp) + tuple(no_attr))
    if imp:
        return Finding("improvement", tuple(sp for sp, _ in imp))
    if no:
        return Finding("no_improvement", tuple(sp for sp, _ in no))
    return Finding(None)


_NEG_JUST_BEFORE = _rx(r"\b(?:not|no|never|n't|without|nor)\s+(?:\w+\s+)?$")


def _overlaps_negation(text: str, sp: Span) -> bool:
    low = lower(text)
    return bool(_NEG_JUST_BEFORE.search(low[max(0, sp[0] - 20) : sp[0]]))


# ---------------------------------------------------------------------- imaging studies
_IMAGING_ALL = _labelled(IMAGING_PATTERNS, IMAGING_GATES)
_RESULT_CUE = _rx(
    r"\breveal\w*|\bshow(?:ed|s|ing|n)?\b|\bdemonstrat\w*|\bnotable\s+for|\bsignificant\s+for|"
    r"\bremarkable\s+for|\bconsistent\s+with|\bpositive\s+for|\bnegative\s+for|"
    r"\bunremarkable|\bnormal\b|\babnormal\b|\bimpression\b|\bfindings?\s+(?:of|included|were|was)|"
    r"\bnoted\s+(?:to|for|with)\b|\bconfirm\w*|\bdisclos\w*|\bidentified\b|"
    r"\bdescribed\s+(?:\w+\s+){0,3}as\b|\binterpreted\s+as|\bread\s+as|\bfracture|\btear\b|"
    r"\bherniat\w*|\bprotrusion|\bstenosis|\bdegenerat\w*|\bbulg\w*",
)
_UNAVAILABLE_CUE = _rx(
    r"\bnot\s+(?:been\s+)?(?:provided|available|included|submitted|reviewed|attached|found|"
    r"present(?:ed)?|enclosed|furnished|documented)|\bunavailable\b|\bwas\s+not\s+in\b|"
    r"\bno\s+(?:\w+\s+){0,3}(?:report|results?|findings)\s+(?:was|were|is|are)?\s*"
    r"(?:available|provided|submitted|included|attached)|\bpending\b|"
    r"\b(?:report|results?)\s+(?:was|were|is|are)\s+not\b",
)
_STUDY_DONE_AFTER = _rx(
    r"^[^.;]{0,60}?\b(?:performed|obtained|done|taken|completed|dated|(?:was|were)\s+(?:taken|"
    r"obtained|performed|done))\b|^\s*(?:scans?\s+)?(?:reports?|results?|findings)\b",
)
_STUDY_DONE_BEFORE = _rx(
    r"\b(?:prior|previous|preliminary|recent|old|initial|earlier|outside|hospital|had\s+(?:an?\s+)?|"
    r"underwent\s+(?:an?\s+)?|obtained\s+(?:an?\s+)?|(?:has|have)\s+had\s+(?:an?\s+)?)"
    r"(?:\w+\s+){0,2}$",
)
_REPEAT_BEFORE = _rx(r"\b(?:repeat|updated?|new|follow[\s-]?up)\s+(?:\w+\s+)?$")
_THERAPEUTIC_US = _rx(r"(?:therapeutic|pulsed?|pulse)\s+$|\bultrasound\s+(?:\d|times|x\b)")


def imaging_studies(summary: str | None) -> dict[str, Finding]:
    """Which studies were performed (per modality), and whether results are reported.

    Returns one Finding per modality in ``IMAGING_MODALITIES`` (bool: performed, not just
    requested or planned), ``results_available`` (findings of at least one performed study
    are quoted) and ``report_unavailable`` (the summary says a study's report or results
    were not provided). Unspecified 'diagnostic studies/imaging' add nothing.
    """
    text = summary or ""
    low = lower(text)
    done: dict[str, list[Span]] = {m: [] for m in IMAGING_MODALITIES}
    results: list[Span] = []
    unavailable: list[Span] = []
    for modality, m in _find(_IMAGING_ALL, low):
        if not _case_ok(text, m.start(), m.end()):
            continue
        s, e = sentence_of(text, m.start())
        request, plan, past = _voice(text, s, e)
        unavail = _UNAVAILABLE_CUE.search(low, s, e)
        before = low[max(s, m.start() - 60) : m.start()]
        after = low[m.end() : e]
        if modality == "ultrasound" and (
            _THERAPEUTIC_US.search(before) or _THERAPEUTIC_US.match(low, m.start())
        ):
            continue
        result = _RESULT_CUE.search(low, m.end(), min(e, m.end() + 200))
        attached_done = _STUDY_DONE_AFTER.match(after) or _STUDY_DONE_BEFORE.search(before)
        if unavail and unavail.start() > m.start() - 40:
            # "No MRI report was available", "results of x-rays were not provided":
            # the study exists, its report does not.
            if not _REPEAT_BEFORE.search(before):
                done[modality].append(_span(text, m.start(), m.end()))
                unavailable.append(_span(text, unavail.start(), unavail.end()))
            continue
        if _NEGATED_BEFORE.search(before) or _REPEAT_BEFORE.search(before):
            continue
        if request or plan:
            performed = bool(attached_done) or (result is not None and past)
            if performed and request and not attached_done:
                performed = False
        else:
            performed = True
        if not performed:
            continue
        done[modality].append(_span(text, m.start(), m.end()))
        if result is not None:
            results.append(_span(text, m.start(), result.end()))
    out = {m: Finding(bool(done[m]), tuple(done[m])) for m in IMAGING_MODALITIES}
    out["results_available"] = Finding(bool(results), tuple(results))
    out["report_unavailable"] = Finding(bool(unavailable), tuple(unavailable))
    return out


def service_imaging_modalities(service: str | None) -> list[str]:
    """Imaging modalities named in a service text."""
    text = service or ""
    low = lower(text)
    found = []
    for modality, m in _find(_IMAGING_ALL, low):
        if modality in found or not _case_ok(text, m.start(), m.end()):
            continue
        if not (modality == "ultrasound" and _THERAPEUTIC_US.search(low[: m.start()])):
            found.append(modality)
    return found


def repeat_imaging(
    service: str | None,
    category: str,
    summary: str | None,
    studies: dict[str, Finding],
    service_region: str | None,
) -> Finding:
    """The request is a study of a modality already performed on the same body region.

    The earlier study's region is read from its sentence; when that sentence names no
    region, or the request names none, the modality match alone counts.
    """
    if category != "imaging":
        return Finding(False)
    text = summary or ""
    sents = sentences(text)
    evidence = []
    for modality in service_imaging_modalities(service):
        for sp in studies[modality].evidence if modality in studies else ():
            s, e = next(((a, b) for a, b in sents if a <= sp[0] < b), (sp[0], sp[1]))
            regions = body_regions_in(text[s:e])
            if not regions or service_region is None or service_region in regions:
                evidence.append(_span(text, s, e))
    return Finding(bool(evidence), tuple(evidence))


# --------------------------------------------------------------------------- case facts
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


def chronicity_days(injury_date: Any, reference_date: Any) -> Finding:
    """Days from injury to the UR denial (or the next available pre-filing date)."""
    a, b = _as_date(injury_date), _as_date(reference_date)
    if a is None or b is None:
        return Finding(None)
    days = (b - a).days
    return Finding(days if days >= 0 else None, (), f"{a.isoformat()} -> {b.isoformat()}")


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        try:
            return value.date()
        except (ValueError, TypeError):
            return None
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            from data.dates import parse_date

            return parse_date(value)
    return None


_DIAGNOSIS_LEAD = _rx(
    r"diagnos(?:es|is|ed)\b[^.]{0,70}?(?:\binclude[sd]?\b|\bincluding\b|\bas\s+having\b|"
    r"\bwith\b|\bare\b|\bis\b|\bwere\b|\bwas\b|\bof\b|:)\s*|"
    r"(?:undergoing\s+treatment|being\s+treated|treated)\s+for\s+|"
    r"filed\s+a\s+claim\s+for\s+",
)
_DIAGNOSIS_SPLIT = _rx(r"\s*(?:;|,\s*(?:and\s+)?|\band\b|\bas\s+well\s+as\b)\s*")
_DIAGNOSIS_END = _rx(r"\b(?:reportedly|associated|secondary\s+to|due\s+to|after)\b")


def diagnosis_count(summary: str | None) -> Finding:
    """Number of diagnoses in the first 'diagnoses include X, Y and Z' style list."""
    text = summary or ""
    low = lower(text)
    for s, e in sentences(text):
        m = _DIAGNOSIS_LEAD.search(low, s, e)
        if not m:
            continue
        end = e
        if stop := _DIAGNOSIS_END.search(low, m.end(), e):
            end = stop.start()
        listing = text[m.end() : end].rstrip(" .")
        parts = [p for p in _DIAGNOSIS_SPLIT.split(listing) if len(p.strip()) > 2]
        if parts:
            return Finding(len(parts), (_span(text, m.start(), end),))
    return Finding(None)


_WORK_NOT = _rx(
    r"temporar(?:il)?y\s+(?:and\s+)?total(?:ly)?\s+(?:\w+\s+)?disab\w*|(?-i:\bTTD\b)|"
    r"\boff\s+(?:of\s+)?work\b|\bnot\s+(?:currently\s+)?working\b|\bhas\s+not\s+returned\s+to\s+work|"
    r"\bunable\s+to\s+work|\bremains?\s+off\b|\btotally\s+disabled|\bnot\s+returned\s+to\s+work",
)
_WORK_MODIFIED = _rx(
    r"modified\s+(?:work|duty|duties)|(?:work|activity)\s+restrictions|restricted\s+(?:work|duty)|"
    r"light\s+duty|with\s+restrictions|(?:lifting|work)\s+limitations?|desk\s+job",
)
_WORK_RETURNED = _rx(
    r"return(?:ed)?\s+to\s+(?:full|regular|usual)\s+(?:work|duty|duties)|returned\s+to\s+work|"
    r"working\s+full[\s-]time|full\s+duty|regular\s+duty|currently\s+working|\bis\s+working\b|"
    r"\bwas\s+working\b|continues\s+to\s+work",
)
_WORK_HEDGE = _rx(r"whether|not\s+clear|unclear|unknown|not\s+(?:explicitly\s+)?stated")


def work_status(summary: str | None) -> Finding:
    """'not_working' (TTD/off work), 'modified', 'working' or 'unknown'.

    Off-work statements outrank modified duty, which outranks working: summaries list
    several dates and the more restrictive status is the one reviewers weigh.
    """
    text = summary or ""
    low = lower(text)
    for label, rx, keys in (
        ("not_working", _WORK_NOT, ("disab", "ttd", "off", "not working", "unable", "not ret")),
        ("modified", _WORK_MODIFIED, ("modified", "restrict", "duty", "limitation", "desk")),
        ("working", _WORK_RETURNED, ("return", "full", "regular", "working", "to work")),
    ):
        if not _gate(low, 0, len(low), keys):
            continue
        spans = []
        for m in rx.finditer(low):
            if label == "working" and _WORK_HEDGE.search(low, *sentence_of(text, m.start())):
                continue
            spans.append(_span(text, m.start(), m.end()))
        if label == "working":  # "return to work with restrictions" is modified duty
            spans = [sp for sp in spans if "restrict" not in low[sp[1] : sp[1] + 25]]
        if spans:
            return Finding(label, tuple(spans))
    return Finding("unknown")


# Topical first: "ketoprofen cream" is a topical, "ketoprofen" an NSAID.
_MED_ORDER = ("topical", *(c for c in MEDICATION_CLASSES if c != "topical"))
_MED_ALL = _labelled(
    {c: rf"\b(?:{_words_to_alt(MEDICATION_NAMES[c])})\b" for c in _MED_ORDER},
    {c: frozenset(n.split("_")[0] for n in MEDICATION_NAMES[c].split()) for c in _MED_ORDER},
)
_MED_NEGATED = _rx(r"\b(?:not|no|never|den(?:y|ies|ied)|stop(?:ped)?|without)\s+(?:\w+\s+){0,4}$")


def medication_classes(summary: str | None) -> dict[str, Finding]:
    """Medication classes the summary says are (or were) in use.

    Mentions inside request/UR sentences are skipped (they are what is being asked for),
    as are negated ones ("did not want the opiates").
    """
    text = summary or ""
    low = lower(text)
    found: dict[str, list[Span]] = {c: [] for c in MEDICATION_CLASSES}
    for cls, m in _find(_MED_ALL, low):
        s, e = sentence_of(text, m.start())
        before = low[max(s, m.start() - 50) : m.start()]
        if _MED_NEGATED.search(before):
            continue
        if _voice(text, s, e)[0] and not _CLOSE_PAST_BEFORE.search(before):
            continue
        found[cls].append(_span(text, m.start(), m.end()))
    return {c: Finding(bool(v), tuple(v)) for c, v in found.items()}


_SURGERY_WORDS = (
    r"surger(?:y|ies)|surgical\s+(?:repair|intervention|procedure|release)|arthroscop\w*|"
    r"repair|fusion|laminectomy|laminotomy|discectomy|microdiscectomy|decompression|ORIF|"
    r"open\s+reduction|arthroplasty|replacement|release|reconstruction|resection|fixation|"
    r"pinning|closed\s+reduction|laparotomy|[a-z]+(?:ectomy|otomy|oplasty)"
)
_SURGERY_RE = _rx(
    rf"\bstatus[\s-]+post\b|\bs/p\b|\bpost[\s-]?op(?:erative(?:ly)?)?\b(?!\s+(?:physical|therapy|"
    rf"PT|brace|sling|percocet|zofran|medication|DME))|"
    rf"\bunderw[e]?nt\b[^.;]{{0,70}}?\b(?:{_SURGERY_WORDS})\b|"
    rf"\b(?:prior|previous|past)\s+(?:\w+\s+){{0,3}}?(?:{_SURGERY_WORDS})\b|"
    rf"\b(?:{_SURGERY_WORDS})\b[^.;]{{0,40}}?\b(?:was|were)\s+(?:performed|done)\b|"
    rf"\b(?:{_SURGERY_WORDS})\s+(?:on|in)\s+(?:\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|"
    rf"\bha(?:s|d|ve)\s+(?:had\s+)?(?:an?\s+)?(?:\w+\s+){{0,3}}?(?:{_SURGERY_WORDS})\b",
)
# Literal substrings one of which every _SURGERY_RE match contains: a cheap sentence gate.
_SURGERY_KEYS = (
    "status", "s/p", "post", "underw", "surg", "ectomy", "otomy", "plasty", "repair", "fusion",
    "orif", "reduction", "release", "reconstruct", "resection", "fixation", "pinning",
    "arthroscop", "replacement", "decompression",
)  # fmt: skip
_SURGERY_NEGATED = _rx(
    r"\b(?:no|not|never|denies|without|non-?operative|avoid\w*)\s+(?:\w+\s+){0,3}$|"
    r"noncontributory|non-contributory",
)


def surgery_history(summary: str | None) -> Finding:
    """True when the summary reports a surgery already performed (not requested)."""
    text = summary or ""
    low = lower(text)
    spans = []
    for s, e in sentences(text):
        if not _gate(low, s, e, _SURGERY_KEYS):
            continue
        request, _plan, _past = _voice(text, s, e)
        for m in _SURGERY_RE.finditer(low, s, e):
            before = low[max(s, m.start() - 40) : m.start()]
            if _SURGERY_NEGATED.search(before) or _SURGERY_NEGATED.search(m[0]):
                continue
            if request and not re.match(r"(?:status|s/p|underw)", m[0]):
                continue
            spans.append(_span(text, m.start(), m.end()))
    return Finding(bool(spans), tuple(spans))


_PSYCH_RE = _rx(
    r"depress\w*|anxiety|anxious|(?-i:\bPTSD\b)|post-?\s?traumatic\s+stress|adjustment\s+disorder|"
    r"psychiatr\w*|psycholog\w*|mood\s+disorder|bipolar|panic\s+(?:attacks?|disorder)|"
    r"suicid\w*|emotional\s+(?:stress|distress)|(?:psychological|mental)\s+stress|\bstress\b(?!\s+"
    r"(?:fracture|test\w*|reaction|x-?ray|view))",
)
_PSYCH_NEGATED = _rx(r"\b(?:no|denie[sd]|deny|without|negative\s+for)\s+(?:\w+\s+){0,3}$")


def psych_comorbidity(summary: str | None) -> Finding:
    """True when the summary mentions a psychological condition or psych care."""
    text = summary or ""
    low = lower(text)
    spans = [
        _span(text, m.start(), m.end())
        for m in _PSYCH_RE.finditer(low)
        if not _PSYCH_NEGATED.search(low[max(0, m.start() - 40) : m.start()])
    ]
    return Finding(bool(spans), tuple(spans))


# ------------------------------------------------------------------ requested service type
SERVICE_CATEGORIES = (
    "physical_therapy",
    "chiropractic",
    "acupuncture",
    "injection",
    "imaging",
    "medication",
    "surgery",
    "dme",
    "consultation",
    "psychological",
    "lab_test",
    "other",
)
_PREFIX = _rx(
    r"^\s*(?:associated\s+surgical\s+services?\s*:|retrospective(?:\s+request)?(?:\s+for)?|"
    r"(?:pre|post)[\s-]?op(?:erative)?|purchase\s+of|rental\s+of)\s*",
)
_CATEGORY_RULES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (cat, _rx(rx))
    for cat, rx in (
        (
            "psychological",
            r"psycho\w*|\bpsych\b|psychiatr\w*|cognitive[\s-]+behav\w*|(?-i:\bCBT\b)|"
            r"partial\s+hospitali[sz]ation|biofeedback|counsel\w*",
        ),
        (
            "other",
            r"inpatient|skilled\s+nursing|\bSNF\b|home\s+(?:health|aide|care)|\bnurs\w*|"
            r"(?-i:\bRN\b)|\bassist\w*|\bPA\b\s*$|^\s*PA\b|transportation|rehabilitation\s+unit|"
            r"gym\s+membership|weight\s+loss|\bhelper\b|shockwave|\bESWT\b|neurostimulation|"
            r"impedance",
        ),
        (
            "lab_test",
            r"(?-i:\bEKG\b|\bECG\b|\bCBC\b|\bBMP\b|\bCMP\b|\bPTT\b|\bINR\b|\bUDS\b|\bFCE\b)|"
            r"electrocardiogra\w*|\blabs?\b|laborator\w*|blood\s+(?:test|work|draw)|urin\w*|"
            r"drug\s+(?:screen|test)\w*|toxicolog\w*|functional\s+capacity|metabolic\s+panel|"
            r"genetic\s+test\w*|\bA1c\b|hemoglobin|chest\s+x-?ray|electroencephal\w*|(?-i:\bEEG\b)",
        ),
        (
            "imaging",
            r"\bMRIs?\b|magnetic\s+resonance|(?-i:\bCT\b)|\bCAT\s+scan|computed\s+tomograph\w*|"
            r"x[\s-]?rays?|radiograph\w*|bone\s+scan|\bEMGs?\b|\bNCVs?\b|\bNCSs?\b|"
            r"nerve\s+conduction|electro-?\s?diagnostic|electromyogra\w*|arthrogra\w*|"
            r"myelogra\w*|\bDEXA\b|\bPET\b|sonogra\w*|diagnostic\s+ultrasound|(?-i:\bSSEP\b)|"
            r"ultrasound\s+(?:of|for)\s+the\b|doppler",
        ),
        (
            "injection",
            r"inject\w*|\bblocks?\b|epidural|\bESIs?\b|trigger\s+points?\b(?!\s+impedance)|"
            r"facet|radiofrequency|rhizotomy|ablation|platelet|\bPRP\b|viscosupplement\w*|"
            r"synvisc|hyaluron\w*|botox|prolotherapy|medial\s+branch|neurolytic|neuroplasty",
        ),
        (
            "chiropractic",
            r"chiropract\w*|chiro\w*|manipulat\w*|(?-i:\bCMT\b)|spinolator|traction",
        ),
        ("acupuncture", r"acupunct\w*"),
        (
            "physical_therapy",
            r"physical\s+therap\w*|physiotherap\w*|(?-i:\bPT\b)(?!/PTT)|occupational\s+therap\w*|"
            r"(?-i:\bOT\b)|aqua\w*\s+therap\w*|pool\s+therap\w*|hand\s+therapy|"
            r"therapeutic\s+exercise|electrical\s+(?:muscle\s+)?stimulation|e-?stim|"
            r"ultrasound|massage|myofascial\s+release|manual\s+therapy|infrared|"
            r"work\s+(?:hardening|conditioning)|\b(?:exam|examination)\s+\d+\s*(?:x|times)",
        ),
        (
            "surgery",  # named procedures; a bare "surgery" may be a surgical consult
            r"arthroscop\w*|repair|fusion|laminectomy|discectomy|decompression|(?-i:\bORIF\b)|"
            r"arthroplasty|replacement|\brelease\b|tenodesis|reconstruction|"
            r"\b[a-z]+(?:ectomy|otomy|oplasty)\b|excision|debridement",
        ),
        (
            "consultation",
            r"consult\w*|referral|\brefer\b|\bevaluation\b|\beval\b|clearance|\bTOC\b|"
            r"transfer\s+of\s+care|second\s+opinion|follow[\s-]?up\s+visit|office\s+visit|"
            r"\bexam(?:ination)?\b|re-?exam\w*|specialist",
        ),
        ("surgery", r"surger\w*|surgical|\bprocedure\b"),
        (
            "dme",
            r"\bbrace|\bsplint|(?-i:\bTENS\b)|\bunit\b|\bcane\b|crutch\w*|walker|wheel\s?chair|"
            r"commode|shower\s+chair|cold\s+(?:compression\s+)?therapy|cryotherapy|hot/cold|"
            r"ice/heat|heat\s+therapy|\bsling\b|slingshot|orthotic\w*|insoles?|pillow|mattress|"
            r"\bbed\b|cushion|scooter|workstation|\bchair\b|\bboot\b|collar|\bsupport\b|"
            r"garment|stimulator|\bpump\b|compression\s+(?:stockings?|device)|\bwrap\b|"
            r"\bpads?\b(?!\s*#)|durable|\bkit\b",
        ),
    )
)
_MED_SERVICE = _rx(
    rf"\b(?:{_DRUGS})\b|\d\s*(?:mg|mcg|gm?|ml)\b|\d\s*%|#\s*\d|\btabs?\b|\btablets?\b|"
    r"capsules?|\bcream\b|\bgel\b|\bointment\b|\bpatch\b|\bsupply\b|\brefills?\b",
)
# Unmistakable medication signals, checked before the DME rules ("Salonpas pad #60").
_MED_STRONG = _rx(rf"\b(?:{_DRUGS})\b|\d\s*(?:mg|mcg)\b")


def service_category(service: str | None) -> Finding:
    """Requested service type, one of :data:`SERVICE_CATEGORIES`.

    Rules are ordered, first match wins: psych, facility/nursing ("other"), labs (so
    "PT/PTT" is a lab), imaging (diagnostic ultrasound only; bare "Ultrasound 1 times 8" is a
    therapy modality), injections, chiropractic, acupuncture, physical therapy, named
    surgical procedures, then a named drug or dose ("Twelve acupuncture visits with
    Capsaicin patch" stays acupuncture), consultation, "surgery", DME, medication forms.
    """
    text = service or ""
    low = lower(text)
    prefix = _PREFIX.match(low)
    pos = prefix.end() if prefix else 0  # "Associated surgical service: Shoulder Brace"
    for cat, rx in _CATEGORY_RULES:
        if cat == "consultation" and (m := _MED_STRONG.search(low, pos)):
            return Finding("medication", (_span(text, m.start(), m.end()),))
        if m := rx.search(low, pos):
            return Finding(cat, (_span(text, m.start(), m.end()),))
    if m := _MED_SERVICE.search(low, pos):
        return Finding("medication", (_span(text, m.start(), m.end()),))
    return Finding("other")


SERVICE_MED_CLASSES = (*MEDICATION_CLASSES, "other_medication")
_TOPICAL_FORM = re.compile(r"\bcream\b|\bgel\b|\bointment\b|\bpatch\b|transdermal|topical|%")
_ORAL_FORM = re.compile(r"\b(?:tabs?|tablets?|capsules?|oral)\b")


def service_medication_class(service: str | None, category: str) -> Finding:
    """Medication class of a medication request (``None`` when it is not a medication).

    A compounded topical ("Flurbiprofen 20%, Baclofen 5% ... in cream base") is 'topical'
    whatever its ingredients: topical form is what the guidelines judge.
    """
    if category != "medication":
        return Finding(None)
    text = service or ""
    low = lower(text)
    if (m := _TOPICAL_FORM.search(low)) and not _ORAL_FORM.search(low):
        return Finding("topical", (_span(text, m.start(), m.end()),))
    for cls, m in _find(_MED_ALL, low)[:1]:
        return Finding(cls, (_span(text, m.start(), m.end()),))
    return Finding("other_medication")


# ------------------------------------------------------------------- claims administrator
CA_FAMILIES = ("mtus", "acoem", "odg", "none")


def ca_guideline_families(families: Iterable[str] | None, statement: str | None = None) -> Finding:
    """Guideline families the claims administrator's UR relied on ('none' when it cited none).

    Uses the parsed ``claims_admin_families`` when present, else parses the statement.
    """
    fams: Sequence[str]
    if families is not None and not isinstance(families, str | float):
        fams = [str(f).lower() for f in families]
    elif statement:
        from data.guidelines import guideline_families

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


__all__ = [
    "CA_FAMILIES",
    "SERVICE_CATEGORIES",
    "SERVICE_MED_CLASSES",
    "Finding",
    "adds_to_prior",
    "body_regions",
    "ca_guideline_families",
    "chronicity_days",
    "diagnosis_count",
    "documented_benefit",
    "documented_failure",
    "guideline_comparison",
    "imaging_studies",
    "medication_classes",
    "prior_therapy",
    "prior_total",
    "psych_comorbidity",
    "repeat_imaging",
    "request_modality",
    "request_region",
    "requested_amount",
    "sentences",
    "service_category",
    "service_medication_class",
    "surgery_history",
    "work_status",
]
