"""Untrusted text (services, summaries, evidence, file names, site pages) made safe to print.

Everything a command line prints through ``rich`` is parsed for markup (``[bold]``,
``[link=...]``) and emoji codes (``:warning:``), and everything that reaches a terminal is
read for control sequences (``\\x1b[2J`` clears the screen, ``\\x1b]0;`` sets the window
title). Text that came from a letter, a draft, a batch file, a file name, an exception
message or a web page is data, never markup. Pick the form by how it is printed:

- inside a ``rich`` markup string: ``f"[bold]{terminal_text(value)}[/bold]"``;
- as a ``rich`` renderable (a table cell, a rule's title, a line of its own):
  ``plain_text(value)``, a :class:`rich.text.Text` that ``rich`` never parses;
- with the built-in ``print`` (no ``rich``): ``printable(value)``.

All three escape control characters the same way (``\\x1b``, ``\\n``, ``\\u202e``: see
:func:`data.letters.names.printable`), so a value prints on one line as exactly its
characters. The command lines print through :func:`terminal_console`, whose emoji codes
are off, so a ``:name:`` in a value stays as typed.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

from data.letters.names import printable

__all__ = ["plain_text", "printable", "terminal_console", "terminal_text"]


#: A run of backslashes, an opening bracket, or a colon that may start an emoji code.
_SPECIAL = re.compile(r"\\+|\[|:(?=\S)")
#: An empty span of no style: after a bracket it keeps the bracket from opening a tag, after
#: a colon it keeps an emoji code from forming (rich reads them within one span of text).
_BREAK = "[none][/none]"


def terminal_text(value: object) -> str:
    """``value`` for a ``rich`` markup string, control characters escaped (``\\x1b`` ...):
    printed, it shows exactly its characters whatever markup surrounds it, emoji codes on
    or off.

    ``rich.markup.escape`` is not enough: it leaves a backslash before a bracket that starts
    no tag (rich prints ``\\[1]`` as ``[1]``), backslashes at the end (``a\\\\`` before
    ``[/bold]`` prints ``a\\``) and emoji codes. Here no bracket of ``value`` can open a
    tag (each is followed by an empty span), a backslash before a bracket gets the one more
    that rich removes, and backslashes at the end are doubled inside a span of their own,
    so that a closing tag always follows them.
    """
    text = printable(str(value))
    out, position = [], 0
    for match in _SPECIAL.finditer(text):
        out.append(text[position : match.start()])
        position, found = match.end(), match.group()
        if found in ("[", ":"):
            out.append(found + _BREAK)
        elif text.startswith("[", position):
            out.append(found + "\\")
        elif position == len(text):
            out.append(f"[none]{found * 2}[/none]")
        else:
            out.append(found)
    out.append(text[position:])
    return "".join(out)


def plain_text(value: object, style: str = "") -> Text:
    """``value`` as a ``rich`` renderable that is never parsed for markup or emoji, control
    characters escaped: for table cells, rule titles and lines of their own."""
    return Text(printable(str(value)), style=style)


def plain_lines(*values: object, style: str = "") -> Text:
    """Each of ``values`` as :func:`plain_text` on a line of its own (empty ones left out):
    one table cell of several lines, where a value's own line breaks stay escaped."""
    return Text("\n", style=style).join(plain_text(v) for v in values if str(v))


def terminal_console(**options) -> Console:
    """The ``rich`` console of a command line: emoji codes off (a value's ``:name:`` is not
    an emoji); ``options`` as for :class:`rich.console.Console` (``stderr=True`` ...)."""
    return Console(emoji=False, **options)
