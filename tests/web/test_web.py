"""The web page through Flask's test client: scoring as the CLI does, inputs, privacy, pages.

The model is the champion of the shipped recipe (``trained_store`` in conftest: the real
letters when present, else synthetic ones).
Probabilities are compared with :func:`models.scoring.score.score_rows` or ``predict.py`` on the
same input, never with fixed numbers.
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import re
import subprocess
import sys

import pytest

from data.drafts.rows import draft_rows
from models.scoring.score import score_rows
from tests.helpers.letters import letter
from tests.helpers.pdf_maker import text_pdf
from tests.helpers.web import OWN_SUMMARY, REPO, SERVICES, cli, real_summary, results
from web import app as web_app
from web.app import create_app
from web.present import measure


def _post_draft(client, summary, services, **extra):
    form = {"case_summary": summary, "services": "\n".join(services), **extra}
    return client.post("/", data=form)


def _what_ifs(page: str, anchor: str = "service-1") -> list[dict]:
    """The unticked what-if checkboxes of one service card: their JSON values."""
    card = page[page.index(f'id="{anchor}"') :]
    card = card[: card.index("</article>")]
    values = re.findall(r'name="add_fact" value="([^"]*)"', card)
    return [json.loads(html.unescape(v)) for v in values]


def test_draft_page_has_the_form_and_loads_nothing_from_elsewhere(client):
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for field in ("case_summary", "services"):
        assert f'<textarea id="{field}" name="{field}"' in text
        assert f'<label for="{field}">' in text
    for field in ("injury_date", "ur_denial_date"):
        assert f'type="date" id="{field}" name="{field}"' in text
    assert 'name="claims_admin_guideline"' in text
    assert '<button type="submit" class="primary">Score</button>' in text
    # every resource is this app's own: relative URLs only, and the policy forbids others
    for url in re.findall(r'(?:src|href|action)="([^"]*)"', text):
        assert url.startswith(("/", "#", "data:")), url
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    for asset in re.findall(r'(?:src|href)="(/static/[^"]*)"', text):
        assert client.get(asset).status_code == 200
    assert "not legal or medical advice" in text


def test_scored_draft_gives_the_probabilities_of_score_rows(client, trained_store):
    summary = real_summary().replace(". ", ".\n", 2)
    services = [f"  {SERVICES[0]}  ", "", *SERVICES[1:]]  # stray spaces and a blank line
    # a browser sends the textarea's line breaks as CRLF
    page = _post_draft(client, summary.replace("\n", "\r\n"), services)
    assert page.status_code == 200
    expected = score_rows(trained_store.loaded, draft_rows(summary, list(SERVICES)))
    got = results(page.get_data(as_text=True))
    assert [s for s, _ in got] == [e["service"] for e in expected]
    assert [p for _, p in got] == [e["p_overturned"] for e in expected]  # exact: repr round-trip
    text = page.get_data(as_text=True)
    auc, interval = measure(trained_store.info.metrics, "roc_auc")
    # the meaning line quotes the champion's evaluation, with its interval
    assert f"ROC-AUC {auc:.2f}, 95% interval {interval[0]:.2f} to {interval[1]:.2f}" in text
    assert "not legal or medical advice" in text
    for item in expected:
        assert f"range {100 * item['p_low']:.1f}% to {100 * item['p_high']:.1f}%" in text
        if item.get("baseline_shrunk_rate") is not None:
            toward = f"{100 * item['baseline_shrunk_rate']:.1f}% pulled toward published rates"
            assert toward in text
    # the model's likely denial reasons and the criteria met are on the page, with evidence
    shown = html.unescape(text)
    assert any(item["denial_reasons"] for item in expected)
    for item in expected:
        for reason in item["denial_reasons"]:
            assert reason["label"] in shown and reason["to_document"] in shown
            if reason.get("cited_in_upheld_share") is not None:
                share = 100 * reason["cited_in_upheld_share"]
                assert f"{share:.0f}% likely if the denial is upheld" in shown
        for criterion in item["criteria"]:
            assert criterion["label"] in shown
    summary_part = shown[shown.index('class="summarytext"') :]
    highlighted = 0
    for item in expected:
        for criterion in item["criteria"]:
            for evidence in criterion["evidence"]:
                if summary.strip()[evidence["start"] : evidence["end"]] == evidence["text"]:
                    mark = rf"<mark [^>]*>[^<]*{re.escape(evidence['text'])}"
                    assert re.search(mark, summary_part)
                    highlighted += 1
    assert highlighted  # the real summary meets some criterion, and its evidence is marked


def test_what_if_tick_rescores_with_the_fact_added(client, trained_store):
    summary = OWN_SUMMARY
    first = _post_draft(client, summary, SERVICES[:2]).get_data(as_text=True)
    offered = _what_ifs(first)
    assert offered, "the draft lacks documentable facts, so what-ifs are offered"
    expected = {
        w["added_text"]: w
        for w in score_rows(trained_store.loaded, draft_rows(summary, list(SERVICES[:2])))[0][
            "what_if"
        ]
    }
    fact = max(offered, key=lambda f: expected[f["added_text"]]["change"])
    # the shipped model's weights for documented criteria are >= 0 (sign constraints), and
    # on either training set (real or synthetic letters) some offered one is above 0
    assert expected[fact["added_text"]]["change"] > 0
    before = results(first)[0][1]
    second = _post_draft(client, summary, SERVICES[:2], add_fact=json.dumps(fact)).get_data(
        as_text=True
    )
    after = results(second)[0][1]
    assert after == pytest.approx(expected[fact["added_text"]]["p_overturned"], abs=1e-12)
    assert after > before
    # the ticked fact is shown ticked in the form, added to the summary, and no longer offered
    assert re.search(r'name="add_fact" value="[^"]*" checked data-what-if', second)
    shown = second[second.index('class="summarytext"') :]
    shown = html.unescape(re.sub(r"<[^>]+>", "", shown[: shown.index("</div>")]))
    assert shown.endswith(fact["added_text"]) and "<ins>" in second
    assert fact["added_text"] not in {f["added_text"] for f in _what_ifs(second)}
    # unticking goes back to the draft as written
    third = _post_draft(client, summary, SERVICES[:2]).get_data(as_text=True)
    assert results(third)[0][1] == before


def _with_new_fields(real_score_rows):
    """score_rows as the rewritten model may answer: extra fields on every item."""

    def score(loaded, rows, **kw):
        out = real_score_rows(loaded, rows, **kw)
        summary = rows[0]["case_summary"]
        start = summary.index("low back pain")
        for item in out:
            item.update(
                reasons=[],
                criteria=[],
                subcategory="lumbar_mri",
                recognised=False,
                warnings=["unrecognised service: only the overall rate applies"],
                denial_reasons=[
                    {
                        "code": "no_red_flags",
                        "label": "Red flags or progressive deficit",
                        "criterion": "MTUS: imaging for red flags only",
                        "status": "not_met",
                        "evidence": [
                            {"text": "low back pain", "start": start, "end": start + 13},
                            {"text": "straight leg raise", "start": 5, "end": 9},  # bad offsets
                            {"text": "nowhere in it", "start": 10_000, "end": 10_010},
                        ],
                        "to_document": "Document any neurological deficit.",
                    },
                    {
                        "code": "conservative_care",
                        "label": "Failed conservative care",
                        "status": "not_documented",
                        "evidence": [],
                        "to_document": "State the therapy tried and its result.",
                    },
                ],
            )
        return out

    return score


def test_fields_the_model_may_add_are_shown(client, monkeypatch):
    monkeypatch.setattr(web_app, "score_rows", _with_new_fields(web_app.score_rows))
    page = _post_draft(client, OWN_SUMMARY, SERVICES[:1]).get_data(as_text=True)
    for shown in (
        "lumbar mri",
        "unrecognised service: only the overall rate applies",
        "Red flags or progressive deficit",
        "MTUS: imaging for red flags only",
        "not met",
        "Document any neurological deficit.",
        "Failed conservative care",
        "State the therapy tried and its result.",
    ):
        assert shown in page, shown
    assert "<em>not documented</em>" in page  # a reason with no evidence says so
    summary_part = page[page.index('class="summarytext"') :]
    # offsets that point at their text are used; wrong offsets fall back to finding the text
    assert re.search(r'<mark class="tone-against"[^>]*>low back pain</mark>', summary_part)
    assert re.search(r'<mark class="tone-against"[^>]*>straight leg raise</mark>', summary_part)


def test_missing_optional_fields_do_not_break_the_page(client, monkeypatch):
    real = web_app.score_rows

    def bare(loaded, rows, **kw):
        return [
            {"service": r["service"], "p_overturned": r["p_overturned"]}
            for r in real(loaded, rows, **kw)
        ]

    monkeypatch.setattr(web_app, "score_rows", bare)
    page = _post_draft(client, OWN_SUMMARY, SERVICES[:2])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert len(results(text)) == 2
    assert 'class="band"' not in text and "What if the draft documented" not in text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"case_summary": "   ", "services": "MRI of the knee"},
            "The case summary is empty: paste",
        ),
        ({"case_summary": OWN_SUMMARY, "services": "\n \n"}, "No requested service: write"),
        (
            {"case_summary": OWN_SUMMARY, "services": "MRI", "injury_date": "13/45/2020"},
            "The date of injury '13/45/2020' is not a date: give it as year-month-day",
        ),
        ({"case_summary": OWN_SUMMARY, "services": "MRI\n12 #"}, "Requested service 2 ('12 #')"),
    ],
)
def test_bad_draft_is_an_error_on_the_page_keeping_the_form(client, form, message):
    page = client.post("/", data=form)
    assert page.status_code == 422
    text = html.unescape(page.get_data(as_text=True))
    assert message in text and 'role="alert"' in text
    assert "field" not in text[text.index('role="alert"') :][:400]  # a person's words
    assert form["services"] in text  # what the user typed is kept in the form
    assert "Traceback" not in text and "data-p-overturned" not in text


def test_letter_upload_fills_the_form_from_text_and_pdf(client):
    summary = OWN_SUMMARY + " Conservative care has failed."
    items = (("MRI of the lumbar spine", "Upheld"), ("Physical therapy x 6 visits", "Overturned"))
    text = letter(summary=summary, items=items)
    uploads = {"letter.txt": text.encode(), "letter.pdf": text_pdf(text.splitlines())}
    for name, data in uploads.items():
        page = client.post("/letter", data={"letter": (io.BytesIO(data), name)})
        assert page.status_code == 200, name
        body = html.unescape(page.get_data(as_text=True))
        assert summary in body
        services = re.search(r'name="services"[^>]*>([^<]*)</textarea>', body)[1]
        assert services.splitlines() == [s for s, _ in items]
        assert 'value="2015-03-04"' in body and 'value="2016-11-03"' in body  # the dates
        assert f"Filled from {name}" in body
        assert "Upheld" not in services and "not medically necessary" not in body  # no decision


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("letter.pdf", b"this is not a pdf at all", "named .pdf but is not a PDF"),
        ("letter.pdf", b"%PDF-1.4\n garbage", "corrupt or truncated PDF"),
        ("letter.txt", b"", "empty file"),
        ("letter.txt", b"\x00\x01\x02binary" * 100, "binary content"),
        # any other text is a draft's summary (tests/web/test_web_safety.py), but a letter
        # without its services is refused
        (
            "letter.txt",
            b"CLINICAL CASE SUMMARY\nThe patient has pain.\nIMR ISSUES, DECISIONS AND RATIONALES\n",
            "no requested service",
        ),
    ],
)
def test_unreadable_letter_is_an_error_on_the_page(client, name, data, message):
    page = client.post("/letter", data={"letter": (io.BytesIO(data), name)})
    assert page.status_code == 422
    text = html.unescape(page.get_data(as_text=True))
    assert f"{name}: " in text and message in text
    assert "Traceback" not in text


def test_uploads_stay_in_memory(client, monkeypatch):
    """Werkzeug spools uploads over 500 KB to a temporary file; ours must not."""
    import werkzeug.formparser

    def no_temp_files(*args, **kwargs):
        raise AssertionError("an upload went to a temporary file")

    import tempfile

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", no_temp_files)
    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, no_temp_files)
    # ~750 KB: a letter padded with blank lines (a summary that long is refused as
    # summary_too_long by the parser's limits, which is not what this test is about)
    data = letter(summary=OWN_SUMMARY).encode() + b"\n" * 750_000
    assert len(data) > 700_000
    page = client.post("/letter", data={"letter": (io.BytesIO(data), "big.txt")})
    assert page.status_code == 200
    assert "Filled from big.txt" in page.get_data(as_text=True)


def test_upload_over_the_cap_is_refused_with_a_clear_message(trained_store):
    app = create_app(trained_store.loaded, trained_store.info)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    client = app.test_client()
    for url, field in (("/letter", "letter"), ("/batch", "files")):
        page = client.post(url, data={field: (io.BytesIO(b"x" * 100_000), "big.txt")})
        assert page.status_code == 413
        assert "larger than this page accepts (64 KiB in all" in page.get_data(as_text=True)


def test_nothing_submitted_reaches_the_logs(client, monkeypatch, caplog):
    marker = "Zanzibar-7431 patient detail"
    caplog.set_level(logging.DEBUG)
    _post_draft(client, f"{OWN_SUMMARY} {marker}.", [f"MRI {marker}"])
    client.post("/", data={"case_summary": marker, "services": ""})
    client.post("/letter", data={"letter": (io.BytesIO(marker.encode()), "x.txt")})

    def broken(*args, **kwargs):
        raise ValueError(f"cannot score {marker}")

    monkeypatch.setattr(web_app, "score_rows", broken)
    page = _post_draft(client, f"{OWN_SUMMARY} {marker}", ["MRI of the knee"])
    assert page.status_code == 500
    assert marker not in page.get_data(as_text=True)
    assert "ValueError" in caplog.text  # the failure is logged, by its type only
    assert "Zanzibar" not in caplog.text


def test_batch_csv_download_is_what_the_cli_writes(client, trained_store, tmp_path):
    import pandas as pd

    cases = pd.DataFrame(
        {
            "case_summary": [OWN_SUMMARY, OWN_SUMMARY, "  ", real_summary()],
            "service": [SERVICES[0], "=HYPERLINK(1)", SERVICES[1], SERVICES[2]],
            "injury_date": ["2016-01-04", "", "", "not a date"],
        }
    )
    path = tmp_path / "cases.csv"
    cases.to_csv(path, index=False)
    page = client.post("/batch", data={"files": (io.BytesIO(path.read_bytes()), "cases.csv")})
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in page.headers["Content-Disposition"]
    run = cli(["--batch", str(path), "--csv", str(tmp_path / "cli.csv")], trained_store.env)
    assert run.returncode == 1, run.stderr  # two rows cannot be scored, and say why
    # the CLI names the file by its path where the page only knows its name
    assert page.data == (tmp_path / "cli.csv").read_bytes().replace(
        str(path).encode(), b"cases.csv"
    )
    scored = pd.read_csv(io.BytesIO(page.data))
    assert scored["error"].notna().sum() == 2 and scored["p_overturned"].notna().sum() == 2


def test_batch_of_letters_sets_bad_ones_aside_like_the_cli(client, trained_store, tmp_path):
    files = {
        "a.txt": letter(case_number="CM16-0000011").encode(),
        "b.pdf": text_pdf(
            letter(
                summary=OWN_SUMMARY,
                items=(("MRI of the knee", "Upheld"), ("Tramadol 50mg #60", "Overturned")),
            ).splitlines()
        ),
        "c.pdf": b"not a pdf",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    upload = [(io.BytesIO(data), name) for name, data in files.items()]
    page = client.post("/batch", data={"files": upload})
    assert page.status_code == 200
    run = cli(
        [*(str(tmp_path / n) for n in files), "--csv", str(tmp_path / "cli.csv")], trained_store.env
    )
    assert run.returncode == 1, run.stderr
    # the CLI names a file by its path where the page only knows its name
    assert page.data == (tmp_path / "cli.csv").read_bytes().replace(
        str(tmp_path / "c.pdf").encode(), b"c.pdf"
    )
    assert b"c.pdf" in page.data and b"not a PDF" in page.data


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "no file uploaded"),
        ([(b"case_summary,service\nx,y\n", "a.csv"), (b"x", "b.txt")], "either one CSV"),
        ([(b"summary,what\nx,y\n", "a.csv")], "missing column(s) case_summary, service"),
        ([(b"", "a.csv")], "cannot read the CSV"),
        ([(b"not a pdf", "a.pdf")], "nothing to score"),
    ],
)
def test_unusable_batch_is_an_error_on_the_page(client, files, message):
    upload = [(io.BytesIO(data), name) for data, name in files]
    page = client.post("/batch", data={"files": upload} if upload else {})
    assert page.status_code == 422
    text = html.unescape(page.get_data(as_text=True))
    assert message in text and "Traceback" not in text


def test_model_page_shows_the_model_its_evaluation_and_charts(client, trained_store):
    info = trained_store.info
    page = client.get("/model")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert f"{info.name}, version {info.version} (alias champion)" in text
    assert f"{info.letters} letters, {info.items} disputed items" in text
    # a model of synthetic letters says so on every page; one of the real letters does not
    assert ("SYNTHETIC letters" in text) == (trained_store.data_source == "synthetic")
    assert ("SYNTHETIC letters" in client.get("/").get_data(as_text=True)) == (
        trained_store.data_source == "synthetic"
    )
    assert "letter-grouped CV" in text and "temporal hold-out" in text
    assert "Evaluation with intervals" in text
    assert re.search(r"<td>\d\.\d{3} \[-?\d\.\d{3}, -?\d\.\d{3}\]</td>", text)
    assert f"{info.metrics['cv_roc_auc']:.3f}" in text
    for name in ("reliability.png", "importances.png"):
        assert f'src="/model/{name}"' in text
        image = client.get(f"/model/{name}")
        assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    for category, rate in info.baseline["categories"].items():
        assert f"<td>{category.replace('_', ' ')}</td><td>{100 * rate['rate']:.1f}%</td>" in text
    assert client.get("/model/pipeline.skops").status_code == 404


def test_a_foreign_host_name_is_refused(client):
    """Against DNS rebinding: a page elsewhere cannot reach the loopback server by a name."""
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 400
    assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200


def test_serve_warns_when_not_on_loopback_and_names_a_missing_model(trained_store):
    run = cli(
        ["serve", "--host", "0.0.0.0", "--port", "0", "--model", "models:/nope@champion"],
        trained_store.env,
    )
    assert run.returncode == 2
    assert "WARNING: serving on 0.0.0.0, reachable from other computers" in run.stderr
    assert "train one first" in run.stderr and "Traceback" not in run.stderr


def test_hostile_uploads_are_refused_within_a_memory_limit(trained_store):
    """Oversized, corrupt and deeply nested uploads: clear refusals, no crash, bounded memory."""
    run = subprocess.run(
        [sys.executable, "-m", "tests.helpers.web_hostile", str(2 * 2**30)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **trained_store.env, "OPENBLAS_NUM_THREADS": "1"},
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    codes = json.loads(run.stdout.strip().splitlines()[-1])
    assert codes["big_pdf"] == 422  # 30 MiB is no letter: set aside, nothing else to score
    assert codes["over_cap"] == 413
    assert codes["nested_pdf"] == 422
    assert codes["huge_field"] == 413
    assert codes["long_csv_cell"] == 200  # a 1 MB cell is set aside alone, the next row scored


def test_model_details_are_kept_for_the_next_start(trained_store, monkeypatch, tmp_path):
    """A start serves the last start's copy of the details at once, then refreshes it.

    The test damages the kept copy: it works in a model cache of its own."""
    import mlflow

    from web.model_info import LiveInfo, _cache_file, load_cached

    for key, value in {**trained_store.env, "IMR_MODEL_CACHE": str(tmp_path / "cache")}.items():
        monkeypatch.setenv(key, value)
    loaded = trained_store.loaded
    cache = _cache_file(loaded.run_id)
    cache.unlink(missing_ok=True)
    try:
        assert load_cached(loaded.uri, loaded.run_id) is None
        first = LiveInfo(loaded).get(timeout=120)  # no copy yet: waits for MLflow
        assert first.complete and cache.is_file()
        kept = load_cached(loaded.uri, loaded.run_id)
        assert kept == first  # every field, the charts' bytes included
        second = LiveInfo(loaded)
        assert second.get(timeout=0) == first  # at once, before MLflow has answered
        second.join(timeout=120)
        cache.write_text("{not json")
        assert load_cached(loaded.uri, loaded.run_id) is None  # a damaged copy is read again
    finally:
        mlflow.set_tracking_uri(None)


def test_a_result_downloads_as_the_cli_json_and_csv(client, trained_store, tmp_path):
    import pandas as pd

    summary = real_summary()
    form = {"case_summary": summary, "services": "\n".join(SERVICES)}
    page = client.post("/result.json", data=form)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("application/json")
    assert re.search(
        r'attachment; filename="imr-estimate-\d{4}-\d\d-\d\d\.json"',
        page.headers["Content-Disposition"],
    )
    path = tmp_path / "summary.txt"
    path.write_text(summary)
    args = ["--summary", str(path), *(a for s in SERVICES for a in ("--service", s))]
    run = cli([*args, "--json"], trained_store.env)
    assert run.returncode == 0, run.stderr
    assert json.loads(page.data) == json.loads(run.stdout)  # every field, to the last digit
    items = json.loads(page.data)["items"]
    for item in items:  # the explanation adds up to the estimate
        walk = item["explanation"]
        total = 100 * walk["usual_rate"] + sum(s["points"] for s in walk["steps"])
        assert total == pytest.approx(100 * item["p_overturned"], abs=1e-9)

    page = client.post("/result.csv", data=form)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/csv")
    run = cli([*args, "--csv", str(tmp_path / "cli.csv")], trained_store.env)
    assert run.returncode == 0, run.stderr
    assert page.data == (tmp_path / "cli.csv").read_bytes()
    table = pd.read_csv(io.BytesIO(page.data))
    assert list(table["service"]) == list(SERVICES)
    for (_, row), item in zip(table.iterrows(), items, strict=True):
        assert row["how_sure"] == item["how_sure"]["label"]
        reasons = item["denial_reasons"][:3]
        for n, reason in enumerate(reasons, start=1):
            assert reason["criterion"] in row[f"denial_reason_{n}"]
            assert row[f"to_document_{n}"] == reason["to_document"]
        for n in range(len(reasons) + 1, 4):
            assert pd.isna(row[f"denial_reason_{n}"])

    bad = client.post("/result.json", data={"case_summary": " ", "services": "MRI"})
    assert bad.status_code == 422 and b"The case summary is empty" in bad.data


def test_the_printed_result_says_when_with_which_model_and_that_it_is_no_advice(
    client, trained_store
):
    text = html.unescape(_post_draft(client, OWN_SUMMARY, SERVICES[:2]).get_data(as_text=True))
    head = text[text.index('class="print-only print-head"') :]
    head = head[: head.index("</div>")]
    info = trained_store.info
    assert re.search(r"Scored on \d{4}-\d\d-\d\d \d\d:\d\d", head)
    assert f"model {info.name} version {info.version}" in head
    assert "not legal or medical advice" in head
    css = client.get("/static/style.css").get_data(as_text=True)
    assert "@media print" in css and "size: letter" in css


def test_each_estimate_has_a_how_sure_label_and_points_that_add_up(client, trained_store):
    text = _post_draft(client, OWN_SUMMARY, SERVICES).get_data(as_text=True)
    expected = score_rows(trained_store.loaded, draft_rows(OWN_SUMMARY, list(SERVICES)))
    cards = text.split("<article")[1:]
    assert len(cards) == len(expected)
    for card, item in zip(cards, expected, strict=True):
        assert f'data-how-sure="{item["how_sure"]["code"]}"' in card
        assert html.escape(item["how_sure"]["label"]) in card
        usual = float(re.search(r'data-usual="([^"]+)"', card)[1])
        steps = [float(v) for v in re.findall(r'data-points="([^"]+)"', card)]
        estimate = float(re.search(r'data-estimate="([^"]+)"', card)[1])
        assert round(10 * usual) + round(10 * sum(steps)) == round(10 * estimate)
        assert estimate == round(100 * item["p_overturned"], 1)
        assert "log-odds" not in card


def test_model_page_leads_with_plain_words_and_draws_weights_in_words(client, trained_store):
    from features.criteria import FEATURE_LABELS

    text = html.unescape(client.get("/model").get_data(as_text=True))
    plain = text.index("In short: how far to trust it")
    assert plain < text.index("Evaluation with intervals")  # before the technical tables
    info = trained_store.info
    auc, _ = measure(info.metrics, "roc_auc")
    assert f"the higher chance {100 * auc:.0f}% of the time" in text
    assert f"{info.items} disputed services in {info.letters} published IMR" in text
    coef = trained_store.loaded.pipeline.steps[-1][1].coef_[0]
    top = max(range(len(coef)), key=lambda i: abs(coef[i]))
    from models.importance import feature_names

    name = str(feature_names(trained_store.loaded.pipeline)[top])
    assert FEATURE_LABELS[name] in text and f"{abs(coef[top]):.3f}" in text


def test_the_batch_page_explains_every_column_of_the_scored_csv(client):
    from models.scoring.output import CSV_COLUMNS

    text = html.unescape(client.get("/batch").get_data(as_text=True))
    for column in CSV_COLUMNS:
        row = re.search(rf"<td><code>{column}</code></td><td>([^<]+)</td>", text)
        assert row and row[1].strip(), column
