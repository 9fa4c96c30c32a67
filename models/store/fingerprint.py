"""A fingerprint of the code that turns letters into a model, logged with every run.

Two runs with the same recipe (candidate, calibration, seed) but different code can
give different models: promotion may take a shortcut only when both match.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from settings import REPO_ROOT

#: Code whose source shapes a trained model: parsing, features, model, training, settings.
PACKAGES = ("data", "features", "models", "settings.py")


def code_fingerprint(root: Path | None = None) -> str:
    """SHA-256 (16 hex digits) over the names and contents of the packages' ``*.py``."""
    root = REPO_ROOT if root is None else Path(root)
    digest = hashlib.sha256()
    for package in PACKAGES:
        paths = [root / package] if package.endswith(".py") else (root / package).rglob("*.py")
        for path in sorted(paths):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]
