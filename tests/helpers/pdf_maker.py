"""A tiny writer of text PDFs for tests: real PDF syntax, Helvetica, one line per text row.

Test fixtures must be ours, so tests build their PDFs from text rather than ship copies of
the published letters.
"""

from __future__ import annotations

LINES_PER_PAGE = 52


def _escape(line: str) -> str:
    line = line.encode("latin-1", "replace").decode("latin-1")
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(lines: list[str], *, lines_per_page: int = LINES_PER_PAGE) -> bytes:
    """A PDF whose pages show ``lines`` top to bottom."""
    pages = [lines[i : i + lines_per_page] for i in range(0, max(1, len(lines)), lines_per_page)]
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages; filled in below
    font_id = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    for page_lines in pages:
        ops = ["BT", "/F1 10 Tf", "12 TL", "40 760 Td"]
        for line in page_lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font_id, content_id)
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    return pdf_from_objects(objects)


def blank_pdf(pages: int = 1) -> bytes:
    """A PDF of empty pages: what a scan without OCR looks like to a text extractor."""
    return text_pdf([""] * pages, lines_per_page=1)


def pdf_from_objects(objects: list[bytes]) -> bytes:
    """A PDF from its objects (object 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
