"""The published vocabulary of denial reasons (issue 15): the codes, their criteria, their words.

One reviewed table, ``features/reason_vocabulary.csv`` (package data): one row per reason
code with the guideline criterion whose failure it names (``criterion``), the phrase a user
reads (``label``), what the code means (``meaning``, as published in the README), what a
draft should document against it (``to_document``), the guideline that speaks to it
(``source``) and when it may be listed as a likely denial reason (``listed_when``:
``always``, or ``checked``: only for a service whose guideline criteria include the code's
criterion, e.g. "the surgery it belongs to is not certified" only for an item that belongs
to a surgery). A criterion's own ``to_document`` and ``source`` (from the knowledge tables)
take precedence; these are the fallbacks for a reason that no criterion of the service
checks yet.

The codes are fixed (the README publishes them, and every likely denial reason carries one
as ``reason_code``); the table is checked when it loads and a bad row names the file, the
row and the field.

Every :class:`~features.criteria.Criterion` carries its own ``reason_code`` (from the
knowledge tables, :mod:`features.knowledge`, which read this table through
:func:`vocabulary`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

VOCABULARY_FILE = Path(__file__).resolve().parent / "reason_vocabulary.csv"
#: The published codes, in their published order.
CODES: tuple[str, ...] = (
    "not_recommended",
    "exceeds_quantity",
    "no_functional_improvement",
    "no_conservative_care_failure",
    "no_first_line_trial",
    "no_objective_findings",
    "no_imaging_support",
    "repeat_imaging_no_change",
    "no_monitoring",
    "associated_service_not_needed",
    "no_indication",
    "insufficient_documentation",
    "other",
)
OTHER = "other"
#: Statuses a reviewer (or the draft) gives a criterion.
STATUSES = ("met", "not_met", "not_documented")
_FIELDS = ("code", "criterion", "label", "meaning", "to_document", "source", "listed_when")
#: ``listed_when``: any service, or only one whose criteria check the code's criterion.
LISTED_WHEN = ("always", "checked")


class VocabularyError(ValueError):
    """The vocabulary table is not as published; the message names the row and the fix."""


@dataclass(frozen=True)
class Reason:
    """One reason code and its words."""

    code: str
    criterion: str  # empty for ``other``
    label: str
    meaning: str
    to_document: str
    source: str
    listed_when: str = "always"


@lru_cache(maxsize=4)
def vocabulary(path: Path = VOCABULARY_FILE) -> dict[str, Reason]:
    """``{code: Reason}`` in published order, checked against :data:`CODES`."""
    try:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise VocabularyError(f"{path}: cannot read the reason vocabulary ({exc})") from exc
    out: dict[str, Reason] = {}
    for number, row in enumerate(rows, start=2):
        missing = [f for f in _FIELDS if f not in row]
        if missing:
            raise VocabularyError(f"{path}: missing column(s) {', '.join(missing)}")
        code = (row["code"] or "").strip()
        if code not in CODES:
            raise VocabularyError(
                f"{path} row {number}: code {code!r} is not one of the published codes "
                f"({', '.join(CODES)}); the codes are fixed, change only their words"
            )
        if code in out:
            raise VocabularyError(f"{path} row {number}: code {code!r} appears twice")
        values = {f: (row[f] or "").strip() for f in _FIELDS}
        if code != OTHER:
            empty = [f for f in _FIELDS if not values[f]]
            if empty:
                raise VocabularyError(
                    f"{path} row {number} ({code}): empty field(s) {', '.join(empty)}"
                )
        values["listed_when"] = values["listed_when"] or "always"
        if values["listed_when"] not in LISTED_WHEN:
            raise VocabularyError(
                f"{path} row {number} ({code}): listed_when {values['listed_when']!r} must be "
                f"one of {', '.join(LISTED_WHEN)}"
            )
        out[code] = Reason(**values)
    if tuple(out) != CODES:
        absent = [c for c in CODES if c not in out]
        raise VocabularyError(
            f"{path}: the codes must be exactly the published ones in order; "
            f"missing {', '.join(absent) or 'none'}, order {', '.join(out)}"
        )
    criteria = [r.criterion for r in out.values() if r.criterion]
    if len(set(criteria)) != len(criteria):
        raise VocabularyError(f"{path}: a criterion appears under two codes")
    return out


def criterion_codes() -> dict[str, str]:
    """``{criterion id: reason code}`` of the vocabulary (every code but ``other``)."""
    return {r.criterion: r.code for r in vocabulary().values() if r.criterion}


def listed_only_when_checked() -> frozenset[str]:
    """The codes listed only for a service whose guideline criteria check their criterion."""
    return frozenset(r.code for r in vocabulary().values() if r.listed_when == "checked")


def criterion_of(code: str) -> str:
    """The criterion id whose failure ``code`` names (empty for ``other``)."""
    return vocabulary()[code].criterion


def reason_code_of(criterion) -> str | None:
    """The reason code of a criterion: its own ``reason_code`` (the knowledge tables give
    it), else the vocabulary's code of its id; ``None`` for a criterion no code names."""
    own = getattr(criterion, "reason_code", None)
    if own:
        return own
    return criterion_codes().get(criterion.code)
