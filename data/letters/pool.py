"""Parse letters in worker processes that can die without taking the run with them.

Letter files are untrusted, and PDF parsing is native code: a 4 MB PDF can inflate to
4 GiB, and when PDFium runs out of memory it aborts the whole process. So no letter is
parsed in the process that holds the run. :func:`parse_all` hands each file's bytes to one
of ``workers`` processes (:mod:`data.letters.worker`), which parse them one at a time, and:

- each worker limits its own address space to :attr:`ParseLimits.memory_bytes`
  (``RLIMIT_AS``) and its CPU time per letter; it writes no file and dumps no core;
- each file has a wall-clock budget of :attr:`ParseLimits.seconds`; past it the worker is
  killed;
- a worker that dies or is killed costs exactly the file it was parsing, which is failed
  with kind ``resource_limit`` and a reason naming the limit; a fresh worker takes over;
- replies are JSON of a bounded size, validated before use.

Each worker parses the files sent to it in order, so a death or timeout is always
attributed to the right file, and the files queued behind it go to another worker (unlike
a ``ProcessPoolExecutor``, whose ``BrokenProcessPool`` fails every pending file).
"""

from __future__ import annotations

import collections
import contextlib
import json
import math
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from data.letters.errors import LetterError
from data.letters.files import read_letter_bytes
from data.letters.outcome import FileOutcome
from data.letters.protocol import MAX_REPLY_BYTES, REPLY, REQUEST
from settings import PARSE_MEMORY_BYTES, PARSE_SECONDS, REPO_ROOT


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
    """One file to parse: the caller's ``key``, its bytes and its name's suffix.

    ``task`` (see :data:`data.letters.worker.TASKS`): ``letter`` (records), ``draft`` (a
    draft from any file: records, or its text as the summary) or ``batch_csv`` (rows of a
    batch CSV; ``name`` then labels its messages).
    """

    key: object
    data: bytes
    suffix: str
    allow_draft: bool = False
    task: str = "letter"
    name: str = ""


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


def _dicts(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _valid(reply: object) -> dict | None:
    """The reply if it has the documented shape, else None."""
    if not isinstance(reply, dict):
        return None
    status = reply.get("status")
    if status == "parsed":
        if _dicts(reply.get("records")):
            return reply
    elif status == "text":
        if isinstance(reply.get("text"), str):
            return reply
    elif status == "batch":
        if _dicts(reply.get("rows")) and _dicts(reply.get("unscorable")):
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


#: Files queued ahead in each worker's pipe, so that it never waits for the parent between
#: files (one round trip per file costs more than parsing a text letter on a busy machine).
QUEUE_DEPTH = 8
#: ... as long as their bytes stay below this (a single larger file is still sent alone).
QUEUE_BYTES = 32 * 1024 * 1024
_READY = "ready"
#: Seconds a new worker may take to start (import, limit itself) before it counts as failed.
STARTUP_SECONDS = 30.0


class _Worker:
    """One parsing process, the files sent to it in order, and the bytes not yet sent.

    The worker parses its files one by one in the order sent, so the first file without a
    reply is the one it is parsing: a death or a timeout is always that file's doing, and
    the files queued behind it go to another worker.
    """

    def __init__(self, limits: ParseLimits) -> None:
        env = dict(os.environ)
        # one BLAS thread: a batch CSV's pandas import must fit the address-space limit on
        # machines with many cores, and parsing never does linear algebra
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = "1"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "data.letters.worker", json.dumps(asdict(limits))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        self.rfd = self.proc.stdout.fileno()
        self.wfd = self.proc.stdin.fileno()
        os.set_blocking(self.wfd, False)
        self.seconds = limits.seconds
        self.ready = False  # the worker has limited itself and is listening
        self.jobs: collections.deque[ParseJob] = collections.deque()
        self.outbox = bytearray()
        self.inbox = bytearray()
        # until ready: the start-up deadline; then the deadline of the first job in ``jobs``
        self.deadline = time.monotonic() + STARTUP_SECONDS

    def has_room(self) -> bool:
        queued = sum(len(job.data) for job in self.jobs)
        return not self.jobs or (len(self.jobs) < QUEUE_DEPTH and queued < QUEUE_BYTES)

    def queue(self, job: ParseJob) -> None:
        header = json.dumps(
            {
                "suffix": job.suffix,
                "allow_draft": job.allow_draft,
                "task": job.task,
                "name": job.name,
            }
        ).encode()
        self.outbox += REQUEST.pack(len(header), len(job.data)) + header + job.data
        if self.ready and not self.jobs:
            self.deadline = time.monotonic() + self.seconds
        self.jobs.append(job)

    def flush(self) -> None:
        """Send what the pipe takes now."""
        try:
            sent = os.write(self.wfd, self.outbox[: 1 << 20])
        except BlockingIOError:
            return
        except OSError:  # broken pipe: it died; its last replies and end come on its output
            self.outbox.clear()
            return
        del self.outbox[:sent]

    def replies(self) -> list[dict]:
        """The replies complete so far; raises :class:`_Died` at the end of its output."""
        chunk = os.read(self.rfd, 1 << 20)
        if not chunk:
            raise _Died
        self.inbox += chunk
        out = []
        while len(self.inbox) >= REPLY.size:
            (size,) = REPLY.unpack_from(self.inbox)
            if size > MAX_REPLY_BYTES:
                out.append(failure("internal_error", "the parser's reply was too large"))
                self.inbox.clear()
                break
            if len(self.inbox) < REPLY.size + size:
                break
            body = bytes(self.inbox[REPLY.size : REPLY.size + size])
            del self.inbox[: REPLY.size + size]
            try:
                reply = json.loads(body)
            except (ValueError, RecursionError):
                reply = None
            if not self.ready and reply == {"status": _READY}:
                self.ready = True
                self.deadline = time.monotonic() + self.seconds if self.jobs else math.inf
                continue
            malformed = failure("internal_error", "the parser's reply was malformed")
            out.append(_valid(reply) or malformed)
        return out

    def stop(self, *, kill: bool) -> None:
        """End the process: kill it, or close its input and let it finish."""
        if kill:
            self.proc.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):  # a dead worker's pipe: nothing left to flush
                stream.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _Pool:
    """The workers of one :func:`parse_all` call and the jobs waiting for them."""

    def __init__(self, jobs: Iterable[ParseJob], workers: int, limits: ParseLimits) -> None:
        self.source = iter(jobs)
        self.exhausted = False
        self.retry: collections.deque[ParseJob] = collections.deque()
        self.size = max(1, workers)
        self.limits = limits
        self.workers: list[_Worker] = []
        self.selector = selectors.DefaultSelector()
        self.failed_starts = 0

    def take(self) -> ParseJob | None:
        if self.retry:
            return self.retry.popleft()
        if not self.exhausted:
            job = next(self.source, None)
            if job is not None:
                return job
            self.exhausted = True
        return None

    def fill(self) -> None:
        """Start workers while there is work for them, then queue jobs to them in turn."""
        while len(self.workers) < self.size and (job := self.take()) is not None:
            worker = _Worker(self.limits)
            self.workers.append(worker)
            self.selector.register(worker.rfd, selectors.EVENT_READ, worker)
            worker.queue(job)
        queued = True
        while queued:
            queued = False
            for worker in self.workers:
                if worker.has_room() and (job := self.take()) is not None:
                    worker.queue(job)
                    queued = True

    def watch_writes(self) -> None:
        for worker in self.workers:
            registered = worker.wfd in self.selector.get_map()
            if worker.outbox and not registered:
                self.selector.register(worker.wfd, selectors.EVENT_WRITE, worker)
            elif registered and not worker.outbox:
                self.selector.unregister(worker.wfd)

    def retire(self, worker: _Worker, *, kill: bool) -> None:
        """Stop ``worker``; the files queued behind its first go back to the queue."""
        for fd in (worker.rfd, worker.wfd):
            if fd in self.selector.get_map():
                self.selector.unregister(fd)
        self.workers.remove(worker)
        worker.stop(kill=kill)
        self.retry.extendleft(reversed(worker.jobs))
        worker.jobs.clear()

    def died(self, worker: _Worker) -> list[tuple[ParseJob, dict]]:
        """The outcome of a worker's death: its first file fails, unless it never started."""
        started = worker.ready
        head = worker.jobs.popleft() if started and worker.jobs else None
        self.retire(worker, kill=True)
        if head is not None:
            self.failed_starts = 0
            return [(head, _died(worker.proc.returncode, self.limits))]
        self.failed_starts += 1
        if self.failed_starts < 3:
            return []
        reason = (
            "no parsing process could be started; check that this Python can run "
            "`python -m data.letters.worker`"
        )
        out = []
        while (job := self.take()) is not None:
            out.append((job, failure("resource_limit", reason)))
        return out

    def answered(self, worker: _Worker, reply: dict) -> tuple[ParseJob, dict]:
        job = worker.jobs.popleft()
        worker.deadline = time.monotonic() + self.limits.seconds if worker.jobs else math.inf
        if reply.get("kind") == "resource_limit":  # the worker's own MemoryError
            reply = failure(
                "resource_limit",
                f"memory limit ({self.limits.memory_mib} MiB per letter) reached; "
                "the file is set aside",
            )
        if reply.get("kind") in ("resource_limit", "internal_error"):
            self.retire(worker, kill=True)  # not worth keeping; its queue goes elsewhere
        return job, reply

    def step(self, until: float = math.inf) -> list[tuple[ParseJob, dict]]:
        """Wait for the next replies (or a time limit, or ``until``); what finished."""
        self.watch_writes()
        deadlines = [w.deadline for w in self.workers if w.deadline < math.inf]
        if until < math.inf:
            deadlines.append(until)
        wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        done: list[tuple[ParseJob, dict]] = []
        for key, events in self.selector.select(wait):
            worker = key.data
            if worker not in self.workers:  # retired earlier in this round
                continue
            try:
                if events & selectors.EVENT_WRITE:
                    worker.flush()
                if events & selectors.EVENT_READ:
                    for reply in worker.replies():
                        done.append(self.answered(worker, reply))
                        if worker not in self.workers:
                            break
            except _Died:
                done.extend(self.died(worker))
        now = time.monotonic()
        for worker in [w for w in self.workers if w.deadline <= now]:
            if not worker.ready:  # never started: not its first file's doing
                done.extend(self.died(worker))
                continue
            head = worker.jobs.popleft()
            self.retire(worker, kill=True)
            reason = (
                f"time limit ({self.limits.seconds:g} s per letter) reached; the parser was "
                "stopped and the file set aside"
            )
            done.append((head, failure("resource_limit", reason)))
        return done

    def pending(self) -> list[ParseJob]:
        """Every job not yet answered, the workers' stopped with them."""
        out = []
        for worker in list(self.workers):
            out.extend(worker.jobs)
            worker.jobs.clear()
            self.retire(worker, kill=True)
        while (job := self.take()) is not None:
            out.append(job)
        return out

    def close(self) -> None:
        for worker in list(self.workers):
            self.retire(worker, kill=bool(worker.jobs))
        self.selector.close()


def parse_all(
    jobs: Iterable[ParseJob],
    *,
    workers: int = 1,
    limits: ParseLimits | None = None,
    total_seconds: float | None = None,
) -> Iterator[tuple[ParseJob, dict]]:
    """``(job, reply)`` for every job, in completion order. Jobs are drawn lazily: at most
    :data:`QUEUE_DEPTH` files (and about :data:`QUEUE_BYTES`) per worker are held at a time.
    A reply is ``{"status": "parsed", "records": [...]}`` or ``{"status": "failed", "kind":
    ..., "reason": ...}`` (other shapes per task: :data:`data.letters.worker.TASKS`).

    ``total_seconds``: a budget for all the jobs together (the web page's, per request);
    the jobs not answered within it fail with kind ``resource_limit``."""
    pool = _Pool(jobs, workers, limits or ParseLimits())
    until = math.inf if total_seconds is None else time.monotonic() + total_seconds
    try:
        while True:
            pool.fill()
            if not any(worker.jobs for worker in pool.workers):
                return
            if time.monotonic() >= until:
                reason = (
                    f"time limit for one upload ({total_seconds:g} s for all its files) reached "
                    "before this file was read; send fewer files at a time"
                )
                for job in pool.pending():
                    yield job, failure("resource_limit", reason)
                return
            yield from pool.step(until)
    finally:
        pool.close()


def plain_reason(reply: dict, limits: ParseLimits | None = None) -> str:
    """A failed reply's reason for a person scoring a draft: a file stopped at a limit is
    described by what it means, not by how its parser died."""
    if reply.get("kind") != "resource_limit":
        return reply["reason"]
    limits = limits or ParseLimits()
    return (
        "this file needs more memory or time to read than any letter or draft (the limits "
        f"are {limits.memory_mib:,} MiB and {limits.seconds:g} s a file), so it was not read; "
        "it may be damaged, or made to overload this program. Save the draft again as PDF, "
        "Word or plain text, or type the summary"
    )


def parse_one(job: ParseJob, *, limits: ParseLimits | None = None) -> dict:
    """The reply for one job, parsed by a worker of its own (see :func:`parse_all`)."""
    return next(reply for _, reply in parse_all([job], limits=limits))


def parse_files(
    files: list[Path],
    *,
    allow_draft: bool = False,
    workers: int = 1,
    limits: ParseLimits | None = None,
) -> list[FileOutcome]:
    """Each file read safely (:func:`data.letters.files.read_letter_bytes`) and parsed by
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
