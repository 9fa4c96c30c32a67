"""A fingerprint of the code that turns letters into a model, logged with every run.

Two runs with the same recipe (candidate, calibration, seed) but different code can
give different models: promotion may take a shortcut only when both match.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Packages whose source shapes a trained model: parsing, features, model and training.
PACKAGES = ("data", "features", "models")


def code_fingerprint(root: Path | None = None) -> str:
    """SHA-256 (16 hex digits) over the names and contents of the packages' ``*.py``."""
    root = Path(__file__).resolve().parents[1] if root is None else Path(root)
    digest = hashlib.sha256()
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]
