"""Evaluation and promotion logic on small hand-made arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import evaluation
from models.promotion import compare


def test_ece_is_zero_for_perfect_calibration_and_large_when_off():
    p = np.repeat([0.1, 0.5, 0.9], 100)
    y = np.concatenate(
        [
            np.r_[np.ones(10), np.zeros(90)],
            np.r_[np.ones(50), np.zeros(50)],
            np.r_[np.ones(90), np.zeros(10)],
        ]
    )
    assert evaluation.expected_calibration_error(y, p, n_bins=3) == pytest.approx(0.0)
    assert evaluation.expected_calibration_error(y, np.clip(p + 0.2, 0, 1), n_bins=3) > 0.15


def test_brier_skill_is_zero_for_the_prior_and_positive_for_signal():
    y = np.r_[np.ones(20), np.zeros(80)]
    prior = np.full(100, 0.2)
    assert evaluation.metrics(y, prior, prior)["brier_skill"] == pytest.approx(0.0)
    informative = np.where(y == 1, 0.6, 0.1)
    assert evaluation.metrics(y, informative, prior)["brier_skill"] > 0.3


def test_category_baseline_is_shrunk_toward_the_training_prior():
    y_train = np.r_[np.ones(5), np.zeros(5), np.zeros(90)]
    cats = np.array(["imaging"] * 10 + ["medication"] * 90)
    prior, category = evaluation.baseline_predictions(y_train, cats, np.array(["imaging", "x"]))
    assert prior[0] == pytest.approx(0.05)
    # 5 of 10 imaging items overturned, shrunk with 10 pseudo-items at 5%
    assert category[0] == pytest.approx((5 + 10 * 0.05) / 20)
    assert category[1] == pytest.approx(0.05)  # unseen category: the prior


def test_grouped_folds_never_split_a_letter():
    groups = np.repeat(np.arange(40), 3)
    y = (np.arange(120) % 7 == 0).astype(int)
    for train, test in evaluation.grouped_folds(y, groups, 5, seed=1):
        assert not set(groups[train]) & set(groups[test])


def test_temporal_split_trains_on_earlier_letters():
    dates = pd.date_range("2016-01-01", periods=40, freq="7D").strftime("%Y-%m-%d")
    items = pd.DataFrame(
        {"letter_id": np.repeat(np.arange(40), 2), "decision_date": np.repeat(dates, 2)}
    )
    train, test = evaluation.temporal_split(items)
    assert len(train) == 60 and len(test) == 20
    assert items["decision_date"].iloc[train].max() < items["decision_date"].iloc[test].min()


def _scores(seed=0, n=300, strength=2.0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    groups = np.repeat(np.arange(n // 2), 2)
    logit = -1.5 + strength * (y - 0.2) + rng.normal(0, 1, n)
    return y, 1 / (1 + np.exp(-logit)), groups


def test_promotion_needs_better_log_loss_and_no_worse_auc():
    y, good, groups = _scores()
    noise = np.full(len(y), y.mean())
    assert compare(y, good, None, groups).promote
    better = compare(y, good, noise, groups)
    assert better.promote and "log loss" in better.reason
    worse = compare(y, noise, good, groups)
    assert not worse.promote and worse.new_log_loss > worse.champion_log_loss


def test_same_recipe_promotes_only_with_more_letters():
    y, p, groups = _scores()
    assert compare(y, p, p, groups, same_recipe=True, new_letters=12).promote
    assert not compare(y, p, p, groups, same_recipe=True, new_letters=0).promote


def test_published_rates_are_read_by_category_and_pull_small_categories():
    from models.published_rates import PUBLISHED_RATES_FILE, published_rates, shrunk_rate

    if not PUBLISHED_RATES_FILE.is_file():
        pytest.skip(f"published rates not present at {PUBLISHED_RATES_FILE}")
    rates = published_rates()
    assert 0.05 < rates["_overall"] < 0.2
    assert rates["consultation"] > rates["_overall"] > rates["injection"]
    # 1 of 2 items overturned is not 50%: pulled most of the way to the published rate
    published = rates["injection"]
    assert abs(shrunk_rate(1, 2, published) - published) < 0.2 * (0.5 - published)


def test_category_baseline_shrinks_toward_the_published_rate():
    from models.evaluation import baseline_predictions

    y = np.array([0, 0, 0, 0, 1, 0])
    cats = np.array(["consultation", "consultation", "imaging", "imaging", "imaging", "imaging"])
    _, plain = baseline_predictions(y, cats, np.array(["consultation"]))
    _, pulled = baseline_predictions(y, cats, np.array(["consultation"]), {"consultation": 0.5})
    assert pulled[0] > plain[0]
    _, unseen = baseline_predictions(y, cats, np.array(["surgery"]), {"surgery": 0.3})
    assert unseen[0] == 0.3
