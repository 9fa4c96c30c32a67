"""The guideline knowledge tables and what is read from them.

* The tables load with a schema check whose errors name the file, the row and the field;
  every cross-reference holds (criteria, reason codes, status functions, evidence sets,
  limits, DWC request categories); there is one taxonomy.
* Every service kind the letters request is recognised and linked to its surgery; a
  summary the extractors cannot read is said so.
* The new criteria: opioid monitoring, short-term limits, indications, first-line trials,
  request specifics, the associated surgery.
* One pass per request, and what-ifs that change only their own service.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from features import extractors as ex
from features.criteria import (
    FEATURES,
    MET,
    NOT_DOCUMENTED,
    NOT_MET,
    SIGNS,
    assess,
    own_summary,
    what_if_text,
)
from features.guideline import GuidelineFeatures
from features.knowledge import KNOWLEDGE_DIR, VOCABULARY_FILE, KnowledgeError, knowledge
from features.services import service_kind
from features.status import STATUS_FUNCTIONS
from settings import SHARED_DIR

REPO = Path(__file__).resolve().parents[2]
VOCABULARY_MD_CODES = {
    "not_recommended": "guideline_recommends",
    "exceeds_quantity": "quantity_within_guideline",
    "no_functional_improvement": "functional_improvement",
    "no_conservative_care_failure": "failed_conservative_care",
    "no_first_line_trial": "first_line_tried",
    "no_objective_findings": "objective_findings",
    "no_imaging_support": "imaging_supports_request",
    "repeat_imaging_no_change": "change_since_prior_imaging",
    "no_monitoring": "drug_monitoring",
    "associated_service_not_needed": "associated_procedure_certified",
    "no_indication": "indication_documented",
    "insufficient_documentation": "request_specified",
    "other": "",
}


# --------------------------------------------------------------------------- the tables
def test_the_vocabulary_and_the_criterion_ids_are_the_published_ones():
    k = knowledge()
    assert {c: r.criterion for c, r in k.reason_codes.items()} == VOCABULARY_MD_CODES
    assert set(k.criteria) == {c for c in VOCABULARY_MD_CODES.values() if c}
    for spec in k.criteria.values():
        assert VOCABULARY_MD_CODES[spec.reason_code] == spec.id


def test_every_criterion_of_every_subcategory_cross_references():
    k = knowledge()
    assert len(k.subcategories) > 40
    for sub in k.subcategories.values():
        assert sub.criteria, f"{sub.name} has no criterion"
        assert sub.category in k.categories
        assert sub.label and sub.source
        for use in sub.criteria:
            assert use.reason_code in k.reason_codes
            assert use.status in STATUS_FUNCTIONS, (sub.name, use.status)
            assert use.source, (sub.name, use.id)
            assert not use.evidence or use.evidence in k.evidence
            assert set(use.first_line) <= set(ex.medication_classes("").keys())
        if sub.drug:
            assert sub.drug in k.drugs or sub.drug in ex.medication_classes("")
        if sub.perioperative != "never":  # what links it to a surgery is one of its criteria
            assert "associated_procedure_certified" in {u.id for u in sub.criteria}, sub.name
        if sub.stance != "conditional":
            assert sub.criteria[0].id == "guideline_recommends" or any(
                u.id == "guideline_recommends" for u in sub.criteria
            )
    for limit in k.drugs.values():
        assert limit["in_use"] in ex.medication_classes("")
    # every model input the criteria set has its sign, and every sign its input
    assert set(k.features()) <= set(FEATURES)
    assert all(SIGNS[f] == sign for f, sign in k.features().items())


def test_every_status_function_is_used_by_a_table():
    used = {u.status for s in knowledge().subcategories.values() for u in s.criteria}
    assert used == set(STATUS_FUNCTIONS)


def test_every_example_of_a_service_row_is_read_by_that_row():
    rows = knowledge().services
    assert sum(len(r.examples) for r in rows) > 150
    for row in rows:
        for example in row.examples:
            kind = service_kind(example)
            assert (kind.row, kind.subcategory) == (row.row, row.subcategory), example


def test_every_subcategory_is_reachable_and_every_sub_with_a_row_exists():
    k = knowledge()
    assert {r.subcategory for r in k.services} - {"unrecognised"} == set(k.subcategories)


@pytest.mark.skipif(
    not (SHARED_DIR / "dwc" / "request_categories.csv").is_file(),
    reason="the DWC request categories are not present in ../shared",
)
def test_every_dwc_category_is_a_form_value_of_the_search():
    with (SHARED_DIR / "dwc" / "request_categories.csv").open(newline="") as handle:
        values = {row["form_value"] for row in csv.DictReader(handle)}
    k = knowledge()
    used = {s.dwc for s in k.subcategories.values()} | {r.dwc for r in k.services if r.dwc}
    used.add(k.perioperative["dwc"])
    assert used <= values, used - values


def _broken(tmp_path: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (folder / name).read_text(encoding="utf-8")
    assert old in text, old
    (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "services.toml",
            "pattern = 'hyperbaric'",
            "pattern = 'hyperbaric('",
            r"services\.toml: \[\[service\]\] row \d+ \(unrecognised\): field 'pattern': "
            r"not a valid regular expression",
        ),
        (
            "services.toml",
            'subcategory = "med_ppi"',
            'subcategory = "med_ppx"',
            r"services\.toml: \[\[service\]\] row \d+ \(med_ppx\): field 'subcategory': "
            r"'med_ppx' is not in subcategories\.toml",
        ),
        (
            "subcategories.toml",
            'criteria = ["indication_documented", "functional_improvement"]',
            'criteria = ["indication_documented", "functional_improprovement"]',
            r"subcategories\.toml: \[med_ppi\]: field 'criteria': "
            r"'functional_improprovement' is not in criteria\.toml",
        ),
        (
            "subcategories.toml",
            'category = "medication"\nstance = "conditional"\nsource = "MTUS Chronic Pain Medical '
            "Treatment Guidelines (8 CCR 9792.24.2), NSAIDs, GI",
            'category = "medication"\nstance = "sometimes"\nsource = "MTUS Chronic Pain Medical '
            "Treatment Guidelines (8 CCR 9792.24.2), NSAIDs, GI",
            r"subcategories\.toml: \[med_ppi\]: field 'stance': 'sometimes' is not one of",
        ),
        (
            "subcategories.toml",
            'evidence = "gi_risk"',
            'evidence = "gi_risks"',
            r"subcategories\.toml: \[med_ppi\.indication_documented\]: field 'evidence': "
            r"'gi_risks' is not a set",
        ),
        (
            "criteria.toml",
            'reason_code = "no_indication"',
            'reason_code = "no_reason"',
            r"criteria\.toml: \[indication_documented\]: field 'reason_code': "
            r"'no_reason' is not in",
        ),
        (
            "limits.toml",
            "[visits.pt]\ntrial = 6",
            "[visits.pt]\ntrial = 60",
            r"limits\.toml: \[visits\.pt\]: field 'trial': "
            r"60 is not between 1 and the ceiling 10",
        ),
        (
            "evidence.toml",
            "[gi_risk]",
            "[gi_risk]\nweight = 2",
            r"evidence\.toml: \[gi_risk\]: field 'weight': is not a field of this table",
        ),
    ],
)
def test_a_broken_table_names_the_file_the_row_and_the_field(tmp_path, name, old, new, message):
    folder = _broken(tmp_path, name, old, new)
    with pytest.raises(KnowledgeError, match=message):
        knowledge(folder, VOCABULARY_FILE)


def test_invalid_toml_is_reported_with_its_file(tmp_path):
    folder = _broken(tmp_path, "criteria.toml", "[objective_findings]", "[objective_findings")
    with pytest.raises(KnowledgeError, match=r"criteria\.toml: not valid TOML"):
        knowledge(folder, VOCABULARY_FILE)


def test_there_is_one_taxonomy():
    from models.evaluation import treatment_categories

    assert not hasattr(ex, "service_category")
    assert not (REPO / "features" / "extractors" / "categories.py").exists()
    assert "re.compile" not in (REPO / "features" / "services.py").read_text()
    services = ["Norco 10/325mg #60", "MRI of the lumbar spine", "Pre-operative EKG", "TENS unit"]
    items = pd.DataFrame({"service": services})
    kinds = [service_kind(s) for s in services]
    assert list(treatment_categories(items)) == [k.category for k in kinds]
    assert list(treatment_categories(items, "subcategory")) == [k.subcategory for k in kinds]
    from features.facts import extract_row

    for service, kind in zip(services, kinds, strict=True):
        facts = extract_row({"case_summary": "", "service": service})
        assert facts[f"service_cat__{kind.category}"].value == 1.0


# ---------------------------------------------------------------- recognised and linked
@pytest.mark.parametrize(
    ("service", "subcategory", "dwc"),
    [
        ("hyperbaric oxygen therapy", "unrecognised", ""),
        ("Terocin patches #30", "med_topical_brand", "Pharmaceuticals *  * Topical Analgesics"),
        ("Theramine #120", "med_food", "Pharmaceuticals *  * Nutritional Products"),
        (
            "Fanatrex (unknown quantity)",
            "med_compound_oral",
            "Pharmaceuticals *  * Anti-epilepsy drugs",
        ),
        (
            "Flurbiprofen 20%, Lidocaine 5% in cream base",
            "med_compound_topical",
            "Pharmaceuticals *  * Topical Compounds",
        ),
        ("Incontinence supplies", "dme_supplies", "DMEPOS * Supplies *"),
        ("Bilateral hearing aids", "dme_hearing", "DMEPOS * Prosthetics/Orthotics *"),
        ("Gym membership x 6 months", "program_membership", "Programs * Programs *"),
        (
            "Follow-up visit with the treating physician",
            "visit_followup",
            "Evaluation & Management * Medical Specialties *",
        ),
        (
            "Orthopedic consultation regarding a right knee arthroscopy",
            "consult_surgical",
            "Surgery * Surgical Consult *",
        ),
        (
            "Lidocaine and Kenalog injection to the right shoulder",
            "injection_joint",
            "Injection * Injection *",
        ),
        ("Hydrocodone/APAP 10/325mg #60", "med_opioid", "Pharmaceuticals *  * Opioids"),
        ("Urine drug screen", "lab_drug_screen", "Diagnostic Testing * Lab & Pathology *"),
        ("Echocardiogram", "test_cardiac", "Diagnostic Testing * Other Diagnostic Tests *"),
        ("Inguinal hernia repair", "surgery_other", "Surgery * Non-arthroscopic Surgery *"),
    ],
)
def test_services_the_letters_request_are_recognised_and_filed(service, subcategory, dwc):
    kind = service_kind(service)
    assert (kind.subcategory, kind.dwc) == (subcategory, dwc)


def _items(summary: str, services: list[str], **extra) -> list[dict]:
    return [
        {"case_summary": summary, "service": s, "letter_services": list(services), **extra}
        for s in services
    ]


def _assess(summary: str, services: list[str], **extra):
    return [assess(row) for row in _items(summary, services, **extra)]


HERNIA = (
    "The injured worker is a 45 year old male with a right inguinal hernia from lifting at "
    "work. Examination shows a reducible right inguinal hernia. A right inguinal hernia "
    "repair is scheduled for 01/12/2017. Norco was prescribed for post-operative pain."
)


def test_a_summary_scheduling_a_surgery_makes_its_post_operative_medication_perioperative():
    (norco,) = _assess(HERNIA, ["Norco 10/325mg #20"])
    assert norco.perioperative
    assert norco.dwc == knowledge().perioperative["dwc"]
    assert "associated_procedure_certified" in {c.code for c in norco.criteria}
    unrelated = HERNIA.replace(
        "A right inguinal hernia repair is scheduled for 01/12/2017. Norco was prescribed "
        "for post-operative pain.",
        "He takes Norco for pain.",
    )
    (alone,) = _assess(unrelated, ["Norco 10/325mg #20"])
    assert not alone.perioperative


def test_the_items_of_a_surgery_are_linked_to_it_and_the_others_are_not():
    services = [
        "Right shoulder arthroscopy with rotator cuff repair",
        "Associated surgical service: Cold compression therapy 7 day rental",
        "Associated surgical service: Electrical stimulation unit",
        "Pre-operative chest x-ray",
        "Medical clearance",
        "Shoulder sling",
        "MRI of the lumbar spine",
    ]
    summary = "The patient has right shoulder pain with a full-thickness rotator cuff tear on MRI."
    linked = {s: a.perioperative for s, a in zip(services, _assess(summary, services), strict=True)}
    assert linked == {
        services[0]: False,  # the surgery itself
        services[1]: True,
        services[2]: True,
        services[3]: True,
        services[4]: True,
        services[5]: True,  # a brace with the surgery of its region
        services[6]: False,  # another region, another question
    }


def test_a_recent_surgery_links_its_after_care():
    summary = (
        "The injured worker sustained a left ankle fracture on 10/20/2016 and underwent ORIF "
        "of the left ankle on 10/22/2016. He is non-weight bearing."
    )
    rows = _items(
        summary, ["Home health aide 4 hours a day for 2 weeks", "Standard wheelchair rental"]
    )
    for row in rows:
        row["ur_denial_date"] = "2016-11-20"
    assert all(assess(row).perioperative for row in rows)
    for row in rows:
        row["ur_denial_date"] = "2018-11-20"
        row["injury_date"] = "2016-10-20"
    assert not any(assess(row).perioperative for row in rows)


# ------------------------------------------------------------------- the new criteria
def _criterion(assessment, code):
    found = [c for c in assessment.criteria if c.code == code]
    return found[0] if found else None


def test_an_opioid_refill_without_monitoring_lists_no_monitoring():
    summary = "The patient has taken Norco for two years for chronic low back pain."
    (norco,) = _assess(summary, ["Norco 10/325mg #90"])
    monitoring = _criterion(norco, "drug_monitoring")
    assert monitoring.status in (NOT_MET, NOT_DOCUMENTED)
    assert monitoring.reason_code == "no_monitoring"
    assert "9792.24.4" in monitoring.source
    monitored = (
        summary + " A urine drug screen on 10/01/2016 was consistent and CURES was reviewed."
    )
    (again,) = _assess(monitored, ["Norco 10/325mg #90"])
    assert _criterion(again, "drug_monitoring").status == MET
    assert "urine drug screen" in _criterion(again, "drug_monitoring").evidence[0][2].lower()


def test_a_ppi_without_gi_risk_lists_no_indication():
    summary = "The patient takes naproxen for chronic knee pain. She denies GI upset."
    (ppi,) = _assess(summary, ["Omeprazole 20mg #30"])
    indication = _criterion(ppi, "indication_documented")
    assert (indication.status, indication.reason_code) == (NOT_DOCUMENTED, "no_indication")
    (risk,) = _assess(
        summary + " She reports dyspepsia from the naproxen.", ["Omeprazole 20mg #30"]
    )
    assert _criterion(risk, "indication_documented").status == MET


def test_a_muscle_relaxant_continued_is_beyond_its_short_term_limit():
    summary = "He has used cyclobenzaprine daily for six months for low back pain."
    (relaxant,) = _assess(summary, ["Cyclobenzaprine 7.5mg #60"])
    limit = _criterion(relaxant, "drug_monitoring")
    assert (limit.status, limit.reason_code) == (NOT_MET, "no_monitoring")
    assert relaxant.values["drug_monitoring_not_met"] == 1.0
    (new,) = _assess("Acute low back strain with spasm last week.", ["Cyclobenzaprine 7.5mg #15"])
    assert _criterion(new, "drug_monitoring") is None


def test_topical_lidocaine_needs_a_first_line_trial():
    summary = "The patient has burning neuropathic pain in the right foot."
    (patch,) = _assess(summary, ["Lidoderm 5% patch #30"])
    first = _criterion(patch, "first_line_tried")
    assert (first.status, first.reason_code) == (NOT_DOCUMENTED, "no_first_line_trial")
    (tried,) = _assess(
        summary + " Gabapentin 300mg three times a day was tried.", ["Lidoderm 5% patch #30"]
    )
    assert _criterion(tried, "first_line_tried").status == MET


def test_a_request_with_an_unknown_quantity_is_insufficient():
    (kit,) = _assess("Chronic neck pain.", ["Fanatrex (unknown quantity)"])
    specifics = _criterion(kit, "request_specified")
    assert (specifics.status, specifics.reason_code) == (NOT_MET, "insufficient_documentation")
    (pt,) = _assess("Chronic neck pain.", ["Physical therapy"])
    assert _criterion(pt, "request_specified").status == NOT_DOCUMENTED
    assert "visits" in _criterion(pt, "request_specified").to_document


def test_the_associated_surgery_status():
    service = "Associated surgical service: Cold therapy unit 7 day rental"
    certified = "The right knee arthroscopy was authorized on 12/01/2016."
    (a,) = _assess(certified, [service])
    assert _criterion(a, "associated_procedure_certified").status == MET
    denied = "The right knee arthroscopy was non-certified by utilization review on 12/01/2016."
    (b,) = _assess(denied, [service])
    assert _criterion(b, "associated_procedure_certified").status == NOT_MET
    together = _assess(denied, ["Right knee arthroscopy", service])[1]
    assert _criterion(together, "associated_procedure_certified").status == NOT_DOCUMENTED
    assert together.values["perioperative_with_surgery"] == 1.0


def test_every_criterion_carries_its_reason_code_and_source():
    codes = set(knowledge().reason_codes)
    summary = "Chronic low back pain radiating to the left leg with numbness. PT helped a little."
    services = [row.examples[0] for row in knowledge().services if row.examples]
    for a in _assess(summary, services):
        for c in a.criteria:
            assert c.reason_code in codes and c.source and "{" not in c.source
            assert c.as_dict()["reason_code"] == c.reason_code
        if a.kind.recognised:
            assert a.criteria, a.kind.subcategory


# ---------------------------------------------------------------- unreadable summaries
SPANISH = (
    "El paciente es un hombre de 45 años que sufrió una lesión en la espalda baja en el "
    "trabajo. Tiene dolor que se irradia a la pierna izquierda y recibió terapia física sin "
    "mejoría. El médico solicita una resonancia magnética."
)


def test_a_spanish_summary_is_not_readable_and_an_english_one_is():
    assert ex.summary_readability(SPANISH).value == "not_english"
    assert ex.summary_readability("Low back pain after lifting a box.").value == "readable"
    assert ex.summary_readability("Lorem ipsum dolor.").value == "no_clinical_content"
    assert ex.summary_readability("   ").value == "empty"


# ------------------------------------------------------------- what-ifs and one pass
DRAFT = (
    "The injured worker is a 52 year old female with chronic low back pain radiating to the "
    "left leg since a lifting injury. She takes Norco and omeprazole. Physical therapy was "
    "completed."
)
DRAFT_SERVICES = [
    "MRI of the lumbar spine",
    "Norco 10/325mg #60",
    "Omeprazole 20mg #30",
    "Lidoderm 5% patch #30",
    "Physical therapy x 6 visits",
    "Lumbar epidural steroid injection at L4-5",
]


def _signature(assessment):
    return [(c.code, c.status, c.evidence) for c in assessment.criteria], assessment.values


def test_ticking_one_services_what_if_never_changes_another_services_criteria():
    before = _assess(DRAFT, DRAFT_SERVICES)
    offered = 0
    for owner, assessment in zip(DRAFT_SERVICES, before, strict=True):
        for c in assessment.criteria:
            if c.status != NOT_DOCUMENTED or not c.what_if:
                continue
            offered += 1
            ticked = f"{DRAFT} {what_if_text(owner, c.what_if)}"
            after = _assess(ticked, DRAFT_SERVICES)
            for service, old, new in zip(DRAFT_SERVICES, before, after, strict=True):
                if service != owner:
                    assert _signature(new) == _signature(old), (owner, c.code, service)
                else:
                    assert _criterion(new, c.code).status == MET, (owner, c.code)
    assert offered >= 8


def test_a_what_if_addendum_is_read_by_its_own_service_only():
    sentence = what_if_text(
        "MRI of the lumbar spine", "Symptoms have persisted despite conservative care."
    )
    summary = f"Back pain. {sentence}"
    services = ("MRI of the lumbar spine", "CT scan of the lumbar spine")
    own = own_summary(summary, services[0], services)
    other = own_summary(summary, services[1], services)
    assert len(own) == len(other) == len(summary)
    assert "Symptoms have persisted" in own and "Regarding" not in own
    assert "Symptoms have persisted" not in other


def _synthetic_items(n_letters: int = 40, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    from models.scoring.prediction import pre_filing_frame

    rng = np.random.default_rng(seed)
    summaries = [
        DRAFT,
        "Acute neck strain two weeks ago. No neurological deficits.",
        "Chronic knee pain with osteoarthritis. Physical therapy helped with improved walking.",
        "Right shoulder pain with a rotator cuff tear on MRI despite injections and therapy.",
    ]
    rows, y = [], []
    for letter in range(n_letters):
        summary = summaries[letter % len(summaries)]
        for service in rng.choice([*DRAFT_SERVICES, "Follow-up visit"], size=2, replace=False):
            rows.append(
                {"case_summary": summary, "service": str(service), "source_file": f"L{letter}"}
            )
            y.append(int(rng.random() < (0.5 if "visit" in service or "MRI" in service else 0.15)))
    return pre_filing_frame(rows), np.asarray(y)


@pytest.fixture(scope="module")
def tiny_model():
    from models.recipe import build_model, fit_model

    items, y = _synthetic_items()
    groups = np.asarray([f"{i // 2}" for i in range(len(items))])
    return fit_model(build_model(folds=3), items, y, groups)


def test_hyperbaric_oxygen_is_unrecognised_with_the_warning(tiny_model):
    from models.scoring.prediction import UNRECOGNISED_WARNING, explain_items, pre_filing_frame

    (result,) = explain_items(
        tiny_model,
        pre_filing_frame([{"case_summary": DRAFT, "service": "hyperbaric oxygen therapy"}]),
    )
    assert not result.recognised and result.subcategory == "unrecognised"
    assert UNRECOGNISED_WARNING in result.warnings


def test_a_spanish_summary_warns_on_every_item(tiny_model):
    from models.scoring.prediction import UNREADABLE_WARNINGS, explain_items, pre_filing_frame

    draft = pre_filing_frame([{"case_summary": SPANISH, "service": s} for s in DRAFT_SERVICES[:3]])
    results = explain_items(tiny_model, draft)
    assert all(UNREADABLE_WARNINGS["not_english"] in r.warnings for r in results)
    assert all(not r.summary_readable for r in results)
    english = explain_items(
        tiny_model,
        pre_filing_frame([{"case_summary": DRAFT, "service": s} for s in DRAFT_SERVICES[:3]]),
    )
    assert not any(r.warnings for r in english)


def test_a_what_if_gives_the_probability_of_ticking_it(tiny_model):
    """The what-if re-score (the assessment with its criterion met) equals re-scoring the
    summary with its sentence added, for that item; the other items do not move."""
    from models.scoring.prediction import explain_items, pre_filing_frame

    def draft(summary):
        return pre_filing_frame([{"case_summary": summary, "service": s} for s in DRAFT_SERVICES])

    before = explain_items(tiny_model, draft(DRAFT))
    checked = 0
    for position, result in enumerate(before):
        for change in result.what_if:
            assert change["change"] >= -1e-12
            after = explain_items(
                tiny_model, draft(f"{DRAFT} {change['added_text']}"), with_what_if=False
            )
            for i, (old, new) in enumerate(zip(before, after, strict=True)):
                expected = change["p_overturned"] if i == position else old.p_overturned
                assert new.p_overturned == pytest.approx(expected, abs=1e-9), (
                    result.service,
                    change["criterion"],
                    i,
                )
            checked += 1
    assert checked >= 8


def test_one_pass_per_request(tiny_model, monkeypatch):
    import features.criteria as criteria
    import features.guideline as guideline
    import models.scoring.prediction as prediction
    from models.scoring.prediction import explain_items, pre_filing_frame

    calls = {"assess": 0, "link": 0}
    real_assess, real_link = criteria.assess, guideline.with_letter_services

    def counting_assess(row):
        calls["assess"] += 1
        return real_assess(row)

    def counting_link(*args, **kwargs):
        calls["link"] += 1
        return real_link(*args, **kwargs)

    monkeypatch.setattr(criteria, "assess", counting_assess)
    monkeypatch.setattr(guideline, "with_letter_services", counting_link)
    monkeypatch.setattr(prediction, "with_letter_services", counting_link)
    draft = pre_filing_frame([{"case_summary": DRAFT, "service": s} for s in DRAFT_SERVICES])
    results = explain_items(tiny_model, draft)
    assert any(r.what_if for r in results)
    assert calls == {"assess": len(DRAFT_SERVICES), "link": 1}  # linked once, by pre_filing_frame


def test_perioperative_is_in_every_scored_items_json(tiny_model):
    from models.scoring.prediction import explain_items, pre_filing_frame, score_assessed

    draft = pre_filing_frame(
        [
            {"case_summary": HERNIA, "service": s}
            for s in ("Norco 10/325mg #20", "MRI of the lumbar spine")
        ]
    )
    detailed = [r.as_dict() for r in explain_items(tiny_model, draft)]
    brief = score_assessed(tiny_model, draft)
    for results in (detailed, brief):
        assert [r["perioperative"] for r in results] == [True, False]
        assert all(isinstance(r["dwc_request_category"], str) for r in results)
    for reason in detailed[0]["denial_reasons"]:
        assert reason["reason_code"] in knowledge().reason_codes and reason["source"]


# --------------------------------------------------------------- the estimator contract
@parametrize_with_checks([GuidelineFeatures()])
def test_guideline_features_follows_the_estimator_contract(estimator, check):
    # its honest input tags (a DataFrame of text, not a numeric array) leave scikit-learn
    # nothing to feed it; the checks that need no data run below
    check(estimator)


@pytest.mark.parametrize(
    "name",
    [
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_estimator_repr",
        "check_estimator_cloneable",
        "check_estimator_tags_renamed",
        "check_valid_tag_types",
        "check_mixin_order",
        "check_do_not_raise_errors_in_init_or_set_params",
    ],
)
def test_guideline_features_passes_the_checks_that_need_no_data(name):
    import inspect

    import sklearn.utils.estimator_checks as checks

    check = getattr(checks, name)
    args = ("GuidelineFeatures",) if len(inspect.signature(check).parameters) == 2 else ()
    check(*args, GuidelineFeatures())


def test_guideline_features_contract_on_items():
    """What the generic checks cannot feed it (a DataFrame of text): fit returns self,
    clone keeps the parameters, transform before fit refuses, output names and shape."""
    from sklearn.exceptions import NotFittedError

    items, _ = _synthetic_items(6)
    step = GuidelineFeatures(features=("guideline_supported", "indication_documented"))
    with pytest.raises(NotFittedError):
        step.transform(items)
    assert step.fit(items) is step
    out = step.transform(items)
    assert out.shape == (len(items), 2) and np.isfinite(out).all()
    assert list(step.get_feature_names_out()) == ["guideline_supported", "indication_documented"]
    assert clone(step).get_params() == step.get_params()
    with pytest.raises(ValueError, match="unknown feature"):
        GuidelineFeatures(features=("nope",)).fit(items)
    with pytest.raises(TypeError, match="DataFrame"):
        GuidelineFeatures().fit(items.to_numpy())


def test_the_docs_show_how_to_review_a_table():
    text = (REPO / "docs" / "knowledge.md").read_text(encoding="utf-8")
    assert "docs/knowledge.md" in (REPO / "README.md").read_text(encoding="utf-8")
    for name in (
        "services.toml",
        "subcategories.toml",
        "criteria.toml",
        "evidence.toml",
        "limits.toml",
    ):
        assert name in text
    # the example diff in the docs changes a field that exists in the tables
    for old in re.findall(r"^-(\w+ = .+)$", text, flags=re.MULTILINE):
        assert any(
            old in (KNOWLEDGE_DIR / f).read_text() for f in ("subcategories.toml", "criteria.toml")
        ), old
