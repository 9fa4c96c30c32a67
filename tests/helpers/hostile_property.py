"""Property: ingesting any folder of good and hostile files yields every good letter, one
report entry per file, a reason for every failure, and no exception.

    python -m tests.helpers.hostile_property [EXAMPLES]

Run by ``tests/data/ingest/test_ingest_safety.py`` in a subprocess under ``ulimit -v 4000000`` and a
time limit, so hostile files never meet the test runner's own process.
"""

from __future__ import annotations

import os
import sys
import tempfile
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.ingest import ingest
from data.letters.pool import ParseLimits
from tests.helpers import hostile_files as hostile
from tests.helpers.letters import letter
from tests.helpers.pdf_maker import text_pdf

LIMITS = ParseLimits(memory_bytes=256 * 2**20, seconds=30)


@cache
def _bytes(kind: str) -> bytes:
    """The content of the hostile files that are costly to build, built once."""
    makers = {
        "bomb": lambda: hostile.flate_bomb_pdf(gib=1),
        "password": lambda: hostile.password_pdf(letter(case_number="CM16-0009999")),
        "pages": hostile.many_pages_pdf,
        "long_summary": lambda: hostile.long_summary_letter(1.0).encode(),
    }
    return makers[kind]()


def _good(folder: Path, index: int, as_pdf: bool, name: bytes | None = None) -> str:
    case = f"CM16-{index:07d}"
    text = letter(case_number=case)
    data = text_pdf(text.splitlines()) if as_pdf else text.encode()
    hostile.make_bytes_name(
        folder, name or f"good_{index}.{'pdf' if as_pdf else 'txt'}".encode(), data
    )
    return case


def _hostile(folder: Path, index: int, kind: str) -> None:
    path = folder / f"{kind}_{index}.{'pdf' if kind in ('bomb', 'password', 'pages') else 'txt'}"
    if kind == "fifo":
        hostile.make_fifo(path)
    elif kind == "socket":
        hostile.make_socket(folder / f"s{index}.txt")  # UNIX socket paths are short
    elif kind == "dev_zero":
        os.symlink("/dev/zero", path)
    elif kind == "forging_name":
        (folder / f"x{index}\nfailed \x1b[31mfake.txt").write_bytes(b"not a letter")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(os.urandom(300))
    else:
        path.write_bytes(_bytes(kind))


HOSTILE = (
    "bomb",
    "password",
    "pages",
    "long_summary",
    "fifo",
    "socket",
    "dev_zero",
    "forging_name",
    "empty",
    "garbage",
)
FILES = st.lists(
    st.one_of(
        st.tuples(st.just("good"), st.sampled_from(["txt", "pdf", "ff_name"])),
        st.tuples(st.just("hostile"), st.sampled_from(HOSTILE)),
    ),
    min_size=1,
    max_size=8,
)


def check_mixed_folder(files: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        good = set()
        for index, (role, kind) in enumerate(files):
            if role == "good":
                name = b"\xff%d.txt" % index if kind == "ff_name" else None
                good.add(_good(folder, index, kind == "pdf", name))
            else:
                _hostile(folder, index, kind)
        result = ingest([folder], Path(tmp) / "out", workers=2, limits=LIMITS)
        entries = result.report["files"]
        assert len(entries) == len(os.listdir(folder)), entries
        assert good == set(result.added["case_number"]), entries
        for entry in entries:
            assert "\n" not in entry["path"] and "\x1b" not in entry["path"], entry
            if entry["status"] == "failed":
                assert entry["kind"] and len(entry["reason"]) > 15, entry
            else:
                assert entry["status"] == "parsed", entry  # no hostile file is ingested
        assert result.report["summary"]["failed"] == len(files) - len(good)


def main(examples: int) -> None:
    run = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(given(FILES)(check_mixed_folder))
    run()
    print(f"{examples} folders ingested as expected")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
