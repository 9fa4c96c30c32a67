"""What a fetch run writes besides the letters: the search table and the report.

Pure functions of the rows walked and the manifest's file entries, so that a run stopped
at any point still writes a table and a report that say exactly where things stand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from data.fetch.checks import agreeing_treatments
from data.fetch.site import Treatment

RESULTS_FILE = "search_results.parquet"
FETCH_REPORT_FILE = "fetch_report.json"
#: Columns of ``search_results.parquet``, one row per treatment; documented in the README.
RESULT_COLUMNS = (
    "case_number",
    "treatment_index",
    "decision_date",
    "injury_date",
    "received_date",
    "specialty",
    "category",
    "sub_category",
    "site_decision",
    "decision",
    "letter_url",
    "letter_status",
    "pdf_path",
    "pdf_sha256",
)
LETTER_STATUSES = ("fetched", "rejected", "failed", "pending")


def results_table(rows: list[Treatment], files: dict[str, dict]) -> pd.DataFrame:
    """One row per treatment, with the state of its case's letter (``pending``: not yet)."""
    records = []
    seen: dict[str, int] = {}
    for row in rows:
        number = seen.get(row.case_number, 0)
        seen[row.case_number] = number + 1
        entry = files.get(row.case_number) or {}
        records.append(
            {
                "case_number": row.case_number,
                "treatment_index": number,
                "decision_date": row.decision_date,
                "injury_date": row.injury_date,
                "received_date": row.received_date,
                "specialty": row.specialty,
                "category": row.category,
                "sub_category": row.sub_category,
                "site_decision": row.site_decision,
                "decision": row.decision,
                "letter_url": row.letter_url,
                "letter_status": entry.get("status", "pending"),
                "pdf_path": entry.get("path"),
                "pdf_sha256": entry.get("sha256"),
            }
        )
    table = pd.DataFrame(records, columns=list(RESULT_COLUMNS))
    table["treatment_index"] = table["treatment_index"].astype("int64")
    # object columns whatever the rows: a column's type never depends on what was found
    return table.astype({c: "object" for c in RESULT_COLUMNS if c != "treatment_index"})


def letters_and_agreement(
    table: pd.DataFrame,
    files: dict[str, dict],
    *,
    complete_table: bool,
    new_cases: set[str],
    out_dir: Path,
) -> tuple[list[dict], dict, dict]:
    """Per case its letter's state, the counts per state, and the agreement between the
    table's decisions and the parsed letters' (for letters that parsed)."""
    entries = []
    counts = dict.fromkeys(LETTER_STATUSES, 0)
    compared = agreeing_letters = treatments_compared = treatments_agreeing = 0
    for case, group in table.groupby("case_number", sort=False):
        entry = files.get(case)
        if entry is None:
            counts["pending"] += 1
            continue
        counts[entry["status"]] += 1
        decisions = entry.get("letter_decisions")
        if decisions is not None:
            site = list(group["decision"])
            agreeing = agreeing_treatments(site, decisions)
            compared += 1
            treatments_compared += len(site)
            treatments_agreeing += agreeing
            same_count = not complete_table or len(decisions) == len(site)
            agreeing_letters += agreeing == len(site) and same_count
        path = str(out_dir / entry["path"]) if entry["path"] else None
        described = {
            "case_number": case,
            "status": entry["status"],
            "path": path,
            "kind": entry["kind"],
            "reason": entry["reason"],
            "sha256": entry["sha256"],
            "url": entry["url"],
            "treatments": len(group),
            "new": case in new_cases,
        }
        entries.append({k: v for k, v in described.items() if v is not None})
    agreement = {
        "comparison": "same decisions"
        if complete_table
        else "table's decisions among the letter's (the search was filtered)",
        "letters_compared": compared,
        "letters_agreeing": int(agreeing_letters),
        "treatments_compared": treatments_compared,
        "treatments_agreeing": treatments_agreeing,
        "treatment_agreement_rate": round(treatments_agreeing / treatments_compared, 4)
        if treatments_compared
        else None,
    }
    return entries, counts, agreement
