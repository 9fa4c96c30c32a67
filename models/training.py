"""Training end to end, as named steps: prepare, evaluate, reasons, fit, decide, log.

:func:`train` is what ``train.py`` runs; it only calls the steps in order, each a function
of data in and data out that can be run and tested alone:

1. :func:`prepare`: ingest new letters, load the dataset, check it can be trained on.
2. :func:`evaluate`: letter-grouped CV, repeated CV with letter-bootstrap intervals and a
   temporal hold-out of the one recipe (:mod:`models.recipe`), baselines in every fold.
3. :func:`reasons`: the ranking of likely denial reasons (:mod:`models.reasons`), its
   grouped repeated CV against the sub-category frequency baseline, and its fit on every
   item. Its targets are the reviewers' codes (post-decision: labels only).
4. :func:`fit`: the model fitted on every item.
5. :func:`decide`: the champion's held-out figures on the same items, and promotion.
6. :func:`log`: tables, plots, the model and the decision to MLflow; the registry alias.
"""

from __future__ import annotations

import hashlib
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

from data.csv_output import write_csv
from data.ingest import ingest
from data.ingest.dataset import DatasetBusy, load_items
from features.guideline import with_letter_services
from models import evaluation, plots
from models.importance import family_importances, global_importances
from models.promotion import Comparison, compare
from models.published_rates import published_rates, shrunk_rate
from models.reasons.evaluation import cross_validate as cross_validate_reasons
from models.reasons.ranking import ReasonRanking, item_profiles
from models.recipe import (
    RECIPE_CALIBRATION,
    RECIPE_NAME,
    build_model,
    calibration_folds,
    fit_model,
)
from models.store.fingerprint import code_fingerprint
from models.store.persistence import PIPELINE_FILE, save_pipeline
from settings import (
    DEFAULT_DATASET_DIR,
    DEFAULT_EXPERIMENT,
    DEFAULT_MODEL_NAME,
    PRE_FILING_COLUMNS,
    tracking_uri,
)

logger = logging.getLogger(__name__)
TRAINING_LOCK = "training.lock"
MIN_LETTERS = 10
#: Repetitions of the letter-grouped CV (each a new fold assignment) for the intervals.
CV_REPEATS = 5
OOF_FILE = "oof_predictions.csv"

Step = Callable[[str], None]


class TrainingError(RuntimeError):
    """Training cannot go on; the message says why and what to do."""


class NothingToRetrain(RuntimeError):
    """The champion was trained on these very letters with this very code and recipe."""


@dataclass
class Prepared:
    """The dataset a training works on (step 1)."""

    items: pd.DataFrame
    summary: dict
    ingest_report: dict | None
    dataset_dir: Path


@dataclass
class Evaluated:
    """Held-out figures of the recipe on the dataset (step 2)."""

    recipe: dict
    oof: evaluation.Predictions
    repeated_table: pd.DataFrame
    temporal: evaluation.Predictions | None
    #: the feature step's output for every item (it learns nothing, so it is computed once)
    X: np.ndarray


@dataclass
class ReasonsEvaluated:
    """The denial-reason ranking fitted on every item, and its held-out figures (step 3)."""

    ranking: ReasonRanking
    table: pd.DataFrame
    labels: dict  # labelled items by source: gold, tagger


@dataclass
class Decision:
    """The champion before this training and whether the new model replaces it (step 4)."""

    comparison: Comparison
    champion: object | None  # models.store.registry.Champion
    how: str  # same | logged | retrained | unknown | none


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
    ingest_summary: dict | None
    data_summary: dict
    champion_before: dict | None = None
    artifacts: dict = field(default_factory=dict)
    repeated_table: pd.DataFrame | None = None
    reasons_table: pd.DataFrame | None = None


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
    letters = sorted(set(items["letter_sha256"]))
    text = f"{len(items)}:" + ",".join(letters)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- step 1 -----------------------------------------------------------------------------


def prepare(
    letters: list[Path] | None,
    dataset_dir: Path,
    n_splits: int,
    *,
    step: Step | None = None,
    ingest_progress=None,
) -> Prepared:
    """Ingest only the new ``letters`` into ``dataset_dir``; load and check every item."""
    report = None
    if letters:
        _say(step, "ingesting new letters")
        report = ingest(letters, dataset_dir, progress=ingest_progress).report
    items = with_letter_services(load_items(dataset_dir))
    check_trainable(items, dataset_dir, n_splits)
    return Prepared(items, summarise_data(items), report, dataset_dir)


# --- step 2 -----------------------------------------------------------------------------


def evaluate(
    items: pd.DataFrame,
    *,
    seed: int,
    n_splits: int,
    repeats: int = CV_REPEATS,
    published: dict[str, float] | None = None,
    step: Step | None = None,
) -> Evaluated:
    """Held-out figures of the recipe, each beside the prior and the category rate."""
    y, groups = evaluation.labels(items), evaluation.case_groups(items)
    folds = calibration_folds(groups, y)
    recipe = {
        "candidate": RECIPE_NAME,
        "calibration": RECIPE_CALIBRATION,
        "seed": seed,
        "cv_folds": n_splits,
        "calibration_folds": folds,
    }
    _say(step, "extracting the guideline criteria of every item")
    build, X = evaluation.features_once(lambda: build_model(folds), items)
    _say(step, f"letter-grouped CV ({n_splits} folds)")
    oof = evaluation.out_of_fold(
        build, fit_model, items, n_splits=n_splits, seed=seed, X=X, published=published
    )
    _say(step, f"repeated CV ({n_splits} folds x {repeats} seeds), letter-bootstrap intervals")
    repeated = evaluation.repeated_cv(
        build,
        fit_model,
        items,
        n_splits=n_splits,
        repeats=repeats,
        seed=seed,
        X=X,
        published=published,
    ).table(seed=seed)
    _say(step, "temporal hold-out")
    temporal = evaluation.temporal_holdout(build, fit_model, items, X=X, published=published)
    return Evaluated(recipe, oof, repeated, temporal, X)


# --- step 3 -----------------------------------------------------------------------------


def reasons(
    items: pd.DataFrame,
    *,
    seed: int,
    n_splits: int,
    repeats: int = CV_REPEATS,
    step: Step | None = None,
) -> ReasonsEvaluated:
    """The ranking of likely denial reasons: evaluated in case-grouped repeated CV against
    the sub-category frequency baseline, then fitted on every item.

    Targets: the reviewers' codes, from the hand-checked gold where an item is in it, else
    from the rationale tagger (:mod:`analysis.reason_labels`). They are post-decision and
    only ever targets; the ranking reads the pre-filing draft (:mod:`models.reasons`)."""
    from analysis.reason_labels import reason_labels

    _say(step, "ranking the likely denial reasons (grouped CV against the sub-category table)")
    labels, sources = reason_labels(items)
    groups = evaluation.case_groups(items)
    if not any(labels):  # no reviewer's code anywhere (e.g. synthetic letters): nothing to learn
        empty = cross_validate_reasons([], [], []).table()
        return ReasonsEvaluated(ReasonRanking.fit([], [], []), empty, {"gold": 0, "tagger": 0})
    profiles = item_profiles(items)
    table = cross_validate_reasons(
        profiles, labels, groups, n_splits=n_splits, repeats=repeats, seed=seed
    ).table(seed=seed)
    ranking = ReasonRanking.fit(profiles, labels, groups, sources=sources)
    counts = {
        s: sum(1 for x, lab in zip(sources, labels, strict=True) if x == s and lab)
        for s in ("gold", "tagger")
    }
    return ReasonsEvaluated(ranking, table, counts)


# --- step 4 -----------------------------------------------------------------------------


def fit(items: pd.DataFrame, evaluated: Evaluated, *, step: Step | None = None):
    """The recipe fitted on every item (its feature step's output reused)."""
    _say(step, "fitting the model on every item")
    y, groups = evaluation.labels(items), evaluation.case_groups(items)
    model = build_model(evaluated.recipe["calibration_folds"])
    model.steps[0][1].fit(items)
    fit_model(model[1:], evaluated.X, y, groups)
    return model


# --- step 5 -----------------------------------------------------------------------------


def decide(
    items: pd.DataFrame,
    summary: dict,
    evaluated: Evaluated,
    champion,
    *,
    fingerprint: str,
    logged_oof: pd.DataFrame | None = None,
    step: Step | None = None,
) -> Decision:
    """Compare the new model with ``champion`` on the same held-out items, and decide.

    The champion's figures are, in order of preference: the new model's own when it is the
    same recipe with the same code (``same``); its run's logged out-of-fold probabilities
    on the items both hold out (``logged``); its recipe cross-validated again with today's
    code (``retrained``).
    """
    oof = evaluated.oof
    groups = evaluation.case_groups(items)
    if champion is None:
        comparison = compare(oof.y, oof.model, None, groups)
        return Decision(comparison, None, "none")
    if not champion.loadable:
        comparison = compare(oof.y, oof.model, None, groups)
        comparison.reason = (
            "the champion's model file is of an earlier format that this code refuses to "
            "load (it could run code); replaced"
        )
        return Decision(comparison, champion, "none")
    p_champ, mask, how = _champion_oof(
        champion, evaluated, items, fingerprint, logged_oof, step=step
    )
    champion_letters = int(float(champion.params.get("letters", 0) or 0))
    comparison = compare(
        oof.y[mask],
        oof.model[mask],
        None if p_champ is None else p_champ[mask],
        groups[mask],
        same_recipe=how == "same",
        new_letters=summary["letters"] - champion_letters,
    )
    if p_champ is None:
        comparison.reason = "the champion's recipe is unknown to this code; replaced"
    elif how == "logged":
        comparison.reason += (
            f" (champion's own out-of-fold figures, {int(mask.sum())} items both hold out)"
        )
    elif how == "retrained":
        comparison.reason += " (champion's recipe re-evaluated with the current code)"
    return Decision(comparison, champion, how)


def _champion_oof(champion, evaluated, items, fingerprint, logged, *, step=None):
    """``(p, mask, how)``: the champion's held-out probabilities aligned with ``items``."""
    params, recipe, oof = champion.params, evaluated.recipe, evaluated.oof
    everything = np.ones(len(items), dtype=bool)
    same_recipe = all(
        str(params.get(k)) == str(recipe[k]) for k in ("candidate", "calibration", "seed")
    )
    if same_recipe and params.get("code_fingerprint") == fingerprint:
        return oof.model, everything, "same"
    if logged is not None:
        key = items["letter_sha256"].astype(str) + "#" + items["item_index"].astype(str)
        theirs = logged["letter_sha256"].astype(str) + "#" + logged["item_index"].astype(str)
        p = key.map(dict(zip(theirs, logged["p"], strict=True)))
        mask = p.notna().to_numpy()
        if mask.sum() and len(np.unique(oof.y[mask])) == 2:
            return p.fillna(0.5).to_numpy(dtype=float), mask, "logged"
    if params.get("candidate") != RECIPE_NAME:
        return None, everything, "unknown"
    _say(step, "re-evaluating the champion's recipe on the current data")
    build, X = evaluation.features_once(lambda: build_model(recipe["calibration_folds"]), items)
    again = evaluation.out_of_fold(
        build,
        fit_model,
        items,
        n_splits=recipe["cv_folds"],
        seed=int(params.get("seed", 0)),
        X=X,
    )
    return again.model, everything, "retrained"


# --- step 6 -----------------------------------------------------------------------------


def log(
    prepared: Prepared,
    evaluated: Evaluated,
    model,
    decision: Decision,
    *,
    model_name: str,
    fingerprint: str,
    reasons_evaluated: ReasonsEvaluated | None = None,
    step: Step | None = None,
) -> TrainingResult:
    """Log the run (parameters, metrics, tables, plots, the model) and move the alias."""
    import mlflow

    from models.store.registry import log_pyfunc_model, owner_tags, set_alias

    _say(step, "logging to MLflow")
    items, summary, oof = prepared.items, prepared.summary, evaluated.oof
    client = mlflow.MlflowClient()
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(tags=owner_tags()) as run:
        artifacts = write_artifacts(Path(tmp), model, prepared, evaluated, reasons_evaluated)
        mlflow.log_params(
            {
                **evaluated.recipe,
                **summary,
                **_reason_params(reasons_evaluated),
                "dataset_dir": str(prepared.dataset_dir),
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
        mlflow.log_metrics({**run_metrics(evaluated), **reason_metrics(reasons_evaluated)})
        mlflow.log_input(_dataset_input(items, prepared.dataset_dir), context="training")
        for path in artifacts.values():
            mlflow.log_artifact(str(path))
        info = log_pyfunc_model(artifacts["pipeline"], items, model_name)
        version = str(info.registered_model_version)
        comparison = decision.comparison
        alias = set_alias(client, model_name, version, comparison.promote)
        mlflow.set_tags(
            {
                "promoted": str(comparison.promote).lower(),
                "promotion_reason": comparison.reason[:5000],
            }
        )
        mlflow.log_dict(comparison.as_dict(), "promotion.json")
    champion = decision.champion
    return TrainingResult(
        run_id=run.info.run_id,
        model_uri=f"models:/{model_name}/{version}",
        version=version,
        alias=alias,
        comparison=comparison,
        recipe=evaluated.recipe,
        cv_table=oof.table(),
        temporal_table=evaluated.temporal.table() if evaluated.temporal else None,
        ingest_summary=prepared.ingest_report["summary"] if prepared.ingest_report else None,
        data_summary=summary,
        champion_before=(
            {
                "version": champion.version,
                "run_id": champion.run_id,
                "letters": champion.params.get("letters"),
                "items": champion.params.get("items"),
                "how": decision.how,
            }
            if champion
            else None
        ),
        artifacts={k: str(v.name) for k, v in artifacts.items()},
        repeated_table=evaluated.repeated_table,
        reasons_table=reasons_evaluated.table if reasons_evaluated else None,
    )


def _reason_params(reasons_evaluated: ReasonsEvaluated | None) -> dict:
    if reasons_evaluated is None:
        return {}
    return {f"reason_labels_{k}": v for k, v in reasons_evaluated.labels.items()}


def reason_metrics(reasons_evaluated: ReasonsEvaluated | None) -> dict[str, float]:
    """``reasons_{predictor}_{first|top3}_{mean|ci_low|ci_high}``: how often the first
    listed reason (one of the first three) is one the reviewer gave, in grouped CV."""
    if reasons_evaluated is None:
        return {}
    out = {}
    for _, row in reasons_evaluated.table.iterrows():
        for stat in ("mean", "ci_low", "ci_high"):
            value = row.get(stat)
            if value is not None and pd.notna(value):
                out[f"reasons_{row['predictor']}_{row['measure']}_{stat}"] = float(value)
    return out


def run_metrics(evaluated: Evaluated) -> dict[str, float]:
    """The run's metrics: ``cv_*``, ``rcv_*`` (mean and interval) and ``temporal_*``."""
    metrics = _flat("cv", evaluated.oof.table())
    for _, row in evaluated.repeated_table.iterrows():
        key = f"rcv_{row['predictor']}_{row['measure']}"
        for stat in ("mean", "ci_low", "ci_high"):
            if pd.notna(row[stat]):
                metrics[f"{key}_{stat}"] = float(row[stat])
    if evaluated.temporal is not None:
        metrics.update(_flat("temporal", evaluated.temporal.table()))
    return metrics


def _flat(prefix: str, table: pd.DataFrame) -> dict[str, float]:
    out = {}
    for row, values in table.iterrows():
        for key, value in values.items():
            if key not in ("n", "positives") and pd.notna(value):
                name = prefix if row == "model" else f"{prefix}_{row}"
                out[f"{name}_{key}"] = float(value)
    return out


def _dataset_input(items: pd.DataFrame, dataset_dir: Path):
    import mlflow

    with warnings.catch_warnings():
        # MLflow 3.17 registers its local-file dataset source twice and then warns that a
        # local path "can be interpreted in multiple ways" (both are the same)
        warnings.filterwarnings("ignore", message="The specified dataset source")
        return mlflow.data.from_pandas(
            items.loc[:, ["letter_id", *PRE_FILING_COLUMNS, "decision"]].astype(str),
            source=str(dataset_dir / "items.parquet"),
            name="imr-items",
            targets="decision",
            digest=dataset_digest(items),
        )


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


def write_artifacts(
    tmp: Path,
    model,
    prepared: Prepared,
    evaluated: Evaluated,
    reasons_evaluated: ReasonsEvaluated | None = None,
) -> dict:
    """Tables, plots and the model file, written under ``tmp``."""
    items, oof, temporal = prepared.items, evaluated.oof, evaluated.temporal
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
    out["repeated_cv"] = tmp / "repeated_cv.csv"
    write_csv(evaluated.repeated_table, out["repeated_cv"], index=False)
    out["oof"] = tmp / OOF_FILE
    write_csv(oof_frame(items, oof), out["oof"], index=False)
    out["per_category"] = tmp / "per_category.csv"
    write_csv(oof.per_category(), out["per_category"])
    curves = {"model (grouped CV)": oof.model, "category baseline": oof.category}
    out["reliability"] = plots.reliability_diagram(oof.y, curves, tmp / "reliability.png")
    importances = global_importances(model, items)
    out["importances_csv"] = tmp / "importances.csv"
    write_csv(importances, out["importances_csv"], index=False)
    out["family_importances"] = tmp / "family_importances.csv"
    write_csv(family_importances(importances), out["family_importances"], index=False)
    out["importances_png"] = plots.importance_chart(importances, tmp / "importances.png")
    if prepared.ingest_report is not None:
        out["ingest_report"] = tmp / "ingest_report.json"
        out["ingest_report"].write_text(json.dumps(prepared.ingest_report, indent=2, default=str))
    ranking = reasons_evaluated.ranking if reasons_evaluated else None
    out["baseline_rates"] = tmp / "baseline_rates.json"
    out["baseline_rates"].write_text(json.dumps(base_rates(items, ranking), indent=2))
    if reasons_evaluated is not None:
        out["reasons_cv"] = tmp / "reasons_cv.csv"
        write_csv(reasons_evaluated.table, out["reasons_cv"], index=False)
    out["pipeline"] = save_pipeline(model, tmp / PIPELINE_FILE)
    return out


def base_rates(items: pd.DataFrame, ranking: ReasonRanking | None = None) -> dict:
    """Training overturn rate overall and per category, and the fitted ranking of likely
    denial reasons (plain JSON: counts and weights), for predict.py."""
    y = evaluation.labels(items)
    frame = pd.DataFrame({"cat": evaluation.treatment_categories(items), "y": y})
    rates = frame.groupby("cat")["y"].agg(["sum", "count"])
    published = published_rates()
    prior = float(y.mean())

    def entry(cat, r) -> dict:
        return {
            "rate": float(r["sum"] / r["count"]),
            "n": int(r["count"]),
            # pulled toward the published rate (or the training prior), exactly as the
            # evaluated category-rate baseline: a category of few letters is not taken at
            # face value
            "shrunk_rate": shrunk_rate(float(r["sum"]), int(r["count"]), published.get(cat, prior)),
            "published_rate": published.get(cat),
        }

    return {
        "prior": prior,
        "items": len(y),
        "published_overall": published.get("_overall"),
        "categories": {cat: entry(cat, r) for cat, r in rates.iterrows()},
        **({"reason_ranking": ranking.to_json()} if ranking is not None else {}),
    }


def _logged_oof(run_id: str) -> pd.DataFrame | None:
    """The champion run's out-of-fold probabilities, when it logged them."""
    import mlflow

    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=OOF_FILE)
    except Exception as exc:  # an older run without the file, or an unreadable store
        logger.info("champion run %s has no %s (%s)", run_id, OOF_FILE, type(exc).__name__)
        return None
    return pd.read_csv(path)


def _is_repeat(items: pd.DataFrame, champion, seed: int, n_splits: int, fingerprint: str) -> bool:
    """The champion is this training's exact repeat: same letters, code, recipe and seed."""
    if champion is None or not champion.loadable:
        return False
    params = champion.params
    return (
        params.get("dataset_digest") == dataset_digest(items)
        and params.get("code_fingerprint") == fingerprint
        and params.get("seed") == str(seed)
        and params.get("cv_folds") == str(n_splits)
        and params.get("candidate") == RECIPE_NAME
    )


def _say(step: Step | None, message: str) -> None:
    if step:
        step(message)


def train(
    letters: list[Path] | None = None,
    *,
    dataset_dir: Path = DEFAULT_DATASET_DIR,
    experiment: str = DEFAULT_EXPERIMENT,
    model_name: str = DEFAULT_MODEL_NAME,
    seed: int = 0,
    n_splits: int = 5,
    step: Step | None = None,
    ingest_progress=None,
    repeats: int = CV_REPEATS,
    force: bool = False,
) -> TrainingResult:
    """Ingest ``letters`` (only new ones), train, evaluate, log to MLflow and register.

    Raises :class:`NothingToRetrain` when the champion already comes from the same
    letters, code and recipe (unless ``force``): retraining would only repeat it.
    """
    import mlflow

    from models.store.registry import current_champion, fail_stale_runs, tracking_client

    dataset_dir = Path(dataset_dir)
    with training_lock(dataset_dir):
        fail_stale_runs(tracking_client(), experiment, model_name)  # also: fail fast, no store
        prepared = prepare(
            letters, dataset_dir, n_splits, step=step, ingest_progress=ingest_progress
        )
        mlflow.set_tracking_uri(tracking_uri())
        mlflow.set_experiment(experiment)
        champion = current_champion(mlflow.MlflowClient(), model_name)
        fingerprint = code_fingerprint()
        if not force and _is_repeat(prepared.items, champion, seed, n_splits, fingerprint):
            raise NothingToRetrain(
                f"no new letters: {model_name} version {champion.version} (@champion) was "
                "trained on these letters with this code and recipe; nothing to retrain "
                "(--force retrains)"
            )
        evaluated = evaluate(
            prepared.items,
            seed=seed,
            n_splits=n_splits,
            repeats=repeats,
            published=published_rates(),
            step=step,
        )
        reasons_evaluated = reasons(
            prepared.items, seed=seed, n_splits=n_splits, repeats=repeats, step=step
        )
        model = fit(prepared.items, evaluated, step=step)
        decision = decide(
            prepared.items,
            prepared.summary,
            evaluated,
            champion,
            fingerprint=fingerprint,
            logged_oof=_logged_oof(champion.run_id) if champion else None,
            step=step,
        )
        return log(
            prepared,
            evaluated,
            model,
            decision,
            model_name=model_name,
            fingerprint=fingerprint,
            reasons_evaluated=reasons_evaluated,
            step=step,
        )
