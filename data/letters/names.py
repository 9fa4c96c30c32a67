"""File names are data: one escaped form to store and print, one lossless form to keep.

A file name may hold any byte but ``/`` and NUL: bytes that are not UTF-8 (``b'\\xff'``),
newlines, terminal escapes (``\\x1b[31m``), bidirectional overrides. :func:`display_name` is
the only form ever stored as text or printed: every character that is not printable is
written as a Python-style escape (``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``, and ``\\xff`` for
a byte that is not UTF-8), and a backslash as ``\\\\``, so the form is unambiguous, is one
line, and cannot move the cursor or colour a terminal. :func:`path_hex` is the lossless
form: the hex of the name's bytes (``os.fsdecode(bytes.fromhex(h))`` gives the path back).
"""

from __future__ import annotations

import os

_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SHORT_ESCAPES = {"\\": "\\\\", **_CONTROL_ESCAPES}


def display_name(name: str | os.PathLike) -> str:
    """``name`` with every non-printable character and backslash escaped: safe to store
    and to print, and unambiguous."""
    return _escaped(os.fsdecode(name), _SHORT_ESCAPES)


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped, backslashes left alone: for
    printing text that is already in display form (escaping it again leaves it as it is)."""
    return _escaped(text, _CONTROL_ESCAPES)


def _escaped(text: str, short: dict[str, str]) -> str:
    if text.isprintable() and not any(char in text for char in short):
        return text  # the usual name: nothing to escape (surrogates are not printable)
    out = []
    for char in text:
        code = ord(char)
        if char in short:
            out.append(short[char])
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable():
            out.append(char)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def path_hex(path: str | os.PathLike) -> str:
    """The lossless form of a path: the hex of its bytes (``bytes.fromhex`` restores it)."""
    return os.fsencode(path).hex()
