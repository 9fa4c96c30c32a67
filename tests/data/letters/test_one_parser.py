"""One parser, one row builder: a letter and the same letter as a draft give the same rows.

Training reads letters through ingestion; prediction reads drafts (and letters) through
``data.drafts.rows.letters_rows``. Both must turn the same pre-filing facts into the same
rows, item for item, on every real letter.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.drafts.rows import letters_rows
from data.ingest import ingest
from data.letters.parser import parse_letter
from data.letters.text import letter_text
from features.guideline import GuidelineFeatures
from settings import PRE_FILING_COLUMNS, SHARED_LETTERS_DIR
from tests.helpers.letters import letter, letter_as_draft

_POST_DECISION_LINE = re.compile(
    r"(:\s*(Upheld|Overturned)\s*$)|^\s*(Upheld|Overturned)\s*$|MAXIMUS guideline:|"
    r"Decision rationale:",
    re.MULTILINE,
)


def _plain(value):
    """One spelling per value: NaN and None alike, numbers as float, arrays as lists."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    return value


def _rows(frame: pd.DataFrame) -> list[dict]:
    return [
        {c: _plain(v) for c, v in record.items()}
        for record in frame.loc[:, list(PRE_FILING_COLUMNS)].to_dict("records")
    ]


@pytest.fixture(scope="module")
def letters_and_drafts(tmp_path_factory):
    """The real letters ingested, and each one's draft read as predict.py reads letters."""
    if not SHARED_LETTERS_DIR.is_dir():
        pytest.skip(f"real letters not present at {SHARED_LETTERS_DIR}")
    tmp = tmp_path_factory.mktemp("one_parser")
    items = ingest([SHARED_LETTERS_DIR], tmp / "dataset").added
    drafts = tmp / "drafts"
    drafts.mkdir()
    for name, letter_items in items.groupby("source_file"):
        (path,) = SHARED_LETTERS_DIR.rglob(name)
        statements = list(letter_items.sort_values("item_index")["item_text"])
        draft = letter_as_draft(letter_text(path), statements)
        (drafts / f"{name}.draft.txt").write_text(draft, encoding="utf-8")
    rows, unscorable = letters_rows([drafts])
    assert unscorable == []
    draft_items = pd.DataFrame(rows)
    draft_items["source_file"] = draft_items["source_file"].str.removesuffix(".draft.txt")
    order = ["source_file", "item_index"]
    return (
        items.sort_values(order).reset_index(drop=True),
        draft_items.sort_values(order).reset_index(drop=True),
        drafts,
    )


def test_every_real_letter_was_ingested(letters_and_drafts):
    items, _, drafts = letters_and_drafts
    letters = [p for p in SHARED_LETTERS_DIR.rglob("*") if p.suffix in (".pdf", ".txt")]
    assert items["source_file"].nunique() == len(letters) == len(list(drafts.iterdir()))


def test_drafts_hold_no_decision_and_parse_as_drafts(letters_and_drafts):
    _, _, drafts = letters_and_drafts
    for path in sorted(drafts.iterdir()):
        text = path.read_text(encoding="utf-8")
        assert not _POST_DECISION_LINE.search(text), path.name
        draft = parse_letter(text, allow_draft=True)
        assert draft.is_draft and draft.items, path.name


def test_letter_and_its_draft_give_identical_pre_filing_rows(letters_and_drafts):
    items, draft_items, _ = letters_and_drafts
    assert len(draft_items) == len(items) > 0
    assert list(zip(items["source_file"], items["item_index"], strict=True)) == list(
        zip(draft_items["source_file"], draft_items["item_index"], strict=True)
    )
    mismatched = [
        (name, index, column)
        for name, index, a, b in zip(
            items["source_file"], items["item_index"], _rows(items), _rows(draft_items), strict=True
        )
        for column in PRE_FILING_COLUMNS
        if a[column] != b[column]
    ]
    assert mismatched == []


def test_letter_and_its_draft_give_identical_features(letters_and_drafts):
    items, draft_items, _ = letters_and_drafts
    features = GuidelineFeatures().fit(items)
    assert np.array_equal(features.transform(items), features.transform(draft_items))


def test_letter_and_its_draft_give_identical_probabilities(letters_and_drafts):
    from models.recipe import build_model, fit_model

    items, draft_items, _ = letters_and_drafts
    y = (items["decision"] == "Overturned").to_numpy(int)
    model = fit_model(build_model(folds=2), items, y, items["case_group"].to_numpy())
    p_letters = model.predict_proba(items)[:, 1]
    p_drafts = model.predict_proba(draft_items.loc[:, list(PRE_FILING_COLUMNS)])[:, 1]
    assert np.array_equal(p_letters, p_drafts)


def test_draft_reads_the_injury_date_from_the_summary_as_letters_do():
    """The drift that was: drafts skipped the summary's injury date."""
    text = letter(summary="A 50 year old male injured on 02/03/2014 while lifting boxes.")
    text = text.replace("Date of Injury: 03/04/2015", "Date of Injury:")
    real = parse_letter(text)
    draft = parse_letter(letter_as_draft(text, [i.item_text for i in real.items]), allow_draft=True)
    assert str(real.injury_date) == str(draft.injury_date) == "2014-02-03"


def test_wrapped_statement_and_lone_decision_survive_as_a_draft():
    text = letter(
        items=(("Physical therapy 2 times a week for\n4 weeks for the lumbar spine", "Upheld"),)
    ).replace("lumbar spine: Upheld", "lumbar spine:\nUpheld")
    real = parse_letter(text)
    assert real.items[0].decision == "Upheld"
    draft = parse_letter(letter_as_draft(text, [i.item_text for i in real.items]), allow_draft=True)
    assert [(i.item_text, i.decision) for i in draft.items] == [
        ("Physical therapy 2 times a week for 4 weeks for the lumbar spine", None)
    ]
    assert draft.items[0].claims_admin_guideline == real.items[0].claims_admin_guideline


def test_a_draft_is_not_training_data(tmp_path):
    text = letter()
    real = parse_letter(text)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "draft.txt").write_text(letter_as_draft(text, [real.items[0].item_text]))
    report = ingest([tmp_path / "in"], tmp_path / "out", workers=1).report
    (entry,) = report["files"]
    assert (entry["status"], entry["kind"]) == ("failed", "no_decisions")
    assert "draft" in entry["reason"]


def test_letters_rows_keep_only_pre_filing_columns(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(letter(items=(("MRI of the knee", "Overturned"),)))
    rows, unscorable = letters_rows([path, Path(tmp_path / "missing.txt")])
    assert set(rows[0]) == {"source_file", "item_index", *PRE_FILING_COLUMNS}
    assert rows[0]["service"] == "MRI of the knee"
    assert [u["kind"] for u in unscorable] == ["missing"]
