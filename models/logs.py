"""The one logging set-up of the command lines: warnings and errors to stderr, one line each.

Library modules only call ``logging.getLogger(__name__)``; a CLI calls :func:`setup_logging`
once, so messages look the same from every program and never carry a traceback. A message
may quote untrusted text (a file name, a field, a site's answer): its control characters
are escaped (:func:`data.letters.names.printable`), so it stays one line and cannot drive
the terminal.
"""

from __future__ import annotations

import logging
import sys

from data.letters.names import printable


class _PrintableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def setup_logging(level: int = logging.WARNING) -> None:
    """Route the root logger to stderr as ``LEVEL: message`` (replacing other handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
