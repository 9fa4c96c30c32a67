"""The parser against hand-checked gold: the seeds, the DWC letters, and unit cases."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from data.letters.errors import LetterError
from data.letters.guidelines import guideline_families
from data.letters.parser import parse_header, parse_letter, parse_service
from data.letters.text import letter_text
from tests.conftest import FIXTURES


def test_seeds_match_gold_field_for_field(seeds_dir, seeds_gold):
    for name, gold in seeds_gold.items():
        letter = parse_letter(letter_text(seeds_dir / name))
        assert letter.layout == gold["layout"], name
        assert letter.reviewer_specialty == gold["reviewer_specialty"], name
        assert letter.reviewer_licensure == gold["reviewer_licensure"], name
        assert letter.age == gold["age"], name
        assert letter.sex == gold["sex"], name
        assert letter.injury_date == dt.date.fromisoformat(gold["injury_date"]), name
        assert len(letter.items) == len(gold["items"]), name
        for item, expected in zip(letter.items, gold["items"], strict=True):
            assert item.service == expected["service"], name
            assert item.quantity == expected["quantity"], name
            assert item.decision == expected["decision"], name
            assert item.claims_admin_families == expected["claims_admin_cites"], name
            assert item.imr_guideline_families == expected["imr_cites"], name


def test_every_dwc_letter_yields_all_items_with_a_decision(dwc_letters):
    assert len(dwc_letters) == 134
    items = [item for letter in dwc_letters.values() for item in letter.items]
    assert len(items) == 300
    assert sum(item.decision == "Overturned" for item in items) == 33
    for name, letter in dwc_letters.items():
        assert letter.items, name
        assert [i.item_index for i in letter.items] == list(range(len(letter.items)))
        for item in letter.items:
            assert item.service and item.decision in ("Upheld", "Overturned"), name
            # a service never swallows the previous item's rationale
            assert "medically necessary" not in item.service, (name, item.service)
            assert item.claims_admin_guideline and item.decision_rationale, name


def test_dwc_headers_are_complete_and_chronological(dwc_letters):
    for name, letter in dwc_letters.items():
        assert letter.case_number == name.removesuffix(".pdf")
        dates = [
            letter.injury_date,
            letter.ur_denial_date,
            letter.application_received_date,
            letter.date_assigned,
            letter.decision_date,
        ]
        assert all(dates), name
        assert dates[0] <= dates[1] <= dates[2] <= dates[3] <= dates[4], name


def test_dwc_letters_match_hand_labelled_gold(dwc_dir, dwc_letters):
    gold = json.loads((FIXTURES / "pdf_gold.json").read_text())["letters"]
    assert len(gold) >= 20
    for name, expected in gold.items():
        letter = dwc_letters[name]
        assert letter.case_number == expected["case_number"]
        for field, key in [
            ("date_assigned", "date_assigned"),
            ("decision_date", "decision_date"),
            ("injury_date", "date_of_injury"),
            ("ur_denial_date", "ur_denial_date"),
            ("application_received_date", "application_received"),
        ]:
            assert getattr(letter, field) == dt.date.fromisoformat(expected[key]), (name, field)
        assert letter.priority == expected["priority"]
        assert letter.reviewer_licensure == expected["reviewer_licensure"]
        assert letter.reviewer_specialty == expected["reviewer_specialty"]
        assert (letter.age, letter.sex) == (expected["age"], expected["sex"]), name
        assert len(letter.items) == len(expected["items"]), name
        for item, exp in zip(letter.items, expected["items"], strict=True):
            words = item.service.split()
            assert " ".join(words[:6]) == exp["service_words"], name
            assert len(words) == exp["service_word_count"], (name, item.service)
            assert item.decision == exp["decision"], name
            assert item.partial_authorization == exp["partial_authorization"], name
            assert item.retrospective == exp["retrospective"], name
            assert item.claims_admin_families == exp["claims_admin_families"], (
                name,
                item.item_index,
            )


INTERLEAVED = """Case Number: CM16-0213037
Date Assigned: 11/09/2016 Date of Injury: 10/13/2016
Decision Date: 12/09/2016 UR Denial Date: 11/03/2016
Priority: Standard Application
Received:
11/04/2016"""

LABELS_THEN_VALUES = """Case Number:
Date Assigned:
Decision Date:
Priority:
Date of Injury:
UR Denial Date:
Application Received:
CM16-0213037
12/09/2016
11/09/2016
Standard
11/04/2016
10/13/2016
11/03/2016"""


@pytest.mark.parametrize("block", [INTERLEAVED, LABELS_THEN_VALUES])
def test_header_is_parsed_by_value_whatever_the_order(block):
    header = parse_header(block)
    assert header == {
        "case_number": "CM16-0213037",
        "priority": "Standard",
        "date_assigned": dt.date(2016, 11, 9),
        "decision_date": dt.date(2016, 12, 9),
        "injury_date": dt.date(2016, 10, 13),
        "ur_denial_date": dt.date(2016, 11, 3),
        "application_received_date": dt.date(2016, 11, 4),
    }


def test_partial_authorization_keeps_original_and_authorized_parts():
    text = (
        "Norco 10/325mg #60 was the original request. Norco 10/325mg #25 was authorized by the "
        "Claims Administrator. The remaining IMR eligible portion of the original request, "
        "Norco 10/325mg #35 is"
    )
    parsed = parse_service(text)
    assert parsed["service"] == "Norco 10/325mg #35"
    assert parsed["partial_authorization"] is True
    assert parsed["original_request"] == "Norco 10/325mg #60"
    assert parsed["authorized_portion"] == "Norco 10/325mg #25"


def test_partial_authorization_leaving_original_request_eligible():
    text = (
        "Acupuncture treatments (unspecified quantity) was the original request. The Claims "
        "Administrator authorized Acupuncture treatments, 6 sessions, leaving the original "
        "request IMR eligible. The original request, Acupuncture treatments (unspecified "
        "quantity) is:"
    )
    parsed = parse_service(text)
    assert parsed["service"] == "Acupuncture treatments (unspecified quantity)"
    assert parsed["authorized_portion"] == "Acupuncture treatments, 6 sessions"


@pytest.mark.parametrize(
    ("text", "quantity", "retro", "service"),
    [
        (
            "Corticosteroid injection of the hip QTY: 1.00",
            1.0,
            False,
            "Corticosteroid injection of the hip",
        ),
        ("Retrospective E-stim (DOS 12/29/16)", None, True, "Retrospective E-stim (DOS 12/29/16)"),
        (
            "Voltaren gel #60 grams, DOS: 11/11/2016",
            None,
            True,
            "Voltaren gel #60 grams, DOS: 11/11/2016",
        ),
        ("MRI left hip", None, False, "MRI left hip"),
    ],
)
def test_service_quantity_and_retrospective(text, quantity, retro, service):
    parsed = parse_service(text)
    assert (parsed["quantity"], parsed["retrospective"], parsed["service"]) == (
        quantity,
        retro,
        service,
    )


@pytest.mark.parametrize(
    ("statement", "families"),
    [
        (
            "The Claims Administrator did not base their decision on the MTUS. Decision based on "
            "Non-MTUS Citation Official Disability Guidelines Hip and Pelvis Chapter.",
            ["ODG"],
        ),
        (
            "Decision based on MTUS ACOEM Page(s): 58-59, Chronic Pain Treatment Guidelines.",
            ["MTUS", "ACOEM"],
        ),
        ("The Claims Administrator did not cite any medical evidence for its decision.", []),
        (
            "The Claims Administrator based their decision on recommendation(s) outside of the "
            "MTUS Guidelines. Decision based on Non-MTUS Citation ODG Knee chapter.",
            ["ODG"],
        ),
        (None, []),
    ],
)
def test_guideline_families(statement, families):
    assert guideline_families(statement) == families


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "MEDICAL PROFESSIONAL REVIEW\nISSUE AT DISPUTE:\nPT\nCASE SUMMARY:\nx",
            "unsupported_layout",
        ),
        (
            "MAXIMUS FEDERAL SERVICES, INC.\nIndependent Medical Review\nDOCUMENTS REVIEWED\n"
            "CLINICAL CASE SUMMARY\nx\nIMR DECISION(S) AND RATIONALE(S)\n",
            "unsupported_layout",
        ),
        ("Notice of Independent Medical Review Determination\nblah", "unsupported_layout"),
        ("Dear Sir, please find attached my invoice.", "unsupported_layout"),
        (
            "HOW THE IMR FINAL DETERMINATION WAS MADE\nCLINICAL CASE SUMMARY\nThe worker is 40.",
            "no_decisions",
        ),
    ],
)
def test_unsupported_or_incomplete_letters_are_refused_with_reason(text, kind):
    with pytest.raises(LetterError) as err:
        parse_letter(text)
    assert err.value.kind == kind
    assert err.value.reason


def test_unsupported_layout_names_what_it_recognised():
    with pytest.raises(LetterError, match=r"medical_professional_review.*ISSUE AT DISPUTE"):
        parse_letter("MEDICAL PROFESSIONAL REVIEW\nISSUE AT DISPUTE:\nPT\nCASE SUMMARY:\nx")


def test_decision_other_than_upheld_or_overturned_is_reported(seeds_dir):
    text = (seeds_dir / "001_48eb5db86e89c783.txt").read_text()
    bad = text.replace("left hip:  Upheld", "left hip:  Approved")
    assert bad != text
    with pytest.raises(LetterError, match="'Approved' is not one of Upheld, Overturned"):
        parse_letter(bad)


def test_seed_text_and_its_pdf_give_the_same_parse(seeds_dir, tmp_path):
    from tests.helpers.pdf_maker import text_pdf

    source = seeds_dir / "000_798fc0107c2fb4af.txt"
    # Helvetica in our tiny PDF writer is Latin-1 only: compare on the same characters
    text = source.read_text().encode("latin-1", "replace").decode("latin-1")
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(text_pdf([line for line in text.splitlines() if line.strip()]))
    from_text, from_pdf = parse_letter(text), parse_letter(letter_text(pdf))
    assert from_pdf == from_text


def test_short_draft_lists_one_service_per_line():
    from tests.helpers.letters import letter

    text = letter().split("The Final Determination was based")[0] + "MRI of the knee: Pending\n"
    draft = parse_letter(text, allow_draft=True)
    assert [(i.service, i.decision) for i in draft.items] == [("MRI of the knee", None)]
    assert draft.is_draft
    assert draft.case_summary.startswith("The injured worker is a 45 year old female")
    with pytest.raises(LetterError, match="no requested service"):
        parse_letter(letter().split("The Final Determination was based")[0], allow_draft=True)
    with pytest.raises(LetterError, match=r"drafts are scored by predict\.py") as err:
        parse_letter(text)
    assert err.value.kind == "no_decisions"
