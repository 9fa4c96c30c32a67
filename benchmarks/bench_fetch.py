"""The fetcher against a dead network and a slow drip: how long until it says so.

    .venv/bin/python benchmarks/bench_fetch.py [--only dns|drip]

``dns``: the command line as a user runs it (``python -m data.fetch ... --max-letters 3``)
against a name that never resolves (``.invalid``, RFC 2606) and against the real site's
name (which, with no network, does not resolve either); the clock runs from launching the
process to its exit. ``drip``: the command line against the local stand-in
(tests/helpers/dwc_server.py) serving three letters, one of them one byte every 2 s; it reports
when the dripping letter was given up (from its request reaching the stand-in to the
stand-in's next write failing, so to within one drip interval) and the run's exit status
and verdicts (the run goes on to the other letters). Uses the fetcher's own defaults
(deadline ``DEADLINE_SECONDS``), except ``--delay 1``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from data.fetch.polite_http import DEADLINE_SECONDS  # noqa: E402
from tests.helpers.dwc_server import FakeCase, FakeDwcSite, Fault  # noqa: E402

DATES = ["--decided-from", "2024-01-01", "--decided-to", "2024-03-31"]


def fetch_cli(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "data.fetch", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return time.monotonic() - started, run


def dns() -> None:
    for base in ("https://imr-fetch-bench.invalid", "https://www.dir.ca.gov"):
        with tempfile.TemporaryDirectory() as out:
            seconds, run = fetch_cli(*DATES, "--out", out, "--max-letters", "3", "--base-url", base)
        last = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
        print(f"dns  {base}: exit {run.returncode} after {seconds:.1f} s  | {last[:150]}")


def drip() -> None:
    day = dt.date(2024, 1, 1)
    cases = [
        FakeCase(f"CM24-{i:07d}", day, [("Diagnostic Testing", "MRI", "Upheld")]) for i in (1, 2, 3)
    ]
    with FakeDwcSite(cases) as site, tempfile.TemporaryDirectory() as out:
        site.fail(cases[1].path, Fault("drip", interval=2.0))
        seconds, run = fetch_cli(
            "--decided-from", "2024-01-01", "--decided-to", "2024-01-01",
            "--out", out, "--base-url", site.url, "--delay", "1", "--quiet",
        )  # fmt: skip
        (dripped,) = site.requests_to(cases[1].path)
        report = json.loads((Path(out) / "fetch_report.json").read_text())
    verdicts = {e["case_number"]: e.get("kind") or e["status"] for e in report["files"]}
    given_up = dripped.dripped * 2.0  # the write that failed came one interval after the last
    print(
        f"drip 1 byte/2 s (deadline {DEADLINE_SECONDS:g} s): {dripped.dripped} bytes sent, so "
        f"given up {given_up - 2:.0f}-{given_up:.0f} s after the request; whole run "
        f"{seconds:.1f} s, exit {run.returncode}, {verdicts}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("dns", "drip"))
    args = parser.parse_args()
    if args.only in (None, "dns"):
        dns()
    if args.only in (None, "drip"):
        drip()


if __name__ == "__main__":
    main()
