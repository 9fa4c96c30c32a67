"""Ingestion throughput on the real letters, and PDF text libraries compared.

    .venv/bin/python benchmarks/bench_ingest.py [--copies 3000]

1. Raw text extraction of the 134 DWC PDFs with pypdfium2 and with pypdf (one core).
2. Full ingestion (read, hash, extract, parse in the limited worker processes, identify,
   write parquet) of the DWC PDFs replicated to ``--copies`` files, each made unique by a
   trailing PDF comment so that its bytes are new and it is parsed; and of text letters
   (the real PDFs' extracted text plus the seeds, replicated likewise), using every core.
   Ingestion recognises the copies as the same letters by content (``duplicate``, or
   ``conflict`` for the text copies, whose appended line changes the last rationale), so
   the throughput counts every file parsed, whatever its status.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from data.ingest import ingest
from data.letters.text import letter_text
from settings import SHARED_LETTERS_DIR


def extraction(pdfs: list[Path]) -> None:
    import pypdfium2 as pdfium

    start = time.perf_counter()
    for path in pdfs:
        pdf = pdfium.PdfDocument(path)
        "".join(page.get_textpage().get_text_range() for page in pdf)
        pdf.close()
    pdfium_s = time.perf_counter() - start
    print(f"pypdfium2 {pypdfium2_version()}: {len(pdfs) / pdfium_s:7.1f} letters/s (1 core)")
    try:
        import pypdf
    except ImportError:
        print("pypdf not installed (pip install -e '.[dev]'); comparison skipped")
        return
    start = time.perf_counter()
    for path in pdfs:
        "".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    pypdf_s = time.perf_counter() - start
    print(
        f"pypdf {pypdf.__version__}:     {len(pdfs) / pypdf_s:7.1f} letters/s (1 core), "
        f"{pypdf_s / pdfium_s:.1f}x slower"
    )


def pypdfium2_version() -> str:
    import pypdfium2

    return getattr(pypdfium2, "V_PYPDFIUM2", "")


def replicate(sources: list[tuple[str, bytes]], copies: int, folder: Path, comment: bytes) -> None:
    folder.mkdir(parents=True)
    for i in range(copies):
        name, data = sources[i % len(sources)]
        (folder / f"{i:06d}_{name}").write_bytes(data + comment % i)


def throughput(label: str, folder: Path, out: Path, workers: int) -> None:
    start = time.perf_counter()
    result = ingest([folder], out, workers=workers)
    seconds = time.perf_counter() - start
    s = result.report["summary"]
    parsed = s["parsed"] + s["conflicts"] + s["duplicates"]
    print(
        f"{label}: {parsed} letters parsed ({s['parsed']} new, {s['conflicts']} conflicts, "
        f"{s['duplicates']} duplicates, {s['failed']} failed) in {seconds:.2f} s "
        f"= {parsed / seconds:,.0f} letters/s with {workers} workers"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    dwc = sorted((SHARED_LETTERS_DIR / "dwc").glob("*.pdf"))
    if not dwc:
        sys.exit(f"no letters at {SHARED_LETTERS_DIR / 'dwc'}: nothing to measure")
    print(f"machine: {os.cpu_count()} cores; {len(dwc)} real DWC letters")
    extraction(dwc)
    pdfs = [(p.name, p.read_bytes()) for p in dwc]
    texts = [(p.stem + ".txt", letter_text(p).encode()) for p in dwc]
    texts += [
        (p.name, p.read_bytes()) for p in sorted((SHARED_LETTERS_DIR / "seeds").glob("*.txt"))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        replicate(pdfs, args.copies, tmp / "pdf", b"\n%% copy %d\n")
        replicate(texts, args.copies * 3, tmp / "txt", b"\nCopy %d.\n")
        throughput("PDF letters ", tmp / "pdf", tmp / "out_pdf", args.workers)
        throughput("text letters", tmp / "txt", tmp / "out_txt", args.workers)


if __name__ == "__main__":
    main()
