"""The web page in a real browser: headless Chromium driving ``predict.py serve``.

Uses Debian's ``chromium`` (``.ci/setup`` installs it) through Playwright's Python client;
Playwright's own browser download is never used. Skips cleanly when either is missing.
Each test writes screenshots to ``IMR_SCREENSHOTS`` (a folder) when set, else to a
temporary folder; look at them after a change to the pages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from data.drafts.rows import letter_rows
from settings import SHARED_LETTERS_DIR
from tests.helpers.hostile_files import flate_bomb_pdf
from tests.helpers.letters import letter
from tests.helpers.pdf_maker import text_pdf
from tests.helpers.web import (
    DRAFT_TEXT,
    OWN_SUMMARY,
    SERVICES,
    cli,
    draft_files,
    real_summary,
    start_server,
    stop_server,
)

CHROMIUM = os.environ.get("IMR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: Text no request, log line or page may carry anywhere but in the answer to its request.
MARKER = "Quillfeather-5521"

if os.environ.get("IMR_REQUIRE_BROWSER"):  # set by .ci/run: CI must run these tests
    from playwright import sync_api
else:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright (dev extra) not installed"
    )
if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
    reason = f"no Chromium at {CHROMIUM}: apt-get install chromium (or set IMR_CHROMIUM)"
    if os.environ.get("IMR_REQUIRE_BROWSER"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="module")
def server(trained_store, tmp_path_factory):
    """``predict.py serve`` on a free port, against the test store, under ``ulimit -v
    4000000`` (the hostile-upload test sends it a bomb); its stderr in a file."""
    try:
        url, proc, log = start_server(trained_store.env, tmp_path_factory.mktemp("server"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield url, log
    assert proc.poll() is None, "the server died during the tests"
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("IMR_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(browser, server):
    """A fresh page that refuses, and records, any request leaving the server."""
    base, _ = server
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith(base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
    assert outside == [], f"requests outside the app: {outside}"


def _results(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(
        "[data-p-overturned]", "els => els.map(e => [e.dataset.service, e.dataset.pOverturned])"
    )


def _cli_json(env, summary: str, services, tmp_path) -> list[dict]:
    path = tmp_path / f"summary-{len(list(tmp_path.iterdir()))}.txt"
    path.write_text(summary)
    args = ["--summary", str(path), *(a for s in services for a in ("--service", s)), "--json"]
    run = cli(args, env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["items"]


def _score_draft(page, base, summary, services):
    page.goto(base)
    page.fill("textarea[name=case_summary]", summary)
    page.fill("textarea[name=services]", "\n".join(services))
    page.locator('button[type="submit"]').first.click()
    page.wait_for_selector("[data-p-overturned]")


def test_draft_gives_the_cli_probabilities_and_a_what_if_rescores_upward(
    page, server, trained_store, shots, tmp_path
):
    base, _ = server
    page.goto(base)
    page.screenshot(path=shots / "draft.png", full_page=True)
    summary = real_summary().replace(". ", ".\n", 2)  # line breaks travel as CRLF
    _score_draft(page, base, summary, SERVICES)
    page.screenshot(path=shots / "draft_scored.png", full_page=True)
    expected = _cli_json(trained_store.env, summary, SERVICES, tmp_path)
    got = _results(page)
    assert [s for s, _ in got] == [e["service"] for e in expected]
    assert [float(p) for _, p in got] == [e["p_overturned"] for e in expected]
    assert page.locator("text=not legal or medical advice >> visible=true").first.is_visible()
    assert page.locator("mark").count() > 0  # the summary shows the evidence it relies on

    # tick the what-if that raises the first service most: the page re-scores in place
    card = page.locator("#service-1")
    values = card.locator("input[data-what-if]").evaluate_all("els => els.map(e => e.value)")
    offered = [json.loads(v) for v in values]
    by_text = {w["added_text"]: w for w in expected[0]["what_if"]}
    best = max(range(len(offered)), key=lambda i: by_text[offered[i]["added_text"]]["change"])
    fact = by_text[offered[best]["added_text"]]
    assert fact["change"] > 0
    before = got[0][1]
    card.locator("input[data-what-if]").nth(best).check()
    page.wait_for_function(
        "old => document.querySelector('#service-1').dataset.pOverturned !== old", arg=before
    )
    after = _results(page)
    assert float(after[0][1]) == pytest.approx(fact["p_overturned"], abs=1e-12)
    assert float(after[0][1]) > float(before)
    # every service now has the CLI's probabilities for the summary with the fact added
    with_fact = _cli_json(trained_store.env, f"{summary} {fact['added_text']}", SERVICES, tmp_path)
    assert [float(p) for _, p in after] == [e["p_overturned"] for e in with_fact]
    # the fact is listed as added, ticked, with the keyboard focus still on it
    focused = page.evaluate("() => [document.activeElement.checked, document.activeElement.value]")
    assert focused[0] is True and json.loads(focused[1])["added_text"] == fact["added_text"]
    assert page.locator("#rescoring").inner_text() == "Re-scored with the fact added."
    page.screenshot(path=shots / "draft_what_if.png", full_page=True)


def _a_letter(tmp_path) -> Path:
    real = sorted((SHARED_LETTERS_DIR / "dwc").glob("*.pdf"))
    if real:
        return real[0]
    path = tmp_path / "letter.pdf"
    path.write_bytes(text_pdf(letter(summary=OWN_SUMMARY).splitlines()))
    return path


def test_letter_upload_fills_the_form(page, server, shots, tmp_path):
    base, _ = server
    path = _a_letter(tmp_path)
    rows = letter_rows(path)
    page.goto(base)
    page.set_input_files("#letter-file", str(path))
    page.click("text=Fill the form from this file")
    page.wait_for_selector(".notes")
    assert page.input_value("#case_summary") == rows[0]["case_summary"]
    assert page.input_value("#services").splitlines() == [r["item_text"] for r in rows]
    if rows[0]["injury_date"]:
        assert page.input_value("#injury_date") == rows[0]["injury_date"]
    page.screenshot(path=shots / "draft_from_letter.png", full_page=True)
    page.locator('button[type="submit"]').first.click()  # and it scores as filled
    page.wait_for_selector("[data-p-overturned]")
    assert len(_results(page)) == len(rows)


def test_batch_upload_downloads_what_the_cli_writes(page, server, trained_store, shots, tmp_path):
    import pandas as pd

    base, _ = server
    path = tmp_path / "cases.csv"
    pd.DataFrame(
        {
            "case_summary": [OWN_SUMMARY, real_summary(), ""],
            "service": [SERVICES[0], SERVICES[1], SERVICES[2]],
        }
    ).to_csv(path, index=False)
    page.goto(base + "batch")
    page.set_input_files("#files", str(path))
    page.screenshot(path=shots / "batch.png", full_page=True)
    with page.expect_download() as download:
        page.click("text=Score and download CSV")
    got = Path(download.value.path()).read_bytes()
    run = cli(["--batch", str(path), "--csv", str(tmp_path / "cli.csv")], trained_store.env)
    assert run.returncode == 1, run.stderr  # the empty summary is set aside, with its reason
    assert got == (tmp_path / "cli.csv").read_bytes().replace(str(path).encode(), b"cases.csv")


def test_errors_are_shown_for_an_empty_summary_and_an_unreadable_file(
    page, server, shots, tmp_path
):
    base, _ = server
    page.goto(base)
    page.fill("textarea[name=services]", "MRI of the knee")
    page.locator('button[type="submit"]').first.click()
    errors = page.locator("#errors")
    assert "The case summary is empty: paste the clinical case summary" in errors.inner_text()
    # focus goes to it (the page's script runs once the page is parsed)
    page.wait_for_function("() => document.activeElement.id === 'errors'", timeout=10_000)
    assert page.input_value("#services") == "MRI of the knee"
    page.screenshot(path=shots / "error_empty_summary.png", full_page=True)
    junk = tmp_path / "letter.pdf"
    junk.write_bytes(b"\x89PNG this is an image, not a letter")
    page.set_input_files("#letter-file", str(junk))
    page.click("text=Fill the form from this file")
    assert "letter.pdf: named .pdf but is not a PDF" in page.locator("#errors").inner_text()
    page.screenshot(path=shots / "error_unreadable_file.png", full_page=True)


def test_keyboard_only_use(page, server):
    base, _ = server
    page.goto(base)
    # every control has a label
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, textarea, select')]
                 .filter(e => e.type !== 'hidden' && e.labels.length === 0)
                 .map(e => e.name || e.id)"""
    )
    assert unlabelled == []
    order = []
    for _ in range(10):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.id || e.name || e.textContent.trim().slice(0, 20); }"
            )
        )
    assert order[:4] == ["Skip to content", "Draft", "Batch", "Model"]
    assert order[4:6] == ["case_summary", "services"]
    assert order.index("Score") < order.index("letter-file")
    # fill and submit with the keyboard alone
    page.goto(base)
    page.keyboard.press("Tab")
    while page.evaluate("() => document.activeElement.id") != "case_summary":
        page.keyboard.press("Tab")
    page.keyboard.insert_text(OWN_SUMMARY)
    page.keyboard.press("Tab")
    page.keyboard.type("MRI of the lumbar spine")
    while page.evaluate("() => document.activeElement.textContent.trim()") != "Score":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-p-overturned]")
    # the page's script moves focus once it runs, which may be after the results show
    page.wait_for_function("() => document.activeElement.id === 'results-title'", timeout=10_000)
    before = _results(page)[0][1]
    while page.evaluate("() => document.activeElement.dataset.whatIf") is None:
        page.keyboard.press("Tab")
    page.keyboard.press("Space")  # tick the first what-if
    page.wait_for_function(
        "old => document.querySelector('[data-p-overturned]').dataset.pOverturned !== old",
        arg=before,
    )
    assert page.evaluate("() => document.activeElement.checked") is True


def test_without_javascript_the_forms_still_work(browser, server):
    base, _ = server
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _score_draft(page, base, OWN_SUMMARY, SERVICES[:1])
        before = _results(page)[0][1]
        page.locator("#service-1 input[data-what-if]").first.check()
        page.locator("#service-1 button.rescore").click()
        page.wait_for_selector("fieldset.added")
        assert _results(page)[0][1] != before
    finally:
        context.close()


def test_model_page_shows_its_charts(page, server, shots):
    base, _ = server
    page.goto(base + "model")
    images = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
    assert len(images) == 2 and all(width > 0 for width in images)
    assert page.locator("table").count() >= 2
    page.screenshot(path=shots / "model.png", full_page=True)


def test_the_server_logged_nothing_submitted(page, server):
    base, log = server
    _score_draft(page, base, f"{OWN_SUMMARY} {MARKER}", [f"MRI {MARKER}"])
    time.sleep(0.2)
    text = log.read_text()
    assert MARKER not in text
    assert "POST" not in text and "GET" not in text  # no access log at all


def _pdf_text(data: bytes, shots: Path, name: str) -> tuple[str, int]:
    """The text of a PDF the page printed, and its page count; each page is kept as a PNG
    in the screenshots folder to be looked at."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    texts = []
    for number in range(len(pdf)):
        page = pdf[number]
        texts.append(page.get_textpage().get_text_range())
        page.render(scale=1.2).to_pil().save(shots / f"{name}_page{number + 1}.png")
    return "\n".join(texts), len(pdf)


def test_the_result_prints_with_date_model_disclaimer_and_every_service(
    page, server, trained_store, shots
):
    base, _ = server
    _score_draft(page, base, OWN_SUMMARY, SERVICES)
    data = page.pdf(format="Letter")  # the print stylesheet applies
    text, pages = _pdf_text(data, shots, "printed")
    flat = " ".join(text.split())
    info = trained_store.info
    assert re.search(r"Scored on \d{4}-\d\d-\d\d \d\d:\d\d", flat)
    assert f"{info.name} version {info.version}" in flat
    assert "not legal or medical advice" in flat
    for service in SERVICES:
        assert service in flat
    assert "How the estimate is reached" in flat and "The estimate" in flat
    # the form, the buttons and the navigation are not printed
    for screen_only in ("Or start from a letter", "Download JSON", "Skip to content", "Batch"):
        assert screen_only not in flat, screen_only
    assert 1 <= pages <= 3 * len(SERVICES)


def test_the_downloaded_json_is_what_predict_json_prints(page, server, trained_store, tmp_path):
    base, _ = server
    summary = real_summary()
    _score_draft(page, base, summary, SERVICES)
    with page.expect_download() as download:
        page.click("text=Download JSON")
    assert re.fullmatch(r"imr-estimate-\d{4}-\d\d-\d\d\.json", download.value.suggested_filename)
    got = json.loads(Path(download.value.path()).read_text())
    path = tmp_path / "summary.txt"
    path.write_text(summary)
    run = cli(
        ["--summary", str(path), *(a for s in SERVICES for a in ("--service", s)), "--json"],
        trained_store.env,
    )
    assert run.returncode == 0, run.stderr
    assert got == json.loads(run.stdout)
    with page.expect_download() as download:
        page.click("text=Download CSV")
    assert download.value.suggested_filename.endswith(".csv")
    header = Path(download.value.path()).read_text().splitlines()[0]
    assert "denial_reason_1" in header and "how_sure" in header


def test_points_add_up_and_each_estimate_says_how_sure(
    page, server, trained_store, shots, tmp_path
):
    base, _ = server
    _score_draft(page, base, OWN_SUMMARY, SERVICES)
    expected = _cli_json(trained_store.env, OWN_SUMMARY, SERVICES, tmp_path)
    for position, item in enumerate(expected, start=1):
        card = page.locator(f"#service-{position}")
        label = card.locator("[data-how-sure] .sure-label")
        assert label.is_visible() and label.inner_text() == item["how_sure"]["label"]
        usual = float(card.locator("[data-usual]").get_attribute("data-usual"))
        steps = card.locator("[data-points]").evaluate_all(
            "els => els.map(e => parseFloat(e.dataset.points))"
        )
        estimate = float(card.locator("[data-estimate]").get_attribute("data-estimate"))
        assert round(10 * usual) + round(10 * sum(steps)) == round(10 * estimate)
        assert estimate == round(100 * item["p_overturned"], 1)
        # the headline is the whole percent, the exact figure beside it
        headline = card.locator(".pvalue").inner_text()
        assert headline in (f"about {round(100 * item['p_overturned'])}%", "under 1%")
        card.screenshot(path=shots / f"service_{position}.png")


def test_a_bomb_upload_gets_a_clear_message_and_the_page_keeps_answering(
    page, server, shots, tmp_path
):
    """4 MB of PDF that inflates to 4 GiB, uploaded through the page (the server runs under
    ``ulimit -v 4000000``): a clear message, and the next draft is scored."""
    base, _ = server
    bomb = tmp_path / "scan.pdf"
    bomb.write_bytes(flate_bomb_pdf(gib=4))
    page.goto(base)
    page.set_input_files("#letter-file", str(bomb))
    page.click("text=Fill the form from this file")
    errors = page.locator("#errors")
    errors.wait_for(timeout=180_000)
    text = errors.inner_text()
    assert "scan.pdf" in text and "more memory or time to read than any letter" in text
    assert "Save the draft again as PDF, Word or plain text" in text
    page.screenshot(path=shots / "upload_bomb.png", full_page=True)
    _score_draft(page, base, OWN_SUMMARY, SERVICES[:1])
    assert len(_results(page)) == 1


@pytest.mark.parametrize("name", ["draft.txt", "draft.pdf", "draft.docx"])
def test_a_draft_file_fills_the_summary(page, server, shots, tmp_path, name):
    base, _ = server
    path = tmp_path / name
    path.write_bytes(draft_files()[name])
    page.goto(base)
    page.set_input_files("#letter-file", str(path))
    page.click("text=Fill the form from this file")
    notes = page.locator(".notes")
    notes.wait_for()
    assert f"Filled the case summary from {name}" in notes.inner_text()
    assert page.input_value("#case_summary") == DRAFT_TEXT
    assert page.input_value("#services") == ""
    page.screenshot(path=shots / f"draft_from_{name.replace('.', '_')}.png", full_page=True)
    page.fill("textarea[name=services]", SERVICES[0])
    page.locator('button[type="submit"]').first.click()
    page.wait_for_selector("[data-p-overturned]")
    assert len(_results(page)) == 1


def test_a_form_on_another_site_cannot_post_to_the_page(page, server, shots):
    """Cross-site request forgery: a page elsewhere (here a data: URL, whose origin is
    opaque) submits a draft to the page; the page refuses it and scores nothing."""
    from urllib.parse import quote

    base, _ = server
    form = (
        f'<form method="post" action="{base}">'
        f'<textarea name="case_summary">{OWN_SUMMARY}</textarea>'
        '<input name="services" value="MRI of the knee"><button id="go">go</button></form>'
    )
    page.goto("data:text/html," + quote(form))
    page.click("#go")
    page.wait_for_url(base)
    body = page.locator("body").inner_text()
    assert "takes forms only from itself" in body
    assert page.locator("[data-p-overturned]").count() == 0
    page.screenshot(path=shots / "refused_cross_site.png", full_page=True)
