"""Synthetic determination letters with a known probability of being overturned.

For demos, scale tests and calibration checks only: **never a measure of model quality**.
Every letter carries :data:`settings.SYNTHETIC_MARKER` on its first line, which the parser
records as ``synthetic=True``.

Ground truth. Each letter states, in its case summary, facts a reviewer weighs: sessions
of prior therapy of the requested modality, whether failure of conservative care is
documented, whether an imaging report is available, whether functional improvement from
prior treatment is documented. The outcome of each item is drawn from

    logit P(Overturned) = -2.4
                          + 1.3 * documented_failure
                          + 1.1 * imaging_report_available     (imaging / injection requests)
                          + 1.2 * functional_improvement       (therapy requests)
                          - 0.12 * max(0, prior + requested - ceiling)   (therapy requests)

with ceiling 10 for physical therapy, 18 for chiropractic and 24 for acupuncture; the
probability and the facts are written to ``ground_truth.csv`` beside the letters.

Usage: ``python -m data.synthetic OUT_DIR --letters 500 --seed 0``.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from dataclasses import dataclass
from pathlib import Path

from data.csv_output import safe_row
from settings import SYNTHETIC_MARKER

INTERCEPT = -2.4
W_FAILURE = 1.3
W_IMAGING = 1.1
W_IMPROVEMENT = 1.2
W_EXCESS_SESSION = 0.12
CEILINGS = {"physical therapy": 10, "chiropractic": 18, "acupuncture": 24}

_REGIONS = ["lumbar spine", "cervical spine", "right shoulder", "left knee", "right wrist", "hip"]
_DIAGNOSES = {
    "lumbar spine": ["lumbar strain", "lumbar radiculopathy", "degenerative disc disease"],
    "cervical spine": ["cervical strain", "cervical radiculopathy", "neck pain"],
    "right shoulder": ["rotator cuff tendinitis", "shoulder impingement", "shoulder strain"],
    "left knee": ["knee sprain", "meniscal tear", "patellofemoral pain"],
    "right wrist": ["carpal tunnel syndrome", "wrist sprain", "de Quervain tenosynovitis"],
    "hip": ["hip bursitis", "hip strain", "gluteal tendinitis"],
}
_MEDS = ["ibuprofen", "naproxen", "tramadol", "cyclobenzaprine", "gabapentin", "Norco"]
_THERAPIES = ["physical therapy", "chiropractic", "acupuncture"]


@dataclass
class SyntheticItem:
    """One requested service and its true probability of being overturned."""

    service: str
    kind: str  # therapy | imaging | injection | medication
    p_overturned: float
    decision: str


def true_probability(
    kind: str,
    *,
    failure: bool,
    imaging_available: bool,
    improvement: bool,
    prior: int = 0,
    requested: int = 0,
    ceiling: int = 10,
) -> float:
    """The documented ground-truth rule (see the module docstring)."""
    logit = INTERCEPT + W_FAILURE * failure
    if kind in ("imaging", "injection"):
        logit += W_IMAGING * imaging_available
    if kind == "therapy":
        logit += W_IMPROVEMENT * improvement
        logit -= W_EXCESS_SESSION * max(0, prior + requested - ceiling)
    return 1.0 / (1.0 + math.exp(-logit))


def _summary(rng: random.Random, facts: dict) -> str:
    region, sex, age = facts["region"], facts["sex"], facts["age"]
    pronoun = "He" if sex == "male" else "She"
    diagnoses = rng.sample(_DIAGNOSES[region], k=rng.randint(1, 2))
    parts = [
        f"The injured worker is a {age} year old {sex} who sustained an industrial injury on "
        f"{facts['injury_date']:%m/%d/%Y}.",
        f"The diagnoses include {' and '.join(diagnoses)} of the {region}.",
    ]
    prior = facts["prior_sessions"]
    if prior:
        parts.append(
            f"Treatment to date has included {prior} sessions of {facts['therapy']}, "
            f"medications including {rng.choice(_MEDS)}, and a home exercise program."
        )
    else:
        parts.append(
            f"Treatment to date has included medications including {rng.choice(_MEDS)} "
            "and activity modification."
        )
    if facts["failure"]:
        parts.append(
            rng.choice(
                [
                    f"{pronoun} reported that conservative treatment did not help.",
                    "The medications failed to provide relief.",
                    "Conservative care has failed.",
                ]
            )
        )
    if facts["improvement"]:
        parts.append(
            rng.choice(
                [
                    "Prior treatment resulted in functional improvement with increased "
                    "walking tolerance.",
                    f"{pronoun} reported 50% improvement in pain and function with prior therapy.",
                ]
            )
        )
    elif prior and rng.random() < 0.5:
        parts.append("There was no documented functional improvement from prior therapy.")
    if facts["imaging_available"]:
        parts.append(
            f"MRI of the {region} dated {facts['imaging_date']:%m/%d/%Y} showed mild "
            f"degenerative changes."
        )
    elif rng.random() < 0.5:
        parts.append(
            f"An MRI of the {region} was reportedly done but the report was not available."
        )
    parts.append(
        f"On examination there was tenderness of the {region} with decreased range of motion."
    )
    parts.append(f"On {facts['ur_date']:%m/%d/%Y}, utilization review non-certified the requests.")
    return " ".join(parts)


def _items(rng: random.Random, facts: dict) -> list[SyntheticItem]:
    region = facts["region"]
    therapy = facts["therapy"]
    candidates = []
    per_week, weeks = rng.choice([(2, 3), (2, 4), (3, 4), (2, 6)])
    requested = per_week * weeks
    p = true_probability(
        "therapy",
        failure=facts["failure"],
        imaging_available=facts["imaging_available"],
        improvement=facts["improvement"],
        prior=facts["prior_sessions"],
        requested=requested,
        ceiling=CEILINGS[therapy],
    )
    name = therapy[0].upper() + therapy[1:]
    candidates.append(
        (f"{name} {per_week} times a week for {weeks} weeks for the {region}", "therapy", p)
    )
    imaging_service = (
        f"MRI of the {region} without contrast"
        if not facts["imaging_available"]
        else f"Repeat MRI of the {region}"
    )

    def p(kind: str) -> float:
        return true_probability(
            kind,
            failure=facts["failure"],
            imaging_available=facts["imaging_available"],
            improvement=facts["improvement"],
        )

    candidates.append((imaging_service, "imaging", p("imaging")))
    candidates.append((f"Corticosteroid injection of the {region}", "injection", p("injection")))
    med = rng.choice(_MEDS)
    candidates.append((f"{med} #{rng.choice([30, 60, 90])}", "medication", p("medication")))
    chosen = rng.sample(candidates, k=rng.choice([1, 1, 2, 2, 3]))
    return [
        SyntheticItem(service, kind, p, "Overturned" if rng.random() < p else "Upheld")
        for service, kind, p in chosen
    ]


def letter_text(case_number: str, facts: dict, summary: str, items: list[SyntheticItem]) -> str:
    """A letter in the supported layout, marked synthetic."""
    lines = [
        SYNTHETIC_MARKER,
        f"Case Number: {case_number}",
        f"Date Assigned: {facts['assigned_date']:%m/%d/%Y} "
        f"Date of Injury: {facts['injury_date']:%m/%d/%Y}",
        f"Decision Date: {facts['decision_date']:%m/%d/%Y} "
        f"UR Denial Date: {facts['ur_date']:%m/%d/%Y}",
        "Priority: Standard Application",
        "Received:",
        f"{facts['received_date']:%m/%d/%Y}",
        "HOW THE IMR FINAL DETERMINATION WAS MADE",
        "MAXIMUS Federal Services sent the complete case file to an expert reviewer.",
        "The Expert Reviewer has the following credentials:",
        "State(s) of Licensure: California",
        "Certification(s)/Specialty: Synthetic Medicine",
        "CLINICAL CASE SUMMARY",
        "The expert reviewer developed the following clinical case summary based on a review of "
        "the case file, including all medical records:",
        summary,
        "IMR ISSUES, DECISIONS AND RATIONALES",
        "The Final Determination was based on decisions for the disputed items/services set "
        "forth below:",
    ]
    for item in items:
        lines += [
            f"{item.service}: {item.decision}",
            "Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical "
            "Treatment Guidelines.",
            "MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment Guidelines.",
            "Decision rationale: Synthetic decision drawn with probability "
            f"{item.p_overturned:.3f}.",
        ]
    return "\n".join(lines) + "\n"


def generate_letter(rng: random.Random, index: int, start: dt.date, span_days: int):
    """One synthetic letter: (file name, text, ground-truth rows)."""
    decision_date = start + dt.timedelta(days=rng.randrange(span_days))
    injury_date = decision_date - dt.timedelta(days=rng.randint(90, 2500))
    ur_date = decision_date - dt.timedelta(days=rng.randint(30, 60))
    facts = {
        "region": rng.choice(_REGIONS),
        "sex": rng.choice(["male", "female"]),
        "age": rng.randint(22, 68),
        "therapy": rng.choice(_THERAPIES),
        "prior_sessions": rng.choice([0, 0, 6, 8, 12, 18, 24, 30]),
        "failure": rng.random() < 0.35,
        "imaging_available": rng.random() < 0.4,
        "improvement": rng.random() < 0.3,
        "injury_date": injury_date,
        "ur_date": ur_date,
        "received_date": ur_date + dt.timedelta(days=rng.randint(1, 10)),
        "assigned_date": decision_date - dt.timedelta(days=rng.randint(10, 25)),
        "decision_date": decision_date,
        "imaging_date": injury_date + dt.timedelta(days=rng.randint(10, 60)),
    }
    summary = _summary(rng, facts)
    items = _items(rng, facts)
    case_number = f"SY{decision_date:%y}-{index:07d}"
    name = f"synthetic_{index:06d}.txt"
    rows = [
        {
            "source_file": name,
            "item_index": i,
            "service": item.service,
            "kind": item.kind,
            "p_overturned": round(item.p_overturned, 6),
            "decision": item.decision,
            **{
                k: facts[k]
                for k in (
                    "therapy",
                    "prior_sessions",
                    "failure",
                    "imaging_available",
                    "improvement",
                )
            },
        }
        for i, item in enumerate(items)
    ]
    return name, letter_text(case_number, facts, summary, items), rows


def generate_corpus(
    out_dir: Path,
    n_letters: int,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2016, 1, 1),
    span_days: int = 730,
) -> Path:
    """Write ``n_letters`` synthetic letters and ``ground_truth.csv`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    truth = []
    for index in range(n_letters):
        name, text, rows = generate_letter(rng, seed * 10_000_000 + index, start, span_days)
        (out_dir / name).write_text(text, encoding="utf-8")
        truth.extend(rows)
    truth_path = out_dir / "ground_truth.csv"
    with truth_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(truth[0]) if truth else ["source_file"])
        writer.writeheader()
        writer.writerows(safe_row(row) for row in truth)  # spreadsheet-safe, like every CSV
    return truth_path


def main() -> None:
    """Command line: ``python -m data.synthetic OUT_DIR --letters N --seed S``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    path = generate_corpus(args.out_dir, args.letters, seed=args.seed)
    print(f"wrote {args.letters} SYNTHETIC letters to {args.out_dir} (ground truth: {path})")


if __name__ == "__main__":
    main()
