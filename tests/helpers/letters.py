"""Letter texts written for the tests (our own words), in the supported layout."""

from __future__ import annotations

import re


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


_DECISION_AT_END = re.compile(r"^(?P<statement>.*?:)\s*(?:Upheld|Overturned)\s*$")
_DECISION_ALONE = re.compile(r"^\s*(?:Upheld|Overturned)\s*$")
_MAXIMUS = re.compile(r"^\s*MAXIMUS guideline:", re.IGNORECASE)
_RATIONALE = re.compile(r"^\s*Decision rationale:", re.IGNORECASE)


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def letter_as_draft(text: str, statements: list[str]) -> str:
    """The letter before its decisions, as the draft form is documented: every decision
    word removed (also on a line of its own), every ``MAXIMUS guideline:`` and ``Decision
    rationale:`` block removed, every other line kept as it is.

    ``statements`` are the letter's item statements in order (``item_text``); they only
    locate where each statement starts, so that the rationale before it can be cut.
    Raises ``ValueError`` when the text does not hold them.
    """
    lines = text.split("\n")
    ends = [
        i
        for i, line in enumerate(lines)
        if _DECISION_AT_END.match(line)
        or (_DECISION_ALONE.match(line) and lines[i - 1].rstrip().endswith(":"))
    ]
    if len(ends) != len(statements):
        raise ValueError(f"{len(ends)} decision lines for {len(statements)} statements")
    starts = []
    for end, statement in zip(ends, statements, strict=True):
        for start in range(end, max(-1, end - 12), -1):
            block = " ".join(lines[start : end + 1])
            if _alnum(re.sub(r"(Upheld|Overturned)\s*$", "", block)) == _alnum(statement):
                starts.append(start)
                break
        else:
            raise ValueError(f"statement not found before line {end + 1}: {statement!r}")
    drop: set[int] = set()
    for k, end in enumerate(ends):
        stop = starts[k + 1] if k + 1 < len(ends) else len(lines)
        cut = next(
            (
                i
                for i in range(end + 1, stop)
                if _MAXIMUS.match(lines[i]) or _RATIONALE.match(lines[i])
            ),
            stop,
        )
        drop.update(range(cut, stop))
        if _DECISION_ALONE.match(lines[end]):
            drop.add(end)
        else:
            lines[end] = _DECISION_AT_END.match(lines[end])["statement"]
    return "\n".join(line for i, line in enumerate(lines) if i not in drop)
