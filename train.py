"""Train the IMR outcome model: ingest new letters, evaluate honestly, log and register.

    python train.py --letters ../shared/letters [--letters NEW_FOLDER ...]

Only letters not yet in the dataset are ingested; the model is retrained on everything.
The run goes to MLflow (``MLFLOW_TRACKING_URI``, default ``sqlite:///mlflow.db``) and the
model to the registry; the ``champion`` alias moves only if the new model is better.
Exit status: 0 trained (or nothing new to train on), 2 bad input (nothing to train on,
too few letters of a decision for the folds, a tracking store that does not answer),
3 another training is running.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from settings import DEFAULT_DATASET_DIR, DEFAULT_EXPERIMENT, DEFAULT_MODEL_NAME

app = typer.Typer(add_completion=False, help=__doc__, pretty_exceptions_enable=False)


@app.command()
def main(
    letters: Annotated[
        list[Path] | None, typer.Option("--letters", help="Letter file or folder; repeatable.")
    ] = None,
    dataset: Annotated[Path, typer.Option(help="Dataset folder.")] = DEFAULT_DATASET_DIR,
    experiment: Annotated[str, typer.Option(help="MLflow experiment.")] = DEFAULT_EXPERIMENT,
    model_name: Annotated[str, typer.Option(help="Registered model name.")] = DEFAULT_MODEL_NAME,
    seed: Annotated[int, typer.Option(help="Random seed for folds and models.")] = 0,
    folds: Annotated[int, typer.Option(help="Letter-grouped CV folds.")] = 5,
    force: Annotated[
        bool, typer.Option("--force", help="Retrain even when nothing has changed.")
    ] = False,
) -> None:
    """Ingest, train, evaluate, log to MLflow, register and decide promotion."""
    from data.ingest.dataset import DatasetBusy
    from data.terminal_text import plain_text, terminal_console
    from models.store.tracking import TrackingUnreachable
    from models.training import NothingToRetrain, TrainingError, train
    from models.training_report import print_training_report

    # paths, messages and reasons are printed as data (plain_text), never as markup
    console = terminal_console(stderr=True)
    if not model_name.strip() or any(c in model_name for c in "/:"):
        # MLflow's rule for registered names, checked before hours of training, not after
        console.print(
            plain_text(f"error: --model-name {model_name!r}: give a name without '/' or ':'")
        )
        raise typer.Exit(2)
    for path in letters or []:
        if not path.exists():
            console.print(
                plain_text(f"error: --letters {path}: no such file or folder; check the path")
            )
            raise typer.Exit(2)
    try:
        with console.status("training") as status:

            def step(message: str) -> None:
                # a line per stage (the spinner alone shows nothing without a terminal)
                console.print(plain_text(f"- {message}", style="dim"))
                status.update(plain_text(message))

            result = train(
                letters,
                dataset_dir=dataset,
                experiment=experiment,
                model_name=model_name,
                seed=seed,
                n_splits=folds,
                step=step,
                force=force,
            )
    except (TrainingError, TrackingUnreachable) as exc:
        console.print(plain_text(f"error: {exc}"))
        raise typer.Exit(2) from exc
    except NothingToRetrain as exc:
        console.print(plain_text(exc))
        raise typer.Exit(0) from exc
    except DatasetBusy as exc:
        console.print(plain_text(f"error: {exc}"))
        raise typer.Exit(3) from exc
    print_training_report(result, model_name)


if __name__ == "__main__":
    app()
