"""Untrusted text (services, summaries, evidence, file names, site pages) made safe to print.

Everything a command line prints through ``rich`` is parsed for markup (``[bold]``,
``[link=...]``), and everything that reaches a terminal is read for control sequences
(``\\x1b[2J`` clears the screen, ``\\x1b]0;`` sets the window title). Text that came from a
letter, a draft, a batch file, a file name or a web page is data, never markup: pass it
through :func:`terminal_text` before it is printed or put into a ``rich`` table.
"""

from __future__ import annotations

from rich.markup import escape

from data.letters.names import printable


def terminal_text(value: object) -> str:
    """``value`` as text with control characters escaped (``\\x1b`` ...) and ``rich``
    markup escaped (``\\[bold]``): printed, it shows exactly its characters."""
    return escape(printable(str(value)))
