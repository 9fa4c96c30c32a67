"""Property-based tests: whatever the input, the parser returns items or a reported error."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.ingest import process_file
from data.letters.errors import LetterError
from data.letters.parser import parse_letter
from tests.helpers.letters import letter

BASE = letter(items=(("Physical therapy x 6 visits", "Upheld"), ("MRI of the knee", "Overturned")))
BASE_LINES = BASE.splitlines()
FAST = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def _check(text: str) -> None:
    try:
        parsed = parse_letter(text)
    except LetterError as err:
        assert err.reason and err.kind
        return
    assert parsed.items
    for item in parsed.items:
        assert item.decision in ("Upheld", "Overturned")
        assert isinstance(item.service, str)


@FAST
@given(st.text(max_size=3000))
def test_random_text(text):
    _check(text)


@st.composite
def mutated_letters(draw):
    lines = list(BASE_LINES)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "swap", "truncate", "garble"]))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if not lines:
            break
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, draw(st.text(max_size=80)))
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "truncate":
            lines = lines[:i]
        else:
            line = lines[i]
            k = draw(st.integers(0, len(line)))
            lines[i] = line[:k] + draw(st.text(max_size=20)) + line[k:]
    return "\n".join(lines)


@FAST
@given(mutated_letters())
def test_mutated_letters(text):
    _check(text)


@settings(
    max_examples=100, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=4000), st.sampled_from([".txt", ".pdf", ".dat"]))
def test_random_bytes_never_crash_ingestion(tmp_path, data, suffix):
    path = Path(tmp_path) / f"random{suffix}"
    path.write_bytes(data)
    outcome = process_file(path)
    assert outcome.status in ("parsed", "failed")
    if outcome.status == "failed":
        assert outcome.reason and outcome.kind != "internal_error", outcome.reason


_PDF = None


def _pdf() -> bytes:
    global _PDF
    if _PDF is None:
        from tests.helpers.pdf_maker import text_pdf

        _PDF = text_pdf(BASE_LINES)
    return _PDF


@settings(
    max_examples=150, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=20))
def test_corrupted_pdfs_never_crash_ingestion(tmp_path, flips):
    data = bytearray(_pdf())
    for position, value in flips:
        data[position % len(data)] = value
    path = Path(tmp_path) / "corrupt.pdf"
    path.write_bytes(bytes(data))
    outcome = process_file(path)
    assert outcome.status in ("parsed", "failed")
    if outcome.status == "failed":
        assert outcome.kind != "internal_error", outcome.reason
