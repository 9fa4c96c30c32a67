"""Predict IMR outcomes before filing, and inspect the model's feature importances.

    python predict.py --summary FILE --service "Physical therapy x 6 visits" [--service ...]
    python predict.py --case CASE.json            (schema: see models/drafts.py or README)
    python predict.py LETTER_OR_FOLDER... [--csv OUT.csv]   (only pre-decision parts used)
    python predict.py --batch CASES.csv --csv OUT.csv
    python predict.py importances [--top N] [--png FILE]

``--summary -`` or ``--case -`` reads standard input. The model is
``models:/imr-outcome@champion`` from ``MLFLOW_TRACKING_URI`` unless ``--model URI``.
Exit status: 0 scored, 1 some items could not be scored (listed), 2 bad input or no model.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, help=__doc__)


def _fail(message: str, code: int = 2):
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _read(path: str, what: str) -> str:
    if path == "-":
        return sys.stdin.read()
    file = Path(path)
    if not file.is_file():
        _fail(f"{what} {path}: no such file; check the path")
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{what} {path}: cannot read it as UTF-8 text ({exc})")


def _load(model_uri: str):
    from models.loading import ModelNotFound, load

    try:
        return load(model_uri)
    except ModelNotFound as exc:
        _fail(str(exc))


def _rows_from_letters(paths: list[Path]) -> tuple[list[dict], list[dict]]:
    from data.errors import LetterError
    from data.ingest import find_letter_files

    files, missing = find_letter_files(paths)
    rows, failed = [], [{"source_file": m.path, "error": m.reason} for m in missing]
    for path in files:
        from models.drafts import letter_rows

        try:
            rows.extend(letter_rows(path))
        except LetterError as exc:
            failed.append({"source_file": str(path), "error": exc.reason})
    return rows, failed


@app.command()
def main(
    paths: list[Path] | None = typer.Argument(None, help="Letters (PDF/text) or folders."),
    summary: str | None = typer.Option(None, help="Case summary file, or - for stdin."),
    service: list[str] | None = typer.Option(None, help="A requested service; repeatable."),
    injury_date: str | None = typer.Option(None, help="Date of injury, YYYY-MM-DD."),
    ur_denial_date: str | None = typer.Option(None, help="UR denial date, YYYY-MM-DD."),
    guideline: str | None = typer.Option(None, help="The claims administrator's guideline text."),
    case: str | None = typer.Option(None, help="JSON case file, or - for stdin."),
    batch: Path | None = typer.Option(None, help="CSV of case_summary, service (+ optional)."),
    csv: Path | None = typer.Option(None, help="Write one row per item to this CSV."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    model: str = typer.Option("models:/imr-outcome@champion", help="Model URI."),
    what_if: bool = typer.Option(True, help="Re-score with facts the draft lacks."),
) -> None:
    """Score a draft, a JSON case, letters or a batch."""
    from models.drafts import InputError, batch_rows, draft_rows, read_case_file

    modes = sum(bool(x) for x in (paths, summary or service, case, batch))
    if modes != 1:
        _fail("give exactly one input: --summary with --service, --case, --batch, or letter paths")
    unscorable: list[dict] = []
    try:
        if case:
            rows = read_case_file(_read(case, "--case"), "--case " + case)
        elif summary or service:
            if not summary:
                _fail("--service needs --summary FILE (or --summary - for stdin)")
            text = _read(summary, "--summary")
            rows = draft_rows(
                text,
                list(service or []),
                source=f"--summary {summary}",
                injury_date=injury_date,
                ur_denial_date=ur_denial_date,
                claims_admin_guideline=guideline,
            )
        elif batch:
            if not batch.is_file():
                _fail(f"--batch {batch}: no such file; check the path")
            rows, unscorable = batch_rows(batch)
        else:
            rows, unscorable = _rows_from_letters(paths)
    except InputError as exc:
        _fail(str(exc))
    if not rows:
        for bad in unscorable:
            typer.echo(
                f"cannot score {bad.get('source_file', bad.get('row'))}: {bad['error']}", err=True
            )
        _fail("nothing to score")

    loaded = _load(model)
    from models.output import render, write_csv

    detailed = not (csv or batch or paths)
    results = _score(loaded, rows, detailed and what_if, detailed)
    if csv:
        write_csv(csv, rows, results, unscorable)
    if as_json:
        typer.echo(
            json.dumps(
                {"model": loaded.uri, "items": results, "unscorable": unscorable},
                indent=2,
                default=str,
            )
        )
    elif not csv:
        render(loaded, results, unscorable)
    else:
        typer.echo(f"wrote {len(results)} scored item(s) to {csv}", err=True)
    for bad in unscorable:
        typer.echo(
            f"cannot score {bad.get('source_file', bad.get('row'))}: {bad['error']}", err=True
        )
    raise typer.Exit(1 if unscorable else 0)


def _score(loaded, rows: list[dict], with_what_if: bool, detailed: bool) -> list[dict]:
    from features.extractors import service_category
    from models.loading import baseline_rate
    from models.prediction import explain_items, pre_filing_frame, score

    frame = pre_filing_frame(rows)
    if detailed:
        scored = [
            s.as_dict() for s in explain_items(loaded.pipeline, frame, with_what_if=with_what_if)
        ]
    else:
        table = score(loaded.pipeline, frame)
        scored = [
            {"service": r["service"], **{k: float(v) for k, v in table.iloc[i].items()}}
            for i, r in enumerate(rows)
        ]
    for row, result in zip(rows, scored, strict=True):
        category = service_category(row["service"]).value
        rate, n = baseline_rate(loaded.baseline, category)
        result.update({"category": category, "baseline_rate": rate, "baseline_items": n})
        for key in ("source_file", "item_index", "row"):
            if key in row:
                result[key] = row[key]
    return scored


@app.command("importances")
def importances(
    top: int = typer.Option(20, help="How many features to list."),
    png: Path | None = typer.Option(None, help="Also draw a bar chart to this PNG."),
    model: str = typer.Option("models:/imr-outcome@champion", help="Model URI."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Global importances of the model, by family and by feature (logged by training)."""
    from models.output import importance_tables, render_importances

    loaded = _load(model)
    table = importance_tables(loaded)
    if table is None:
        _fail(f"the run of {model} has no importances.csv; retrain with this version of train.py")
    if png:
        from models.plots import importance_chart

        importance_chart(table, png, top=top, title=f"Feature importance: {model}")
    render_importances(table, top, as_json=as_json)


def run() -> None:
    """Dispatch ``importances`` to its command; everything else is a prediction."""
    if len(sys.argv) > 1 and sys.argv[1] == "importances":
        sys.argv.pop(1)
        typer.main.get_command(app).commands["importances"].main(prog_name="predict.py importances")
    else:
        typer.main.get_command(app).commands["main"].main(prog_name="predict.py")


if __name__ == "__main__":
    run()
