"""Pre-filing features of IMR items: extractors, the structured matrix, guideline criteria.

The feature modules cache their work per text (items of one letter share a case summary,
and a cross-validation transforms each row once per fold). Those caches are bounded, but
they hold case summaries, which are medical text: :func:`clear_caches` empties them all,
and a served process calls it after each request (:func:`models.scoring.score.score_rows`).
"""

from __future__ import annotations

import sys


def clear_caches() -> None:
    """Empty every function cache (``functools.lru_cache``) of the ``features`` modules.

    Only modules already imported are visited (one not imported holds nothing), so this
    imports nothing and costs microseconds.
    """
    for name, module in list(sys.modules.items()):
        if module is None or not (name == __name__ or name.startswith(__name__ + ".")):
            continue
        for obj in list(vars(module).values()):
            clear = getattr(obj, "cache_clear", None)
            # a cached function defined in this module (re-exports are cleared at home)
            if callable(clear) and getattr(obj, "__module__", None) == name:
                clear()
