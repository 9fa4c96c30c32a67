"""Save and load the fitted pipeline in the skops format, trusting listed types only.

skops refuses to instantiate any type it is not told to trust. We trust the types of
scikit-learn, NumPy and SciPy and of this project's own packages, and name any other
type found in a file in the error, so a tampered file cannot run arbitrary code.
"""

from __future__ import annotations

from pathlib import Path

#: Modules whose types a model file may contain.
TRUSTED_MODULE_PREFIXES = (
    "sklearn.",
    "numpy.",
    "scipy.sparse.",
    "builtins.",
    "collections.",
    "functools.partial",
    "features.",
    "models.",
    "data.",
)


class UntrustedModelError(RuntimeError):
    """A model file holds types outside :data:`TRUSTED_MODULE_PREFIXES`."""


def save_pipeline(model, path: Path) -> Path:
    """Write a fitted pipeline to ``path`` (skops)."""
    import skops.io as sio

    sio.dump(model, path)
    return Path(path)


def trusted_types(path: Path) -> list[str]:
    """The types in a skops file, all of which must come from trusted modules."""
    import skops.io as sio

    found = sio.get_untrusted_types(file=path)
    rejected = [t for t in found if not t.startswith(TRUSTED_MODULE_PREFIXES)]
    if rejected:
        raise UntrustedModelError(
            f"{path}: refusing to load types from untrusted modules: {', '.join(rejected)}"
        )
    return found


def load_pipeline(path: Path):
    """Load a pipeline written by :func:`save_pipeline`."""
    import skops.io as sio

    return sio.load(path, trusted=trusted_types(path))
