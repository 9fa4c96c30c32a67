"""Tag each decision rationale with the denial reasons the reviewer gave.

POST-DECISION TEXT: the rationale is written after the decision. These tags are for
analysis and development only (which guideline criteria reviewers apply to which kind of
service, so that :mod:`features.criteria` checks those); no model input reads them, and
nothing under ``features/`` or ``models/`` imports this module (a test checks).

    .venv/bin/python -m analysis.rationale_tags [--dataset work/dataset] [--out FILE.md]

prints (or writes) the table of reason codes by service category, with counts, for
upheld and for overturned items.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

#: Reason code -> (what it means, pattern over the rationale, lower-cased).
REASON_CODES: dict[str, tuple[str, str]] = {
    "quantity_exceeds_guideline": (
        "the number requested (with prior visits) exceeds the guideline's",
        r"exceed\w*|in\s+excess\s+of|beyond\s+the\s+(?:recommended|guideline)|"
        r"more\s+than\s+the\s+(?:recommended|guideline)|additional\s+sessions?\s+(?:is|are)\s+not",
    ),
    "no_functional_improvement": (
        "no documented functional improvement from prior treatment",
        r"(?:no|lack\s+of|without|absence\s+of|not\s+(?:been\s+)?(?:documented|demonstrated))"
        r"[^.]{0,60}functional\s+(?:improvement|gains?|benefit)|"
        r"functional\s+improvement[^.]{0,40}not\s+(?:been\s+)?(?:documented|established)",
    ),
    "not_recommended": (
        "the guideline does not recommend this treatment (or this use of it)",
        r"not\s+recommended|do(?:es)?\s+not\s+recommend|not\s+supported\s+by\s+(?:the\s+)?"
        r"(?:guidelines?|mtus|odg|acoem)|guidelines?\s+do(?:es)?\s+not\s+support",
    ),
    "no_failed_conservative_care": (
        "no documented trial and failure of first-line or conservative care",
        r"(?:no|lack\s+of|without)[^.]{0,60}(?:fail\w*|trial)[^.]{0,40}"
        r"(?:conservative|first[\s-]line|other\s+treatment)|"
        r"(?:failed|failure\s+of)\s+(?:a\s+)?(?:proper\s+)?(?:conservative|first[\s-]line)",
    ),
    "no_objective_findings": (
        "no red flags, neurological deficits or objective findings",
        r"red\s+flags?|neurolog\w*\s+(?:deficits?|findings|dysfunction|compromise)|"
        r"objective\s+(?:findings|evidence|signs)|nerve\s+compromise|radiculopathy\s+(?:is|was)\s+not",
    ),
    "no_documented_indication": (
        "no indication or rationale for the request",
        r"no\s+(?:clear\s+)?(?:indication|rationale)|lack\s+of\s+(?:a\s+)?(?:clear\s+)?"
        r"(?:indication|rationale)|rationale[^.]{0,40}not\s+(?:provided|given|documented)|"
        r"(?:not|no)\s+(?:been\s+)?(?:established|indicated)",
    ),
    "insufficient_documentation": (
        "insufficient documentation (dosing, quantity, history, response)",
        r"lack\s+of\s+documentation|insufficient\s+documentation|not\s+documented|"
        r"no\s+documentation|(?:was|is)\s+unclear|not\s+specified|unspecified|"
        r"quantity[^.]{0,30}not|frequency[^.]{0,30}not",
    ),
    "repeat_imaging": (
        "repeat imaging without a significant change",
        r"repeat\s+(?:mri|imaging|study|ct|x-?ray|emg)|previous(?:ly)?\s+(?:mri|imaging|study)|"
        r"prior\s+(?:mri|imaging|study)",
    ),
    "associated_surgery_not_supported": (
        "the surgery it belongs to is not supported",
        r"(?:surgery|surgical\s+(?:procedure|request)|primary\s+(?:procedure|request))"
        r"[^.]{0,60}(?:not\s+(?:medically\s+necessary|supported|certified|indicated))|"
        r"associated[^.]{0,40}not\s+(?:medically\s+necessary|needed|supported)",
    ),
}
_COMPILED = {code: re.compile(p, re.IGNORECASE) for code, (_, p) in REASON_CODES.items()}


def tag_rationale(rationale: str | None) -> list[str]:
    """The reason codes a rationale cites, in :data:`REASON_CODES` order."""
    text = " ".join(str(rationale or "").split())
    return [code for code, rx in _COMPILED.items() if rx.search(text)]


def reason_table(items: pd.DataFrame) -> pd.DataFrame:
    """Counts of each reason code by service category and decision.

    Columns: ``category``, ``decision``, ``items`` (that category and decision), then one
    column per code: how many of those items' rationales cite it.
    """
    from features.services import service_kind

    frame = pd.DataFrame(
        {
            "category": [service_kind(s).category for s in items["service"].fillna("")],
            "decision": items["decision"].to_numpy(),
            "tags": [tag_rationale(r) for r in items["decision_rationale"]],
        }
    )
    rows = []
    for (category, decision), group in frame.groupby(["category", "decision"]):
        counts = {code: sum(code in t for t in group["tags"]) for code in REASON_CODES}
        rows.append({"category": category, "decision": decision, "items": len(group), **counts})
    return pd.DataFrame(rows).sort_values(["decision", "items"], ascending=[False, False])


def to_markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, codes explained below it."""
    columns = list(table.columns)
    lines = [
        "# Reasons reviewers cite, by service category and decision",
        "",
        "Counts of rationales that mention each reason (post-decision text: analysis only,",
        "never a model input). Made with",
        "`.venv/bin/python -m analysis.rationale_tags --dataset work/dataset --out FILE`.",
        "A code is a mention, not a verdict: an overturning rationale may cite a criterion",
        "as met.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + " --- |" * len(columns),
    ]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(False)]
    lines += ["", "Codes:"]
    lines += [f"- `{code}`: {meaning}" for code, (meaning, _) in REASON_CODES.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="dataset folder (default: ../shared)")
    parser.add_argument("--out", type=Path, help="write the Markdown table here")
    args = parser.parse_args(argv)
    from data.ingest import dataset_or_shared_letters

    text = to_markdown(reason_table(dataset_or_shared_letters(args.dataset)))
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


#: The criterion of :mod:`features.criteria` each reason code speaks to.
CRITERION_OF_CODE = {
    "not_recommended": "guideline_recommends",
    "quantity_exceeds_guideline": "quantity_within_guideline",
    "no_functional_improvement": "functional_improvement",
    "no_failed_conservative_care": "failed_conservative_care",
    "no_objective_findings": "objective_findings",
    "repeat_imaging": "no_repeat_imaging",
    "associated_surgery_not_supported": "with_surgery_request",
}


def citation_shares(items: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per service category: the share of its upheld items whose rationale cites each
    criterion (keyed by :mod:`features.criteria` codes), for showing beside a likely
    denial reason. Analysis of post-decision text: never a model input."""
    table = reason_table(items)
    upheld = table[table["decision"] == "Upheld"]
    out: dict[str, dict[str, float]] = {}
    for _, row in upheld.iterrows():
        out[row["category"]] = {
            criterion: round(row[code] / row["items"], 4)
            for code, criterion in CRITERION_OF_CODE.items()
        }
    out["_items"] = {row["category"]: int(row["items"]) for _, row in upheld.iterrows()}
    return out
