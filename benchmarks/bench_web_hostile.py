"""The web page under hostile uploads and slow clients, and what an upload costs.

    .venv/bin/python benchmarks/bench_web_hostile.py [--uploads 10] [--half-sent 1000]
        [--ulimit-kib 4000000] [--model URI]

Starts ``predict.py serve --port 0`` (under ``ulimit -v`` when ``--ulimit-kib`` is given,
as issue 16's reproduction did) with the champion in ``MLFLOW_TRACKING_URI``, then:

1. uploads: a letter (text) and a draft (Word) through ``/letter``, ``--uploads`` times
   each: the median time of an answer (each upload is parsed by a worker process of its
   own, started for it);
2. a bomb: a 4 MB PDF that inflates to 4 GiB, through ``/letter``: the answer, its time,
   whether the server lives on, and the growth of its peak memory (VmHWM);
3. half-sent requests: ``--half-sent`` connections each holding half a request: the
   server's threads before and with them, how long a page takes to answer meanwhile, and
   how long until the server has closed them all.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.helpers.docx_maker import text_docx  # noqa: E402  (the repository's own test makers)
from tests.helpers.hostile_files import flate_bomb_pdf  # noqa: E402
from tests.helpers.letters import letter  # noqa: E402


def status(pid: int) -> dict[str, str]:
    text = Path(f"/proc/{pid}/status").read_text()
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def start(model: str, ulimit_kib: int | None, log: Path) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, str(REPO / "predict.py"), "serve", "--port", "0", "--model", model]
    if ulimit_kib:
        limited = f'ulimit -v {ulimit_kib} && ulimit -c 0 && exec "$0" "$@"'
        command = ["bash", "-c", limited, *command]
    with open(log, "w") as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
    while proc.poll() is None:
        if found := re.search(r"at (http://127\.0\.0\.1:\d+/)", log.read_text()):
            return proc, found[1]
        time.sleep(0.05)
    raise SystemExit(f"the server stopped (train a model first?):\n{log.read_text()}")


def timed_upload(url: str, name: str, data: bytes) -> tuple[int, float]:
    began = time.perf_counter()
    answer = requests.post(url + "letter", files={"letter": (name, data)}, timeout=300)
    return answer.status_code, time.perf_counter() - began


def uploads(url: str, count: int) -> None:
    files = {
        "letter.txt": letter().encode(),
        "draft.docx": text_docx(["The patient is a 50 year old with chronic low back pain."]),
    }
    for name, data in files.items():
        times, codes = [], set()
        for _ in range(count):
            code, seconds = timed_upload(url, name, data)
            codes.add(code)
            times.append(seconds)
        print(
            f"upload of {name} ({len(data):,} bytes): HTTP {'/'.join(map(str, sorted(codes)))}, "
            f"median {1000 * statistics.median(times):.0f} ms, max {1000 * max(times):.0f} ms "
            f"over {count}"
        )


def bomb(url: str, proc: subprocess.Popen) -> None:
    data = flate_bomb_pdf(gib=4)
    before = int(status(proc.pid)["VmHWM"].split()[0])
    try:
        code, seconds = timed_upload(url, "bomb.pdf", data)
        answer = f"HTTP {code} in {seconds:.1f} s"
    except requests.RequestException as exc:
        answer = f"no answer ({type(exc).__name__})"
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=2)  # a server that is dying has had time to die
    alive = proc.poll() is None
    grown = int(status(proc.pid)["VmHWM"].split()[0]) - before if alive else None
    print(
        f"bomb upload ({len(data) / 2**20:.1f} MB PDF inflating to 4 GiB): {answer}; server "
        + (f"alive, peak memory grown by {grown / 1024:.0f} MiB" if alive else "DEAD")
        + (f" (exit {proc.returncode})" if not alive else "")
    )


def half_sent(url: str, proc: subprocess.Popen, count: int) -> None:
    host, port = re.match(r"http://([^:]+):(\d+)/", url).groups()
    requests.get(url, timeout=60)
    before = int(status(proc.pid)["Threads"])
    sockets = []
    for i in range(count):
        sock = socket.create_connection((host, int(port)), timeout=30)
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: te"  # headers cut off
            if i % 2
            else b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nsummary="
        )
        sockets.append(sock)
    opened = time.monotonic()
    time.sleep(1)
    during = int(status(proc.pid)["Threads"]) if proc.poll() is None else None
    began = time.perf_counter()
    try:
        requests.get(url, timeout=90)
        answered = f"{1000 * (time.perf_counter() - began):.0f} ms"
    except requests.RequestException as exc:
        answered = f"no answer within 90 s ({type(exc).__name__})"
    open_socks = list(sockets)
    for sock in open_socks:
        sock.settimeout(0.0)
    deadline = opened + 120
    while open_socks and time.monotonic() < deadline:
        still = []
        for sock in open_socks:
            try:
                if sock.recv(1) == b"":
                    continue
            except BlockingIOError:
                still.append(sock)
                continue
            except OSError:
                continue
            still.append(sock)
        open_socks = still
        time.sleep(0.2)
    closed = time.monotonic() - opened
    for sock in sockets:
        sock.close()
    print(
        f"{count:,} half-sent requests: server threads {before} before, {during} with them; "
        f"a page answered meanwhile in {answered}; "
        + (
            f"all closed by the server after {closed:.0f} s"
            if not open_socks
            else f"{len(open_socks):,} still open after 120 s"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=10)
    parser.add_argument("--half-sent", type=int, default=1000)
    parser.add_argument("--ulimit-kib", type=int, default=None)
    parser.add_argument("--model", default="models:/imr-outcome@champion")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start(args.model, args.ulimit_kib, Path(tmp) / "server.log")
        try:
            uploads(url, args.uploads)
            bomb(url, proc)
            if proc.poll() is not None:
                proc, url = start(args.model, args.ulimit_kib, Path(tmp) / "server.log")
            half_sent(url, proc, args.half_sent)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()


if __name__ == "__main__":
    main()
