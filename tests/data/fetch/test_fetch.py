"""Fetching letters from the IMR decision search, against a local stand-in for the site.

No test touches the internet: ``tests/helpers/dwc_server.py`` serves the documented format on
127.0.0.1. Waits run on a fake clock (the client's ``clock``/``sleep`` are injected and the
server stamps each request with the same clock), so the pacing is checked without waiting.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from data.fetch import site as dwc_site
from data.fetch.cli import app
from data.fetch.manifest import MANIFEST_FILE
from data.fetch.polite_http import PoliteClient, SiteUnavailable, retry_after_seconds
from data.fetch.site import SiteFormatError, link_problem, parse_results, search_form
from data.fetch.walk import (
    FetchOptions,
    Window,
    dry_run,
    fetch,
    plan_windows,
)
from data.ingest import ingest
from tests.helpers.dwc_server import (
    SEARCH_PATH,
    FakeCase,
    FakeDwcSite,
    Fault,
    gzip_bomb,
    letter_pdf,
)

REPO = Path(__file__).resolve().parents[3]
DAY = dt.date(2024, 1, 1)  # a Monday: 2024-01-01..2024-01-07 is one weekly window


class FakeClock:
    """Time that moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_cases(count: int, *, days: int = 5, start: dt.date = DAY) -> list[FakeCase]:
    """Cases with one to three treatments each, decided over ``days`` days."""
    cases = []
    for i in range(count):
        treatments = [
            (
                "Rehabilitation" if j % 2 else "Pharmaceuticals",
                "Physical Therapy/Occupational Therapy (PT/OT)" if j % 2 else "Opioids",
                "Overturned" if (i + j) % 4 == 0 else "Upheld",
            )
            for j in range(1 + i % 3)
        ]
        cases.append(FakeCase(f"CM24-{i + 1:07d}", start + dt.timedelta(days=i % days), treatments))
    return cases


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def client_for(clock: FakeClock, **kwargs) -> PoliteClient:
    return PoliteClient(clock=clock.clock, sleep=clock.sleep, **kwargs)


def options_for(site: FakeDwcSite, out: Path, **kwargs) -> FetchOptions:
    kwargs.setdefault("decided_from", DAY)
    kwargs.setdefault("decided_to", DAY + dt.timedelta(days=6))
    return FetchOptions(out_dir=out, base_url=site.url, **kwargs)


def run_fetch(site, out, clock, client_kwargs=None, **kwargs):
    client = client_for(clock, **(client_kwargs or {}))
    try:
        return fetch(options_for(site, out, **kwargs), client)
    finally:
        client.close()


def site_rows(cases: list[FakeCase]) -> list[tuple[str, str, str]]:
    """(case number, sub-category, decision) per treatment, in the site's order."""
    ordered = sorted(cases, key=lambda c: (c.decided, c.case_number))
    return [(c.case_number, t[1], t[2]) for c in ordered for t in c.treatments]


# --- the site module: form and results page -------------------------------------------

RESULTS_PAGE = """<html><body>
<table class="tabborder">
<tr><th>Case Number</th><th>Decision Date</th><th>Date of Injury</th><th>Received Date</th>
<th>IMRO Specialty</th><th>Request Category</th><th>SubCategory/Drug</th>
<th>Request Decision</th></tr>
<tr><td><a href="/dwc/imr/x/CM16-0213037.pdf">CM16-0213037</a><td>12/9/2016<td>3/4/2015
<td>11/04/2016<td>Orthopedic Surgery<td>Pharmaceuticals<td>Pharmaceuticals *  * Opioids
<td>Upheld
<tr><td colspan=5>&nbsp;</td><td>Rehabilitation</td>
<td>Rehabilitation * Physical Therapy/Occupational Therapy (PT/OT) *</td><td>Overturned</td></tr>
<tr><td><a href="CM16-0219557.pdf">CM16-0219557</a></td><td>12/12/2016</td><td></td>
<td>11/20/2016</td><td>Psychiatry &amp; Neurology</td><td>Diagnostic Testing</td>
<td>MRI</td><td>Upheld</td></tr>
</table>
<p>Total: <strong>27</strong> results</p>
<form name="Nextpage" method="post"><input type="hidden" name="newpageno" value="2"></form>
</body></html>"""


def test_results_page_in_the_documented_format_is_read_row_by_row():
    page = parse_results(RESULTS_PAGE, "https://site.test/dwc/imr/IMRDecisionSearch.asp")
    assert page.has_next and page.table_found and page.stated_total == 27
    first, second, third = page.rows
    assert (first.case_number, first.decision_date, first.injury_date, first.received_date) == (
        "CM16-0213037",
        "2016-12-09",
        "2015-03-04",
        "2016-11-04",
    )
    assert first.letter_url == "https://site.test/dwc/imr/x/CM16-0213037.pdf"
    assert (first.sub_category, first.decision) == ("Pharmaceuticals * * Opioids", "Upheld")
    # the colspan=5 row is the same case's second treatment, with the case's facts
    assert (second.case_number, second.specialty, second.letter_url) == (
        "CM16-0213037",
        "Orthopedic Surgery",
        first.letter_url,
    )
    assert (second.category, second.decision) == ("Rehabilitation", "Overturned")
    assert third.letter_url == "https://site.test/dwc/imr/CM16-0219557.pdf"  # relative link
    assert (third.specialty, third.injury_date) == ("Psychiatry & Neurology", None)


def test_a_page_that_starts_with_a_further_treatment_continues_the_previous_page():
    previous = parse_results(RESULTS_PAGE, "https://site.test/a").rows[-1]
    page_two = (
        '<table class="tabborder"><tr><td>Case Number</td><td>2</td><td>3</td><td>4</td>'
        "<td>5</td><td>6</td><td>7</td><td>8</td></tr>"
        '<tr><td colspan="5"></td><td>Diagnostic Testing</td><td>CT</td><td>Overturn</td></tr>'
        "</table>"
    )
    (row,) = parse_results(page_two, "https://site.test/a", previous).rows
    assert (row.case_number, row.sub_category, row.decision) == ("CM16-0219557", "CT", "Overturned")
    assert not parse_results(page_two, "https://site.test/a", previous).has_next


#: The live table as the 2017 crawler reads it: the case number is the link's text, and a
#: case with several treatments has ``<strong>+</strong>`` after its link.
LIVE_HEADER = (
    '<table class="tabborder" width="100%"><tr><td><b>Case Number</b></td>'
    "<td><b>Decision Date</b></td><td><b>Date of Injury</b></td><td><b>Received Date</b></td>"
    "<td><b>IMRO Specialty</b></td><td><b>Request Category</b></td>"
    "<td><b>SubCategory/Drug</b></td><td><b>Request Decision</b></td></tr>"
)


@pytest.mark.parametrize(
    "marker",
    ["<strong>+</strong>", " <strong>+</strong>", "&nbsp;<strong>+</strong>&nbsp;", "<b>+</b>"],
)
def test_the_live_tables_several_treatments_marker_is_not_part_of_the_case_number(marker):
    html = (
        LIVE_HEADER + f'<tr><td><a href="/dwc/imr/d/CM16-0213037.pdf">CM16-0213037</a>{marker}</td>'
        "<td>12/9/2016</td><td>3/4/2015</td><td>11/04/2016</td><td>Orthopedic Surgery</td>"
        "<td>Pharmaceuticals</td><td>Opioids</td><td>Upheld</td></tr>"
        '<tr><td colspan="5">&nbsp;</td><td>Rehabilitation</td><td>PT/OT</td>'
        "<td>Overturned</td></tr>"
        '<tr><td colspan="5">&nbsp;</td><td>Diagnostic Testing</td><td>MRI</td>'
        "<td>Upheld</td></tr>"
        '<tr><td><a href="/dwc/imr/d/CM16-0219557.pdf">CM16-0219557</a></td>'
        "<td>12/12/2016</td><td>1/2/2014</td><td>11/20/2016</td><td>Psychiatry</td>"
        "<td>Pharmaceuticals</td><td>Gabapentin</td><td>Overturned</td></tr>"
        "</table>\n<p>Total: <strong>4</strong> results</p>"
    )
    page = parse_results(html, "https://site.test/dwc/imr/IMRDecisionSearch.asp")
    assert [(r.case_number, r.sub_category, r.decision) for r in page.rows] == [
        ("CM16-0213037", "Opioids", "Upheld"),
        ("CM16-0213037", "PT/OT", "Overturned"),
        ("CM16-0213037", "MRI", "Upheld"),
        ("CM16-0219557", "Gabapentin", "Overturned"),
    ]
    assert {r.letter_url for r in page.rows[:3]} == {"https://site.test/dwc/imr/d/CM16-0213037.pdf"}
    assert {r.decision_date for r in page.rows[:3]} == {"2016-12-09"}
    assert page.stated_total == 4 and not page.has_next


def test_the_stand_in_serves_the_live_table_with_the_marker():
    cases = [
        FakeCase("CM24-0000001", DAY, [("Pharmaceuticals", "Opioids", "Upheld")] * 2),
        FakeCase("CM24-0000002", DAY, [("Diagnostic Testing", "MRI", "Overturned")]),
    ]
    html = FakeDwcSite(cases).results_page(dict(search_form(DAY, DAY)))
    assert html.count("<strong>+</strong>") == 1
    assert ">CM24-0000001</a><strong>+</strong></td>" in html
    assert '<td colspan="5">' in html and "<strong>3</strong>" in html
    rows = parse_results(html, "http://127.0.0.1/x").rows
    assert [r.case_number for r in rows] == ["CM24-0000001"] * 2 + ["CM24-0000002"]


@pytest.mark.parametrize(
    "first_cell",
    [
        '<a href="/a.pdf">CM16-0213037</a> see also CM16-0000001',
        '<a href="/a.pdf">CM16-0213037 (amended)</a>',
        '<a href="/a.pdf">details</a> CM16-0213037',
        "CM16-0213037 x",
    ],
)
def test_a_first_cell_with_anything_else_besides_the_case_number_is_a_format_error(first_cell):
    html = (
        LIVE_HEADER
        + f"<tr><td>{first_cell}</td>"
        + "<td>12/9/2016</td>" * 3
        + "<td>x</td>" * 3
        + "<td>Upheld</td></tr></table>"
    )
    with pytest.raises(SiteFormatError, match="row 2"):
        parse_results(html, "https://site.test/a")


def test_a_table_far_larger_than_a_page_is_refused_without_collecting_it():
    row = '<tr><td><a href="/a.pdf">CM16-0213037</a>' + "<td>x" * 7
    with pytest.raises(SiteFormatError, match="over 500 rows"):
        parse_results(LIVE_HEADER + row * 100_000 + "</table>", "https://site.test/a")
    with pytest.raises(SiteFormatError, match="over 32 cells"):
        parse_results(LIVE_HEADER + "<tr>" + "<td>x" * 100_000, "https://site.test/a")


@pytest.mark.parametrize(
    "html",
    [
        '<table class="tabborder"><tr><td>Case</td><td>Date</td></tr></table>',
        '<table class="tabborder"><tr><td>Case Number</td>' + "<td>x</td>" * 7 + "</tr>"
        "<tr><td>CM16-0213037</td><td>only three</td><td>cells</td></tr></table>",
        '<table class="tabborder"><tr><td>Case Number</td>' + "<td>x</td>" * 7 + "</tr>"
        '<tr><td colspan="5"></td><td>a</td><td>b</td><td>Upheld</td></tr></table>',
    ],
    ids=["header", "row-shape", "orphan-continuation"],
)
def test_a_results_table_in_another_shape_is_an_error_not_a_guess(html):
    with pytest.raises(SiteFormatError):
        parse_results(html, "https://site.test/a")


def test_no_results_table_means_no_rows():
    page = parse_results("<html><p>No records found.</p></html>", "https://site.test/a")
    assert (page.rows, page.table_found, page.has_next) == ([], False, False)


def test_search_form_sends_the_documented_fields_in_order():
    first = search_form(dt.date(2024, 1, 5), dt.date(2024, 1, 11), outcome="Overturn")
    assert [name for name, _ in first] == [
        "Fname",
        "Caseno",
        "DoIStart",
        "DoIEnd",
        "ReqStart",
        "ReqEnd",
        "DecStart",
        "DecEnd",
        "SpecialtyV",
        "OutcomeV",
        "SubCategoryV",
        "Submit",
    ]
    values = dict(first)
    assert (values["Fname"], values["DecStart"], values["DecEnd"]) == (
        "Tx",
        "1/5/2024",
        "1/11/2024",
    )
    assert (values["OutcomeV"], values["Submit"]) == ("Overturn", "Submit")
    later = dict(search_form(dt.date(2024, 1, 5), dt.date(2024, 1, 11), 3))
    assert (later["newpageno"], later["Submit"]) == ("3", "Next")


def test_letter_file_names_never_leave_the_folder():
    assert dwc_site.letter_file_name("CM24-0000001") == "CM24-0000001.pdf"
    assert "/" not in dwc_site.letter_file_name("../../etc/passwd")


def test_windows_follow_a_weekly_grid_and_halve():
    windows = plan_windows(dt.date(2024, 1, 3), dt.date(2024, 1, 20))
    assert [(w.start.isoformat(), w.end.isoformat()) for w in windows] == [
        ("2024-01-03", "2024-01-07"),
        ("2024-01-08", "2024-01-14"),
        ("2024-01-15", "2024-01-20"),
    ]
    left, right = Window(DAY, DAY + dt.timedelta(days=6)).halves()
    assert (left.days, right.days, right.start - left.end) == (4, 3, dt.timedelta(days=1))


def test_retry_after_reads_seconds_and_dates():
    now = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Mon, 01 Jan 2024 12:00:30 GMT", now) == 30
    assert retry_after_seconds("soon", now) is None


# --- a whole walk ---------------------------------------------------------------------


def test_walk_pages_through_three_pages_and_fetches_every_letter_once(tmp_path, clock):
    cases = make_cases(30)  # 60 treatments: pages of 25, 25 and 10, cases split across pages
    with FakeDwcSite(cases, clock=clock.clock) as site:
        result = run_fetch(site, tmp_path / "letters", clock)
        searches = site.requests_to(SEARCH_PATH)
        deliveries = site.letter_deliveries()
        connections = site.connections
        agents = {r.headers.get("User-Agent") for r in site.log}
    assert [(r.form.get("newpageno"), r.form["Submit"]) for r in searches] == [
        (None, "Submit"),
        ("2", "Next"),
        ("3", "Next"),
    ]
    assert {r.form["DecStart"] for r in searches} == {"1/1/2024"}
    assert deliveries == {case.path: 1 for case in cases}
    assert connections == 1  # one keep-alive connection for every request
    (agent,) = agents
    assert agent.startswith("imr-outcome-fetch/") and "research" in agent
    out = tmp_path / "letters"
    table = pd.read_parquet(out / "search_results.parquet")
    assert list(
        zip(table["case_number"], table["sub_category"], table["decision"], strict=True)
    ) == (site_rows(cases))
    assert set(table["letter_status"]) == {"fetched"}
    for case in cases:
        saved = out / "pdf" / f"{case.case_number}.pdf"
        assert saved.read_bytes() == case.pdf
        rows = table[table["case_number"] == case.case_number]
        assert list(rows["treatment_index"]) == list(range(len(case.treatments)))
        assert set(rows["pdf_path"]) == {f"pdf/{case.case_number}.pdf"}
        assert set(rows["decision_date"]) == {case.decided.isoformat()}
    report = json.loads((out / "fetch_report.json").read_text())
    assert report == json.loads(json.dumps(result.report, default=str))
    assert report["stopped"] is None
    assert report["summary"]["cases"] == len(cases)
    assert report["summary"]["treatments"] == len(table)
    assert report["summary"]["fetched"] == len(cases)
    assert report["agreement"]["treatment_agreement_rate"] == 1.0
    assert [w["pages"] for w in report["windows"]] == [3]


def test_requests_are_spaced_by_the_delay(tmp_path, clock):
    with FakeDwcSite(make_cases(12), clock=clock.clock) as site:
        run_fetch(site, tmp_path / "out", clock, client_kwargs={"delay": 4.5})
        times = [r.time for r in site.log]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 12 and min(gaps) >= 4.5
    assert max(clock.sleeps) <= 4.5  # no needless waiting either


def test_real_time_spacing_with_a_short_test_delay(tmp_path):
    with FakeDwcSite(make_cases(3)) as site:  # the real monotonic clock on both sides
        client = PoliteClient(delay=0.05, min_delay=0)
        fetch(options_for(site, tmp_path / "out"), client)
        client.close()
        times = [r.time for r in site.log]
    assert len(times) == 4
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.05


def test_delay_below_one_second_is_refused_outside_tests():
    with pytest.raises(ValueError, match="minimum"):
        PoliteClient(delay=0.5)


def test_503_with_retry_after_is_honoured_and_retried(tmp_path, clock):
    cases = make_cases(4)
    with FakeDwcSite(cases, clock=clock.clock) as site:
        site.fail(SEARCH_PATH, Fault("status", 503, {"Retry-After": "45"}))
        site.fail(cases[1].path, Fault("status", 429, {"Retry-After": "30"}), Fault("status", 503))
        result = run_fetch(site, tmp_path / "out", clock)
        searches = site.requests_to(SEARCH_PATH)
        letter = site.requests_to(cases[1].path)
    assert [r.status for r in searches] == [503, 200]
    assert searches[1].time - searches[0].time >= 45
    assert [r.status for r in letter] == [429, 503, 200]
    # Retry-After 30 beats the first back-off (10 s); the next back-off doubles to 20 s
    assert letter[1].time - letter[0].time >= 30
    assert letter[2].time - letter[1].time >= 20
    assert result.report["summary"]["fetched"] == 4
    assert result.report["summary"]["retries_this_run"] == 3


def test_a_site_that_keeps_failing_stops_the_run_with_a_message(tmp_path, clock):
    with FakeDwcSite(make_cases(3), clock=clock.clock) as site:
        site.fail(SEARCH_PATH, *[Fault("status", 503)] * 10)
        result = run_fetch(site, tmp_path / "out", clock)
        attempts = site.requests_to(SEARCH_PATH)
    assert len(attempts) == 5
    gaps = [b.time - a.time for a, b in itertools.pairwise(attempts)]
    assert gaps == sorted(gaps) and gaps[0] >= 10 and gaps[-1] >= 80  # 10, 20, 40, 80 s
    assert result.stopped == "site_unavailable"
    assert "rerun the same command later" in result.report["message"]


def test_a_retry_after_beyond_reason_stops_at_once(tmp_path, clock):
    with FakeDwcSite(make_cases(2), clock=clock.clock) as site:
        site.fail(SEARCH_PATH, Fault("status", 429, {"Retry-After": "86400"}))
        client = client_for(clock)
        with pytest.raises(SiteUnavailable, match="86400"):
            client.send(options_for(site, tmp_path).search_request(Window(DAY, DAY), 1))
        client.close()
        assert len(site.log) == 1


def test_faulty_downloads_are_retried_or_set_aside_and_ingestion_takes_only_good_letters(
    tmp_path, clock
):
    cases = make_cases(10)
    dropped, html_page, truncated, cut_once, mislabelled, other_case = cases[:6]
    mislabelled.pdf = letter_pdf(mislabelled.case_number, ["Overturned"] * 4)
    other_case.pdf = letter_pdf("CM24-9999999", [t[2] for t in other_case.treatments])
    with FakeDwcSite(cases, clock=clock.clock) as site:
        site.fail(dropped.path, Fault("drop_mid_body", keep=400))
        site.fail(html_page.path, Fault("html"))
        site.fail(truncated.path, Fault("truncated", keep=900), Fault("truncated", keep=900))
        site.fail(cut_once.path, Fault("truncated", keep=1500))
        result = run_fetch(site, tmp_path / "letters", clock)
        tries = {c.case_number: len(site.requests_to(c.path)) for c in cases}
    out = tmp_path / "letters"
    by_case = {f["case_number"]: f for f in result.report["files"]}
    assert tries[dropped.case_number] == 2  # the dropped transfer was retried
    assert (out / "pdf" / f"{dropped.case_number}.pdf").read_bytes() == dropped.pdf
    assert tries[cut_once.case_number] == 2  # cut off once, complete the second time
    assert by_case[cut_once.case_number]["status"] == "fetched"
    expected_kinds = {
        html_page.case_number: "not_pdf",
        truncated.case_number: "truncated_pdf",
        mislabelled.case_number: "decision_mismatch",
        other_case.case_number: "case_mismatch",
    }
    rejected = {c: f["kind"] for c, f in by_case.items() if f["status"] == "rejected"}
    assert rejected == expected_kinds
    assert "HTML page" in by_case[html_page.case_number]["reason"]
    assert "CM24-9999999" in by_case[other_case.case_number]["reason"]
    for case in expected_kinds:
        assert not (out / "pdf" / f"{case}.pdf").exists()
        assert (out / "rejected" / f"{case}.pdf.rejected").exists()
    # agreement: every fetched letter agrees; the mislabelled one disagrees on its items
    agreement = result.report["agreement"]
    site_decisions = [t[2] for t in mislabelled.treatments]
    fetched = [c for c in cases if by_case[c.case_number]["status"] == "fetched"]
    compared = [*fetched, mislabelled, other_case]
    assert agreement["letters_compared"] == len(compared)
    assert agreement["letters_agreeing"] == len(fetched) + 1  # the other case's items agree
    assert agreement["treatments_compared"] == sum(len(c.treatments) for c in compared)
    assert agreement["treatments_agreeing"] == agreement["treatments_compared"] - sum(
        d != "Overturned" for d in site_decisions
    )
    # the folder ingests cleanly: only the good letters, none of the rest
    ingested = ingest([out], tmp_path / "dataset", workers=1)
    assert ingested.report["summary"]["failed"] == 0
    assert ingested.report["summary"]["parsed"] == len(fetched)
    assert {Path(f["path"]).parent.name for f in ingested.report["files"]} == {"pdf"}


def test_rejected_letters_are_fetched_again_only_when_asked(tmp_path, clock):
    cases = make_cases(3)
    with FakeDwcSite(cases, clock=clock.clock) as site:
        site.fail(cases[0].path, Fault("html"))
        run_fetch(site, tmp_path / "out", clock)
        again = run_fetch(site, tmp_path / "out", clock)
        assert again.report["summary"]["rejected"] == 1 and len(site.log) == 4
        retried = run_fetch(site, tmp_path / "out", clock, retry_rejected=True)
        assert len(site.requests_to(cases[0].path)) == 2
    assert retried.report["summary"]["fetched"] == 3
    assert not list((tmp_path / "out" / "rejected").iterdir())


def test_a_rerun_sends_nothing_and_a_damaged_letter_is_fetched_again(tmp_path, clock):
    cases = make_cases(6)
    with FakeDwcSite(cases, clock=clock.clock) as site:
        run_fetch(site, tmp_path / "out", clock)
        first = len(site.log)
        again = run_fetch(site, tmp_path / "out", clock)
        assert len(site.log) == first  # windows walked and letters complete: no request
        assert again.report["summary"]["fetched"] == 6
        damaged = tmp_path / "out" / "pdf" / f"{cases[2].case_number}.pdf"
        damaged.write_bytes(damaged.read_bytes()[:-10] + b"0000000000")
        run_fetch(site, tmp_path / "out", clock)
        assert [r.path for r in site.log[first:]] == [cases[2].path]
    assert damaged.read_bytes() == cases[2].pdf


def test_letters_on_disk_but_not_in_the_manifest_are_checked_not_fetched(tmp_path, clock):
    cases = make_cases(5)
    with FakeDwcSite(cases, clock=clock.clock) as site:
        run_fetch(site, tmp_path / "out", clock)
        (tmp_path / "out" / MANIFEST_FILE).unlink()  # as if killed before recording them
        before = len(site.log)
        result = run_fetch(site, tmp_path / "out", clock)
        assert {r.path for r in site.log[before:]} == {SEARCH_PATH}
    assert result.report["summary"]["fetched"] == 5


@pytest.mark.parametrize("kill_at", [1, 2, 9, 14])
def test_a_killed_run_resumes_and_fetches_every_letter_once(tmp_path, clock, kill_at):
    cases = make_cases(30, days=10)  # two weekly windows, the first over three pages
    out = tmp_path / "out"
    sent = 0

    def kill(request):
        nonlocal sent
        sent += 1
        if sent == kill_at:
            raise KeyboardInterrupt

    with FakeDwcSite(cases, clock=clock.clock) as site:
        with pytest.raises(KeyboardInterrupt):
            run_fetch(
                site,
                out,
                clock,
                client_kwargs={"before_request": kill},
                decided_to=DAY + dt.timedelta(days=13),
            )
        assert len(site.log) == kill_at - 1
        result = run_fetch(site, out, clock, decided_to=DAY + dt.timedelta(days=13))
        deliveries = site.letter_deliveries()
        searches = [(r.form["DecStart"], r.form.get("newpageno")) for r in site.log if r.form]
    assert deliveries == {case.path: 1 for case in cases}
    assert len(searches) == len(set(searches))  # no results page fetched twice either
    assert result.report["summary"]["fetched"] == len(cases)
    table = pd.read_parquet(out / "search_results.parquet")
    assert sorted(zip(table["case_number"], table["sub_category"], strict=True)) == sorted(
        (c, s) for c, s, _ in site_rows(cases)
    )
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_a_full_window_is_split_until_it_pages_within_the_cap(tmp_path, clock):
    cases = make_cases(30, days=7)  # 60 rows in one week: 3 pages, cap 2 pages
    with FakeDwcSite(cases, clock=clock.clock, state_total=False) as site:
        result = run_fetch(site, tmp_path / "out", clock, max_pages=2)
        deliveries = site.letter_deliveries()
    windows = result.report["windows"]
    assert len(windows) > 1 and all(w["pages"] <= 2 for w in windows)
    assert [w["window"] for w in windows] == sorted(w["window"] for w in windows)
    assert deliveries == {case.path: 1 for case in cases}
    table = result.results
    assert sorted(zip(table["case_number"], table["sub_category"], strict=True)) == sorted(
        (c, s) for c, s, _ in site_rows(cases)
    )


def test_a_stated_total_splits_a_window_after_its_first_page(tmp_path, clock):
    cases = make_cases(30, days=7)
    with FakeDwcSite(cases, clock=clock.clock) as site:
        result = run_fetch(site, tmp_path / "out", clock, max_pages=2)
        first_window = [
            r
            for r in site.log
            if (r.form.get("DecStart"), r.form.get("DecEnd")) == ("1/1/2024", "1/7/2024")
        ]
    assert [r.form.get("newpageno") for r in first_window] == [None]  # split at once
    assert result.report["summary"]["fetched"] == len(cases)


def test_max_letters_stops_early_and_the_next_run_goes_on(tmp_path, clock):
    cases = make_cases(8)
    with FakeDwcSite(cases, clock=clock.clock) as site:
        first = run_fetch(site, tmp_path / "out", clock, max_letters=3)
        assert first.stopped == "max_letters"
        assert sum(site.letter_deliveries().values()) == 3
        assert first.report["summary"]["pending"] == 5
        run_fetch(site, tmp_path / "out", clock)
        assert site.letter_deliveries() == {case.path: 1 for case in cases}


def test_a_filtered_search_checks_the_listed_treatments_are_among_the_letters(tmp_path, clock):
    cases = make_cases(12)
    with FakeDwcSite(cases, clock=clock.clock) as site:
        result = run_fetch(site, tmp_path / "out", clock, outcome="Overturn")
        outcomes = {r.form["OutcomeV"] for r in site.log if r.form}
    listed = {c.case_number for c in cases if any(t[2] == "Overturned" for t in c.treatments)}
    assert outcomes == {"Overturn"}
    assert {f["case_number"] for f in result.report["files"]} == listed
    assert result.report["summary"]["fetched"] == len(listed)
    assert set(result.results["decision"]) == {"Overturned"}
    assert result.report["agreement"]["treatment_agreement_rate"] == 1.0


def test_repeated_refusals_of_letters_stop_the_run(tmp_path, clock):
    cases = make_cases(9)
    with FakeDwcSite(cases, clock=clock.clock) as site:
        for case in cases:
            site.fail(case.path, Fault("status", 403))
        result = run_fetch(site, tmp_path / "out", clock)
        letter_requests = [r for r in site.log if r.method == "GET"]
    assert len(letter_requests) == 5
    assert result.stopped == "too_many_failures"
    assert result.report["summary"]["failed"] == 5
    assert {f["kind"] for f in result.report["files"]} == {"http_403"}


def test_a_changed_results_table_stops_with_the_saved_page_named(tmp_path, clock):
    with FakeDwcSite(make_cases(3), clock=clock.clock) as site:
        site.results_page = lambda form: '<table class="tabborder"><tr><td>Case</td></tr></table>'
        result = run_fetch(site, tmp_path / "out", clock)
    assert result.stopped == "site_format"
    assert "data/fetch/site.py" in result.report["message"]
    assert "p001.html" in result.report["message"]


# --- dry run and command line ---------------------------------------------------------


def test_dry_run_sends_nothing_and_writes_nothing(tmp_path):
    out = tmp_path / "letters"
    with FakeDwcSite(make_cases(3)) as site:
        options = options_for(site, out, decided_to=DAY + dt.timedelta(days=20))
        lines = dry_run(options, user_agent="agent", delay=3)
        runner = CliRunner()
        cli = runner.invoke(
            app,
            [
                "--decided-from",
                "2024-01-01",
                "--decided-to",
                "2024-01-21",
                "--out",
                str(out),
                "--base-url",
                site.url,
                "--dry-run",
            ],
        )
        assert site.log == [] and site.connections == 0
    assert not out.exists()
    posts = [line for line in lines if line.startswith("POST ")]
    assert len(posts) == 3 and "DecStart=1%2F8%2F2024" in posts[1]
    assert cli.exit_code == 0
    assert cli.stdout.count("POST ") == 3 and "User-Agent: imr-outcome-fetch/" in cli.stdout


def test_dry_run_after_a_partial_run_shows_where_it_resumes(tmp_path, clock):
    with FakeDwcSite(make_cases(30, days=10), clock=clock.clock) as site:
        options = options_for(site, tmp_path / "out", decided_to=DAY + dt.timedelta(days=13))
        client = client_for(clock)
        fetch(FetchOptions(**{**options.__dict__, "max_letters": 2}), client)
        client.close()
        lines = dry_run(options, user_agent="agent", delay=3)
    posts = [line for line in lines if line.startswith("POST ")]
    assert "newpageno=2" in posts[0]  # the first window continues at page 2
    assert "DecStart=1%2F8%2F2024" in posts[1] and "Submit=Submit" in posts[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--delay", "0.5"], "at least 1 s"),
        (["--decided-to", "2023-12-01"], "before --decided-from"),
        (["--decided-from", "2024-13-01"], "YYYY-MM-DD"),
        (["--base-url", "ftp://x"], "not an http(s) URL"),
    ],
)
def test_cli_refuses_bad_arguments_before_any_request(tmp_path, args, message):
    base = {"--decided-from": "2024-01-01", "--decided-to": "2024-01-07", "--base-url": ""}
    with FakeDwcSite(make_cases(1)) as site:
        base["--base-url"] = site.url
        base.update(dict(zip(args[::2], args[1::2], strict=True)))
        argv = [*(x for pair in base.items() for x in pair), "--out", str(tmp_path / "o")]
        result = CliRunner().invoke(app, argv)
        assert site.log == []
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_cli_fetches_reports_and_exits_1_when_a_letter_is_set_aside(tmp_path):
    cases = make_cases(2, days=1)
    with FakeDwcSite(cases) as site:
        site.fail(cases[1].path, Fault("html"))
        result = CliRunner().invoke(
            app,
            [
                "--decided-from",
                "2024-01-01",
                "--decided-to",
                "2024-01-01",
                "--out",
                str(tmp_path / "letters"),
                "--base-url",
                site.url,
                "--delay",
                "1",
                "--quiet",
            ],
        )
        times = [r.time for r in site.log]
    assert result.exit_code == 1, result.output
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1.0
    assert "rejected" in result.output and cases[1].case_number in result.output
    assert "train.py --letters" in result.output


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    from filelock import FileLock

    out = tmp_path / "letters"
    out.mkdir()
    with FakeDwcSite(make_cases(1)) as site, FileLock(str(out / ".fetch.lock")):
        argv = ["--decided-from", "2024-01-01", "--decided-to", "2024-01-07"]
        result = CliRunner().invoke(app, [*argv, "--out", str(out), "--base-url", site.url])
        assert site.log == []
    assert result.exit_code == 3 and "another run" in result.output


def test_killed_process_resumes_without_partial_files(tmp_path, clock):
    """A real SIGKILL of the command line mid-run; the rerun completes the folder."""
    cases = make_cases(6, days=1)
    out = tmp_path / "letters"
    with FakeDwcSite(cases) as site:
        argv = [
            sys.executable,
            "-m",
            "data.fetch",
            *cli_argv(site, out, decided_to="2024-01-01"),
        ]
        process = subprocess.Popen(
            argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 30
        while len(site.log) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        killed_after = len(site.log)
        assert 3 <= killed_after < len(cases) + 1
        site.clock = clock.clock
        result = run_fetch(site, out, clock, decided_to=DAY)
        deliveries = site.letter_deliveries()
    assert result.report["summary"]["fetched"] == len(cases)
    assert set(deliveries) == {case.path for case in cases}
    # only a letter in flight at the kill may have been delivered twice
    assert sum(deliveries.values()) <= len(cases) + 1
    for case in cases:
        assert (out / "pdf" / f"{case.case_number}.pdf").read_bytes() == case.pdf
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


# --- hostile answers: links, redirects, slow drips, DNS, unusable pages, markup -------

#: Address space of a fetcher run on a hostile answer (it needs about 0.4 GiB): a page or a
#: letter read without its cap, or inflated without bound, ends in a MemoryError here.
FETCH_MEMORY_BYTES = 1 << 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (FETCH_MEMORY_BYTES, FETCH_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))


def cli_argv(
    site: FakeDwcSite, out: Path, *extra: str, decided_to: str = "2024-01-07"
) -> list[str]:
    return [
        "--decided-from",
        "2024-01-01",
        "--decided-to",
        decided_to,
        "--out",
        str(out),
        "--base-url",
        site.url,
        "--delay",
        "1",
        *extra,
    ]


def run_cli_limited(site: FakeDwcSite, out: Path) -> subprocess.CompletedProcess:
    """The fetcher's command line in a child process under ``resource`` limits."""
    return subprocess.run(
        [sys.executable, "-m", "data.fetch", *cli_argv(site, out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=_limited,
    )


def files_by_case(result) -> dict[str, dict]:
    return {entry["case_number"]: entry for entry in result.report["files"]}


def test_only_http_links_on_the_searchs_own_host_may_be_followed():
    base = "https://www.dir.ca.gov/dwc/imr/IMRDecisionSearch.asp"
    allowed = [
        "https://www.dir.ca.gov/dwc/imr/d/CM16-0213037.pdf",
        "http://www.dir.ca.gov/dwc/imr/d/CM16-0213037.pdf",  # the same site, default ports
        "HTTPS://WWW.DIR.CA.GOV:443/x.pdf",
    ]
    refused = {
        "file:///etc/passwd": "not an http(s) address",
        "ftp://www.dir.ca.gov/x.pdf": "not an http(s) address",
        "javascript:alert(1)": "not an http(s) address",
        "https://evil.example/x.pdf": "another host",
        "https://www.dir.ca.gov.evil.example/x.pdf": "another host",
        "https://www.dir.ca.gov@evil.example/x.pdf": "another host",
        "https://www.dir.ca.gov:8443/x.pdf": "another host",
        "https:///x.pdf": "another host",
        "https://www.dir.ca.gov:99999/x.pdf": "not a well-formed address",
    }
    assert [link_problem(url, base) for url in allowed] == [None] * len(allowed)
    for url, problem in refused.items():
        assert problem in link_problem(url, base), url


@pytest.mark.parametrize(
    "how",
    ["file_link", "other_host_link", "other_port_link", "redirect_to_file", "redirect_elsewhere"],
)
def test_links_and_redirects_off_the_searchs_host_are_reported_and_never_followed(
    tmp_path, clock, how
):
    cases = make_cases(4)
    hostile = cases[1]
    with (
        FakeDwcSite(list(cases), clock=clock.clock) as elsewhere,
        FakeDwcSite(cases, clock=clock.clock) as site,
    ):
        port = site.url.rsplit(":", 1)[1]
        target = {
            "file_link": "file:///etc/passwd",
            "other_host_link": f"http://localhost:{port}{hostile.path}",  # same server, by name
            "other_port_link": elsewhere.url + hostile.path,
            "redirect_to_file": "file:///etc/passwd",
            "redirect_elsewhere": elsewhere.url + hostile.path,
        }[how]
        if how.endswith("_link"):
            hostile.link = target
        else:
            site.fail(hostile.path, *[Fault("redirect", 302, location=target)] * 2)
        first = run_fetch(site, tmp_path / "out", clock)
        again = run_fetch(site, tmp_path / "out", clock)  # the same letter once more
        asked = [r.path for r in site.log if r.method == "GET"]
        asked_elsewhere = len(elsewhere.log)
    assert asked_elsewhere == 0
    expected_kind = "refused_link" if how.endswith("_link") else "refused_redirect"
    for result in (first, again):
        entry = files_by_case(result)[hostile.case_number]
        assert (entry["status"], entry["kind"]) == ("failed", expected_kind)
        assert target in entry["reason"] and "not f" in entry["reason"]
        assert result.report["summary"]["fetched"] == len(cases) - 1
        assert result.stopped is None
    assert asked.count(hostile.path) == (0 if how.endswith("_link") else 2)
    assert not (tmp_path / "out" / "pdf" / f"{hostile.case_number}.pdf").exists()


def test_redirects_on_the_same_host_are_followed_one_polite_request_at_a_time(tmp_path, clock):
    cases = make_cases(3)
    moved = cases[0]
    with FakeDwcSite(cases, clock=clock.clock) as site:
        site.fail(moved.path, Fault("redirect", 301, location=f"{moved.path}?v=2"))
        site.fail(cases[1].path, *[Fault("redirect", 302, location=cases[1].path)] * 6)
        result = run_fetch(site, tmp_path / "out", clock, client_kwargs={"delay": 4})
        hops = site.requests_to(moved.path)
    assert [r.status for r in hops] == [301, 200]
    assert hops[1].time - hops[0].time >= 4  # the redirect waits its turn like any request
    by_case = files_by_case(result)
    assert by_case[moved.case_number]["status"] == "fetched"
    assert by_case[cases[1].case_number]["kind"] == "too_many_redirects"
    assert by_case[cases[2].case_number]["status"] == "fetched"


def test_a_search_redirected_off_the_host_stops_with_the_window_unfinished(tmp_path, clock):
    with FakeDwcSite(make_cases(2), clock=clock.clock) as site:
        site.fail(SEARCH_PATH, Fault("redirect", 303, location="http://evil.example/search"))
        result = run_fetch(site, tmp_path / "out", clock)
        assert len(site.log) == 1
    assert result.stopped == "site_error"
    assert "http://evil.example/search" in result.report["message"]
    assert "left unfinished" in result.report["message"]
    assert [w["status"] for w in result.report["windows"]] == ["open"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fault", ["drip", "drip_head"])
def test_a_slow_drip_is_cut_at_the_deadline_and_the_run_goes_on(tmp_path, clock, fault):
    cases = make_cases(3)
    slow = cases[1]
    with FakeDwcSite(cases, clock=clock.clock) as site:
        site.fail(slow.path, Fault(fault, interval=2.0))  # 1 byte every 2 s: hours a letter
        result = run_fetch(site, tmp_path / "out", clock, client_kwargs={"deadline": 3.0})
        (dripped,) = site.requests_to(slow.path)
    by_case = files_by_case(result)
    assert (by_case[slow.case_number]["status"], by_case[slow.case_number]["kind"]) == (
        "failed",
        "deadline",
    )
    assert "not complete after 3 s" in by_case[slow.case_number]["reason"]
    # cut at the deadline: bytes sent at 0, 2 (and perhaps 4) s, never the rest
    assert 1 <= dripped.dripped <= 3
    assert [by_case[c.case_number]["status"] for c in (cases[0], cases[2])] == ["fetched"] * 2
    assert result.stopped is None and result.report["summary"]["fetched"] == 2


@pytest.mark.parametrize(
    "error",
    [
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
    ],
    ids=["no-such-name", "no-network"],
)
def test_a_name_that_does_not_resolve_stops_at_once_not_after_minutes_of_back_off(
    tmp_path, clock, monkeypatch, error
):
    def no_dns(*args, **kwargs):
        raise error

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    client = client_for(clock)
    options = FetchOptions(
        decided_from=DAY,
        decided_to=DAY + dt.timedelta(days=6),
        out_dir=tmp_path / "out",
        base_url="https://www.dir.ca.gov",
        max_letters=3,
    )
    result = fetch(options, client)
    client.close()
    assert result.stopped == "name_not_resolved"
    assert (client.requests_sent, client.retries, clock.sleeps) == (1, 0, [])
    assert "www.dir.ca.gov does not resolve" in result.report["message"]
    assert "no network" in result.report["message"]
    cli = CliRunner().invoke(
        app,
        [
            *("--decided-from", "2024-01-01", "--decided-to", "2024-01-07"),
            *("--out", str(tmp_path / "cli"), "--max-letters", "3", "--quiet"),
        ],
    )
    assert cli.exit_code == 4 and isinstance(cli.exception, SystemExit)
    assert "does not resolve" in cli.output


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({"Content-Type": "text/html; charset=x-no-such"}, b"<html></html>", "no encoding"),
        ({"Content-Type": "text/html"}, b"<html>" + b"\x00\x01\x02" * 4000, "NUL"),
        ({"Content-Type": "text/html; charset=utf-8"}, b"\x81\x8d\xc3" * 4000, "not utf-8"),
        (
            {"Content-Type": "text/html", "Content-Encoding": "gzip"},
            b"\x1f\x8b\x08\x00" + b"not deflate" * 100,
            "does not decode",
        ),
    ],
    ids=["unknown-charset", "binary", "bad-bytes", "broken-gzip"],
)
def test_an_undecodable_results_page_stops_the_window_never_done_with_0_rows(
    tmp_path, clock, headers, body, message
):
    with FakeDwcSite(make_cases(3), clock=clock.clock) as site:
        site.fail(SEARCH_PATH, Fault("raw", headers=headers, body=body))
        result = run_fetch(site, tmp_path / "out", clock)
        assert len(site.log) == 1  # not retried: a broken page is no busy site
    assert result.stopped == "site_error"
    assert message in result.report["message"] and "left unfinished" in result.report["message"]
    assert [w["status"] for w in result.report["windows"]] == ["open"]
    with FakeDwcSite(make_cases(3), clock=clock.clock) as site:  # the rerun walks it again
        assert run_fetch(site, tmp_path / "out", clock).report["summary"]["fetched"] == 3


@pytest.mark.parametrize("hostile", ["oversized", "gzip_bomb"])
def test_an_oversized_results_page_stops_with_a_message_under_memory_limits(tmp_path, hostile):
    cases = make_cases(30)  # more pages follow: a page cut short would look like the last
    with FakeDwcSite(cases) as site:
        page = site.results_page(dict(search_form(DAY, DAY + dt.timedelta(days=6))))
        if hostile == "oversized":
            at = page.index('<form name="Nextpage"')
            padded = page[:at] + "<!--" + " " * (21 * 2**20) + "-->" + page[at:]
            fault = Fault("raw", body=padded.encode(), headers={"Content-Type": "text/html"})
        else:  # 1 GiB of spaces in 1 MB
            fault = Fault("raw", body=gzip_bomb(1024), headers={"Content-Encoding": "gzip"})
        site.fail(SEARCH_PATH, fault)
        run = run_cli_limited(site, tmp_path / "out")
        letters = sum(site.letter_deliveries().values())
    assert run.returncode == 4, run.stderr
    assert "Traceback" not in run.stderr
    assert "larger than 20 MiB" in run.stderr and "left unfinished" in run.stderr
    assert ("once decompressed" in run.stderr) == (hostile == "gzip_bomb")
    report = json.loads((tmp_path / "out" / "fetch_report.json").read_text())
    assert [w["status"] for w in report["windows"]] == ["open"]
    assert (report["summary"]["treatments"], letters) == (0, 0)


def test_a_letter_too_large_or_undecodable_fails_alone_under_memory_limits(tmp_path):
    cases = make_cases(4, days=1)
    with FakeDwcSite(cases) as site:
        site.fail(
            cases[0].path, Fault("raw", body=gzip_bomb(1024), headers={"Content-Encoding": "gzip"})
        )
        site.fail(
            cases[1].path,
            Fault(
                "raw",
                body=b"\x1f\x8b\x08\x00" + b"not deflate" * 100,
                headers={"Content-Encoding": "gzip"},
            ),
        )
        run = run_cli_limited(site, tmp_path / "out")
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    report = json.loads((tmp_path / "out" / "fetch_report.json").read_text())
    verdicts = {e["case_number"]: (e["status"], e.get("kind")) for e in report["files"]}
    assert verdicts == {
        cases[0].case_number: ("failed", "too_large"),
        cases[1].case_number: ("failed", "undecodable"),
        cases[2].case_number: ("fetched", None),
        cases[3].case_number: ("fetched", None),
    }
    assert "larger than 20 MiB once decompressed" in run.stderr
    assert report["summary"]["fetched"] == 2


HOSTILE_TEXT = "[/red] [link=https://evil.example]x[/link] \x1b[2J\x1b]0;owned\x07"


def _assert_shown_as_text(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output  # no control character reached it
    assert "[/red]" in output and "[link=https://evil.example]" in output  # shown, not obeyed
    assert "\\x1b[2J" in output  # the escape sequence, spelled out


def test_the_summary_shows_hostile_titles_and_reason_phrases_as_text(tmp_path):
    cases = make_cases(3, days=1)
    with FakeDwcSite(cases) as site:
        site.fail(cases[0].path, Fault("html", title=HOSTILE_TEXT))
        site.fail(cases[1].path, Fault("status", 404, reason=f"Gone {HOSTILE_TEXT}"))
        cases[2].link = "file:///etc/[/red]\x1b[2J"
        result = CliRunner().invoke(app, cli_argv(site, tmp_path / "out", "--quiet"))
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    _assert_shown_as_text(result.output)
    assert "file:///etc/[/red]" in result.output


def test_a_stop_message_quoting_a_hostile_reason_phrase_is_shown_as_text(tmp_path):
    with FakeDwcSite(make_cases(1)) as site:
        site.fail(SEARCH_PATH, Fault("status", 404, reason=HOSTILE_TEXT))
        result = CliRunner().invoke(app, cli_argv(site, tmp_path / "out", "--quiet"))
    assert isinstance(result.exception, SystemExit) and result.exit_code == 4, result.output
    _assert_shown_as_text(result.output)


def test_log_lines_show_what_the_site_sent_as_text(tmp_path):
    """The real command line, with its own log handler (pytest replaces it in-process)."""
    cases = make_cases(2, days=1)
    with FakeDwcSite(cases) as site:
        site.fail(cases[0].path, Fault("status", 404, reason=HOSTILE_TEXT))
        run = run_cli_limited(site, tmp_path / "out")
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    log_lines = [line for line in run.stderr.splitlines() if cases[0].case_number in line]
    assert any("failed" in line for line in log_lines)
    _assert_shown_as_text(run.stderr)
