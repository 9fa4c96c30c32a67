"""The text of a Word document (``.docx``), read by python-docx inside a parsing worker.

A ``.docx`` file is a ZIP archive of XML parts, so it is untrusted twice over: the archive
may inflate to gigabytes (a "zip bomb") and the XML may declare entities that expand
without end. Before python-docx opens it, the archive's directory is checked: at most
:data:`MAX_PARTS` parts, at most :data:`MAX_UNPACKED_BYTES` once unpacked. Python's
``zipfile`` never inflates a part past the size the directory declares (a part that lies
fails its CRC check), so the declared sizes bound the real ones. python-docx parses XML
with ``resolve_entities=False``, so entities are never expanded. Memory and time stay
bounded by the worker (:mod:`data.letters.pool`) whatever slips through.

The text is the body's paragraphs and tables in document order: one line per paragraph
(a line break inside one stays a line break), a table's cells separated by tabs, one line
per row. Headers, footers, comments and text boxes are page furniture, not the draft.
"""

from __future__ import annotations

import io
import zipfile

from data.letters.errors import LetterError
from settings import MAX_LETTER_CHARS

ZIP_MAGIC = b"PK\x03\x04"
#: Parts of a Word document: a draft has about a dozen (styles, settings, fonts, images).
MAX_PARTS = 1_000
#: Bytes of all parts once unpacked: text, styles and a few pictures; a draft is far below.
MAX_UNPACKED_BYTES = 200 * 2**20
_MAIN_PART = "word/document.xml"


def _not_word(what: str) -> LetterError:
    return LetterError(
        f"{what}, not a Word document (.docx); open it in Word and save it as .docx, "
        "PDF or plain text",
        kind="not_docx",
    )


def check_archive(data: bytes) -> None:
    """Refuse, from the ZIP directory alone, an archive that is not a Word document or
    that would unpack to more than any draft."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise LetterError(
            "damaged Word document (its ZIP structure cannot be read); save it again from "
            "Word, or as PDF or plain text",
            kind="corrupt_docx",
        ) from exc
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise LetterError(
                f"Word document of {len(parts):,} parts, more than any draft ({MAX_PARTS:,} "
                "limit); save the draft again as .docx, PDF or plain text",
                kind="too_large",
            )
        unpacked = sum(part.file_size for part in parts)
        if unpacked > MAX_UNPACKED_BYTES:
            raise LetterError(
                f"Word document that unpacks to {unpacked / 2**20:,.0f} MiB, more than any "
                f"draft ({MAX_UNPACKED_BYTES // 2**20} MiB limit); it is damaged or made to "
                "overload this program; save the draft again as .docx, PDF or plain text",
                kind="too_large",
            )
        if _MAIN_PART not in archive.namelist():
            raise _not_word("a ZIP archive (an OpenDocument file, or another kind of archive)")


def _cells(row) -> str:
    return "\t".join(cell.text.strip() for cell in row.cells)


def docx_to_text(data: bytes) -> str:
    """The text of a ``.docx`` document's body, or :class:`LetterError` with the reason."""
    check_archive(data)
    import docx  # imported here: only Word documents pay for python-docx and lxml
    from docx.opc.exceptions import OpcError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        lines, chars = [], 0
        for block in document.iter_inner_content():
            new = [_cells(r) for r in block.rows] if isinstance(block, Table) else [block.text]
            lines.extend(new)
            chars += sum(len(line) + 1 for line in new)
            if chars > MAX_LETTER_CHARS:
                raise LetterError(
                    f"{chars:,} or more characters of text, more than any letter or draft "
                    f"({MAX_LETTER_CHARS:,} limit)",
                    kind="too_much_text",
                )
    except LetterError:
        raise
    except (OpcError, KeyError, ValueError, zipfile.BadZipFile, SyntaxError) as exc:
        # python-docx's own errors (a missing part, a content type it does not know) and
        # lxml's XMLSyntaxError (a SyntaxError) for a damaged part
        raise LetterError(
            f"damaged Word document ({type(exc).__name__}); save it again from Word, or as "
            "PDF or plain text",
            kind="corrupt_docx",
        ) from exc
    return "\n".join(lines).replace("\r\n", "\n").replace("\r", "\n")
