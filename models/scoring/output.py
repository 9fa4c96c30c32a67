"""How predict.py shows results: a readable report, a CSV, importance tables."""

from __future__ import annotations

import json
import logging
import textwrap

import pandas as pd
from rich.console import Console
from rich.table import Table

from data.csv_output import write_csv as write_safe_csv
from data.terminal_text import plain_lines, plain_text, terminal_console, terminal_text
from models.importance import family_importances
from models.scoring.explain import CASE, DOCUMENTABLE, MODEL_START, OTHER, rounded_points

logger = logging.getLogger(__name__)

#: How many likely denial reasons a CSV row carries (``denial_reason_N``, ``to_document_N``).
CSV_DENIAL_REASONS = 3
CSV_COLUMNS = (
    "source_file",
    "item_index",
    "row",
    "service",
    "p_overturned",
    "p_low",
    "p_high",
    "how_sure",
    "category",
    "baseline_rate",
    "baseline_items",
    "baseline_shrunk_rate",
    *(
        name
        for n in range(1, CSV_DENIAL_REASONS + 1)
        for name in (f"denial_reason_{n}", f"to_document_{n}")
    ),
    "warnings",
    "error",
)
#: Columns that say where a row came from, or why it failed: left out when empty throughout
#: (a batch CSV has no ``source_file``); the result columns are always there.
_OPTIONAL_COLUMNS = ("source_file", "item_index", "row", "error")


def _pct(p) -> str:
    return "n/a" if p is None else f"{100 * p:.1f}%"


#: Longest evidence shown in a terminal cell; longer is cut at a word, never inside one.
EVIDENCE_CHARS = 160


def evidence_text(texts, width: int = EVIDENCE_CHARS) -> str:
    """Evidence quotes joined with `` | ``, shortened at a word boundary (``…`` marks a cut)."""
    joined = " | ".join(" ".join(str(t).split()) for t in texts if str(t).strip())
    return textwrap.shorten(joined, width, placeholder=" …") if joined else ""


def _signed_points(points: float) -> str:
    return "0.0" if points == 0 else f"{points:+.1f}"


GROUP_TITLES = {
    DOCUMENTABLE: "Facts in the draft (documenting them can move the estimate):",
    CASE: "About the request and the case (documenting cannot change these):",
}


def _explanation_table(result: dict) -> Table | None:
    """The walk from the kind's usual rate to the estimate, in points that add up."""
    explained = result.get("explanation")
    if not explained:
        return None
    shown = rounded_points(explained)
    table = Table(title="How the estimate is reached (percentage points)", show_lines=False)
    table.add_column("step")
    table.add_column("points", justify="right")
    table.add_column("evidence")
    kind = terminal_text(str(result.get("category") or "this kind").replace("_", " "))
    table.add_row(f"[bold]usual rate for {kind} requests[/bold]", _pct(explained["usual_rate"]), "")
    steps = list(zip(explained["steps"], shown, strict=True))
    for step, points in steps:
        if step["kind"] == MODEL_START:
            table.add_row(terminal_text(step["label"]), _signed_points(points), "")
    for group in (DOCUMENTABLE, CASE):
        rows = [(s, p) for s, p in steps if s["kind"] == group]
        if rows:
            table.add_row(plain_text(GROUP_TITLES[group], style="italic"), "", "")
        for step, points in rows:
            table.add_row(
                "  " + terminal_text(step["label"]),
                _signed_points(points),
                terminal_text(evidence_text(step.get("evidence") or [])),
            )
    for step, points in steps:
        if step["kind"] == OTHER:
            table.add_row(terminal_text(step["label"]), _signed_points(points), "")
    table.add_row("[bold]the estimate[/bold]", f"[bold]{_pct(explained['estimate'])}[/bold]", "")
    return table


def render(loaded, results: list[dict], unscorable: list[dict], console: Console | None = None):
    """The human-readable report of each scored item.

    Every text of an item (service, kind, warnings, reasons, evidence, what-ifs) came from
    the draft or the model and is printed as data (:mod:`data.terminal_text`): markup in a
    service shows as typed, control characters are escaped.
    """
    console = console or terminal_console()
    console.print(f"model: {terminal_text(loaded.uri)}", soft_wrap=True)
    for result in results:
        console.rule(plain_text(result["service"][:100]))
        _print_estimate(console, result)
        for table in (
            _explanation_table(result) or _reasons_table(result),
            _denial_reasons_table(result),
            _what_if_table(result),
        ):
            if table is not None:
                console.print(table)


def _print_estimate(console: Console, result: dict) -> None:
    """The estimate, how sure it is, the kind's rates and the warnings."""
    console.print(
        f"P(Overturned) = [bold]{_pct(result['p_overturned'])}[/bold]  "
        f"(range {_pct(result['p_low'])} to {_pct(result['p_high'])}: the estimates of "
        "models trained on different letters)"
    )
    if sure := result.get("how_sure"):
        console.print(plain_text(f"how sure: {sure['label']}", style="bold"))
    console.print(
        f"kind of service: {terminal_text(result['category'])}; in training "
        f"{_pct(result['baseline_rate'])}"
        + (
            f" of {int(result['baseline_items'])} items were overturned"
            if result["baseline_items"]
            else " overall (no training item of this kind)"
        )
        + (
            f"; usual rate {_pct(result['baseline_shrunk_rate'])} (pulled toward the "
            "published rate)"
            if result.get("baseline_shrunk_rate") is not None
            else ""
        )
    )
    for warning in result.get("warnings", []):
        console.print(plain_text(f"warning: {warning}", style="bold yellow"))


def _reasons_table(result: dict) -> Table | None:
    """What moved the estimate in log-odds (a result without the walk in points)."""
    if not result.get("reasons"):
        return None
    table = Table(title="Top reasons", show_lines=False)
    for column in ("reason", "effect (log-odds)", "evidence"):
        table.add_column(column)
    for reason in result["reasons"]:
        label = reason.get("reason", reason["feature"])
        table.add_row(
            plain_text(label),
            f"{reason['effect_log_odds']:+.3f}",
            plain_text(evidence_text(reason["evidence"])),
        )
    return table


def _denial_reasons_table(result: dict) -> Table | None:
    """The likely denial reasons, the most likely first.

    Four columns that fold rather than cut: an 80-column terminal shows every word (a long
    code or citation breaks across lines, nothing ends in an ellipsis)."""
    if not result.get("denial_reasons"):
        return None
    table = Table(title="Likely denial reasons (the most likely first)")
    for column in ("reason", "in the draft", "evidence / what to document", "source"):
        table.add_column(column, overflow="fold")
    for reason in result["denial_reasons"]:
        found = evidence_text(e["text"] for e in reason["evidence"])
        share = reason.get("p_cited", reason.get("cited_in_upheld_share"))
        cited = "" if share is None else f"{100 * share:.0f}% likely if upheld"
        code = reason.get("reason_code")
        table.add_row(
            plain_lines(
                reason.get("criterion") or reason.get("label", ""), f"({code})" if code else ""
            ),
            plain_lines(reason["status"].replace("_", " "), cited),
            plain_text(found or reason["to_document"]),
            plain_text(reason.get("source", "")),
        )
    return table


def _what_if_table(result: dict) -> Table | None:
    """Each fact the draft could still document, and the estimate with it."""
    if not result.get("what_if"):
        return None
    table = Table(title="What if the draft documented ...")
    for column in ("fact", "P(Overturned)", "change"):
        table.add_column(column)
    for change in result["what_if"]:
        fact = plain_text(change["fact"])
        table.add_row(fact, _pct(change["p_overturned"]), _change_text(change["change"]))
    return table


def _change_text(change: float) -> str:
    """A what-if's move in points; under 0.05 point no move a person can act on, said so."""
    shown = round(100 * change, 1)
    return f"{shown:+.1f} pts" if shown else "no measurable change"


def _extra_columns(records: list[dict]) -> list[str]:
    """The batch's extra columns, in the input's order."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record.get("extra") or {}))
    return list(names)


def _status_words(status) -> str:
    return str(status or "").replace("_", " ")


def csv_record(item: dict) -> dict:
    """One scored (or unscorable) item as a CSV row of :data:`CSV_COLUMNS`: the first
    likely denial reasons (``not met: ...``) with what to document, the warnings joined
    with ``; `` and the "how sure" label."""
    record = {k: item.get(k) for k in CSV_COLUMNS}
    sure = item.get("how_sure")
    record["how_sure"] = sure.get("label") if isinstance(sure, dict) else None
    reasons = item.get("denial_reasons") or []
    for n in range(1, CSV_DENIAL_REASONS + 1):
        reason = reasons[n - 1] if n <= len(reasons) else {}
        words = reason.get("criterion") or reason.get("label")
        record[f"denial_reason_{n}"] = (
            f"{_status_words(reason.get('status'))}: {words}" if words else None
        )
        record[f"to_document_{n}"] = reason.get("to_document") or None
    warnings = item.get("warnings") or []
    record["warnings"] = "; ".join(str(w) for w in warnings) or None
    return record


def json_payload(loaded, results: list[dict], unscorable: list[dict]) -> str:
    """What ``predict.py --json`` prints (and the page's JSON download holds): the model,
    every scored item with all its fields, and the unscorable ones."""
    payload = {"model": loaded.uri, "items": results, "unscorable": unscorable}
    return json.dumps(payload, indent=2, default=str)


def write_csv(path, rows: list[dict], results: list[dict], unscorable: list[dict]) -> None:
    """One row per item to ``path`` (a file name or a text buffer): scored ones with their
    probabilities, unscorable ones with the reason.

    A batch's extra columns (e.g. ``claim_id``, carried under ``extra`` in its rows and
    unscorable entries) come right after ``row``, as they were; rows keep the input's
    order. ``source_file``, ``item_index``, ``row`` and ``error`` are left out when empty
    throughout. The file is spreadsheet-safe (:mod:`data.csv_output`).
    """
    extra_by_row = {r["row"]: r["extra"] for r in rows if "row" in r and r.get("extra")}
    items = [{**r, "extra": r.get("extra") or extra_by_row.get(r.get("row"), {})} for r in results]
    items += unscorable
    extras = _extra_columns(items)
    records = [{**csv_record(item), **(item.get("extra") or {})} for item in items]
    if records and all(r.get("row") is not None for r in records):
        records.sort(key=lambda r: r["row"])
    at = CSV_COLUMNS.index("row") + 1
    columns = [*CSV_COLUMNS[:at], *extras, *CSV_COLUMNS[at:]]
    frame = pd.DataFrame(records, columns=columns)
    for column in ("item_index", "row", "baseline_items"):  # counts stay whole numbers
        frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    empty = [c for c in _OPTIONAL_COLUMNS if frame[c].isna().all()]
    write_safe_csv(frame.drop(columns=empty), path, index=False)


def importance_tables(loaded) -> pd.DataFrame | None:
    """The importance table the model's training run logged (``importances.csv``)."""
    import mlflow.artifacts

    from models.store.tracking import NotInStore, ask
    from settings import tracking_uri

    if not loaded.run_id:
        return None
    try:
        local = ask(
            f"importances.csv of run {loaded.run_id}",
            lambda: mlflow.artifacts.download_artifacts(
                run_id=loaded.run_id, artifact_path="importances.csv", tracking_uri=tracking_uri()
            ),
        )
    except NotInStore as exc:
        logger.info("run %s has no importances.csv (%s)", loaded.run_id, exc)
        return None
    return pd.read_csv(local)


def render_importances(table: pd.DataFrame, top: int, *, as_json: bool = False) -> None:
    """Families first, then the top features, each with its direction."""
    families = family_importances(table)
    if as_json:
        print(
            json.dumps(
                {
                    "families": families.to_dict(orient="records"),
                    "features": table.head(top).to_dict(orient="records"),
                },
                indent=2,
            )
        )
        return
    # the names come from the run's importances.csv: printed as data like any other text
    console = terminal_console()
    fam = Table(title="Importance by feature family")
    for column in ("family", "importance", "features", "net direction"):
        fam.add_column(column)
    for _, row in families.iterrows():
        family, count, direction = (plain_text(row[c]) for c in ("family", "features", "direction"))
        fam.add_row(family, f"{row['importance']:.4f}", count, direction)
    console.print(fam)
    features = Table(title=f"Top {int(top)} features")
    # a feature's name is never cut with "…": the family and direction wrap at their spaces
    # to leave it room, and in a terminal too narrow even then it folds onto the next line
    features.add_column("feature", overflow="fold")
    features.add_column("family", overflow="fold", max_width=12)
    features.add_column("importance", overflow="fold")
    features.add_column("direction", overflow="fold", max_width=10)
    for _, row in table.head(top).iterrows():
        feature, family, direction = (
            plain_text(row[c]) for c in ("feature", "family", "direction")
        )
        features.add_row(feature, family, f"{row['importance']:.4f}", direction)
    console.print(features)
