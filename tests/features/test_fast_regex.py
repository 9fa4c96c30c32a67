"""``features.fast_regex._rx``'s first-character lookahead never changes a match.

``_rx`` parses a pattern with ``re``'s private parser to find the characters a match can
start with, and puts ``(?=[those])`` in front. Every such pattern the feature modules
compile is compared here with the plain ``re.compile`` of the same lower-cased source, on
the real letters' case summaries and service texts: same matches, same spans, same groups,
over whole texts and sentence by sentence (where ``^``/``$`` and the pos/endpos bounds that
the extractors use come into play). ``benchmarks/bench_regex.py`` measures what it saves.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from features.fast_regex import _lowered, _rx, _with_lookahead, compiled_patterns

#: An optimised source: the lookahead's class (escaped characters), then the plain source.
_OPTIMISED = re.compile(r"\(\?=\[((?:\\.|[^\\\]])+)\]\)\(\?:(.*)\)", re.DOTALL)


def _plain(pattern: re.Pattern) -> re.Pattern | None:
    """The plain pattern behind an optimised one (None when ``pattern`` has no lookahead)."""
    m = _OPTIMISED.fullmatch(pattern.pattern)
    if m is None:
        return None
    assert _with_lookahead(m[2]) == pattern.pattern  # the split above is exact
    return re.compile(m[2])


def _matches(pattern: re.Pattern, text: str, pos: int = 0, endpos: int | None = None):
    endpos = len(text) if endpos is None else endpos
    return [(m.span(), m.groups()) for m in pattern.finditer(text, pos, endpos)]


def _real_texts(dwc_letters, seeds_dir) -> list[str]:
    from data.letters.parser import parse_letter
    from data.letters.text import letter_text

    letters = list(dwc_letters.values())
    letters += [parse_letter(letter_text(p)) for p in sorted(seeds_dir.glob("*.txt"))]
    texts = [letter.case_summary for letter in letters]
    texts += [item.service for letter in letters for item in letter.items]
    return sorted({t for t in texts if t})  # services repeat across letters


def test_lookahead_patterns_match_exactly_as_plain_re_on_the_real_letters(dwc_letters, seeds_dir):
    from features.extractors import lower, sentences

    pairs = [(p, plain) for p in compiled_patterns() if (plain := _plain(p)) is not None]
    assert len(pairs) >= 50  # the optimiser is in use (71 patterns when this was written)
    texts = _real_texts(dwc_letters, seeds_dir)
    assert len(texts) > 300
    differences, matched = [], 0
    for text in texts:
        low = lower(text)
        bounds = sentences(text)
        for optimised, plain in pairs:
            expected = _matches(plain, low)
            matched += len(expected)
            if _matches(optimised, low) != expected:
                differences.append((plain.pattern[:60], text[:60]))
            elif "$" in plain.pattern or "^" in plain.pattern:  # anchors: per sentence too
                for s, e in bounds:
                    if _matches(optimised, low, s, e) != _matches(plain, low, s, e):
                        differences.append((plain.pattern[:60], low[s : s + 60]))
    assert differences == []
    assert matched > 5_000  # the patterns did match real text (9,968 when written)


def test_the_comparison_sees_a_wrong_lookahead():
    wrong = re.compile("(?=[x])(?:ab|xb)")  # a lookahead that forgets "a"
    assert _OPTIMISED.fullmatch(wrong.pattern)[2] == "ab|xb"
    assert _matches(wrong, "ab xb") != _matches(re.compile("ab|xb"), "ab xb")


def test_which_patterns_get_a_lookahead():
    assert _rx(r"\bfoo\w*|\bbar").pattern == r"(?=[bf])(?:\bfoo\w*|\bbar)"
    assert _rx(r"(?-i:\bPT\b)|therapy").pattern == r"(?=[pt])(?:(?:\bpt\b)|therapy)"
    assert _rx(r"\d+\s*mg|x\d").pattern.startswith("(?=[0123456789x])")
    # left alone: unknown or many first characters, optional first item, literal prefixes
    for source in (r"\w+ing", r"\W", r"\s*;", r"[a-z]+ectomy", r"(?:a|b)?c", "foo", "foo|far"):
        assert _rx(source).pattern == _lowered(source)


_WORDS = st.sampled_from(["pt", "ot", "mri", "no", "not", "x", "12", "at", "a", "ab", "t"])
_ATOMS = st.one_of(
    _WORDS,
    _WORDS.map(lambda w: rf"\b{w}\b"),
    _WORDS.map(lambda w: rf"{w}\w*"),
    _WORDS.map(lambda w: rf"(?:{w})+"),
    _WORDS.map(lambda w: rf"(?!{w}){w[0]}"),
    st.sampled_from([r"\d+", r"[a-c]", r"[0-2x]", r"\s*", r"\s+", "$", "^", r"\W"]),
)
_SOURCES = st.lists(
    st.lists(_ATOMS, min_size=1, max_size=3).map("".join), min_size=1, max_size=4
).map("|".join)
_TEXTS = st.text(alphabet="ptomrinx12ab ,.;\n", max_size=60)


@settings(max_examples=200, deadline=None)
@given(source=_SOURCES, text=_TEXTS)
def test_lookahead_never_changes_a_match_on_generated_patterns(source, text):
    lowered = _lowered(source)
    optimised, plain = re.compile(_with_lookahead(lowered)), re.compile(lowered)
    assert _matches(optimised, text) == _matches(plain, text)
    for pos in range(len(text) + 1):  # match() at every position, as the windows use it
        a, b = optimised.match(text, pos), plain.match(text, pos)
        assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups()))
