"""Letter files as untrusted input: finding them, reading them safely, naming them safely.

A letter file is whatever someone put in a folder, so nothing about it is trusted:

- **Only regular files are read.** ``stat`` (following symlinks) must say regular file
  before the file is opened, and ``fstat`` on the opened descriptor must say so again (the
  name could be swapped in between). Device files (a symlink to ``/dev/zero``), FIFOs,
  sockets and directories are refused with kind ``not_a_file``; the open is non-blocking,
  so a FIFO can never hang a run.
- **Reads are bounded**: at most :data:`settings.MAX_LETTER_BYTES` + 1 bytes are ever
  read, whatever ``st_size`` says (it is 0 for device files).
- **Names are data**: stored and printed only in the escaped form of
  :mod:`data.letters.names`, with the lossless hex of their bytes beside it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from data.letters.errors import LetterError
from data.letters.outcome import FileOutcome
from settings import MAX_LETTER_BYTES

#: Suffixes picked up when walking a directory (files named explicitly are always tried).
LETTER_SUFFIXES = (".pdf", ".txt", ".text")

_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)
_READ_CHUNK = 1 << 20


def _not_regular(mode: int) -> str:
    for test, what in _FILE_TYPES:
        if test(mode):
            return what
    return "not a regular file"


def _refuse(mode: int) -> LetterError:
    what = _not_regular(mode)
    return LetterError(
        f"is {what}, not a regular file; only letter files are read", kind="not_a_file"
    )


def _too_large(size: int | None) -> LetterError:
    amount = f"{size / 2**20:.0f} MiB" if size is not None else "more than that"
    return LetterError(
        f"file is {amount}, larger than any letter ({MAX_LETTER_BYTES // 2**20} MiB limit); "
        "is it really a determination letter?",
        kind="too_large",
    )


def read_letter_bytes(path: Path, limit: int = MAX_LETTER_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or :class:`LetterError`."""
    try:
        before = os.stat(path)
        if not stat.S_ISREG(before.st_mode):
            raise _refuse(before.st_mode)
        if before.st_size > limit:
            raise _too_large(before.st_size)
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):  # swapped for something else since stat
                raise _refuse(opened.st_mode)
            chunks, size = [], 0
            while size <= limit:
                chunk = os.read(fd, min(_READ_CHUNK, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except PermissionError as exc:
        raise LetterError(
            "cannot read the file: permission denied; fix its permissions (chmod +r) and rerun",
            kind="unreadable",
        ) from exc
    except FileNotFoundError as exc:
        raise LetterError(
            "no such file (or a link to nothing); check the path", kind="unreadable"
        ) from exc
    except OSError as exc:
        raise LetterError(
            f"cannot read the file: {exc.strerror or exc}", kind="unreadable"
        ) from exc
    if size > limit:  # grew since stat, or st_size lied
        raise _too_large(None)
    return b"".join(chunks)


def find_letter_files(paths: Iterable[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Expand directories (recursively, sorted) into letter files; report missing paths.

    Directory entries are listed by name only (nothing is opened here); symlinked
    directories are not followed. Hidden files and folders are skipped.
    """
    files: list[Path] = []
    missing: list[FileOutcome] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(
                    Path(root) / name
                    for name in sorted(names)
                    if not name.startswith(".") and name.lower().endswith(LETTER_SUFFIXES)
                )
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            missing.append(
                FileOutcome.failed(
                    path, "no such file or directory; check the path", kind="missing"
                )
            )
    return files, missing
