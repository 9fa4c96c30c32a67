"""The fetcher's memory: which windows and pages were walked and which letters are on disk.

``OUT/fetch_manifest.json`` is rewritten atomically (temporary file in the same folder, then
``os.replace``) after every page and every letter, so a run killed at any moment leaves
either the previous or the next state, never half of one, and the next run resumes from it.

Shape (version 1)::

    {"version": 1,
     "searches": {QUERY_KEY: {"query": {...}, "id": "q1a2b3c4d5",
                              "windows": {"2024-01-01..2024-01-07": WINDOW}}},
     "files": {CASE_NUMBER: FILE}}

WINDOW: ``status`` (``open`` | ``done`` | ``split``), ``pages``: one entry per results page
(``page``, ``file`` relative to OUT, ``rows``, ``has_next``, ``stated_total``), ``capped``.
FILE: ``status`` (``fetched`` | ``rejected`` | ``failed``), ``url``, ``path`` (relative to
OUT), ``sha256``, ``size``, ``kind``, ``reason``, ``letter_case_number``,
``letter_decisions``, ``fetched_at``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

MANIFEST_FILE = "fetch_manifest.json"
VERSION = 1


class ManifestError(RuntimeError):
    """A manifest that cannot be read; the message says what to do."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    The temporary file starts with a dot: an interrupted write never looks like a letter.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path) -> int:
    """Delete temporary files left by a run that was killed mid-write; return how many."""
    removed = 0
    if folder.is_dir():
        for path in folder.rglob(".*.tmp"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def query_key(query: dict) -> str:
    return json.dumps(query, sort_keys=True)


class Manifest:
    """Load, query and save the manifest of one output folder."""

    def __init__(self, path: Path, data: dict | None = None) -> None:
        self.path = path
        self.data = data or {"version": VERSION, "searches": {}, "files": {}}

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        path = Path(out_dir) / MANIFEST_FILE
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(
                f"{path}: unreadable ({exc}); move it aside to start the walk afresh "
                "(letters already in the folder are recognised and not fetched again)"
            ) from exc
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ManifestError(
                f"{path}: not a version {VERSION} fetch manifest; move it aside to start afresh"
            )
        return cls(path, data)

    def save(self) -> None:
        text = json.dumps(self.data, indent=1, sort_keys=True)
        atomic_write_bytes(self.path, text.encode("utf-8"))

    @property
    def files(self) -> dict[str, dict]:
        return self.data["files"]

    def search(self, query: dict) -> dict:
        """The record of one search (its criteria other than dates), created when new."""
        key = query_key(query)
        searches = self.data["searches"]
        if key not in searches:
            digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()
            searches[key] = {"query": query, "id": f"q{digest[:10]}", "windows": {}}
        return searches[key]

    def window(self, query: dict, key: str, *, create: bool = True) -> dict | None:
        windows = self.search(query)["windows"] if create else self._windows(query)
        if key not in windows:
            if not create:
                return None
            windows[key] = {"status": "open", "pages": [], "capped": False}
        return windows[key]

    def _windows(self, query: dict) -> dict:
        record = self.data["searches"].get(query_key(query))
        return record["windows"] if record else {}
