"""Command line for ingestion: progress bar, summary table, exit status.

    python -m data.ingest PATH... --out DIR

Kept apart from :mod:`data.ingest` so that the pure ingestion functions carry no terminal
dependencies. Exit status: 0 all files ingested, duplicates or conflicts, 1 some files
failed, 3 the dataset is locked by another run. File names and reasons are printed in
their escaped form (:mod:`data.letters.names`) and never as rich markup, so a
name cannot move the cursor, colour the terminal or forge a line of the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from data.ingest import ingest
from data.ingest.dataset import DatasetBusy
from data.terminal_text import plain_text, printable, terminal_console
from settings import DEFAULT_DATASET_DIR

app = typer.Typer(add_completion=False, help=__doc__)
console = terminal_console(stderr=True)

_COUNTS = (
    ("files seen", "files_seen"),
    ("parsed", "parsed"),
    ("conflicts", "conflicts"),
    ("duplicates", "duplicates"),
    ("failed", "failed"),
    ("items added", "items_added"),
    ("overturned added", "overturned_added"),
    ("items in dataset", "items_total"),
)


@contextmanager
def progress_bar(disable: bool = False) -> Iterator:
    """A factory ``make(total) -> advance(n)`` backed by one rich progress bar."""
    with Progress(
        TextColumn("parsing letters"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=disable,
        transient=True,
    ) as progress:

        def make(total: int):
            task = progress.add_task("parse", total=total)
            return lambda n: progress.advance(task, n)

        yield make


def report_line(entry: dict) -> Text | None:
    """The line printed for a failed or conflicting file (None for others): plain text
    (never rich markup), non-printable characters escaped whatever the report holds."""
    styles = {"failed": "red", "conflict": "yellow"}
    if entry["status"] not in styles:
        return None
    return Text.assemble(
        (entry["status"], styles[entry["status"]]),
        " ",
        printable(entry["path"]),
        ": ",
        printable(entry.get("reason") or ""),
    )


def print_summary(report: dict, *, quiet: bool = False, out: Console | None = None) -> None:
    """The summary table, then one line per failed or conflicting file with its reason."""
    out = out or terminal_console()
    summary = report["summary"]
    if not quiet:
        table = Table(title=plain_text(f"Ingestion into {report['out_dir']}"))
        for title, _ in _COUNTS:
            table.add_column(title, justify="right")
        table.add_row(*(plain_text(summary.get(key, 0)) for _, key in _COUNTS))
        out.print(table)
    for entry in report["files"]:
        if (line := report_line(entry)) is not None:
            out.print(line, soft_wrap=True, emoji=False, highlight=False)


@app.command()
def run(
    paths: Annotated[list[Path], typer.Argument(help="Letter files or folders (PDF or text).")],
    out: Annotated[Path, typer.Option(help="Dataset folder.")] = DEFAULT_DATASET_DIR,
    workers: Annotated[int, typer.Option(help="Parallel processes (0: one per core).")] = 0,
    quiet: Annotated[bool, typer.Option(help="Only report failures and conflicts.")] = False,
) -> None:
    """Ingest letters into DIR/items.parquet and DIR/ingest_report.json."""
    try:
        with progress_bar(disable=quiet) as make_progress:
            result = ingest(paths, out, workers=workers or None, progress=make_progress)
    except DatasetBusy as exc:
        console.print(plain_text(f"error: {exc}"))
        raise typer.Exit(3) from exc
    print_summary(result.report, quiet=quiet)
    raise typer.Exit(1 if result.failed else 0)


if __name__ == "__main__":
    app()
