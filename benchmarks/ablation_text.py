"""Which inputs carry signal on the real letters: letter-grouped CV of simple ablations.

    .venv/bin/python benchmarks/ablation_text.py [--dataset work/dataset] [--seeds 4]

Plain (uncalibrated) L2 logistic regressions, 5-fold StratifiedGroupKFold by letter,
averaged over seeds: summary TF-IDF with and without the reviewer-style neutralizer,
summary + service TF-IDF (the "about 0.60" reference), service only, structured only.
Reports fold-mean and pooled ROC-AUC, log loss and Brier skill against the fold's prior.
Real letters only (synthetic rows are dropped).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from data.config import DEFAULT_DATASET_DIR
from data.dataset import load_items
from features.pipeline import PreFilingColumns, _summary_text, _tfidf
from features.structured import PRE_FILING_COLUMNS, StructuredFeatures
from models.evaluation import grouped_folds, labels


def model(parts, c: float = 1.0) -> Pipeline:
    return Pipeline(
        [
            ("prefiling", PreFilingColumns()),
            ("columns", ColumnTransformer(parts)),
            ("classifier", LogisticRegression(C=c, max_iter=3000)),
        ]
    )


ABLATIONS = {
    "summary TF-IDF, neutralized (production)": lambda: model(
        [("s", _summary_text(1000), "case_summary")]
    ),
    "summary TF-IDF, raw": lambda: model([("s", _tfidf(1000), "case_summary")]),
    "summary + service TF-IDF, raw": lambda: model(
        [("s", _tfidf(3000), "case_summary"), ("v", _tfidf(500), "service")]
    ),
    "service TF-IDF only": lambda: model([("v", _tfidf(500), "service")]),
    "structured only (C=0.01)": lambda: model(
        [
            (
                "st",
                Pipeline([("e", StructuredFeatures()), ("sc", StandardScaler())]),
                list(PRE_FILING_COLUMNS),
            )
        ],
        c=0.01,
    ),
}


def evaluate(items: pd.DataFrame, build, seeds: int) -> dict[str, float]:
    y, groups = labels(items), items["letter_id"].to_numpy()
    rows = []
    for seed in range(seeds):
        p, prior, fold_aucs = np.zeros(len(y)), np.zeros(len(y)), []
        for train, test in grouped_folds(y, groups, 5, seed):
            fitted = build().fit(items.iloc[train], y[train])
            p[test] = fitted.predict_proba(items.iloc[test])[:, 1]
            prior[test] = y[train].mean()
            if len(set(y[test])) == 2:
                fold_aucs.append(roc_auc_score(y[test], p[test]))
        rows.append(
            {
                "auc_fold_mean": np.mean(fold_aucs),
                "auc_pooled": roc_auc_score(y, p),
                "log_loss": log_loss(y, p),
                "brier_skill": 1 - brier_score_loss(y, p) / brier_score_loss(y, prior),
            }
        )
    return pd.DataFrame(rows).mean().to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET_DIR)
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    items = load_items(args.dataset)
    items = items[~items["synthetic"].fillna(False).astype(bool)].reset_index(drop=True)
    if items.empty:
        raise SystemExit(f"no real items in {args.dataset}; ingest ../shared/letters first")
    print(f"{len(items)} real items, {items['letter_id'].nunique()} letters, {args.seeds} seeds")
    print(f"{'ablation':44} {'AUC fold':>8} {'AUC pool':>8} {'logloss':>8} {'BSS':>7}")
    for name, build in ABLATIONS.items():
        r = evaluate(items, build, args.seeds)
        print(
            f"{name:44} {r['auc_fold_mean']:8.3f} {r['auc_pooled']:8.3f} "
            f"{r['log_loss']:8.4f} {r['brier_skill']:7.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
