"""Published overturn rates (CWCI, DWC) as priors for the category rates of few letters.

``../shared/stats/published_overturn_rates.csv`` (not ours; read in place, never copied)
holds overturn shares of California workers' compensation IMR decisions by year and, for
a few categories, by category. :func:`published_rates` averages them per service category
of :mod:`features.services` (and overall); :func:`shrunk_rate` pulls a category's rate
in the training letters toward its published rate, by :data:`PSEUDO_ITEMS` items' worth,
so that a category seen in five letters is not taken at face value.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from settings import SHARED_DIR

logger = logging.getLogger(__name__)

PUBLISHED_RATES_FILE = SHARED_DIR / "stats" / "published_overturn_rates.csv"
#: How many items' worth of weight the published rate (or the training prior) gets against
#: a category's training letters: the one shrinkage of the project, used by the evaluated
#: category-rate baseline and by the rate users are shown alike.
PSEUDO_ITEMS = 10.0
#: The publishers' category names -> the service categories they speak for.
CATEGORY_OF = {
    "all": "_overall",
    "prescription drugs": "medication",
    "evaluation and management": "consultation",
    "psychological services": "psychological",
    "injections": "injection",
}


def published_rates(path: Path = PUBLISHED_RATES_FILE) -> dict[str, float]:
    """``{category: mean published overturn share}`` (``_overall`` for all decisions);
    empty when the file is absent or unreadable (then the training prior is the prior)."""
    try:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        logger.info("no published overturn rates at %s (%s)", path, exc.strerror)
        return {}
    shares: dict[str, list[float]] = {}
    for row in rows:
        category = CATEGORY_OF.get((row.get("category") or "").strip().lower())
        try:
            share = float(row["overturned_share"])
        except (KeyError, TypeError, ValueError):
            continue
        if category:
            shares.setdefault(category, []).append(share)
    return {category: sum(v) / len(v) for category, v in shares.items()}


def shrunk_rate(overturned: float, items: float, prior: float) -> float:
    """Empirical-Bayes estimate: the training rate pulled toward ``prior``."""
    return (overturned + PSEUDO_ITEMS * prior) / (items + PSEUDO_ITEMS)
