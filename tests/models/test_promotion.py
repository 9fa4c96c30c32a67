"""Honest promotion: a code change is compared on held-out figures, never waved through."""

from __future__ import annotations

import mlflow
import pytest

from data.synthetic import generate_corpus
from models import training
from models.store.fingerprint import code_fingerprint


def _train(letters, dataset):
    return training.train(letters, dataset_dir=dataset, n_splits=3, repeats=1)


def _worse_code(monkeypatch):
    """Today's code, changed: a different fingerprint and a model that learns ~nothing."""
    import models.recipe

    monkeypatch.setattr(training, "code_fingerprint", lambda: "0123456789abcdef")
    monkeypatch.setattr(models.recipe, "GUIDELINE_C", 1e-7)


@pytest.fixture
def champion(tmp_path, tracking, dwc_dir):
    """A champion trained on the real DWC letters (a model with real held-out signal)."""
    (tmp_path / "letters").symlink_to(dwc_dir)
    first = _train([tmp_path / "letters"], tmp_path / "ds")
    assert first.alias == "champion"
    run = mlflow.MlflowClient().get_run(first.run_id)
    assert run.data.params["code_fingerprint"] == code_fingerprint()
    return first


def test_changed_code_on_the_same_letters_is_compared_not_auto_promoted(
    tmp_path, champion, monkeypatch
):
    _worse_code(monkeypatch)
    changed = _train([tmp_path / "letters"], tmp_path / "ds")
    assert not changed.comparison.promote and changed.alias == "challenger"
    assert "champion's own out-of-fold figures" in changed.comparison.reason
    assert changed.comparison.champion_log_loss < changed.comparison.new_log_loss


def test_a_regression_is_not_promoted_after_one_added_letter(
    tmp_path, champion, monkeypatch, seeds_dir
):
    (tmp_path / "one_more").mkdir()
    seed = sorted(seeds_dir.glob("*.txt"))[0]
    (tmp_path / "one_more" / seed.name).symlink_to(seed)
    _worse_code(monkeypatch)
    grown = _train([tmp_path / "letters", tmp_path / "one_more"], tmp_path / "ds")
    assert grown.ingest_summary["parsed"] == 1
    assert not grown.comparison.promote
    assert "more letters" not in grown.comparison.reason


def test_same_code_and_recipe_on_more_letters_is_promoted(tmp_path, champion):
    generate_corpus(tmp_path / "more", 10, seed=5)
    grown = _train([tmp_path / "letters", tmp_path / "more"], tmp_path / "ds")
    assert grown.comparison.promote and "10 more letters" in grown.comparison.reason
