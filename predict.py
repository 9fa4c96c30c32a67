"""Predict IMR outcomes before filing, and inspect the model's feature importances.

    python predict.py --summary FILE --service "Physical therapy x 6 visits" [--service ...]
    python predict.py --case CASE.json            (schema: see models/drafts.py or README)
    python predict.py LETTER_OR_FOLDER... [--csv OUT.csv]   (only pre-decision parts used)
    python predict.py --batch CASES.csv --csv OUT.csv
    python predict.py importances [--top N] [--png FILE]
    python predict.py serve [--port 8000] [--model URI] [--host H]   (the web page)

``--summary -``, ``--case -`` or ``--batch -`` reads standard input; every input is read
within its limit (``data/drafts/input_files.py``). The model is
``models:/imr-outcome@champion`` from ``MLFLOW_TRACKING_URI`` unless ``--model URI`` (a
registry URI; a model folder is refused: loading it would run its code).
Exit status: 0 scored, 1 some items could not be scored (listed; the others are scored),
2 bad input, a bad output path, no model, or a tracking store that does not answer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from data.letters.names import printable

DEFAULT_MODEL = "models:/imr-outcome@champion"


class Exit(Exception):
    """Stop with an exit status (raised by the commands, turned into ``sys.exit``)."""

    def __init__(self, code: int):
        self.code = code


def _say(message: str) -> None:
    """One line to stderr; whatever it quotes (paths, fields, reasons) cannot drive the
    terminal: control characters are escaped (plain ``print``, so no markup either)."""
    print(printable(message), file=sys.stderr)


def _fail(message: str, code: int = 2):
    _say(f"error: {message}")
    raise Exit(code)


def _read_summary(path: str) -> str:
    """The case summary in ``--summary PATH``. Standard input (``-``), a device or a pipe is
    read as text within the summary's limit; a regular file (plain text, PDF with a text
    layer, Word .docx) is read by a limited parsing worker; of a letter (or a draft in the
    letter layout), its clinical case summary."""
    from data.drafts.input_files import SUMMARY, read_text

    if path == "-" or not Path(path).is_file():
        return read_text(path, "--summary", SUMMARY)
    from data.letters.errors import LetterError
    from data.letters.files import read_letter_bytes
    from data.letters.pool import ParseJob, parse_one, plain_reason

    try:
        data = read_letter_bytes(Path(path))
    except LetterError as exc:
        _fail(f"--summary {path}: {exc.reason}")
    reply = parse_one(ParseJob(0, data, Path(path).suffix, allow_draft=True, task="draft"))
    if reply["status"] == "failed" and reply["kind"] == "empty":
        return ""  # said as for any empty summary, below
    if reply["status"] == "failed":
        _fail(f"--summary {path}: {plain_reason(reply)}")
    if reply["status"] == "text":
        return reply["text"]
    print(
        f"note: --summary {printable(path)} is an IMR letter (or a draft of one): its clinical "
        f"case summary is used; to score the services it lists, give it as a path: "
        f"predict.py {printable(path)}",
        file=sys.stderr,
    )
    return reply["records"][0]["case_summary"] or ""


def _load(model_uri: str, pending=None):
    """The model (from ``pending``, a ``PendingLoad`` started earlier, if given); exit 2 if not."""
    from models.store.loading import ModelNotFound, TrackingUnreachable, load
    from models.store.persistence import UntrustedModelError

    try:
        return pending.result() if pending else load(model_uri)
    except (ModelNotFound, TrackingUnreachable, UntrustedModelError) as exc:
        _fail(str(exc))


def _check_output(path: Path, option: str, suffix: str | None = None) -> None:
    """Refuse, before any work, an output path that cannot be written (exit 2)."""
    if suffix and path.suffix.lower() != suffix:
        _fail(f"{option} {path}: unsupported format; give a file name ending in {suffix}")
    if path.is_dir():
        _fail(f"{option} {path}: is a folder; give a file name")
    parent = path.parent
    if not parent.is_dir():
        _fail(f"{option} {path}: the folder {parent} does not exist; create it or pick another")


def _model_uri(text: str) -> str:
    """A registry URI, or argparse's error: a model folder is code, never loaded."""
    from models.store.loading import ModelURIRefused, check_model_uri

    try:
        return check_model_uri(text)
    except ModelURIRefused as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, got {text!r}")
    return value


def _rows_from_letters(paths: list[Path]) -> tuple[list[dict], list[dict]]:
    from data.drafts.rows import letters_rows, split_unscorable

    rows, failed = letters_rows(paths)
    rows, empty = split_unscorable(rows)
    return rows, failed + empty


def _report_unscorable(unscorable: list[dict]) -> None:
    """One line per unscorable item, naming its file (or row, or item) and the reason."""
    for bad in unscorable:
        error, where = bad["error"], bad.get("source_file")
        if where and not error.startswith(str(where)):  # batch and case reasons name it
            error = f"{where}: {error}"
        _say(f"cannot score {error}")


def predict_parser() -> argparse.ArgumentParser:
    """Options of the prediction command (argparse: typer's import alone costs 0.2 s)."""
    parser = argparse.ArgumentParser(
        prog="predict.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", type=Path, help="Letters (PDF/text) or folders.")
    parser.add_argument(
        "--summary", help="Case summary: a text, PDF or Word (.docx) file, or - for stdin."
    )
    parser.add_argument("--service", action="append", help="A requested service; repeatable.")
    parser.add_argument("--injury-date", help="Date of injury, YYYY-MM-DD.")
    parser.add_argument("--ur-denial-date", help="UR denial date, YYYY-MM-DD.")
    parser.add_argument("--guideline", help="The claims administrator's guideline text.")
    parser.add_argument("--case", help="JSON case file, or - for stdin.")
    parser.add_argument(
        "--batch", type=Path, help="CSV of case_summary, service (+ optional), or - for stdin."
    )
    parser.add_argument("--csv", type=Path, help="Write one row per item to this CSV.")
    parser.add_argument(
        "--json", dest="as_json", action="store_true", help="Machine-readable output."
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        type=_model_uri,
        help="Registry URI: models:/NAME@ALIAS or models:/NAME/VERSION (never a folder).",
    )
    parser.add_argument(
        "--no-what-if", dest="what_if", action="store_false", help="Skip what-if re-scoring."
    )
    return parser


def predict(args: argparse.Namespace) -> int:
    """Score a draft, a JSON case, letters or a batch; return the exit status."""
    modes = sum(bool(x) for x in (args.paths, args.summary or args.service, args.case, args.batch))
    if modes != 1:
        _fail("give exactly one input: --summary with --service, --case, --batch, or letter paths")
    if args.csv:
        _check_output(args.csv, "--csv")
    from models.store.loading import PendingLoad

    # the tracking store is asked in a child process while this one reads the input
    pending = PendingLoad(args.model)
    try:
        return _predict(args, pending)
    finally:
        pending.cancel()


def _predict(args: argparse.Namespace, pending) -> int:
    from data.drafts.input_files import CASE, read_text
    from data.drafts.rows import InputError, batch_rows, draft_items, read_case_file

    unscorable: list[dict] = []
    try:
        if args.case:
            text = read_text(args.case, "--case", CASE)
            rows, unscorable = read_case_file(text, "--case " + args.case)
        elif args.summary or args.service:
            if not args.summary:
                _fail("--service needs --summary FILE (or --summary - for stdin)")
            rows, unscorable = draft_items(
                _read_summary(args.summary),
                list(args.service or []),
                source=f"--summary {args.summary}",
                injury_date=args.injury_date,
                ur_denial_date=args.ur_denial_date,
                claims_admin_guideline=args.guideline,
            )
        elif args.batch:
            rows, unscorable = batch_rows(args.batch)
        else:
            rows, unscorable = _rows_from_letters(args.paths)
    except InputError as exc:
        _fail(str(exc))
    if not rows:
        _report_unscorable(unscorable)
        _fail("nothing to score")

    loaded = _load(args.model, pending)
    from models.scoring.output import json_payload, render, write_csv

    # what-ifs re-score every item: for one draft or case, not for batches and letters
    one_case = not (args.csv or args.batch or args.paths)
    from models.scoring.score import score_rows

    results = score_rows(loaded, rows, with_what_if=one_case and args.what_if, detailed=True)
    for row, result in zip(rows, results, strict=True):
        if "extra" in row:  # a batch's own columns, as they were
            result["extra"] = row["extra"]
    if args.csv:
        try:
            write_csv(args.csv, rows, results, unscorable)
        except OSError as exc:
            _fail(f"--csv {args.csv}: cannot write it ({exc.strerror or exc})")
        _say(f"wrote {len(results)} scored item(s) to {args.csv}")
    if args.as_json:
        print(json_payload(loaded, results, unscorable))
    elif not args.csv:
        render(loaded, results, unscorable)
    _report_unscorable(unscorable)
    return 1 if unscorable else 0


def importances_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="predict.py importances",
        description="Global importances of the model, by family and by feature.",
    )
    parser.add_argument("--top", type=_positive, default=20, help="How many features to list.")
    parser.add_argument("--png", type=Path, help="Also draw a bar chart to this PNG.")
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        type=_model_uri,
        help="Registry URI: models:/NAME@ALIAS or models:/NAME/VERSION (never a folder).",
    )
    parser.add_argument(
        "--json", dest="as_json", action="store_true", help="Machine-readable output."
    )
    return parser


def importances(args: argparse.Namespace) -> int:
    """Print (and optionally plot) the champion's importances."""
    from models.scoring.output import importance_tables, render_importances
    from models.store.tracking import TrackingUnreachable

    if args.png:
        _check_output(args.png, "--png", ".png")
    loaded = _load(args.model)
    try:
        table = importance_tables(loaded)
    except TrackingUnreachable as exc:
        _fail(str(exc))
    if table is None:
        _fail(f"the run of {args.model} has no importances.csv; retrain with this train.py")
    if args.png:
        from models.plots import importance_chart

        try:
            importance_chart(
                table, args.png, top=args.top, title=f"Feature importance: {args.model}"
            )
        except OSError as exc:
            _fail(f"--png {args.png}: cannot write it ({exc.strerror or exc})")
        _say(f"wrote the importance chart to {args.png}")
    render_importances(table, args.top, as_json=args.as_json)
    return 0


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="predict.py serve",
        description="The web page: score drafts, batches and see the model, in a browser.",
    )
    parser.add_argument("--port", type=int, default=8000, help="Port (0: any free one).")
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        type=_model_uri,
        help="Registry URI: models:/NAME@ALIAS or models:/NAME/VERSION (never a folder).",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="Interface to listen on; anything but this computer (127.0.0.1) is warned about.",
    )
    return parser


def serve(args: argparse.Namespace) -> int:
    """Serve the web page (``web/``) until Ctrl-C."""
    from models.store.loading import ModelNotFound, TrackingUnreachable
    from models.store.persistence import UntrustedModelError
    from web.server import serve as serve_page

    try:
        return serve_page(args.model, args.host, args.port)
    except (ModelNotFound, TrackingUnreachable, UntrustedModelError) as exc:
        _fail(str(exc))


def run(argv: list[str] | None = None) -> int:
    """``importances`` and ``serve`` go to their commands; everything else is a prediction."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["importances"]:
            return importances(importances_parser().parse_args(argv[1:]))
        if argv[:1] == ["serve"]:
            return serve(serve_parser().parse_args(argv[1:]))
        return predict(predict_parser().parse_args(argv))
    except Exit as stop:
        return stop.code


if __name__ == "__main__":
    from models.logs import setup_logging

    setup_logging()
    sys.exit(run())
