"""Turn a letter file (PDF, Word ``.docx`` or extracted text) into plain text, or say why
it cannot be.

PDF text comes from pypdfium2 (PDFium): on the 134 DWC letters it extracts text about
13 times faster than pypdf (see ``benchmarks/bench_ingest.py``) and it honours the owner
password of the published letters, which forbids copying but not extraction. A PDF that
needs a password to open is refused as ``encrypted_pdf``. Word documents are read by
:mod:`data.letters.docx`; other formats people keep drafts in (``.doc``, ``.rtf``, other
archives) are named and refused (``unsupported_format``) rather than read as text.

Limits (``settings``): a PDF's page count is read from its page tree and checked before
any page is (``too_many_pages``); the text of a letter may not exceed
:data:`~settings.MAX_LETTER_CHARS` (``too_much_text``). Memory and time are bounded by
the parsing worker (:mod:`data.letters.pool`), not here.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from data.letters.errors import LetterError
from data.letters.files import read_letter_bytes
from settings import MAX_LETTER_CHARS, MAX_LETTER_PAGES

PDF_MAGIC = b"%PDF-"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Share of control characters above which a "text" file is taken to be binary.
_MAX_CONTROL_SHARE = 0.01
#: Fewer non-space characters than this per page means the PDF has no usable text layer.
_MIN_CHARS_PER_PAGE = 20
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_PDFIUM_LINE_END_HYPHEN = re.compile("[\ufffe\x02]")


#: Formats people keep drafts in that are not read, by their first bytes: named, not
#: decoded as text.
_OTHER_FORMATS = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Word 97-2003 document (.doc) or another Office file"),
    (b"{\\rtf", "a Rich Text Format file (.rtf)"),
    (b"PK\x03\x04", "a ZIP archive (an OpenDocument, Office or other archive file)"),
)

#: PDFium's FPDF_ERR_PASSWORD: the document needs a (user) password to open.
_PDFIUM_PASSWORD_ERROR = 4


def _too_much_text(chars: int) -> LetterError:
    return LetterError(
        f"{chars:,} or more characters of text, more than any letter "
        f"({MAX_LETTER_CHARS:,} limit); is it really a determination letter?",
        kind="too_much_text",
    )


def pdf_to_text(data: bytes) -> str:
    """Extract the text of every page of a PDF, pages separated by a newline."""
    import pypdfium2 as pdfium  # imported here: text-only runs never pay for PDFium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
            raise LetterError(
                "PDF is protected by a password needed to open it; ask the sender for a copy "
                "without an open password (the published letters have none)",
                kind="encrypted_pdf",
            ) from exc
        raise LetterError(
            f"corrupt or truncated PDF ({exc}); download the letter again", kind="corrupt_pdf"
        ) from exc
    try:
        count = len(pdf)
        if count > MAX_LETTER_PAGES:
            raise LetterError(
                f"PDF has {count:,} pages, more than any letter ({MAX_LETTER_PAGES} page limit); "
                "is it really a determination letter?",
                kind="too_many_pages",
            )
        pages, chars = [], 0
        for index in range(count):
            page = pdf[index]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
            chars += len(pages[-1])
            if chars > MAX_LETTER_CHARS:
                raise _too_much_text(chars)
    except pdfium.PdfiumError as exc:
        raise LetterError(
            f"corrupt PDF, page {len(pages) + 1} unreadable ({exc})", kind="corrupt_pdf"
        ) from exc
    finally:
        pdf.close()
    text = "\n".join(pages).replace("\r\n", "\n").replace("\r", "\n")
    # PDFium reports a hyphen at a line end as U+FFFE and joins the line: restore the hyphen,
    # as the text path keeps it ("Intra-\narticular" -> "Intra-articular")
    text = _PDFIUM_LINE_END_HYPHEN.sub("-", text)
    if sum(not c.isspace() for c in text) < _MIN_CHARS_PER_PAGE * max(1, len(pages)):
        raise LetterError(
            f"PDF has no text layer ({len(pages)} page(s) of images, probably scanned); "
            "run it through OCR and ingest the text",
            kind="no_text_layer",
        )
    return text


def decode_text(data: bytes) -> str:
    """Decode a text letter: UTF-8, or whatever its byte-order mark declares."""
    if len(data) > 4 * MAX_LETTER_CHARS:  # no encoding takes more than 4 bytes a character
        raise _too_much_text(len(data) // 4)
    text = _decode(data)
    if len(text) > MAX_LETTER_CHARS:
        raise _too_much_text(len(text))
    controls = len(_CONTROL_CHARS.findall(text))
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise LetterError(
            f"binary content ({controls} control characters) in a text file; "
            "is it really an extracted letter?",
            kind="binary",
        )
    return text


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise LetterError(
                    f"declares {encoding} by its byte-order mark but does not decode as it "
                    f"(byte {exc.start}); re-save it as UTF-8",
                    kind="encoding",
                ) from exc
    if b"\x00" in data:
        raise LetterError(
            "binary content (NUL bytes) in a text file; is it really an extracted letter?",
            kind="binary",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LetterError(
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}) and no byte-order "
            "mark declares another encoding; re-save it as UTF-8",
            kind="encoding",
        ) from exc


def bytes_to_text(data: bytes, suffix: str) -> str:
    """The text of a letter's (or draft's) bytes, PDF, Word (``.docx``) or text, judged by
    content rather than name (``suffix`` only catches a file named ``.pdf`` or ``.docx``
    that is not one, and tells a Word document from another ZIP archive)."""
    from data.letters.docx import ZIP_MAGIC, docx_to_text

    if not data.strip():
        raise LetterError("empty file (no content)", kind="empty")
    suffix = suffix.lower()
    if data.lstrip()[:5] == PDF_MAGIC:
        return pdf_to_text(data)
    if suffix == ".pdf":
        raise LetterError(
            f"named .pdf but is not a PDF (starts with {data[:8]!r}); "
            "download the letter again or rename it",
            kind="not_pdf",
        )
    if data.startswith(ZIP_MAGIC) and suffix == ".docx":
        return docx_to_text(data)
    if suffix == ".docx":
        raise LetterError(
            f"named .docx but is not a Word document (starts with {data[:8]!r}); "
            "save it again from Word, or as PDF or plain text",
            kind="not_docx",
        )
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            raise LetterError(
                f"{what}, which this program does not read; save it as .docx, PDF or plain text",
                kind="unsupported_format",
            )
    return decode_text(data)


def letter_text(path: Path, data: bytes | None = None) -> str:
    """The text of a letter file (read safely, see :mod:`data.letters.files`) or of its bytes."""
    if data is None:
        data = read_letter_bytes(path)
    return bytes_to_text(data, path.suffix)
