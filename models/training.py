"""Training end to end: ingest new letters, choose and evaluate a model, log, register.

:func:`train` is what ``train.py`` runs. Model choice is by letter-grouped cross-validated
log loss over the candidates of :mod:`models.candidates` and their calibration methods;
the chosen recipe is then evaluated on a temporal hold-out (earlier letters train, later
letters test) and refitted on every item for the registry.
"""

from __future__ import annotations

import json
import logging
import tempfile
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from data.config import DEFAULT_DATASET_DIR, DEFAULT_EXPERIMENT, DEFAULT_MODEL_NAME, tracking_uri
from data.csv_output import write_csv
from data.dataset import DatasetBusy, load_items
from data.ingest import ingest
from features.guideline import with_letter_services
from features.structured import PRE_FILING_COLUMNS
from models import evaluation, plots
from models.candidates import CANDIDATES, calibration_folds, calibration_methods, fit_model
from models.fingerprint import code_fingerprint
from models.importance import family_importances, global_importances
from models.persistence import save_pipeline
from models.promotion import Comparison, compare
from models.published_rates import published_rates, shrunk_rate

logger = logging.getLogger(__name__)
TRAINING_LOCK = "training.lock"
DEFAULT_CANDIDATES = ("guideline",)
MIN_LETTERS = 10
#: Repetitions of the letter-grouped CV (each a new fold assignment) for the intervals.
CV_REPEATS = 5


class TrainingError(RuntimeError):
    """Training cannot go on; the message says why and what to do."""


class NothingToRetrain(RuntimeError):
    """The champion was trained on these very letters with this very code and recipe."""


@dataclass
class TrainingResult:
    """What a training run produced and decided."""

    run_id: str
    model_uri: str
    version: str
    alias: str
    comparison: Comparison
    recipe: dict
    cv_table: pd.DataFrame
    temporal_table: pd.DataFrame | None
    candidates: pd.DataFrame
    ingest_summary: dict | None
    data_summary: dict
    champion_before: dict | None = None
    artifacts: dict = field(default_factory=dict)
    repeated_table: pd.DataFrame | None = None


@contextmanager
def training_lock(dataset_dir: Path):
    """One training per dataset at a time; a second one gets a clear error at once."""
    from filelock import FileLock, Timeout

    dataset_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(dataset_dir / TRAINING_LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise DatasetBusy(
            f"another training is running on {dataset_dir} (lock {dataset_dir / TRAINING_LOCK}); "
            "wait for it to finish, then run train.py again"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def data_source(items: pd.DataFrame) -> str:
    """``real``, ``synthetic`` or ``mixed``: tagged on every run."""
    synthetic = items["synthetic"].fillna(False).astype(bool)
    if synthetic.all():
        return "synthetic"
    return "mixed" if synthetic.any() else "real"


def summarise_data(items: pd.DataFrame) -> dict:
    """Sizes and the source of the training data."""
    y = evaluation.labels(items)
    return {
        "items": len(items),
        "letters": int(items["letter_id"].nunique()),
        "overturned": int(y.sum()),
        "overturn_rate": float(y.mean()) if len(y) else float("nan"),
        "data_source": data_source(items),
    }


def check_trainable(items: pd.DataFrame, dataset_dir: Path, n_splits: int = 5) -> None:
    """Refuse data that cannot give an honest model, saying what is missing.

    Letter-grouped folds need at least ``n_splits`` letters with an overturned item and
    ``n_splits`` items of each decision, or some fold has nothing to learn from.
    """
    if items.empty:
        raise TrainingError(
            f"the dataset {dataset_dir} has no items; pass letters with --letters PATH"
        )
    letters = items["letter_id"].nunique()
    y = evaluation.labels(items)
    overturned_letters = items.loc[y == 1, "letter_id"].nunique()
    need = max(2, n_splits)
    if letters < MIN_LETTERS or overturned_letters < need or min(y.sum(), (1 - y).sum()) < need:
        raise TrainingError(
            f"the dataset {dataset_dir} has {letters} letters, {overturned_letters} of them with "
            f"an overturned item, and {int(y.sum())} overturned of {len(y)} items: "
            f"{n_splits}-fold letter-grouped CV needs at least {MIN_LETTERS} letters, "
            f"{need} letters with an overturned item and {need} items of each decision; "
            "add letters with --letters PATH (or use fewer --folds)"
        )


def dataset_digest(items: pd.DataFrame) -> str:
    """Content digest of the dataset: its letters' hashes and item count (order-free)."""
    import hashlib

    letters = sorted(set(items["letter_sha256"]))
    text = f"{len(items)}:" + ",".join(letters)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def recipe_builder(candidate: str, method: str, seed: int, folds: int) -> Callable:
    """A zero-argument builder of a fresh, unfitted pipeline of that recipe."""
    build = CANDIDATES[candidate].build
    return lambda: build(seed, method, folds)


def select_recipe(
    items: pd.DataFrame,
    *,
    seed: int,
    n_splits: int,
    candidates: tuple[str, ...],
    step: Callable[[str], None] | None = None,
    published: dict[str, float] | None = None,
) -> tuple[dict, dict[tuple[str, str], evaluation.Predictions], pd.DataFrame, dict]:
    """Grouped-CV every candidate x calibration method; the best by log loss wins.

    Also returns, per candidate, what its models are fitted on when its feature step is
    stateless (``evaluation.features_once``), so later evaluations need not extract again.
    """
    y, groups = evaluation.labels(items), evaluation.case_groups(items)
    folds = calibration_folds(groups, y)
    results: dict[tuple[str, str], evaluation.Predictions] = {}
    inputs: dict[str, tuple] = {}
    rows = []
    for name in candidates:
        methods = ["platt"] if CANDIDATES[name].own_calibration else calibration_methods(y, folds)
        for method in methods:
            if step:
                step(f"cross-validating {name} ({method} calibration)")
            build, X = evaluation.features_once(recipe_builder(name, method, seed, folds), items)
            inputs[name] = (build, X)
            oof = evaluation.out_of_fold(build, fit_model, items, n_splits=n_splits, seed=seed, X=X)
            results[(name, method)] = oof
            row = evaluation.metrics(oof.y, oof.model, oof.prior)
            rows.append({"candidate": name, "calibration": method, **row})
    table = pd.DataFrame(rows).sort_values("log_loss", kind="stable").reset_index(drop=True)
    best = table.iloc[0]
    recipe = {
        "candidate": best["candidate"],
        "calibration": best["calibration"],
        "seed": seed,
        "cv_folds": n_splits,
        "calibration_folds": folds,
    }
    return recipe, results, table, inputs


def _flat(prefix: str, table: pd.DataFrame) -> dict[str, float]:
    out = {}
    for row, values in table.iterrows():
        for key, value in values.items():
            if key not in ("n", "positives") and pd.notna(value):
                name = prefix if row == "model" else f"{prefix}_{row}"
                out[f"{name}_{key}"] = float(value)
    return out


def _champion_letters(champion) -> int:
    """How many letters the champion was trained on (0 when unknown)."""
    if champion is None:
        return 0
    return int(float(champion.params.get("letters", 0) or 0))


OOF_FILE = "oof_predictions.csv"


def oof_frame(items: pd.DataFrame, oof: evaluation.Predictions) -> pd.DataFrame:
    """A run's out-of-fold probabilities, keyed by letter content and item position."""
    return pd.DataFrame(
        {
            "letter_sha256": items["letter_sha256"].to_numpy(),
            "item_index": items["item_index"].to_numpy(),
            "y": oof.y,
            "p": oof.model,
        }
    )


def _logged_oof(client, run_id: str) -> pd.DataFrame | None:
    """The champion run's out-of-fold probabilities, when it logged them."""
    import mlflow

    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=OOF_FILE)
    except Exception as exc:
        logger.info("champion run %s has no %s (%s)", run_id, OOF_FILE, type(exc).__name__)
        return None
    return pd.read_csv(path)


def _champion_oof(champion, recipe, items, new_oof, step, fingerprint, client=None):
    """The champion's held-out probabilities on the current items, and how they were had.

    Returns ``(p, mask, how)``: ``p`` aligned with ``items`` (``None`` when impossible),
    ``mask`` the items both models have held-out figures for, and ``how`` one of
    ``same`` (same recipe and same code: its figures are ours), ``logged`` (its own
    code's out-of-fold probabilities, logged by its run) or ``retrained`` (its recipe
    cross-validated again with today's code, when it logged none).
    """
    params = champion.params
    everything = np.ones(len(items), dtype=bool)
    same_recipe = all(
        str(params.get(k)) == str(recipe[k]) for k in ("candidate", "calibration", "seed")
    )
    if same_recipe and params.get("code_fingerprint") == fingerprint:
        return new_oof.model, everything, "same"
    logged = _logged_oof(client, champion.run_id) if client is not None else None
    if logged is not None:
        key = items["letter_sha256"].astype(str) + "#" + items["item_index"].astype(str)
        theirs = logged["letter_sha256"].astype(str) + "#" + logged["item_index"].astype(str)
        p = key.map(dict(zip(theirs, logged["p"], strict=True)))
        mask = p.notna().to_numpy()
        if mask.sum() and len(np.unique(new_oof.y[mask])) == 2:
            return p.fillna(0.5).to_numpy(dtype=float), mask, "logged"
    if params.get("candidate") not in CANDIDATES:
        return None, everything, "unknown"
    if step:
        step(f"re-evaluating the champion's recipe ({params['candidate']}) on the current data")
    oof = evaluation.out_of_fold(
        recipe_builder(
            params["candidate"],
            params.get("calibration", "sigmoid"),
            int(params.get("seed", 0)),
            recipe["calibration_folds"],
        ),
        fit_model,
        items,
        n_splits=recipe["cv_folds"],
        seed=recipe["seed"],
    )
    return oof.model, everything, "retrained"


def _refuse_a_repeat(items, model_name, seed, n_splits, candidates) -> None:
    """Raise :class:`NothingToRetrain` when the champion is this training's exact repeat."""
    import mlflow

    from models.registry import current_champion

    mlflow.set_tracking_uri(tracking_uri())
    champion = current_champion(mlflow.MlflowClient(), model_name)
    if champion is None:
        return
    params = champion.params
    same = (
        params.get("dataset_digest") == dataset_digest(items)
        and params.get("code_fingerprint") == code_fingerprint()
        and params.get("seed") == str(seed)
        and params.get("cv_folds") == str(n_splits)
        and params.get("candidate") in candidates
        and len(candidates) == 1
    )
    if same:
        raise NothingToRetrain(
            f"no new letters: {model_name} version {champion.version} (@champion) was trained "
            "on these letters with this code and recipe; nothing to retrain (--force retrains)"
        )


def train(
    letters: list[Path] | None = None,
    *,
    dataset_dir: Path = DEFAULT_DATASET_DIR,
    experiment: str = DEFAULT_EXPERIMENT,
    model_name: str = DEFAULT_MODEL_NAME,
    seed: int = 0,
    n_splits: int = 5,
    candidates: tuple[str, ...] = DEFAULT_CANDIDATES,
    step: Callable[[str], None] | None = None,
    ingest_progress=None,
    repeats: int = CV_REPEATS,
    force: bool = False,
) -> TrainingResult:
    """Ingest ``letters`` (only new ones), train, evaluate, log to MLflow and register.

    Raises :class:`NothingToRetrain` when the champion already comes from the same
    letters, code and recipe (unless ``force``): retraining would only repeat it.
    """
    import mlflow

    dataset_dir = Path(dataset_dir)
    unknown = [c for c in candidates if c not in CANDIDATES]
    if unknown:
        raise TrainingError(f"unknown candidate(s) {unknown}; choose from {sorted(CANDIDATES)}")
    with training_lock(dataset_dir):
        from models.registry import fail_stale_runs, owner_tags, tracking_client

        fail_stale_runs(tracking_client(), experiment, model_name)  # also: fail fast, no store
        ingest_report = None
        if letters:
            if step:
                step("ingesting new letters")
            ingest_report = ingest(letters, dataset_dir, progress=ingest_progress).report
        items = with_letter_services(load_items(dataset_dir))
        check_trainable(items, dataset_dir, n_splits)
        summary = summarise_data(items)
        if not force:
            _refuse_a_repeat(items, model_name, seed, n_splits, candidates)

        published = published_rates()
        recipe, results, candidate_table, inputs = select_recipe(
            items,
            seed=seed,
            n_splits=n_splits,
            candidates=candidates,
            step=step,
            published=published,
        )
        fold_build, X = inputs[recipe["candidate"]]
        oof = results[(recipe["candidate"], recipe["calibration"])]
        build = recipe_builder(
            recipe["candidate"], recipe["calibration"], seed, recipe["calibration_folds"]
        )
        if step:
            step(f"repeated CV ({n_splits} folds x {repeats} seeds), letter-bootstrap intervals")
        repeated_table = evaluation.repeated_cv(
            fold_build,
            fit_model,
            items,
            n_splits=n_splits,
            repeats=repeats,
            seed=seed,
            X=X,
            published=published,
        ).table(seed=seed)
        if step:
            step("temporal hold-out")
        temporal = evaluation.temporal_holdout(
            fold_build, fit_model, items, X=X, published=published
        )
        if step:
            step("fitting the chosen model on every item")
        y, groups = evaluation.labels(items), evaluation.case_groups(items)
        model = build()
        if X is items:
            fit_model(model, items, y, groups)
        else:  # the stateless feature step's output is X already: fit the rest on it
            model.steps[0][1].fit(items)
            fit_model(model[1:], X, y, groups)

        mlflow.set_tracking_uri(tracking_uri())
        mlflow.set_experiment(experiment)
        client = mlflow.MlflowClient()
        from models.registry import current_champion, log_pyfunc_model, set_alias

        champion = current_champion(client, model_name)
        fingerprint = code_fingerprint()
        p_champ, mask, how = None, np.ones(len(items), dtype=bool), "none"
        if champion is not None:
            p_champ, mask, how = _champion_oof(
                champion, recipe, items, oof, step, fingerprint, client
            )
        comparison = compare(
            oof.y[mask],
            oof.model[mask],
            None if p_champ is None else p_champ[mask],
            groups[mask],
            same_recipe=how == "same",
            new_letters=summary["letters"] - _champion_letters(champion),
        )
        if champion is not None and p_champ is None:
            comparison.reason = "the champion's recipe is unknown to this code; replaced"
        elif how == "logged":
            comparison.reason += (
                f" (champion's own out-of-fold figures, {int(mask.sum())} items both hold out)"
            )
        elif how == "retrained":
            comparison.reason += " (champion's recipe re-evaluated with the current code)"

        if step:
            step("logging to MLflow")
        with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(tags=owner_tags()) as run:
            tmp = Path(tmp)
            cv_table = oof.table()
            temporal_table = temporal.table() if temporal else None
            artifacts = _write_artifacts(
                tmp, model, items, oof, temporal, candidate_table, ingest_report, seed
            )
            artifacts["repeated_cv"] = tmp / "repeated_cv.csv"
            write_csv(repeated_table, artifacts["repeated_cv"], index=False)
            artifacts["oof"] = tmp / OOF_FILE
            write_csv(oof_frame(items, oof), artifacts["oof"], index=False)
            mlflow.log_params(
                {
                    **recipe,
                    **{k: v for k, v in summary.items()},
                    "dataset_dir": str(dataset_dir),
                    "model_name": model_name,
                    "code_fingerprint": fingerprint,
                    "dataset_digest": dataset_digest(items),
                }
            )
            mlflow.set_tags(
                {
                    "data_source": summary["data_source"],
                    "synthetic": str(summary["data_source"] != "real").lower(),
                }
            )
            metrics = _flat("cv", cv_table)
            for _, row in repeated_table.iterrows():
                key = f"rcv_{row['predictor']}_{row['measure']}"
                for stat in ("mean", "ci_low", "ci_high"):
                    if pd.notna(row[stat]):
                        metrics[f"{key}_{stat}"] = float(row[stat])
            if temporal_table is not None:
                metrics.update(_flat("temporal", temporal_table))
            for _, row in candidate_table.iterrows():
                metrics[f"candidate_{row['candidate']}_{row['calibration']}_cv_log_loss"] = float(
                    row["log_loss"]
                )
            mlflow.log_metrics(metrics)
            with warnings.catch_warnings():
                # MLflow 3.17 registers its local-file dataset source twice and then warns
                # that a local path "can be interpreted in multiple ways" (both are the same)
                warnings.filterwarnings("ignore", message="The specified dataset source")
                dataset = mlflow.data.from_pandas(
                    items.loc[:, ["letter_id", *PRE_FILING_COLUMNS, "decision"]].astype(str),
                    source=str(dataset_dir / "items.parquet"),
                    name="imr-items",
                    targets="decision",
                    digest=dataset_digest(items),
                )
            mlflow.log_input(dataset, context="training")
            for path in artifacts.values():
                mlflow.log_artifact(str(path))
            info = log_pyfunc_model(artifacts["pipeline"], items, model_name)
            version = str(info.registered_model_version)
            alias = set_alias(client, model_name, version, comparison.promote)
            mlflow.set_tags(
                {
                    "promoted": str(comparison.promote).lower(),
                    "promotion_reason": comparison.reason[:5000],
                }
            )
            mlflow.log_dict(comparison.as_dict(), "promotion.json")
        return TrainingResult(
            run_id=run.info.run_id,
            model_uri=f"models:/{model_name}/{version}",
            version=version,
            alias=alias,
            comparison=comparison,
            recipe=recipe,
            cv_table=cv_table,
            temporal_table=temporal_table,
            candidates=candidate_table,
            ingest_summary=ingest_report["summary"] if ingest_report else None,
            data_summary=summary,
            champion_before=(
                {"version": champion.version, "run_id": champion.run_id} if champion else None
            ),
            artifacts={k: str(v.name) for k, v in artifacts.items()},
            repeated_table=repeated_table,
        )


def _write_artifacts(tmp, model, items, oof, temporal, candidate_table, ingest_report, seed):
    """Tables, plots and the skops pipeline, written under ``tmp``."""
    y = evaluation.labels(items)
    out: dict[str, Path] = {}
    tables = {"cv": oof.table()}
    if temporal is not None:
        tables["temporal_holdout"] = temporal.table()
    metrics_table = pd.concat(tables, names=["evaluation", "predictor"]).reset_index()
    out["metrics_csv"] = tmp / "metrics.csv"
    write_csv(metrics_table, out["metrics_csv"], index=False)
    out["metrics_json"] = tmp / "metrics.json"
    out["metrics_json"].write_text(
        json.dumps(
            {k: v.to_dict(orient="index") for k, v in tables.items()}, indent=2, default=float
        )
    )
    out["per_category"] = tmp / "per_category.csv"
    write_csv(oof.per_category(), out["per_category"])
    out["candidates"] = tmp / "candidates.csv"
    write_csv(candidate_table, out["candidates"], index=False)
    curves = {"model (grouped CV)": oof.model, "category baseline": oof.category}
    out["reliability"] = plots.reliability_diagram(oof.y, curves, tmp / "reliability.png")
    importances = _importances(model, items, y, seed)
    out["importances_csv"] = tmp / "importances.csv"
    write_csv(importances, out["importances_csv"], index=False)
    out["family_importances"] = tmp / "family_importances.csv"
    write_csv(family_importances(importances), out["family_importances"], index=False)
    out["importances_png"] = plots.importance_chart(importances, tmp / "importances.png")
    if ingest_report is not None:
        out["ingest_report"] = tmp / "ingest_report.json"
        out["ingest_report"].write_text(json.dumps(ingest_report, indent=2, default=str))
    out["baseline_rates"] = tmp / "baseline_rates.json"
    out["baseline_rates"].write_text(json.dumps(base_rates(items), indent=2))
    out["pipeline"] = save_pipeline(model, tmp / "pipeline.skops")
    return out


def base_rates(items: pd.DataFrame) -> dict:
    """Training overturn rate overall and per category, and how often reviewers cite each
    criterion when they uphold, for predict.py."""
    y = evaluation.labels(items)
    frame = pd.DataFrame({"cat": evaluation.treatment_categories(items), "y": y})
    rates = frame.groupby("cat")["y"].agg(["mean", "count"])
    from analysis.rationale_tags import citation_shares

    published = published_rates()
    overall = published.get("_overall", float(y.mean()))

    def entry(cat, r) -> dict:
        prior = published.get(cat, overall)
        return {
            "rate": float(r["mean"]),
            "n": int(r["count"]),
            # pulled toward the published rate (or the published overall rate): a
            # category seen in a handful of letters is not taken at face value
            "shrunk_rate": shrunk_rate(float(r["mean"]) * int(r["count"]), int(r["count"]), prior),
            "published_rate": published.get(cat),
        }

    return {
        "prior": float(y.mean()),
        "items": len(y),
        "published_overall": published.get("_overall"),
        "categories": {cat: entry(cat, r) for cat, r in rates.iterrows()},
        # how often reviewers cite each criterion when upholding, by category (analysis of
        # the rationales: shown beside a likely denial reason, never a model input)
        "denial_citations": citation_shares(items),
    }


def _importances(model, items, y, seed):
    """Coefficients for a linear model; permutation importance on held-out letters else."""
    from models.importance import linear_coefficients

    if linear_coefficients(model) is not None:
        return global_importances(model, items)
    groups = evaluation.case_groups(items)
    train_idx, test_idx = evaluation.grouped_folds(y, groups, 4, seed)[0]
    held_out_model = fit_model(clone(model), items.iloc[train_idx], y[train_idx], groups[train_idx])
    return global_importances(held_out_model, items.iloc[test_idx], y[test_idx], seed=seed)
