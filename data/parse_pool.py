"""Parse letters in worker processes that can die without taking the run with them.

Letter files are untrusted, and PDF parsing is native code: a 4 MB PDF can inflate to
4 GiB, and when PDFium runs out of memory it aborts the whole process. So no letter is
parsed in the process that holds the run. :func:`parse_all` hands each file's bytes to one
of ``workers`` processes (:mod:`data.parse_worker`), one file at a time per worker, and:

- each worker limits its own address space to :attr:`ParseLimits.memory_bytes`
  (``RLIMIT_AS``) and its CPU time per letter; it writes no file and dumps no core;
- each file has a wall-clock budget of :attr:`ParseLimits.seconds`; past it the worker is
  killed;
- a worker that dies or is killed costs exactly the file it was parsing, which is failed
  with kind ``resource_limit`` and a reason naming the limit; a fresh worker takes over;
- replies are JSON of a bounded size, validated before use.

Because each worker holds one file at a time, a failure is always attributed to the right
file (unlike a ``ProcessPoolExecutor``, whose ``BrokenProcessPool`` fails every pending file).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from data.config import PARSE_MEMORY_BYTES, PARSE_SECONDS, REPO_ROOT
from data.errors import LetterError
from data.file_outcome import FileOutcome
from data.letter_files import read_letter_bytes
from data.parse_protocol import MAX_REPLY_BYTES, REPLY, REQUEST


@dataclass(frozen=True)
class ParseLimits:
    """Per-file limits on the parsing workers."""

    memory_bytes: int = PARSE_MEMORY_BYTES
    seconds: float = PARSE_SECONDS

    @property
    def memory_mib(self) -> int:
        return self.memory_bytes // 2**20


@dataclass
class ParseJob:
    """One file to parse: the caller's ``key``, its bytes and its name's suffix."""

    key: object
    data: bytes
    suffix: str
    allow_draft: bool = False


def failure(kind: str, reason: str) -> dict:
    """A reply saying the file could not be parsed."""
    return {"status": "failed", "kind": kind, "reason": reason}


def _died(returncode: int, limits: ParseLimits) -> dict:
    """The reply for a file whose worker died while parsing it."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if name == "SIGXCPU":
            why = f"CPU time limit ({limits.seconds:g} s per letter) reached"
        elif name == "SIGKILL":
            why = (
                f"the parser was killed (SIGKILL): the memory limit ({limits.memory_mib} MiB "
                "per letter) or the machine's memory ran out"
            )
        else:
            why = (
                f"the parser died ({name}), as PDF libraries do at the memory limit "
                f"({limits.memory_mib} MiB per letter)"
            )
    else:
        why = f"the parser stopped with exit status {returncode} (a crash; please report it)"
    return failure("resource_limit", f"{why}; the file is set aside")


def _valid(reply: object) -> dict | None:
    """The reply if it has the documented shape, else None."""
    if not isinstance(reply, dict):
        return None
    if reply.get("status") == "parsed":
        records = reply.get("records")
        if isinstance(records, list) and all(isinstance(r, dict) for r in records):
            return reply
    elif (
        reply.get("status") == "failed"
        and isinstance(reply.get("kind"), str)
        and isinstance(reply.get("reason"), str)
    ):
        return reply
    return None


class _Died(Exception):
    """The worker's output ended: it died."""


class _Worker:
    """One parsing process and what it is doing."""

    def __init__(self, limits: ParseLimits) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "data.parse_worker", json.dumps(asdict(limits))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        self.fd = self.proc.stdout.fileno()
        self.buffer = bytearray()
        self.job: ParseJob | None = None
        self.deadline = 0.0

    def send(self, job: ParseJob, seconds: float) -> None:
        header = json.dumps({"suffix": job.suffix, "allow_draft": job.allow_draft}).encode()
        self.proc.stdin.write(REQUEST.pack(len(header), len(job.data)))
        self.proc.stdin.write(header)
        self.proc.stdin.write(job.data)
        self.proc.stdin.flush()
        self.job = job
        self.deadline = time.monotonic() + seconds

    def receive(self) -> dict | None:
        """The reply once complete (None until then); raises :class:`_Died` at end of output."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            raise _Died
        self.buffer += chunk
        if len(self.buffer) < REPLY.size:
            return None
        (size,) = REPLY.unpack_from(self.buffer)
        if size > MAX_REPLY_BYTES:
            return failure("internal_error", "the parser's reply was too large; please report it")
        if len(self.buffer) < REPLY.size + size:
            return None
        body = bytes(self.buffer[REPLY.size : REPLY.size + size])
        del self.buffer[: REPLY.size + size]
        try:
            reply = _valid(json.loads(body))
        except (ValueError, RecursionError):
            reply = None
        return reply or failure("internal_error", "the parser's reply was malformed")

    def kill(self) -> int:
        """Stop the process now; its exit status."""
        self.proc.kill()
        self.close()
        return self.proc.returncode

    def close(self) -> None:
        """Let the process finish (end of input), killing it if it does not."""
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):  # a dead worker's pipe: nothing left to flush
                stream.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _start(job: ParseJob, idle: list[_Worker], limits: ParseLimits) -> _Worker | dict:
    """A worker now parsing ``job``, or a failure reply if no worker can be started."""
    for _ in range(2):  # an idle worker may have died since its last reply: one retry
        worker = idle.pop() if idle else None
        if worker is not None and worker.proc.poll() is not None:
            worker.close()
            worker = None
        try:
            worker = worker or _Worker(limits)
            worker.send(job, limits.seconds)
            return worker
        except OSError:
            if worker is not None:
                worker.close()
    return failure(
        "resource_limit",
        "no parsing process could be started (is the memory limit too low for Python?)",
    )


def _retire(
    worker: _Worker, selector: selectors.BaseSelector, busy: dict, *, kill: bool = False
) -> None:
    """Take a worker out of service (after its file, or killing it)."""
    selector.unregister(worker.fd)
    del busy[worker.fd]
    if kill:
        worker.kill()
    else:
        worker.close()


def parse_all(
    jobs: Iterable[ParseJob], *, workers: int = 1, limits: ParseLimits | None = None
) -> Iterator[tuple[ParseJob, dict]]:
    """``(job, reply)`` for every job, in completion order; jobs are drawn lazily, so at
    most ``workers`` files' bytes are held at a time. A reply is ``{"status": "parsed",
    "records": [...]}`` or ``{"status": "failed", "kind": ..., "reason": ...}``."""
    limits = limits or ParseLimits()
    workers = max(1, workers)
    pending = iter(jobs)
    idle: list[_Worker] = []
    busy: dict[int, _Worker] = {}
    selector = selectors.DefaultSelector()
    more = True
    try:
        while True:
            while more and len(busy) < workers:
                job = next(pending, None)
                if job is None:
                    more = False
                    break
                started = _start(job, idle, limits)
                if isinstance(started, dict):
                    yield job, started
                    continue
                busy[started.fd] = started
                selector.register(started.fd, selectors.EVENT_READ)
            if not busy:
                return
            wait = min(w.deadline for w in busy.values()) - time.monotonic()
            done: list[tuple[_Worker, dict]] = []  # workers kept for more files go to idle
            for key, _ in selector.select(max(0.0, wait)):
                worker = busy[key.fd]
                try:
                    reply = worker.receive()
                except _Died:
                    _retire(worker, selector, busy)
                    done.append((worker, _died(worker.proc.returncode, limits)))
                    continue
                if reply is None:
                    continue
                if reply.get("kind") == "resource_limit":  # the worker's own MemoryError
                    reply = failure(
                        "resource_limit",
                        f"memory limit ({limits.memory_mib} MiB per letter) reached; "
                        "the file is set aside",
                    )
                if reply.get("kind") in ("resource_limit", "internal_error"):
                    _retire(worker, selector, busy)
                else:
                    selector.unregister(worker.fd)
                    del busy[worker.fd]
                    idle.append(worker)
                done.append((worker, reply))
            now = time.monotonic()
            for worker in [w for w in busy.values() if w.deadline <= now]:
                _retire(worker, selector, busy, kill=True)
                reason = (
                    f"time limit ({limits.seconds:g} s per letter) reached; the parser was "
                    "stopped and the file set aside"
                )
                done.append((worker, failure("resource_limit", reason)))
            for worker, reply in done:
                job, worker.job = worker.job, None
                yield job, reply
    finally:
        for worker in list(busy.values()):
            worker.kill()
        for worker in idle:
            worker.close()
        selector.close()


def parse_files(
    files: list[Path],
    *,
    allow_draft: bool = False,
    workers: int = 1,
    limits: ParseLimits | None = None,
) -> list[FileOutcome]:
    """Each file read safely (:func:`data.letter_files.read_letter_bytes`) and parsed by
    :func:`parse_all`: ``parsed`` with its records, or ``failed`` with the reason, in the
    order given."""
    outcomes: dict[int, FileOutcome] = {}

    def jobs():
        for index, path in enumerate(files):
            try:
                data = read_letter_bytes(path)
            except LetterError as exc:
                outcomes[index] = FileOutcome.failed(path, exc.reason, kind=exc.kind)
                continue
            yield ParseJob(index, data, path.suffix, allow_draft=allow_draft)

    for job, reply in parse_all(jobs(), workers=workers, limits=limits):
        path = files[job.key]
        if reply["status"] == "failed":
            outcomes[job.key] = FileOutcome.failed(path, reply["reason"], kind=reply["kind"])
        else:
            records = reply["records"]
            outcomes[job.key] = FileOutcome.of(path, "parsed", items=len(records), records=records)
    return [outcomes[i] for i in range(len(files))]
