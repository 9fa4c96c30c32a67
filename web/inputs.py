"""What the web page receives, turned into pre-filing rows: drafts, letters and batches.

Everything stays in memory: uploads arrive as bytes (see :mod:`web.app`, which never lets
the framework spool them to a temporary file) and are parsed from those bytes by the same
functions ``predict.py`` uses on files (:mod:`models.scoring.drafts`), so the page and the
command line read an input the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from data.letters.errors import LetterError
from models.scoring.drafts import InputError, batch_rows, draft_rows, letter_rows
from settings import MAX_LETTER_BYTES

#: The draft form's fields, in the order the form shows them.
DRAFT_FIELDS = (
    "case_summary",
    "services",
    "injury_date",
    "ur_denial_date",
    "claims_admin_guideline",
)
#: A fact ticked on the page is a sentence added to the summary; longer is not a what-if.
MAX_FACT_CHARS = 1_000


@dataclass
class Draft:
    """The draft form as submitted, and the facts ticked for re-scoring."""

    case_summary: str = ""
    services: str = ""
    injury_date: str = ""
    ur_denial_date: str = ""
    claims_admin_guideline: str = ""
    #: ``{"fact": label, "added_text": sentence}`` per ticked what-if, in ticking order
    added_facts: list[dict] = field(default_factory=list)

    def service_lines(self) -> list[str]:
        return [line.strip() for line in self.services.splitlines() if line.strip()]

    def scored_summary(self) -> str:
        """The summary the model scores: the user's, then each ticked fact's sentence.

        Joined as ``predict.py``'s what-if joins them (one space), so ticking a fact gives
        exactly the probability that fact's what-if line showed.
        """
        parts = [self.case_summary.strip(), *(f["added_text"] for f in self.added_facts)]
        return " ".join(p for p in parts if p)


def _fact(value: str) -> dict | None:
    """A ticked what-if from its checkbox value (JSON ``{fact, added_text}``), or None."""
    try:
        fact = json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return None
    if not isinstance(fact, dict):
        return None
    label, text = fact.get("fact"), fact.get("added_text")
    if not (isinstance(label, str) and isinstance(text, str)) or not text.strip():
        return None
    if len(text) > MAX_FACT_CHARS or len(label) > MAX_FACT_CHARS:
        return None
    return {"fact": label, "added_text": text.strip()}


def draft_from_form(form) -> Draft:
    """The draft in a submitted form (a mapping with ``getlist``, e.g. Werkzeug's)."""
    # browsers send a textarea's line breaks as CRLF; the user typed (and a file holds) LF
    draft = Draft(**{name: (form.get(name) or "").replace("\r\n", "\n") for name in DRAFT_FIELDS})
    seen = set()
    for value in form.getlist("add_fact"):
        fact = _fact(value)
        if fact and fact["added_text"] not in seen:
            seen.add(fact["added_text"])
            draft.added_facts.append(fact)
    return draft


def draft_rows_of(draft: Draft) -> list[dict]:
    """Rows to score for a draft, exactly as ``predict.py --summary ... --service ...``."""
    return draft_rows(
        draft.scored_summary(),
        draft.service_lines(),
        source="the form",
        injury_date=draft.injury_date.strip() or None,
        ur_denial_date=draft.ur_denial_date.strip() or None,
        claims_admin_guideline=draft.claims_admin_guideline.strip() or None,
    )


def _check_size(name: str, data: bytes) -> None:
    if len(data) > MAX_LETTER_BYTES:
        raise LetterError(
            f"file is {len(data) / 2**20:.0f} MiB, larger than any letter "
            f"({MAX_LETTER_BYTES // 2**20} MiB limit); is it really a determination letter?",
            kind="too_large",
        )


def draft_from_letter(name: str, data: bytes) -> tuple[Draft, list[str]]:
    """The draft form filled from an uploaded letter, and notes on what was not carried over.

    Raises ``LetterError`` (with a reason a person can act on) when the file is not a
    letter this program reads.
    """
    _check_size(name, data)
    rows = letter_rows(Path(name or "letter"), data)
    first = rows[0]
    notes = []
    guidelines = {r["claims_admin_guideline"] for r in rows if r["claims_admin_guideline"]}
    guideline = ""
    if len(guidelines) == 1:
        guideline = guidelines.pop()
    elif guidelines:
        notes.append(
            "the letter gives the claims administrator's guideline separately for each service; "
            "the form takes one, so it was left empty"
        )
    draft = Draft(
        case_summary=first["case_summary"] or "",
        # item_text keeps partial-authorization preambles, which the parser reads again
        services="\n".join(r["item_text"] for r in rows),
        injury_date=first["injury_date"] or "",
        ur_denial_date=first["ur_denial_date"] or "",
        claims_admin_guideline=guideline,
    )
    return draft, notes


def batch_upload_rows(files: list[tuple[str, bytes]]) -> tuple[list[dict], list[dict]]:
    """(rows, unscorable) from uploaded files: one batch CSV, or letters (PDF or text).

    As ``predict.py --batch`` and ``predict.py LETTERS...``: a letter or CSV row that
    cannot be scored is set aside with its reason and the rest go on. Raises
    ``InputError`` when the upload as a whole cannot be used.
    """
    files = [(name, data) for name, data in files if name or data]
    if not files:
        raise InputError("no file uploaded; choose a CSV of cases or one or more letters")
    csvs = [f for f in files if f[0].lower().endswith(".csv")]
    if csvs:
        if len(files) > 1:
            raise InputError(
                "upload either one CSV of cases or letters (PDF or text), not both or several "
                "CSVs; the CSV needs the columns case_summary and service"
            )
        name, data = csvs[0]
        return batch_rows(Path(name), data)
    rows, unscorable = [], []
    for name, data in files:
        try:
            _check_size(name, data)
            rows.extend(letter_rows(Path(name), data))
        except LetterError as exc:
            unscorable.append({"source_file": name, "error": exc.reason})
    return rows, unscorable
