"""Case-folded regular expressions, compiled for speed (``_rx``).

Python's ``re`` is several times slower with IGNORECASE, so the extractors lower-case each
text once (ASCII only, offsets unchanged: :func:`features.extractors.text.lower`) and match
it with patterns lower-cased here. When the characters a match can start with are known, a
lookahead on them is put in front (see :func:`_rx`); ``tests/features/test_fast_regex.py`` checks on
the real letters that this never changes a match, and ``benchmarks/bench_regex.py`` measures
what it saves.
"""

from __future__ import annotations

import re
import re._constants as _c
import re._parser as _sre_parser

#: Put the first-character lookahead in front of patterns (the benchmark turns it off
#: before the extractors are imported, to measure what it saves).
LOOKAHEAD = True


def _rx(source: str) -> re.Pattern:
    """Compile a case-insensitive pattern for matching against lower-cased text.

    Python's ``re`` is several times slower with IGNORECASE, so texts are lower-cased once
    (ASCII only, so offsets stay valid for evidence spans) and patterns are lower-cased
    here, escapes such as ``\\W`` and ``\\S`` excepted. ``(?-i:...)`` marks tokens that
    are case-sensitive in the letters (PT, CT, OT); callers re-check those on the original.
    When the characters a match can start with are known, a lookahead on them is put in
    front (:func:`_with_lookahead`).
    """
    lowered = _lowered(source)
    return re.compile(_with_lookahead(lowered) if LOOKAHEAD else lowered)


def _lowered(source: str) -> str:
    """``source`` lower-cased outside escapes, with ``(?-i:`` groups made plain groups."""
    source = source.replace("(?-i:", "(?:")
    out, i = [], 0
    while i < len(source):
        if source[i] == "\\" and i + 1 < len(source):
            out.append(source[i : i + 2])
            i += 2
        else:
            out.append(source[i].lower())
            i += 1
    return "".join(out).replace("(?p<", "(?P<").replace("(?p=", "(?P=")


def _with_lookahead(lowered: str) -> str:
    """``(?=[first chars])(?:lowered)`` when the first characters of a match are known.

    ``re`` then rejects most positions with one class test instead of trying every
    alternative (3-5x faster on these alternations; about a quarter off the whole feature
    extraction, see ``benchmarks/bench_regex.py``). Patterns left as they are: those whose
    first character is unknown or one of many, and those whose every alternative starts
    with a literal (``re`` already scans for it fast).
    """
    parsed = _sre_parser.parse(lowered)
    first = _first_chars(parsed)
    if first and len(first) <= 24 and not _native_prefix(parsed):
        chars = "".join(sorted(re.escape(chr(c)) for c in first))
        return f"(?=[{chars}])(?:{lowered})"
    return lowered


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


def compiled_patterns(package: str = "features") -> list[re.Pattern]:
    """Every compiled pattern held by the loaded modules of ``package`` (module globals and
    the dicts, lists, tuples and sets in them): what the speed benchmark counts and the
    equivalence test checks."""
    import sys

    seen: dict[int, re.Pattern] = {}

    def walk(value):
        if isinstance(value, re.Pattern):
            seen[id(value)] = value
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple | frozenset | set):
            for v in value:
                walk(v)

    for name, module in list(sys.modules.items()):
        if (name == package or name.startswith(package + ".")) and module is not None:
            for value in vars(module).values():
                walk(value)
    return list(seen.values())
