"""The charts speak the page's colours: green toward Overturned, red toward Upheld."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from models.plots import TOWARD_OVERTURNED, TOWARD_UPHELD, importance_chart

REPO = Path(__file__).resolve().parents[2]


def test_the_importance_chart_uses_the_pages_direction_colours():
    css = (REPO / "web" / "static" / "style.css").read_text(encoding="utf-8")
    up = re.search(r"--up:\s*(#[0-9a-fA-F]{6})", css)[1]
    down = re.search(r"--down:\s*(#[0-9a-fA-F]{6})", css)[1]
    assert (TOWARD_OVERTURNED.lower(), TOWARD_UPHELD.lower()) == (up.lower(), down.lower())


def test_the_importance_chart_colours_each_bar_by_its_direction(tmp_path, monkeypatch):
    import matplotlib.axes

    drawn = {}
    barh = matplotlib.axes.Axes.barh

    def recording_barh(self, y, width, **kw):
        drawn.update(zip(y, kw["color"], strict=True))
        return barh(self, y, width, **kw)

    monkeypatch.setattr(matplotlib.axes.Axes, "barh", recording_barh)
    table = pd.DataFrame(
        {
            "feature": ["a", "b"],
            "importance": [0.3, 0.1],
            "direction": ["toward Upheld", "toward Overturned"],
        }
    )
    out = importance_chart(table, tmp_path / "imp.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawn == {"a": TOWARD_UPHELD, "b": TOWARD_OVERTURNED}
