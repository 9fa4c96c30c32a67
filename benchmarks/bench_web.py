"""Web page speed: start-up to the first answer, and a scored draft after start-up.

    .venv/bin/python benchmarks/bench_web.py [--starts 3] [--drafts 20] [--model URI]

Uses the champion in ``MLFLOW_TRACKING_URI`` (train first). Each start is a fresh
``predict.py serve --port 0`` process: the clock runs from launching it to (a) the first
answer of the draft page and (b) the first scored draft (three services, with reasons and
what-ifs). Then ``--drafts`` more drafts are timed one after another on a running server.
The first start after a training warms the local model cache, as a user's first start
does; it is reported separately. Goals: start-up to first answer under 5 s, a scored
draft under 1 s.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUMMARY = (
    "The injured worker is a 48 year old male who sustained an industrial injury on 10-13-16. "
    "He was treated for right shoulder contusion and neck strain. X-ray of the right shoulder "
    "revealed rotator cuff tendinopathy. Treatment to date has included modified work duties "
    "and a home exercise program."
)
SERVICES = (
    "MRI of the right shoulder without contrast",
    "Physical therapy 2 times a week for 4 weeks for the right shoulder",
    "Naproxen 550mg #60",
)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def _score(url: str) -> bytes:
    body = urllib.parse.urlencode(
        {"case_summary": SUMMARY, "services": "\n".join(SERVICES)}
    ).encode()
    with urllib.request.urlopen(url, data=body, timeout=60) as response:
        page = response.read()
    if page.count(b"data-p-overturned=") != len(SERVICES):
        raise SystemExit("the server answered without the scored services")
    return page


def start(model: str, log: Path) -> tuple[subprocess.Popen, str, float, float, float]:
    """A fresh server: (process, url, to the page, to the first score, server's own report)."""
    began = time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "predict.py"), "serve", "--port", "0", "--model", model],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    url = None
    while url is None:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped (train a model first?):\n{log.read_text()}")
        if found := re.search(
            r"at (http://127\.0\.0\.1:\d+/) \(ready in ([\d.]+) s", log.read_text()
        ):
            url, reported = found[1], float(found[2])
        else:
            time.sleep(0.02)
    _get(url)
    to_page = time.perf_counter() - began
    _score(url)
    to_score = time.perf_counter() - began
    return proc, url, to_page, to_score, reported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--drafts", type=int, default=20)
    parser.add_argument("--model", default="models:/imr-outcome@champion")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        proc, *_, first_score, _ = start(args.model, log)  # warms the model cache
        proc.terminate()
        proc.wait()
        print(
            f"first start after a training (fills the model cache): scored at {first_score:.2f} s"
        )
        pages, scores = [], []
        for _ in range(args.starts):
            proc, url, to_page, to_score, _ = start(args.model, log)
            pages.append(to_page)
            scores.append(to_score)
            last = (proc, url)
            if len(pages) < args.starts:
                proc.terminate()
                proc.wait()
        proc, url = last
        drafts = []
        for _ in range(args.drafts):
            began = time.perf_counter()
            _score(url)
            drafts.append(time.perf_counter() - began)
        proc.terminate()
        proc.wait()
    print(
        f"start-up to the draft page's first answer: median {statistics.median(pages):.2f} s, "
        f"max {max(pages):.2f} s over {args.starts} starts (goal < 5 s)"
    )
    print(
        f"start-up to the first scored draft ({len(SERVICES)} services): median "
        f"{statistics.median(scores):.2f} s, max {max(scores):.2f} s"
    )
    print(
        f"a scored draft on a running server ({len(SERVICES)} services, reasons and what-ifs): "
        f"median {1000 * statistics.median(drafts):.0f} ms, max {1000 * max(drafts):.0f} ms "
        f"over {args.drafts} drafts (goal < 1 s)"
    )


if __name__ == "__main__":
    main()
