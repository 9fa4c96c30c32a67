"""The one logging set-up of the command lines: warnings and errors to stderr, one line each.

Library modules only call ``logging.getLogger(__name__)``; a CLI calls :func:`setup_logging`
once, so messages look the same from every program and never carry a traceback.
"""

from __future__ import annotations

import logging
import sys


def setup_logging(level: int = logging.WARNING) -> None:
    """Route the root logger to stderr as ``LEVEL: message`` (replacing other handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
