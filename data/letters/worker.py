"""The process that parses letters, under resource limits (started by :mod:`data.letters.pool`).

    python -m data.letters.worker '{"memory_bytes": ..., "seconds": ...}'

It first limits itself (address space, CPU time per letter, no core dumps, no files
written), then answers requests on stdin (frames of :mod:`data.letters.protocol`), one at a
time, until stdin closes. The reply is ``{"status": "parsed", "records": [...]}`` (a
letter), ``{"status": "text", "text": ...}`` (a draft that is not a letter: its summary),
``{"status": "batch", "rows": [...], "unscorable": [...]}`` (a batch CSV) or
``{"status": "failed", "kind": ..., "reason": ...}``. The worker never opens a file by
name; a batch CSV's name only labels its messages.

It imports only the parser (no pandas), so it starts in ~50 ms and needs ~30 MiB; a
batch CSV (task ``batch_csv``) imports pandas when it comes, and python-docx a Word file.
"""

from __future__ import annotations

import json
import signal
import sys

from data.letters.errors import LetterError
from data.letters.protocol import REPLY, REQUEST


def limit_self(memory_bytes: int) -> None:
    """Cap this process's address space, core dumps and file writes (where supported)."""
    try:
        import resource
    except ImportError:  # not POSIX: the parent's wall-clock limit still holds
        return

    def cap(which: int, value: int) -> None:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value if hard == resource.RLIM_INFINITY else hard))

    cap(resource.RLIMIT_AS, memory_bytes)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_FSIZE, 0)  # a parser has no business writing files (pipes are fine)


def limit_cpu(seconds: float) -> None:
    """Allow ``seconds`` more CPU time (then SIGXCPU): a backstop should the parent be gone."""
    try:
        import resource
    except ImportError:
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    want = int(spent + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (want, hard))


def _letter(header: dict, data: bytes) -> dict:
    from data.letters.records import file_records

    records = file_records(
        data, str(header.get("suffix", "")), allow_draft=bool(header.get("allow_draft"))
    )
    return {"status": "parsed", "records": records}


def _draft(header: dict, data: bytes) -> dict:
    from data.letters.draft_file import draft_reply

    return draft_reply(data, str(header.get("suffix", "")))


def _batch_csv(header: dict, data: bytes) -> dict:
    from pathlib import Path

    from data.drafts.rows import InputError, batch_rows

    try:
        rows, unscorable = batch_rows(Path(str(header.get("name") or "batch.csv")), data)
    except InputError as exc:
        return {"status": "failed", "kind": "bad_input", "reason": str(exc)}
    return {"status": "batch", "rows": rows, "unscorable": unscorable}


#: What a request asks for (header ``task``): a letter's records (ingestion, letters given
#: to ``predict.py``), a draft from any file (the web page's upload, ``--summary FILE``),
#: or the rows of a batch CSV (the web page's batch upload).
TASKS = {"letter": _letter, "draft": _draft, "batch_csv": _batch_csv}


def parse_request(header: dict, data: bytes) -> dict:
    """The reply to one request (never raises for bad input)."""
    task = TASKS.get(str(header.get("task") or "letter"))
    if task is None:
        return {"status": "failed", "kind": "internal_error", "reason": "unknown task"}
    try:
        return task(header, data)
    except LetterError as exc:
        return {"status": "failed", "kind": exc.kind, "reason": exc.reason}
    except RecursionError:
        return {
            "status": "failed",
            "kind": "unparseable",
            "reason": "letter too deeply nested to parse",
        }
    except MemoryError:
        raise
    except ImportError as exc:
        # a task's library imported on first use cannot be mapped under the memory limit
        if "failed to map segment" in str(exc) or "cannot allocate memory" in str(exc).lower():
            raise MemoryError from exc
        return {"status": "failed", "kind": "internal_error", "reason": _bug(exc)}
    except Exception as exc:  # a parser bug: report it for this file, keep serving the others
        return {"status": "failed", "kind": "internal_error", "reason": _bug(exc)}


def _bug(exc: Exception) -> str:
    """The reason for a file that hit a parser bug: the error and where it was raised."""
    import traceback

    frame = traceback.extract_tb(exc.__traceback__)[-1]
    where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
    return f"internal parser error ({type(exc).__name__} at {where}: {exc}); please report it"


def _read_exactly(stream, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def serve(stdin, stdout, seconds: float) -> None:
    """Answer requests until ``stdin`` closes."""
    while True:
        head = _read_exactly(stdin, REQUEST.size)
        if head is None:
            return
        header_size, data_size = REQUEST.unpack(head)
        header_bytes = _read_exactly(stdin, header_size)
        data = _read_exactly(stdin, data_size)
        if header_bytes is None or data is None:
            return
        limit_cpu(seconds)
        try:
            reply = parse_request(json.loads(header_bytes), data)
        except MemoryError:
            reply = {"status": "failed", "kind": "resource_limit", "reason": "memory"}
        del data
        body = json.dumps(reply, default=str).encode()
        stdout.write(REPLY.pack(len(body)) + body)
        stdout.flush()
        if reply.get("kind") == "resource_limit":
            return  # after a MemoryError the process is not worth keeping


def main() -> None:
    limits = json.loads(sys.argv[1])
    limit_self(int(limits["memory_bytes"]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    ready = json.dumps({"status": "ready"}).encode()  # limited, listening: files may come
    stdout.write(REPLY.pack(len(ready)) + ready)
    stdout.flush()
    serve(stdin, stdout, float(limits["seconds"]))


if __name__ == "__main__":
    main()
