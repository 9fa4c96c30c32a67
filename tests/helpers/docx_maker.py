"""Word documents for tests, made by the tests: ordinary drafts (python-docx), and hostile
ones built from the ZIP and XML up (never holding the inflated data).

Hostile documents are only ever read in a subprocess under ``resource`` limits.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def text_docx(paragraphs: list[str], *, table: list[list[str]] | None = None) -> bytes:
    """A ``.docx`` whose body is ``paragraphs`` (then ``table``, if given), as Word saves it."""
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _with_part(base: bytes, name: str, data: bytes) -> bytes:
    """``base`` (a .docx) with its part ``name`` replaced by ``data``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = data if item.filename == name else src.read(item.filename)
            dst.writestr(item.filename, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def entity_docx() -> bytes:
    """A .docx whose document part declares a "billion laughs" entity and uses it."""
    lol = ['<!ENTITY a0 "lol">'] + [
        f'<!ENTITY a{i} "{"".join(f"&a{i - 1};" for _ in range(10))}">' for i in range(1, 10)
    ]
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<!DOCTYPE w:document [{''.join(lol)}]>\n"
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>The patient has back pain &a9;</w:t></w:r></w:p></w:body>"
        "</w:document>"
    )
    return _with_part(text_docx(["placeholder"]), "word/document.xml", xml.encode())


def bomb_docx(mib: int = 4095) -> bytes:
    """A few-MB .docx whose document part honestly declares and inflates to ``mib`` MiB of
    spaces (just under 4 GiB by default: past it ZIP needs its 64-bit extension): every
    1 MiB block deflates to the same bytes after a full flush, and the CRC is taken block
    by block, so the inflated data is never built."""
    block = b" " * 2**20
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    stream = first + again * (mib - 1) + deflate.flush()
    size = mib * 2**20
    assert size < 2**32
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    name = b"word/document.xml"
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(stream), size, len(name), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0,
        crc,
        len(stream),
        size,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    offset = len(local) + len(name) + len(stream)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name), offset, 0)
    return local + name + stream + central + name + end
