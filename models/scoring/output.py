"""How predict.py shows results: a readable report, a CSV, importance tables."""

from __future__ import annotations

import json
import logging

import pandas as pd
from rich.console import Console
from rich.table import Table

from data.csv_output import write_csv as write_safe_csv
from data.terminal_text import plain_text, terminal_console, terminal_text
from models.importance import family_importances

logger = logging.getLogger(__name__)

CSV_COLUMNS = (
    "source_file",
    "item_index",
    "row",
    "service",
    "p_overturned",
    "p_low",
    "p_high",
    "category",
    "baseline_rate",
    "error",
)


def _pct(p) -> str:
    return "n/a" if p is None else f"{100 * p:.1f}%"


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
        console.print(
            f"P(Overturned) = [bold]{_pct(result['p_overturned'])}[/bold]  "
            f"(calibration-fold range {_pct(result['p_low'])} to {_pct(result['p_high'])})"
        )
        console.print(
            f"baseline for {terminal_text(result['category'])} requests: "
            f"{_pct(result['baseline_rate'])}"
            + (
                f" over {int(result['baseline_items'])} training items"
                if result["baseline_items"]
                else ""
            )
            + (
                f" ({_pct(result['baseline_shrunk_rate'])} pulled toward published rates)"
                if result.get("baseline_shrunk_rate") is not None
                else ""
            )
        )
        for warning in result.get("warnings", []):
            console.print(plain_text(f"warning: {warning}", style="bold yellow"))
        if result.get("reasons"):
            table = Table(title="Top reasons", show_lines=False)
            for column in ("reason", "effect (log-odds)", "evidence"):
                table.add_column(column)
            for reason in result["reasons"]:
                evidence = plain_text(" | ".join(reason["evidence"])[:120])
                label = plain_text(reason.get("reason", reason["feature"]))
                table.add_row(label, f"{reason['effect_log_odds']:+.3f}", evidence)
            console.print(table)
        if result.get("denial_reasons"):
            table = Table(title="Likely denial reasons (the most likely first)")
            for column in (
                "reason",
                "in the draft",
                "evidence / what to document",
                "cited",
                "source",
            ):
                table.add_column(column)
            for reason in result["denial_reasons"]:
                found = " | ".join(e["text"] for e in reason["evidence"])[:120]
                status = plain_text(reason["status"].replace("_", " "))
                share = reason.get("p_cited", reason.get("cited_in_upheld_share"))
                cited = "" if share is None else f"{100 * share:.0f}% if upheld"
                label = reason.get("criterion") or reason.get("label", "")
                code = reason.get("reason_code")
                table.add_row(
                    plain_text(f"{label} ({code})" if code else label),
                    status,
                    plain_text(found or reason["to_document"]),
                    cited,
                    plain_text(reason.get("source", "")),
                )
            console.print(table)
        if result.get("what_if"):
            table = Table(title="What if the draft documented ...")
            for column in ("fact", "P(Overturned)", "change"):
                table.add_column(column)
            for change in result["what_if"]:
                fact = plain_text(change["fact"])
                table.add_row(
                    fact, _pct(change["p_overturned"]), f"{100 * change['change']:+.1f} pts"
                )
            console.print(table)


def _extra_columns(records: list[dict]) -> list[str]:
    """The batch's extra columns, in the input's order."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record.get("extra") or {}))
    return list(names)


def write_csv(path, rows: list[dict], results: list[dict], unscorable: list[dict]) -> None:
    """One row per item to ``path`` (a file name or a text buffer): scored ones with their
    probabilities, unscorable ones with the reason.

    A batch's extra columns (e.g. ``claim_id``, carried under ``extra`` in its rows and
    unscorable entries) come right after ``row``, as they were; rows keep the input's
    order. Standard columns empty throughout are left out. The file is spreadsheet-safe
    (:mod:`data.csv_output`).
    """
    extra_by_row = {r["row"]: r["extra"] for r in rows if "row" in r and r.get("extra")}
    items = [{**r, "extra": r.get("extra") or extra_by_row.get(r.get("row"), {})} for r in results]
    items += unscorable
    extras = _extra_columns(items)
    records = [
        {**{k: item.get(k) for k in CSV_COLUMNS}, **(item.get("extra") or {})} for item in items
    ]
    if records and all(r.get("row") is not None for r in records):
        records.sort(key=lambda r: r["row"])
    at = CSV_COLUMNS.index("row") + 1
    columns = [*CSV_COLUMNS[:at], *extras, *CSV_COLUMNS[at:]]
    frame = pd.DataFrame(records, columns=columns)
    empty = [c for c in CSV_COLUMNS if frame[c].isna().all()]
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
    for column in ("feature", "family", "importance", "direction"):
        features.add_column(column)
    for _, row in table.head(top).iterrows():
        feature, family, direction = (
            plain_text(row[c]) for c in ("feature", "family", "direction")
        )
        features.add_row(feature, family, f"{row['importance']:.4f}", direction)
    console.print(features)
