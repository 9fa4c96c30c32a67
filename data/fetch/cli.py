"""Command line for fetching letters from the DWC's IMR decision search.

Kept apart from :mod:`data.fetch.walk` so that the walk carries no terminal dependencies.
Exit status: 0 done (or stopped at --max-letters), 1 some letters were set aside or failed
(each listed with its reason), 2 bad arguments, 3 another fetch is writing into the folder,
4 stopped early because of the site or the network (unavailable, refusing, answering in an
unknown format or with an unusable results page, or its name does not resolve; rerun later
to resume), 130 interrupted (rerun to resume).

Everything printed that came from the site or the user (titles, reason phrases, addresses,
case numbers, paths) goes through :func:`data.terminal_text.terminal_text`: shown as its
characters, never as rich markup or terminal control sequences; the log lines too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

import typer
from rich.console import Console
from rich.table import Table

from data.fetch import site as dwc_site
from data.fetch.manifest import ManifestError
from data.fetch.polite_http import (
    DEFAULT_DELAY_SECONDS,
    MIN_DELAY_SECONDS,
    PoliteClient,
    user_agent,
)
from data.fetch.walk import DEFAULT_WINDOW_DAYS, FetchOptions, dry_run, fetch
from data.terminal_text import terminal_text

app = typer.Typer(add_completion=False, help=__doc__, pretty_exceptions_enable=False)
console = Console(stderr=True)
#: Stops that are the site's (or the network's) doing: exit status 4.
_SITE_STOPS = (
    "site_unavailable",
    "too_many_failures",
    "site_format",
    "site_error",
    "name_not_resolved",
)


def _say(message: str, out: Console | None = None) -> None:
    """Print a plain message (it may quote the site or the user) as exactly its characters."""
    (out or console).print(terminal_text(message), highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    _say(f"error: {message}")
    return typer.Exit(code)


class _TerminalLog(logging.Handler):
    """Log lines on the console, as text: a reason or an address from the site is printed
    as its characters (markup and control characters escaped)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _say(self.format(record))
        except Exception:  # a log line must never end the run
            self.handleError(record)


def _date(option: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} {text!r} is not a date; write it as YYYY-MM-DD") from None


def print_summary(report: dict, out: Console | None = None) -> None:
    """The summary table, the agreement rate, then one line per letter set aside."""
    out = out or Console()
    summary = report["summary"]
    table = Table(title=f"Letters in {terminal_text(report['out_dir'])}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = {
        "cases (treatments) in the search table": f"{summary['cases']} ({summary['treatments']})",
        "letters fetched and checked": summary["fetched"],
        "set aside (rejected/)": summary["rejected"],
        "failed to download": summary["failed"],
        "still to fetch": summary["pending"],
        "this run: downloads / requests": (
            f"{summary['downloaded_this_run']} / {summary['requests_this_run']}"
        ),
    }
    for name, value in rows.items():
        table.add_row(name, str(value))
    out.print(table)
    agreement = report["agreement"]
    if agreement["treatments_compared"]:
        out.print(
            f"site table vs letters: {agreement['treatments_agreeing']} of "
            f"{agreement['treatments_compared']} treatments agree "
            f"({agreement['treatment_agreement_rate']:.1%}); "
            f"{agreement['letters_agreeing']} of {agreement['letters_compared']} letters",
            highlight=False,
        )
    for warning in report["warnings"]:
        out.print(
            f"[yellow]warning[/yellow] {terminal_text(warning)}", highlight=False, soft_wrap=True
        )
    for entry in report["files"]:
        if entry["status"] != "fetched":
            out.print(
                f"[red]{terminal_text(entry['status'])}[/red] "
                f"{terminal_text(entry['case_number'])}: {terminal_text(entry.get('reason'))}",
                highlight=False,
                soft_wrap=True,
            )


@app.command()
def run(
    decided_from: Annotated[
        str, typer.Option("--decided-from", help="First decision date, YYYY-MM-DD.")
    ],
    decided_to: Annotated[
        str, typer.Option("--decided-to", help="Last decision date, YYYY-MM-DD.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for letters, table, report and manifest.")],
    outcome: Annotated[
        str | None,
        typer.Option(help="Treatment outcome filter as the form takes it (e.g. Overturn)."),
    ] = None,
    sub_category: Annotated[
        str | None,
        typer.Option(help="Sub-category filter as the form takes it (see the README)."),
    ] = None,
    specialty: Annotated[str | None, typer.Option(help="IMRO reviewer specialty filter.")] = None,
    max_letters: Annotated[
        int | None, typer.Option(min=1, help="Stop after downloading this many letters.")
    ] = None,
    delay: Annotated[
        float, typer.Option(help=f"Seconds between requests (at least {MIN_DELAY_SECONDS:g}).")
    ] = DEFAULT_DELAY_SECONDS,
    dry_run_: Annotated[
        bool, typer.Option("--dry-run", help="Print the requests it would make; send none.")
    ] = False,
    base_url: Annotated[
        str, typer.Option(help="The site, or a mirror or local stand-in for it.")
    ] = dwc_site.DEFAULT_BASE_URL,
    window_days: Annotated[
        int, typer.Option(min=1, help="Days per search window (split when too full).")
    ] = DEFAULT_WINDOW_DAYS,
    retry_rejected: Annotated[
        bool, typer.Option(help="Download letters set aside by an earlier run again.")
    ] = False,
    rewalk: Annotated[
        bool, typer.Option(help="Search windows walked before again (new letters appear late).")
    ] = False,
    contact: Annotated[
        str | None, typer.Option(help="An e-mail or URL to add to the User-Agent.")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="Log only warnings, not every request.")] = False,
) -> None:
    """Walk the IMR decision search and download each letter once, politely and resumably."""
    options = _options(
        decided_from,
        decided_to,
        delay,
        FetchOptions(
            decided_from=None,
            decided_to=None,
            out_dir=out,
            outcome=outcome,
            sub_category=sub_category,
            specialty=specialty,
            max_letters=max_letters,
            base_url=base_url,
            window_days=window_days,
            retry_rejected=retry_rejected,
            rewalk=rewalk,
        ),
    )
    if dry_run_:
        try:
            lines = dry_run(options, user_agent=user_agent(delay, contact), delay=delay)
        except ManifestError as exc:
            raise _fail(str(exc)) from exc
        for line in lines:
            _say(line, Console())
        raise typer.Exit(0)
    _run(options, delay, contact, quiet)


def _options(decided_from: str, decided_to: str, delay: float, given: FetchOptions):
    """``given`` with its dates, once the arguments are checked (exit 2 with why if not)."""
    start = _date("--decided-from", decided_from)
    end = _date("--decided-to", decided_to)
    if end < start:
        raise _fail(f"--decided-to {end} is before --decided-from {start}")
    if delay < MIN_DELAY_SECONDS:
        raise _fail(
            f"--delay {delay:g}: the pause between requests must be at least "
            f"{MIN_DELAY_SECONDS:g} s, to spare the site"
        )
    parsed = urlparse(given.base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise _fail(
            f"--base-url {given.base_url!r} is not an http(s) URL such as "
            f"{dwc_site.DEFAULT_BASE_URL}"
        )
    if given.outcome and given.outcome not in dwc_site.KNOWN_OUTCOMES:
        _say(
            f"note: --outcome {given.outcome!r} is not one of the documented values "
            f"({', '.join(dwc_site.KNOWN_OUTCOMES)}); it is sent as given"
        )
    return dataclasses.replace(given, decided_from=start, decided_to=end)


def _run(options: FetchOptions, delay: float, contact: str | None, quiet: bool) -> None:
    from filelock import Timeout

    handler = _TerminalLog()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, handlers=[handler])
    client = PoliteClient(delay=delay, contact=contact)
    try:
        result = fetch(options, client)
    except ManifestError as exc:
        raise _fail(str(exc)) from exc
    except Timeout as exc:
        raise _fail(
            f"{options.out_dir} is being fetched into by another run; wait for it to finish", 3
        ) from exc
    except KeyboardInterrupt as exc:
        raise _fail(
            f"interrupted; everything so far is saved in {options.out_dir}: rerun the same "
            "command to resume",
            130,
        ) from exc
    finally:
        client.close()
    print_summary(result.report)
    if result.stopped in _SITE_STOPS:
        raise _fail(result.report["message"], 4)
    if result.stopped:
        _say(result.report["message"])
    _say(
        f"good letters are in {Path(options.out_dir) / 'pdf'}; train on them with: "
        f".venv/bin/python train.py --letters {options.out_dir}"
    )
    raise typer.Exit(1 if result.problems else 0)


if __name__ == "__main__":
    app()
