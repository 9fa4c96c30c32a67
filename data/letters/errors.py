"""The one exception type ingestion reports per file, with a reason a person can act on."""

from __future__ import annotations


class LetterError(Exception):
    """A letter (or file) that cannot be turned into items.

    ``reason`` says what is wrong and, where there is one, what to do about it. The file is
    set aside and reported; ingestion of the other files goes on.
    """

    def __init__(self, reason: str, *, kind: str = "unparseable") -> None:
        super().__init__(reason)
        self.reason = reason
        #: short machine-readable class of failure (``empty``, ``not_pdf``, ``bad_decision`` ...)
        self.kind = kind
