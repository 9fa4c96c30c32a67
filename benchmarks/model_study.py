"""The model choices behind the guideline model, on the real letters: repeated grouped CV.

    .venv/bin/python benchmarks/model_study.py [--dataset work/dataset] [--repeats 5]

Compares, with letter-grouped 5-fold CV repeated over ``--repeats`` fold assignments and
95% letter-bootstrap intervals: the production ``guideline`` model, the same with a Platt
step on out-of-fold scores, ``guideline_core`` (its five strongest inputs only), and the
baselines inside the same folds: the training prior and the overturn rate of the service's
category and of its sub-category (each shrunk by the project's one pseudo-count).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from data.ingest import dataset_or_shared_letters
from features.guideline import with_letter_services
from models import evaluation
from models.recipe import build_model, fit_model


def _variants():
    def platt():
        model = build_model()
        model.steps[-1][1].set_params(platt=True)
        return model

    return {
        "guideline": build_model,
        "guideline + Platt": platt,
        "guideline_core": lambda: build_model(core_only=True),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    items = with_letter_services(dataset_or_shared_letters(args.dataset))
    rows = []
    for name, build in _variants().items():
        table = evaluation.repeated_cv(build, fit_model, items, repeats=args.repeats).table()
        if name == "guideline":
            baselines = table[table["predictor"] != "model"].replace(
                {"baseline_prior": "prior", "baseline_category_rate": "category rate"}
            )
            rows.append(baselines)
        rows.append(table[table["predictor"] == "model"].assign(predictor=name))
    sub = evaluation.repeated_cv(
        build_model, fit_model, items, repeats=args.repeats, level="subcategory"
    ).table()
    rows.append(
        sub[sub["predictor"] == "baseline_category_rate"].assign(predictor="sub-category rate")
    )
    out = pd.concat(rows)
    out["cell"] = out.apply(
        lambda r: f"{r['mean']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]", axis=1
    )
    print(out.pivot(index="measure", columns="predictor", values="cell").to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
