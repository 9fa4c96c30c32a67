"""Letter texts written for the tests (our own words), in the supported layout."""

from __future__ import annotations


def letter(
    summary: str = "The injured worker is a 45 year old female who sustained an industrial "
    "injury on 03/04/2015. Treatment to date has included 12 sessions of physical therapy "
    "which did not help.",
    items: tuple[tuple[str, str], ...] = (
        ("Physical therapy 2 times a week for 4 weeks", "Upheld"),
    ),
    case_number: str = "CM16-0000001",
    rationale: str = "The guideline allows 10 visits. The request is not medically necessary.",
) -> str:
    """A determination letter in the supported layout with the given items."""
    lines = [
        f"Case Number: {case_number}",
        "Date Assigned: 11/09/2016 Date of Injury: 03/04/2015",
        "Decision Date: 12/09/2016 UR Denial Date: 11/03/2016",
        "Priority: Standard Application",
        "Received:",
        "11/04/2016",
        "HOW THE IMR FINAL DETERMINATION WAS MADE",
        "MAXIMUS Federal Services sent the complete case file to an expert reviewer.",
        "The Expert Reviewer has the following credentials:",
        "State(s) of Licensure: California",
        "Certification(s)/Specialty: Orthopedic Surgery",
        "CLINICAL CASE SUMMARY",
        "The expert reviewer developed the following clinical case summary based on a review "
        "of the",
        "case file, including all medical records:",
        summary,
        "IMR ISSUES, DECISIONS AND RATIONALES",
        "The Final Determination was based on decisions for the disputed items/services "
        "set forth below:",
    ]
    for service, decision in items:
        lines += [
            f"{service}: {decision}",
            "Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment",
            "Guidelines.",
            "MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment Guidelines.",
            f"Decision rationale: {rationale}",
        ]
    return "\n".join(lines) + "\n"
