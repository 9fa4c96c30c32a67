"""How the page words a what-if: a move too small to show is said in words, not as '+0.0'."""

from __future__ import annotations

import pytest

from web.present import _what_if_view


@pytest.mark.parametrize(
    ("change", "text", "direction"),
    [
        (0.0, "no measurable change in the estimate", ""),
        (0.0004, "no measurable change in the estimate", ""),
        (-0.0004, "no measurable change in the estimate", ""),
        (0.0012, "+0.1 points", "up"),
        (-0.031, "-3.1 points", "down"),
        (None, "no measurable change in the estimate", ""),
    ],
)
def test_a_what_if_says_its_move_or_that_there_is_none(change, text, direction):
    view = _what_if_view({"fact": "f", "added_text": "a", "p_overturned": 0.1, "change": change})
    assert (view.change_text, view.direction) == (text, direction)
