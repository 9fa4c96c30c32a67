"""Text units the extractors share: lower-casing, sentences, clauses, numbers, findings.

:class:`Finding` is what every extractor returns (a value and the :data:`Span` s of the
input that support it). Sentence and clause offsets are cached per text: the items of one
letter share their case summary (:func:`features.clear_caches` empties the caches).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from typing import Any, NamedTuple

from features.fast_regex import _rx
from features.lexicon import NUMBER_WORDS

Span = tuple[int, int, str]

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
