"""Command line for ingestion: progress bar, summary table, exit status.

Kept apart from :mod:`data.ingest` so that the pure ingestion functions carry no terminal
dependencies. Exit status: 0 all files ingested or duplicates, 1 some files failed,
3 the dataset is locked by another run.
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

from data.config import DEFAULT_DATASET_DIR
from data.dataset import DatasetBusy
from data.ingest import ingest

app = typer.Typer(add_completion=False, help=__doc__)
console = Console(stderr=True)


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


def print_summary(report: dict, *, quiet: bool = False, out: Console | None = None) -> None:
    """The summary table, then one line per failed file with its reason."""
    out = out or Console()
    summary = report["summary"]
    failures = [f for f in report["files"] if f["status"] == "failed"]
    if not quiet:
        table = Table(title=f"Ingestion into {report['out_dir']}")
        for name in (
            "files seen",
            "parsed",
            "duplicates",
            "failed",
            "items added",
            "overturned added",
            "items in dataset",
        ):
            table.add_column(name, justify="right")
        table.add_row(
            *(
                str(summary[k])
                for k in (
                    "files_seen",
                    "parsed",
                    "duplicates",
                    "failed",
                    "items_added",
                    "overturned_added",
                    "items_total",
                )
            )
        )
        out.print(table)
    for failure in failures:
        out.print(
            f"[red]failed[/red] {failure['path']}: {failure['reason']}",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def run(
    paths: Annotated[list[Path], typer.Argument(help="Letter files or folders (PDF or text).")],
    out: Annotated[Path, typer.Option(help="Dataset folder.")] = DEFAULT_DATASET_DIR,
    workers: Annotated[int, typer.Option(help="Parallel processes (0: one per core).")] = 0,
    quiet: Annotated[bool, typer.Option(help="Only report failures.")] = False,
) -> None:
    """Ingest letters into DIR/items.parquet and DIR/ingest_report.json."""
    try:
        with progress_bar(disable=quiet) as make_progress:
            result = ingest(paths, out, workers=workers or None, progress=make_progress)
    except DatasetBusy as exc:
        console.print(f"error: {exc}")
        raise typer.Exit(3) from exc
    print_summary(result.report, quiet=quiet)
    raise typer.Exit(1 if result.failed else 0)


if __name__ == "__main__":
    app()
