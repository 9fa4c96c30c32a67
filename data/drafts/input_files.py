"""predict.py's input files read within bounds: a file, a device, a pipe or standard input.

``--summary``, ``--case`` and ``--batch`` name a file or ``-`` (standard input). Whatever
they name, at most the input's limit plus one byte is ever read, so ``--summary /dev/zero``
or ``--summary - < /dev/zero`` ends in a message naming the limit rather than exhausting
memory. A device or a pipe is read like a file (``--summary <(...)`` names a pipe); a
folder, a missing path or text that is not UTF-8 is an :class:`InputError` naming the
option, the path and the fix.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass

from data.letters.names import display_name
from settings import MAX_BATCH_BYTES, MAX_LETTER_CHARS, MAX_SUMMARY_CHARS


class InputError(ValueError):
    """Bad input; the message names the source, the field and the fix.

    ``plain``: the same in a person's words for the web form, whose fields have labels
    (no source, no field name); the message itself when not given.
    """

    def __init__(self, message: str, plain: str | None = None):
        super().__init__(message)
        self.plain = plain or message


@dataclass(frozen=True)
class Bound:
    """The most an input may hold: ``chars`` characters or, without them, ``size`` bytes."""

    what: str  # what the input is, for messages: "a case summary"
    chars: int | None = None
    size: int | None = None
    why: str = ""  # where the limit comes from, for messages

    @property
    def read_limit(self) -> int:
        """Bytes worth reading: one over the limit tells that it is over (UTF-8 spends at
        most 4 bytes on a character)."""
        return self.size if self.chars is None else 4 * self.chars

    def describe(self) -> str:
        if self.chars is not None:
            return f"{self.chars:,} characters"
        return f"{self.size / 2**20:g} MiB"


SUMMARY = Bound(
    "a case summary",
    chars=MAX_SUMMARY_CHARS,
    why="MAX_SUMMARY_CHARS, the limit of a letter's summary in ingestion too",
)
CASE = Bound("a case file", chars=MAX_LETTER_CHARS, why="MAX_LETTER_CHARS, as a letter's text")
BATCH = Bound("a batch CSV", size=MAX_BATCH_BYTES, why="MAX_BATCH_BYTES; split larger batches")
_CHUNK = 1 << 20


def _too_long(source: str, bound: Bound) -> InputError:
    limit = bound.describe()
    return InputError(
        f"{source}: more than {limit}; {bound.what} holds at most {limit} ({bound.why})"
    )


def _read_at_most(handle, limit: int) -> bytes:
    chunks, size = [], 0
    while size <= limit:
        chunk = handle.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def read_bytes(name: str, option: str, bound: Bound) -> bytes:
    """The bytes of ``name`` (``-``: standard input), at most ``bound.read_limit``; else
    :class:`InputError`. ``option`` (``--summary``) names the input in messages."""
    source = f"{option} {display_name(name)}"
    limit = bound.read_limit
    if name == "-":
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None:
            raise InputError(f"{source}: standard input is closed; give a file instead")
        data = _read_at_most(stdin, limit)
    else:
        try:
            status = os.stat(name)
        except FileNotFoundError as exc:
            raise InputError(f"{source}: no such file; check the path") from exc
        except OSError as exc:
            raise InputError(f"{source}: cannot read it ({exc.strerror or exc})") from exc
        if stat.S_ISDIR(status.st_mode):
            raise InputError(f"{source}: is a folder; give a file")
        if stat.S_ISREG(status.st_mode) and status.st_size > limit:
            raise _too_long(source, bound)
        try:
            with open(name, "rb", buffering=0) as handle:
                data = _read_at_most(handle, limit)
        except OSError as exc:
            raise InputError(f"{source}: cannot read it ({exc.strerror or exc})") from exc
    if len(data) > limit:
        raise _too_long(source, bound)
    return data


def read_text(name: str, option: str, bound: Bound) -> str:
    """The UTF-8 text of ``name`` (``-``: standard input) within ``bound``; else
    :class:`InputError` naming the limit, or the first byte that is not UTF-8."""
    data = read_bytes(name, option, bound)
    source = f"{option} {display_name(name)}"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from exc
    if bound.chars is not None and len(text) > bound.chars:
        raise _too_long(source, bound)
    return text
