"""Pictures a person would rather see than read: reliability diagram, importance chart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    return plt


def reliability_diagram(
    y: np.ndarray, curves: dict[str, np.ndarray], path: Path, *, n_bins: int = 10, title: str = ""
) -> Path:
    """Observed overturn rate against mean predicted probability, quantile bins."""
    plt = _pyplot()
    fig, (ax, hist) = plt.subplots(
        2, 1, figsize=(6, 7), gridspec_kw={"height_ratios": [3, 1]}, sharex=True
    )
    top = 0.0
    for name, p in curves.items():
        p = np.asarray(p, dtype=float)
        order = np.argsort(p, kind="stable")
        bins = [b for b in np.array_split(order, max(1, min(n_bins, len(p) // 10 or 1))) if len(b)]
        mean_p = [p[b].mean() for b in bins]
        observed = [np.asarray(y)[b].mean() for b in bins]
        ax.plot(mean_p, observed, marker="o", label=name)
        hist.hist(p, bins=20, range=(0, 1), alpha=0.5, label=name)
        top = max(top, *mean_p, *observed)
    top = min(1.0, top * 1.1 + 0.02)
    ax.plot([0, top], [0, top], "k--", linewidth=1, label="perfectly calibrated")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_ylabel("observed overturn rate")
    ax.set_title(title or "Reliability (held-out, letter-grouped)")
    ax.legend(loc="upper left")
    hist.set_xlabel("predicted P(Overturned)")
    hist.set_ylabel("items")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


#: The web page's colours (``--up`` and ``--down`` in ``web/static/style.css``): one meaning
#: of green and red wherever a person sees a direction.
TOWARD_OVERTURNED, TOWARD_UPHELD = "#1c7a3f", "#a33a1c"


def importance_chart(table: pd.DataFrame, path: Path, *, top: int = 25, title: str = "") -> Path:
    """Horizontal bars of the largest importances, coloured by direction of effect as the
    web page colours it (green toward Overturned, red and hatched toward Upheld: the hatch
    tells them apart without colour)."""
    from matplotlib.patches import Patch

    plt = _pyplot()
    rows = table.head(top).iloc[::-1]
    overturned = [d == "toward Overturned" for d in rows["direction"]]
    # sized for reading at a page's width: full names at 11 pt, a row of space per bar
    fig, ax = plt.subplots(figsize=(10, max(3.5, 0.42 * len(rows) + 1.6)))
    bars = ax.barh(
        rows["feature"],
        rows["importance"],
        color=[TOWARD_OVERTURNED if up else TOWARD_UPHELD for up in overturned],
    )
    for bar, up in zip(bars, overturned, strict=True):
        if not up:
            bar.set_hatch("//")
            bar.set_edgecolor("white")
    ax.legend(
        handles=[
            Patch(facecolor=TOWARD_OVERTURNED, label="toward Overturned"),
            Patch(facecolor=TOWARD_UPHELD, hatch="//", edgecolor="white", label="toward Upheld"),
        ],
        loc="lower right",
        fontsize=11,
    )
    ax.set_xlabel("importance", fontsize=11)
    ax.set_title(title or "Global feature importance", fontsize=13)
    ax.tick_params(axis="y", labelsize=11)
    ax.tick_params(axis="x", labelsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
