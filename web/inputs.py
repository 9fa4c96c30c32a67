"""What the web page receives, turned into pre-filing rows: drafts, letters and batches.

Everything stays in memory: uploads arrive as bytes (see :mod:`web.app`, which never lets
the framework spool them to a temporary file). No upload is parsed in the server's
process: letters, drafts and batch CSVs go to the limited parsing workers of ingestion
(:mod:`data.letters.pool`: memory, time, pages, size), which read them with the same code
as ``predict.py``, so the page and the command line read an input the same way, and a
hostile file costs only its worker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from data.drafts.rows import InputError, draft_rows, rows_of_records
from data.letters.draft_file import summary_too_long
from data.letters.errors import LetterError
from data.letters.names import display_name
from data.letters.pool import ParseJob, parse_all, parse_one, plain_reason
from settings import MAX_ITEMS_PER_LETTER, MAX_LETTER_BYTES, MAX_SUMMARY_CHARS

#: The draft form's fields, in the order the form shows them.
DRAFT_FIELDS = (
    "case_summary",
    "services",
    "injury_date",
    "ur_denial_date",
    "claims_admin_guideline",
)
#: How the page's messages name the form's fields.
FIELD_LABELS = {
    "case_summary": "case summary",
    "services": "requested services",
    "injury_date": "injury date",
    "ur_denial_date": "UR denial date",
    "claims_admin_guideline": "claims administrator's guideline",
}
#: A fact ticked on the page is a sentence added to the summary; longer is not a what-if.
MAX_FACT_CHARS = 1_000
#: Ticked what-ifs kept; a draft offers a few per service, and more are ignored.
MAX_FACTS = 100
#: Seconds the parsing workers may take for all the files of one upload together (each
#: file also has the worker's own limit, :data:`settings.PARSE_SECONDS`).
UPLOAD_PARSE_SECONDS = 60.0


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
        if fact and fact["added_text"] not in seen and len(seen) < MAX_FACTS:
            seen.add(fact["added_text"])
            draft.added_facts.append(fact)
    return draft


def limit_draft(draft: Draft) -> list[str]:
    """Messages for the fields of ``draft`` over the page's limits, which are the limits of
    ingestion: a case summary of at most :data:`settings.MAX_SUMMARY_CHARS` characters, at
    most :data:`settings.MAX_ITEMS_PER_LETTER` services. A field over its limit is emptied,
    so the page never echoes it back."""
    errors = []
    if len(draft.case_summary) > MAX_SUMMARY_CHARS:
        reason = summary_too_long(len(draft.case_summary)).reason
        errors.append(f"{reason}. It was not kept in the form: paste a shorter one.")
        draft.case_summary = ""
    for name, label in FIELD_LABELS.items():
        value = getattr(draft, name)
        if name != "case_summary" and len(value) > MAX_SUMMARY_CHARS:
            errors.append(
                f"The {label} field is {len(value):,} characters long, more than this page takes "
                f"({MAX_SUMMARY_CHARS:,}); it was not kept in the form."
            )
            setattr(draft, name, "")
    services = len(draft.service_lines())
    if services > MAX_ITEMS_PER_LETTER:
        errors.append(
            f"The draft lists {services:,} services; one draft can hold at most "
            f"{MAX_ITEMS_PER_LETTER} (no letter has more). Split it into several drafts."
        )
    return errors


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


def _check_size(data: bytes) -> None:
    if len(data) > MAX_LETTER_BYTES:
        raise LetterError(
            f"the file is {len(data) / 2**20:.0f} MiB, larger than any letter or draft "
            f"({MAX_LETTER_BYTES // 2**20} MiB limit)",
            kind="too_large",
        )


def _refused(reply: dict) -> LetterError:
    """The error for a file a worker could not read, in a person's words."""
    return LetterError(plain_reason(reply), kind=reply["kind"])


def draft_from_file(name: str, data: bytes) -> tuple[Draft, list[str]]:
    """The draft form filled from an uploaded file, and notes for the person.

    A letter, or a draft in the letter layout, fills every field from its pre-filing parts;
    any other draft (plain text, PDF with a text layer, Word ``.docx``) fills the case
    summary. The file is read by a limited worker (:mod:`data.letters.pool`), never in this
    process. Raises ``LetterError`` (with a reason a person can act on) when it cannot be.
    """
    _check_size(data)
    job = ParseJob(0, data, Path(name or "draft").suffix, allow_draft=True, task="draft")
    reply = parse_one(job)
    if reply["status"] == "failed":
        raise _refused(reply)
    if reply["status"] == "text":
        note = (
            f"Filled the case summary from {name}. It is not an IMR letter, so add the "
            "requested services (one per line), then score."
        )
        return Draft(case_summary=reply["text"]), [note]
    rows = rows_of_records(display_name(name or "letter"), reply["records"])
    first = rows[0]
    notes = [
        f"Filled from {name}: the case summary and {len(rows)} requested service(s). "
        "Check them, then score."
    ]
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


def _batch_csv(name: str, data: bytes) -> tuple[list[dict], list[dict]]:
    """(rows, unscorable) of a batch CSV, read by a limited worker."""
    try:
        _check_size(data)
    except LetterError as exc:
        raise InputError(f"{name}: {exc.reason}; split the CSV into smaller files") from exc
    reply = parse_one(ParseJob(0, data, ".csv", task="batch_csv", name=name))
    if reply["status"] == "failed":
        reason = reply["reason"] if reply["kind"] == "bad_input" else _refused(reply).reason
        if not reason.startswith(name):
            reason = f"{name}: {reason}"
        raise InputError(reason)
    return reply["rows"], reply["unscorable"]


def batch_upload_rows(files: list[tuple[str, bytes]]) -> tuple[list[dict], list[dict]]:
    """(rows, unscorable) from uploaded files: one batch CSV, or letters (PDF or text).

    As ``predict.py --batch`` and ``predict.py LETTERS...``: a letter or CSV row that
    cannot be scored is set aside with its reason and the rest go on. Every file is read
    by limited workers; all of one upload's letters get :data:`UPLOAD_PARSE_SECONDS` in
    all. Raises ``InputError`` when the upload as a whole cannot be used.
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
        return _batch_csv(*csvs[0])
    outcomes: dict[int, list[dict] | LetterError] = {}
    jobs = []
    for index, (name, data) in enumerate(files):
        try:
            _check_size(data)
        except LetterError as exc:
            outcomes[index] = exc
            continue
        jobs.append(ParseJob(index, data, Path(name).suffix, allow_draft=True))
    for job, reply in parse_all(jobs, total_seconds=UPLOAD_PARSE_SECONDS):
        name = files[job.key][0]
        if reply["status"] == "failed":
            outcomes[job.key] = _refused(reply)
        else:
            outcomes[job.key] = rows_of_records(display_name(name), reply["records"])
    rows, unscorable = [], []
    for index, (name, _) in enumerate(files):
        outcome = outcomes[index]
        if isinstance(outcome, LetterError):
            unscorable.append({"source_file": name, "error": outcome.reason})
        else:
            rows.extend(outcome)
    return rows, unscorable
