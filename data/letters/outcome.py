"""What became of one input file: one entry of ``ingest_report.json``.

``path`` is the escaped display form of the file's path (:func:`data.letters.names.display_name`)
and ``path_hex`` the lossless hex of its bytes, so a file name can never break a report,
a table or a terminal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from data.letters.names import display_name, path_hex

#: ``parsed`` and ``conflict`` add the letter's items; ``duplicate`` and ``failed`` add none.
STATUSES = ("parsed", "conflict", "duplicate", "failed")
_REPORT_FIELDS = (
    "path",
    "path_hex",
    "status",
    "items",
    "reason",
    "kind",
    "sha256",
    "duplicate_of",
    "conflict_with",
)


@dataclass
class FileOutcome:
    """What became of one input file."""

    path: str  # display form (escaped), never the raw name
    status: str  # one of STATUSES
    path_hex: str | None = None
    items: int = 0
    reason: str | None = None
    kind: str | None = None
    sha256: str | None = None
    duplicate_of: str | None = None
    conflict_with: str | None = None
    records: list[dict] = field(default_factory=list, repr=False)

    @classmethod
    def of(cls, path: str | os.PathLike, status: str, **fields) -> FileOutcome:
        """An outcome for ``path`` (any str, bytes or path; stored escaped and as hex)."""
        return cls(display_name(path), status, path_hex=path_hex(path), **fields)

    @classmethod
    def failed(cls, path: str | os.PathLike, reason: str, *, kind: str, **fields) -> FileOutcome:
        """A file set aside, with the reason a person can act on and its kind."""
        return cls.of(path, "failed", reason=reason, kind=kind, **fields)

    def report_entry(self) -> dict:
        """The JSON entry: the fields that are set."""
        return {k: v for k in _REPORT_FIELDS if (v := getattr(self, k)) is not None}
