"""What train.py prints: data, metrics against baselines, the promotion decision.

Names, versions, reasons and URIs are printed as data (:mod:`data.terminal_text`): a model
name or a store's URI holding ``[bold]`` or a control character prints as typed.
"""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from data.terminal_text import plain_text, terminal_console, terminal_text
from settings import tracking_uri

#: Short headers so the table fits 80 columns (the width rich uses when piped).
_SHORT = {
    "roc_auc": "AUC",
    "roc_auc_fold_mean": "AUC fold",
    "average_precision": "AP",
    "brier_skill": "BSS",
    "log_loss": "logloss",
}
_COLUMNS = (
    "roc_auc",
    "roc_auc_fold_mean",
    "average_precision",
    "brier",
    "brier_skill",
    "log_loss",
    "ece",
)


def metrics_table(title: str, table: pd.DataFrame) -> Table:
    """A rich table of a metrics frame (rows: model and baselines)."""
    out = Table(title=plain_text(title))
    out.add_column("predictor")
    out.add_column("n", justify="right")
    for column in _COLUMNS:
        out.add_column(plain_text(_SHORT.get(column, column)), justify="right")
    for name, row in table.iterrows():
        label = {"baseline_prior": "prior", "baseline_category_rate": "category"}.get(name, name)
        out.add_row(
            plain_text(label),
            f"{int(row['n'])}",
            *(f"{row.get(c, float('nan')):.3f}" for c in _COLUMNS),
        )
    return out


def repeated_cv_table(table) -> Table:
    """Repeated grouped CV: mean [95% letter-bootstrap interval] per predictor and measure."""
    out = Table(title="Repeated letter-grouped CV: mean [95% letter-bootstrap interval]")
    predictors = list(dict.fromkeys(table["predictor"]))
    out.add_column("measure")
    for name in predictors:
        out.add_column(plain_text(name.replace("baseline_", "")), justify="right")
    for measure in dict.fromkeys(table["measure"]):
        cells = [_interval_cell(_row(table, name, measure)) for name in predictors]
        out.add_row(plain_text(measure), *cells)
    return out


def _interval_cell(row) -> Text:
    """``mean [low, high]`` as text (its brackets are not markup), or ``n/a``."""
    if row is None or pd.isna(row.get("mean")):
        return plain_text("n/a")
    return plain_text(f"{row['mean']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]")


def reasons_table(table: pd.DataFrame) -> Table:
    """The likely denial reasons against the reviewers' codes, ranking beside the baseline."""
    rows = {(r["predictor"], r["measure"]): r for _, r in table.iterrows()}
    items = int(table["items"].max()) if len(table) else 0
    out = Table(
        title=f"Likely denial reasons vs the reviewer's codes ({items} upheld items with a "
        "code; case-grouped repeated CV: mean [95% case-bootstrap interval])"
    )
    out.add_column("listed reason is the reviewer's")
    names = ("ranking", "baseline_subcategory_frequency", "ranking_minus_baseline")
    for header in ("ranking", "sub-category table", "difference"):
        out.add_column(header, justify="right")
    for measure, label in (("first", "the first"), ("top3", "one of the first three")):
        cells = [_interval_cell(rows.get((name, measure))) for name in names]
        out.add_row(plain_text(label), *cells)
    return out


def _row(table: pd.DataFrame, predictor: str, measure: str):
    return table[(table["predictor"] == predictor) & (table["measure"] == measure)].iloc[0]


def _fmt(value: float | None, digits: int) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def champion_table(result) -> Table:
    """The champion before this training and the new model, and what they were compared on.

    Both rows carry the out-of-fold figures the decision compared, on the items both models
    hold out; ``compared on`` says where the champion's came from, so that two equal rows
    mean "the same recipe and code" rather than a copy.
    """
    comparison = result.comparison
    before = result.champion_before
    how = {
        "same": "same recipe and code: its held-out figures are the new model's",
        "logged": "its own logged out-of-fold probabilities",
        "retrained": "its recipe cross-validated again with today's code",
        "unknown": "not comparable (unknown recipe)",
    }
    out = Table(title="Champion: before and after (letter-grouped CV, the same items)")
    for column in ("", "version", "letters", "items", "log loss", "ROC-AUC", "compared on"):
        out.add_column(column)
    data = result.data_summary
    if before:
        out.add_row(
            "champion before",
            plain_text(before["version"]),
            plain_text(before.get("letters") or "?"),
            plain_text(before.get("items") or "?"),
            _fmt(comparison.champion_log_loss, 4),
            _fmt(comparison.champion_auc, 3),
            plain_text(how.get(before.get("how", ""), "")),
        )
    out.add_row(
        "new model",
        plain_text(result.version),
        plain_text(data["letters"]),
        plain_text(data["items"]),
        _fmt(comparison.new_log_loss, 4),
        _fmt(comparison.new_auc, 3),
        "its out-of-fold probabilities",
    )
    return out


def print_training_report(result, model_name: str, console: Console | None = None) -> None:
    """The summary a person reads after a training run."""
    console = console or terminal_console()
    data = result.data_summary
    source = data["data_source"]
    if source != "real":
        console.print(
            f"[bold yellow]NOTE: trained on {terminal_text(source.upper())} letters - these "
            "figures say nothing about real-world model quality.[/bold yellow]"
        )
    changes = Table(title="What changed")
    for name in ("letters added", "items added", "letters", "items", "overturned"):
        changes.add_column(name, justify="right")
    ingest = result.ingest_summary or {}
    changes.add_row(
        *(plain_text(value) for value in (ingest.get("parsed", 0), ingest.get("items_added", 0))),
        *(plain_text(data[key]) for key in ("letters", "items")),
        f"{int(data['overturned'])} ({data['overturn_rate']:.1%})",
    )
    console.print(changes)
    if ingest.get("failed"):
        console.print(
            f"[red]{int(ingest['failed'])} letter(s) failed to ingest; see the ingest report[/red]"
        )
    if result.repeated_table is not None:
        console.print(repeated_cv_table(result.repeated_table))
    console.print(
        metrics_table(f"Letter-grouped {result.recipe['cv_folds']}-fold CV", result.cv_table)
    )
    if result.temporal_table is not None:
        console.print(
            metrics_table("Temporal hold-out (later 25% of letters)", result.temporal_table)
        )
    if result.reasons_table is not None:
        console.print(reasons_table(result.reasons_table))
    comparison = result.comparison
    console.print(champion_table(result))
    verdict = "PROMOTED to @champion" if comparison.promote else "kept as @challenger"
    console.print(
        f"[bold]{terminal_text(model_name)} version {terminal_text(result.version)}: "
        f"{verdict}[/bold] - {terminal_text(comparison.reason)}"
    )
    uri = terminal_text(tracking_uri())
    console.print(f"MLflow run {terminal_text(result.run_id)} at {uri}", soft_wrap=True)
    console.print(f"  browse: mlflow ui --backend-store-uri {uri}", soft_wrap=True)
