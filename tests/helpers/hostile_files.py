"""Hostile letter files, made by the tests themselves (small on disk, cheap to build).

Each maker returns bytes or creates the file. They are only ever ingested in a subprocess
under ``resource`` limits (:func:`run_limited`), so a regression cannot hurt the machine
that runs the tests. The acceptance check of the README's Safety section:

    .venv/bin/python -m tests.helpers.hostile_files /tmp/hostile --twins-of ../shared/letters/dwc
    (ulimit -v 4000000; timeout 180 .venv/bin/python -m data.ingest ../shared/letters \
        /tmp/hostile --out /tmp/hostile_out); echo "exit $?"
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import zlib
from pathlib import Path

from tests.helpers.letters import letter
from tests.helpers.pdf_maker import text_pdf

REPO = Path(__file__).resolve().parents[2]
#: The acceptance check's ``ulimit -v 4000000`` (KiB), for every hostile run.
ADDRESS_SPACE_KIB = 4_000_000


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF from its objects (object 1 is the catalog), with a correct xref table."""
    from tests.helpers.pdf_maker import pdf_from_objects

    return pdf_from_objects(objects)


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _one_page(stream: bytes, *, flate: bool) -> bytes:
    head = b"<< /Length %d%s >>\nstream\n" % (len(stream), b" /Filter /FlateDecode" * flate)
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            head + stream + b"\nendstream",
            _FONT,
        ]
    )


def flate_bomb_pdf(gib: int = 4) -> bytes:
    """A ~4 MB one-page PDF whose content stream inflates to ``gib`` GiB of zeros.

    Built without ever holding the inflated data: after a full flush deflate restarts
    from an empty window, so every 1 MiB block of zeros compresses to the same bytes.
    """
    block = b"\0" * 2**20
    deflate = zlib.compressobj(9)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.flush()[:-4]  # the final block, without the checksum of 2 MiB
    total = gib * 2**30
    adler = ((total % 65521) << 16) | 1  # Adler-32 of n zero bytes: a = 1, b = n mod 65521
    stream = first + again * (gib * 1024 - 1) + tail + adler.to_bytes(4, "big")
    return _one_page(stream, flate=True)


def slow_pdf(text_objects: int = 600_000) -> bytes:
    """A tiny PDF whose one page draws ``text_objects`` characters one by one: seconds of
    PDFium time for a few kilobytes."""
    ops = b"BT /F1 1 Tf " + b"(a) Tj " * text_objects + b"ET"
    return _one_page(zlib.compress(ops, 9), flate=True)


def many_pages_pdf(levels: int = 5, fanout: int = 10) -> bytes:
    """A PDF of ``fanout ** levels`` pages (100,000) sharing one content stream, in about
    1 KB: each page-tree node lists the same child ``fanout`` times."""
    nodes = list(range(2, 2 + levels))
    page, content, font = 2 + levels, 3 + levels, 4 + levels
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for depth in range(levels):
        child = nodes[depth + 1] if depth + 1 < levels else page
        parent = b"/Parent %d 0 R " % nodes[depth - 1] if depth else b""
        kids = b" ".join([b"%d 0 R" % child] * fanout)
        count = fanout ** (levels - depth)
        objects.append(b"<< /Type /Pages %s/Kids [%s] /Count %d >>" % (parent, kids, count))
    objects.append(
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (nodes[-1], font, content)
    )
    text = b"BT /F1 10 Tf 40 760 Td (Page of a letter that never ends) Tj ET"
    objects.append(b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream")
    objects.append(_FONT)
    return _pdf(objects)


def password_pdf(text: str, user_password: str = "secret") -> bytes:
    """A letter PDF that needs ``user_password`` to open (pypdf, RC4-128)."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(text_pdf(text.splitlines()))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def long_summary_letter(megabytes: float = 1.0, case_number: str = "CM16-0000777") -> str:
    """A letter whose summary is ``megabytes`` MB of short lines (tens of thousands)."""
    line = "Pain 6/10 today."
    lines = int(megabytes * 2**20 / (len(line) + 1))
    return letter(summary="\n".join([line] * lines), case_number=case_number)


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def make_socket(path: Path) -> Path:
    """A UNIX socket file at ``path`` (the socket itself is closed: the file stays)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    return path


def make_bytes_name(folder: Path, name: bytes, content: str | bytes) -> Path:
    """A file whose name is raw bytes (e.g. not UTF-8); returns its (surrogate-escaped) path."""
    raw = os.path.join(os.fsencode(folder), name)
    with open(raw, "wb") as handle:
        handle.write(content.encode() if isinstance(content, str) else content)
    return Path(os.fsdecode(raw))


def run_limited(
    args: list[str], cwd: Path, timeout: float = 180, *, stdin=None, env: dict | None = None
) -> subprocess.CompletedProcess:
    """``python ARGS`` in a subprocess under the acceptance check's ``ulimit -v 4000000``
    (and no core files), killed after ``timeout`` seconds. The limits are set by a shell
    rather than a ``preexec_fn``, which is unsafe in a test runner that may hold threads.
    ``stdin``: what the process reads as standard input (an open file); ``env``: variables
    set on top of this process's."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", **(env or {})}
    limited = f'ulimit -v {ADDRESS_SPACE_KIB} && ulimit -c 0 && exec "$0" "$@"'
    return subprocess.run(
        ["bash", "-c", limited, sys.executable, *args],
        capture_output=True,
        cwd=cwd,
        env=env,
        stdin=stdin,
        timeout=timeout,
    )


def write_hostile_folder(folder: Path, *, bomb_gib: int = 4, twins_of: Path | None = None) -> dict:
    """Every hostile file of issue 10 in ``folder``; returns {name: expected status or kind}.

    With ``twins_of`` (a folder of real PDF letters), the first of them is added again three
    ways: re-extracted to text, with a trailing PDF comment, and under names that are not
    UTF-8 or hold a newline: all ``duplicate``.
    """
    from data.letters.text import letter_text

    folder.mkdir(parents=True, exist_ok=True)
    expected = {
        "bomb.pdf": "resource_limit",
        "z.txt": "not_a_file",
        "p.txt": "not_a_file",
        "s.txt": "not_a_file",
        "locked.pdf": "encrypted_pdf",
        "pages.pdf": "too_many_pages",
        "long_summary.txt": "summary_too_long",
        "\\x1b[2J\\x1b[31mred.txt": "unsupported_layout",
    }
    (folder / "bomb.pdf").write_bytes(flate_bomb_pdf(gib=bomb_gib))
    os.symlink("/dev/zero", folder / "z.txt")
    make_fifo(folder / "p.txt")
    make_socket(folder / "s.txt")
    (folder / "locked.pdf").write_bytes(password_pdf(letter(case_number="CM16-0002200")))
    (folder / "pages.pdf").write_bytes(many_pages_pdf())
    (folder / "long_summary.txt").write_text(long_summary_letter(1.0))
    (folder / "\x1b[2J\x1b[31mred.txt").write_text("not a letter")
    if twins_of is not None:
        original = sorted(Path(twins_of).glob("*.pdf"))[0]
        data = original.read_bytes()
        (folder / "twin_extracted.txt").write_text(letter_text(original))
        (folder / "twin_appended.pdf").write_bytes(data + b"\n% a trailing comment\n")
        make_bytes_name(folder, b"twin_\xff.pdf", data)
        (folder / "twin\nfailed forged.pdf").write_bytes(data)
        for name in ("twin_extracted.txt", "twin_appended.pdf", "twin_\\xff.pdf"):
            expected[name] = "duplicate"
        expected["twin\\nfailed forged.pdf"] = "duplicate"
    return expected


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write the hostile files of issue 10.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--twins-of", type=Path, help="a folder of real PDF letters")
    parser.add_argument("--bomb-gib", type=int, default=4)
    args = parser.parse_args()
    if args.folder.exists():
        sys.exit(f"{args.folder} exists; give a new folder")
    for name, outcome in write_hostile_folder(
        args.folder, bomb_gib=args.bomb_gib, twins_of=args.twins_of
    ).items():
        print(f"{name}: expect {outcome}")
