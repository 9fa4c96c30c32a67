"""Parse the text of an IMR determination letter into header facts and one record per item.

Supported layout: ``determination_v1``, the DWC final determination letter of 2013 onwards
(``HOW THE IMR FINAL DETERMINATION WAS MADE`` ... ``CLINICAL CASE SUMMARY`` ... ``IMR ISSUES,
DECISIONS AND RATIONALES``), as PDF text or as text extracted from it in any way (a blank
line after most lines, a form feed at each page as ``pdftotext`` writes): line breaks,
blank lines, page breaks and indentation are layout and never change what is read
(:func:`normalise_lines`). Other historical layouts are recognised and refused with
:class:`LetterError` rather than guessed at.

A **draft** is a letter before its decisions and is parsed by the same code: the letter
with every decision word (``Upheld``/``Overturned``, also on a line of its own), every
``MAXIMUS guideline:`` and every ``Decision rationale:`` block removed, each service
statement ending in ``:`` (optionally ``: Pending``) and followed by its ``Claims
Administrator guideline:``; or, shorter, one requested service per line under the decisions
heading. Its items carry ``decision=None``. ``parse_letter(text, allow_draft=True)`` accepts
drafts; without it every item must have a decision (letters for training).

Limits: at most :data:`~settings.MAX_ITEMS_PER_LETTER` items (``too_many_items``) and a
summary of at most :data:`~settings.MAX_SUMMARY_CHARS` characters (``summary_too_long``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from data.letters.dates import DATE_PATTERN, parse_date
from data.letters.errors import LetterError
from data.letters.guidelines import guideline_families
from settings import DECISIONS, MAX_ITEMS_PER_LETTER, MAX_SUMMARY_CHARS, SYNTHETIC_MARKER

LAYOUT = "determination_v1"

_HOW_MADE = "HOW THE IMR FINAL DETERMINATION WAS MADE"
_SUMMARY_HEADING = "CLINICAL CASE SUMMARY"
_DECISIONS_HEADING = "IMR ISSUES, DECISIONS AND RATIONALES"
_SUMMARY_PREAMBLE = re.compile(
    r"^The expert reviewer developed the following clinical case summary based on a review of "
    r"the case file, including all medical records:\s*",
    re.IGNORECASE,
)
_SET_FORTH = re.compile(r"set forth below:\s*$", re.IGNORECASE)
_CA_GUIDELINE = re.compile(r"^Claims Administrator guideline:\s*", re.IGNORECASE)
_IMR_GUIDELINE = re.compile(r"^MAXIMUS guideline:\s*", re.IGNORECASE)
_RATIONALE = re.compile(r"^Decision rationale:\s*", re.IGNORECASE)
_DECISION_AT_END = re.compile(r"^(?P<text>.*?):\s*(?P<decision>Upheld|Overturned)\s*$")
_DECISION_ALONE = re.compile(r"^(?P<decision>Upheld|Overturned)\s*$")
_ANY_DECISION_AT_END = re.compile(r"^(?P<text>.*):\s*(?P<decision>[A-Za-z][A-Za-z -]{1,30}?)\s*$")
#: Words a draft may put where the decision will go.
_PENDING = r"(?:Pending|To\s+be\s+determined|TBD)"
#: A draft's statement line: ends in ":" (the decision not yet there), maybe ": Pending".
_UNDECIDED_AT_END = re.compile(rf"^.*:\s*(?:{_PENDING})?\s*$", re.IGNORECASE)
#: What closes an item statement: its decision, or a draft's placeholder, and the colon.
_STATEMENT_CLOSE = re.compile(rf"\s*:?\s*(?:Upheld|Overturned|{_PENDING})?\s*$", re.IGNORECASE)

#: Other layouts: name -> headings that identify it.
_OTHER_LAYOUTS = {
    "maximus_imr_v0": (
        "MAXIMUS FEDERAL SERVICES, INC.",
        "DOCUMENTS REVIEWED",
        "IMR DECISION(S) AND RATIONALE(S)",
    ),
    "medical_professional_review": (
        "MEDICAL PROFESSIONAL REVIEW",
        "ISSUE AT DISPUTE:",
        "CASE SUMMARY:",
        "DOCUMENTS REVIEWED FOR DETERMINATION:",
        "MEDICAL REVIEWER QUALIFICATIONS:",
    ),
    "notice_2013": ("Notice of Independent Medical Review Determination",),
}
_V1_HEADINGS = (_HOW_MADE, _SUMMARY_HEADING, _DECISIONS_HEADING)

_CASE_NUMBER = re.compile(r"\bCM\d{2}-\d{5,8}\b")
_PRIORITY = re.compile(r"\b(Standard|Expedited)\b", re.IGNORECASE)
_DATE_RE = re.compile(DATE_PATTERN)
#: Header date labels in the order their values fall in time for a well-formed letter.
_HEADER_DATE_LABELS = (
    ("injury_date", re.compile(r"Date\s+of\s+Injury:", re.IGNORECASE)),
    ("ur_denial_date", re.compile(r"UR\s+Denial\s+Date:", re.IGNORECASE)),
    ("application_received_date", re.compile(r"Application\s+Received:", re.IGNORECASE)),
    ("date_assigned", re.compile(r"Date\s+Assigned:", re.IGNORECASE)),
    ("decision_date", re.compile(r"Decision\s+Date:", re.IGNORECASE)),
)

_AGE_SEX = re.compile(
    r"\b(?P<age>\d{1,3})[- ]years?[- ]old\b(?:,?\s+(?P<word>[A-Za-z]+))?", re.IGNORECASE
)
_SEX_WORDS = {
    "male": "male",
    "man": "male",
    "gentleman": "male",
    "female": "female",
    "woman": "female",
    "lady": "female",
}
_SEX_WORD = re.compile(r"\b(male|female|man|woman|gentleman|lady)\b", re.IGNORECASE)
_MALE_PRONOUNS = re.compile(r"\b(?:he|his|him|himself)\b", re.IGNORECASE)
_FEMALE_PRONOUNS = re.compile(r"\b(?:she|her|hers|herself)\b", re.IGNORECASE)
_SUMMARY_INJURY_DATE = re.compile(
    rf"(?:injury|injured)\s+(?:dated|on|of)\s+(?P<date>{DATE_PATTERN})", re.IGNORECASE
)

_PARTIAL = re.compile(
    r"^(?P<original>.+?)\s+was\s+the\s+original\s+request\.\s*"
    r"(?:(?P<authorized>.+?)\s+was\s+authorized\s+by\s+the\s+Claims\s+Administrator\.\s*"
    r"|The\s+Claims\s+Administrator\s+authorized\s+(?P<authorized2>.+?),?\s+leaving\s+the\s+"
    r"original\s+request\s+IMR\s+eligible\.\s*)"
    r"The\s+(?:remaining\s+IMR\s+eligible\s+portion\s+of\s+the\s+original\s+request|original\s+"
    r"request),?\s*(?:is\s+)?(?P<remaining>.+?)(?:\s+is)?\s*:?$",
    re.IGNORECASE | re.DOTALL,
)
_PARTIAL_MARKERS = re.compile(
    r"authorized\s+by\s+the\s+Claims\s+Administrator|remaining\s+IMR\s+eligible|"
    r"Claims\s+Administrator\s+authorized|leaving\s+the\s+original\s+request|"
    r"^The\s+original\s+request,",
    re.IGNORECASE,
)
_QUANTITY = re.compile(r"\s*QTY:\s*(?P<qty>\d[\d,]*(?:\.\d+)?)\s*$", re.IGNORECASE)
_RETROSPECTIVE = re.compile(
    r"\bretro(?:spective|active)?\b|\bDOS\b|\bdates?\s+of\s+service\b", re.IGNORECASE
)
#: Older letters state credentials in prose rather than as labelled lines.
_BOARD_CERTIFIED = re.compile(
    r"Board\s+Certified\s+in\s+(?P<specialty>[^.]+?),?\s+and\s+is\s+licensed\s+to\s+"
    r"practice\s+in\s+(?P<licensure>[^.]+?)\.",
    re.IGNORECASE,
)
_TERMINAL = (".", "?", "!", '"', "\u201d")
#: A service (with a partial-authorization preamble) never spans more lines than this.
_MAX_ITEM_LINES = 8


@dataclass
class ParsedItem:
    """One disputed service and its decision."""

    item_index: int
    service: str
    item_text: str
    quantity: float | None
    decision: str | None  # None only in a draft letter (parse_letter(allow_draft=True))
    partial_authorization: bool
    original_request: str | None
    authorized_portion: str | None
    retrospective: bool
    claims_admin_guideline: str | None
    claims_admin_families: list[str]
    imr_guideline: str | None
    imr_guideline_families: list[str]
    decision_rationale: str | None


@dataclass
class ParsedLetter:
    """Header facts shared by the items of one letter, and the items in letter order."""

    layout: str
    case_number: str | None = None
    date_assigned: dt.date | None = None
    decision_date: dt.date | None = None
    priority: str | None = None
    injury_date: dt.date | None = None
    ur_denial_date: dt.date | None = None
    application_received_date: dt.date | None = None
    reviewer_licensure: str | None = None
    reviewer_specialty: str | None = None
    age: int | None = None
    sex: str | None = None
    case_summary: str = ""
    synthetic: bool = False
    items: list[ParsedItem] = field(default_factory=list)

    @property
    def is_draft(self) -> bool:
        """True when no item has a decision yet."""
        return all(item.decision is None for item in self.items)


def normalise_lines(text: str) -> list[str]:
    """Lines without surrounding space, with blank lines dropped (extraction leaves many).

    Every line break counts, not only ``\\n``: a page break is a form feed (``pdftotext``
    starts each page with one, so a page's first line reads ``\\fClaims Administrator
    guideline: ...``), and ``\\r``, ``\\v``, ``\\x1c``-``\\x1e``, ``\\x85``, ``\\u2028`` and
    ``\\u2029`` end lines too (:meth:`str.splitlines`). Where a page breaks, how many blank
    lines there are and how a line is indented never change what the letter says.
    """
    stripped = (line.strip() for line in text.replace("\xa0", " ").splitlines())
    return [line for line in stripped if line]


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines into one paragraph, mending words hyphenated at a line end."""
    out = ""
    for line in lines:
        line = line.strip()
        if not out:
            out = line
        elif out.endswith("-") and len(out) > 1 and not out[-2].isspace():
            # a hyphen at a line end belongs to the word or date it splits ("x-\nray")
            out += line
        else:
            out += " " + line
    return re.sub(r"\s+", " ", out).strip()


def detect_layout(lines: list[str]) -> str:
    """Name the layout of a letter, raising :class:`LetterError` for unsupported ones."""
    # the whole letter: a long summary must not push the decisions heading out of view
    head = "\n".join(lines).upper()
    found_v1 = [h for h in _V1_HEADINGS if h in head]
    if _DECISIONS_HEADING in head and (_SUMMARY_HEADING in head or _HOW_MADE in head):
        return LAYOUT
    for name, headings in _OTHER_LAYOUTS.items():
        found = [h for h in headings if h.upper() in head]
        if found and (len(found) >= 2 or len(headings) == 1 or headings[0].upper() in head):
            raise LetterError(
                f"unsupported layout '{name}' (recognised: {'; '.join(found)}); only the "
                f"'{LAYOUT}' layout is parsed, so this letter is set aside",
                kind="unsupported_layout",
            )
    if found_v1 == [_SUMMARY_HEADING] or found_v1 == [_HOW_MADE, _SUMMARY_HEADING]:
        raise LetterError(
            f"no decision section: heading '{_DECISIONS_HEADING}' not found "
            "(truncated letter?); ingest the complete letter",
            kind="no_decisions",
        )
    recognised = "; ".join(found_v1) or "no known heading"
    raise LetterError(
        f"unsupported layout: not an IMR determination letter this parser knows "
        f"(recognised: {recognised})",
        kind="unsupported_layout",
    )


def letter_headings(lines: list[str]) -> list[str]:
    """The headings of a known letter layout that begin a line of ``lines``: those of this
    layout, and another layout's when :func:`detect_layout` would name it. Empty: the text
    is not a letter (a heading merely quoted in a sentence does not count)."""
    starts = [line.strip().upper() for line in lines]

    def found(heading: str) -> bool:
        return any(start.startswith(heading.upper()) for start in starts)

    out = [h for h in _V1_HEADINGS if found(h)]
    for headings in _OTHER_LAYOUTS.values():
        hits = [h for h in headings if found(h)]
        if hits and (len(hits) >= 2 or len(headings) == 1 or found(headings[0])):
            out.extend(hits)
    return out


def _find(lines: list[str], needle: str, start: int = 0) -> int | None:
    for i in range(start, len(lines)):
        if lines[i].strip().upper().startswith(needle):
            return i
    return None


def parse_header(block: str) -> dict:
    """Parse the header block by what its values are, not by where they stand.

    PDF libraries emit the block either label-value interleaved or all labels then all
    values. A date directly after its label is taken as that label's; the dates left over
    go to the labels left over in chronological order (injury, UR denial, application
    received, assignment, decision), which is the order they always happen in.
    """
    header: dict = {}
    if m := _CASE_NUMBER.search(block):
        header["case_number"] = m[0]
    if m := re.search(r"Priority:\s*(Standard|Expedited)", block, re.IGNORECASE) or (
        _PRIORITY.search(block)
    ):
        header["priority"] = m[1].capitalize()
    unassigned_spans = [(m.start(), m.end(), m[0]) for m in _DATE_RE.finditer(block)]
    used: set[int] = set()
    missing = []
    for name, label in _HEADER_DATE_LABELS:
        lm = label.search(block)
        if not lm:
            continue
        after = block[lm.end() :]
        dm = re.match(rf"\s*({DATE_PATTERN})", after)
        if dm:
            date = parse_date(dm[1])
            start = lm.end() + dm.start(1)
            used.update(i for i, (s, _, _) in enumerate(unassigned_spans) if s == start)
            header[name] = date
        else:
            missing.append(name)
    leftovers = sorted(
        d
        for i, (_, _, text) in enumerate(unassigned_spans)
        if i not in used and (d := parse_date(text)) is not None
    )
    if missing and len(leftovers) == len(missing):
        header.update(zip(missing, leftovers, strict=True))
    return header


def _age_sex(summary: str) -> tuple[int | None, str | None]:
    age = sex = None
    if m := _AGE_SEX.search(summary):
        value = int(m["age"])
        age = value if 0 < value < 110 else None
        sex = _SEX_WORDS.get((m["word"] or "").lower())
    if sex is None and (m := _SEX_WORD.search(summary)):
        sex = _SEX_WORDS[m[1].lower()]
    if sex is None:
        male = len(_MALE_PRONOUNS.findall(summary))
        female = len(_FEMALE_PRONOUNS.findall(summary))
        if male > female:
            sex = "male"
        elif female > male:
            sex = "female"
    return age, sex


def _decision_of(lines: list[str], i: int) -> tuple[str, str] | None:
    """(decision, service text on that line) when line ``i`` closes an item."""
    if m := _DECISION_AT_END.match(lines[i]):
        return m["decision"], m["text"]
    if i > 0 and _DECISION_ALONE.match(lines[i]) and lines[i - 1].rstrip().endswith(":"):
        return _DECISION_ALONE.match(lines[i])["decision"], ""
    return None


def _needs_more(block: str) -> bool:
    """True when an item block so far cannot be the whole item (it starts mid-statement)."""
    if block[:1].islower():
        return True
    return bool(_PARTIAL_MARKERS.search(block)) and not re.search(
        r"was\s+the\s+original\s+request", block, re.IGNORECASE
    )


def _item_start(lines: list[str], end: int, lower: int) -> int:
    """First line of the item whose decision is on line ``end``; ``lower`` bounds the walk."""
    start = end
    while start - 1 >= lower and end - start < _MAX_ITEM_LINES:
        previous = lines[start - 1].rstrip()
        block = join_lines(lines[start : end + 1])
        if previous.endswith(_TERMINAL) and not _needs_more(block):
            break
        if _RATIONALE.match(previous) or _IMR_GUIDELINE.match(previous):
            break
        if _CA_GUIDELINE.match(previous):  # a draft: the previous item's guideline
            break
        start -= 1
    return start


def parse_service(item_text: str) -> dict:
    """Split an item statement into the disputed service and its pre-filing facts."""
    text = re.sub(r"\s*:?\s*$", "", item_text.strip())
    out = {
        "partial_authorization": False,
        "original_request": None,
        "authorized_portion": None,
        "quantity": None,
    }
    if m := _PARTIAL.match(item_text.strip()):
        out.update(
            partial_authorization=True,
            original_request=m["original"].strip(),
            authorized_portion=(m["authorized"] or m["authorized2"] or "").strip() or None,
        )
        text = re.sub(r"\s*:?\s*$", "", m["remaining"].strip())
    elif _PARTIAL_MARKERS.search(text):
        out["partial_authorization"] = True
    if m := _QUANTITY.search(text):
        out["quantity"] = float(m["qty"].replace(",", ""))
        text = text[: m.start()].rstrip()
    text = re.sub(r"\s+is$", "", text.rstrip(" .:"))
    out["service"] = text
    out["retrospective"] = bool(_RETROSPECTIVE.search(item_text))
    return out


def make_item(
    index: int,
    item_text: str,
    decision: str | None,
    *,
    ca_text: str | None = None,
    imr_text: str | None = None,
    rationale: str | None = None,
) -> ParsedItem:
    """An item from its statement, its decision and the texts of its sections."""
    service = parse_service(item_text)
    return ParsedItem(
        item_index=index,
        service=service["service"],
        item_text=item_text,
        quantity=service["quantity"],
        decision=decision,
        partial_authorization=service["partial_authorization"],
        original_request=service["original_request"],
        authorized_portion=service["authorized_portion"],
        retrospective=service["retrospective"],
        claims_admin_guideline=ca_text,
        claims_admin_families=guideline_families(ca_text),
        imr_guideline=imr_text,
        imr_guideline_families=guideline_families(imr_text),
        decision_rationale=rationale,
    )


def _section(lines: list[str], pattern: re.Pattern, start: int, end: int) -> tuple[str | None, int]:
    """Text of the labelled section starting at the first line in [start, end) it matches."""
    for i in range(start, end):
        if pattern.match(lines[i]):
            j = i + 1
            while j < end and not (
                _CA_GUIDELINE.match(lines[j])
                or _IMR_GUIDELINE.match(lines[j])
                or _RATIONALE.match(lines[j])
            ):
                j += 1
            first = pattern.sub("", lines[i], count=1)
            return join_lines([first, *lines[i + 1 : j]]) or None, j
    return None, start


def _item_ends(lines: list[str], start: int) -> list[tuple[int, str | None]]:
    """(line, decision) of each line that closes an item statement; decision None in a draft."""
    ends: list[tuple[int, str | None]] = []
    for i in range(start, len(lines)):
        decision = _decision_of(lines, i)
        if decision:
            ends.append((i, decision[0]))
        elif i + 1 < len(lines) and _CA_GUIDELINE.match(lines[i + 1]):
            if not _UNDECIDED_AT_END.match(lines[i]):
                m = _ANY_DECISION_AT_END.match(lines[i])
                found = f"'{m['decision']}'" if m else f"no decision in line {lines[i].strip()!r}"
                raise LetterError(
                    f"item line {i + 1}: decision {found} is not one of {', '.join(DECISIONS)}",
                    kind="bad_decision",
                )
            ends.append((i, None))
        if len(ends) > MAX_ITEMS_PER_LETTER:
            raise _too_many_items()
    return ends


def _too_many_items() -> LetterError:
    return LetterError(
        f"more than {MAX_ITEMS_PER_LETTER} disputed items, more than any letter; "
        "is it really a determination letter?",
        kind="too_many_items",
    )


def _listed_services(lines: list[str], start: int) -> list[ParsedItem]:
    """The short draft form: one requested service per line under the decisions heading."""
    body = [line for line in lines[start:] if not _SET_FORTH.search(line)]
    if any(_CA_GUIDELINE.match(x) or _IMR_GUIDELINE.match(x) or _RATIONALE.match(x) for x in body):
        raise LetterError(
            "no decision section: no item line ends with ': Upheld' or ': Overturned'",
            kind="no_decisions",
        )
    services = [_STATEMENT_CLOSE.sub("", line).strip() for line in body]
    services = [s for s in services if re.search(r"[A-Za-z]{2,}", s)]
    if not services:
        raise LetterError(
            f"no disputed item and no requested service under '{_DECISIONS_HEADING}'",
            kind="no_decisions",
        )
    if len(services) > MAX_ITEMS_PER_LETTER:
        raise _too_many_items()
    return [make_item(i, service, None) for i, service in enumerate(services)]


def parse_items(lines: list[str], start: int) -> list[ParsedItem]:
    """Parse the decision section, whose first line is ``lines[start]``.

    An item is its statement (possibly wrapped), closed by its decision (``: Upheld``) or,
    in a draft, by a ``:`` followed by the claims administrator's guideline; then its
    sections. A section with no such item is read as the short draft form.
    """
    ends = _item_ends(lines, start)
    if not ends:
        return _listed_services(lines, start)
    lower = start
    set_forth = next((i for i in range(start, ends[0][0]) if _SET_FORTH.search(lines[i])), None)
    if set_forth is not None:
        lower = set_forth + 1
    items = []
    for index, (end, decision) in enumerate(ends):
        first = _item_start(lines, end, lower)
        next_start = len(lines)
        if index + 1 < len(ends):
            next_start = _item_start(lines, ends[index + 1][0], end + 1)
        item_text = _STATEMENT_CLOSE.sub("", join_lines(lines[first : end + 1]))
        ca_text, after_ca = _section(lines, _CA_GUIDELINE, end + 1, next_start)
        imr_text, after_imr = _section(lines, _IMR_GUIDELINE, after_ca, next_start)
        rationale = None
        for i in range(max(after_imr, end + 1), next_start):
            if _RATIONALE.match(lines[i]):
                rationale = join_lines([_RATIONALE.sub("", lines[i]), *lines[i + 1 : next_start]])
                break
        items.append(
            make_item(
                index,
                item_text,
                decision,
                ca_text=ca_text,
                imr_text=imr_text,
                rationale=rationale or None,
            )
        )
        lower = next_start
    return items


def summary_facts(summary: str) -> dict:
    """What a case summary states about the worker: ``age``, ``sex`` and ``injury_date``
    (the last used only when the header gives none)."""
    age, sex = _age_sex(summary)
    m = _SUMMARY_INJURY_DATE.search(summary)
    return {"age": age, "sex": sex, "injury_date": parse_date(m["date"]) if m else None}


def _summary(lines: list[str]) -> str:
    if sum(len(line) for line in lines) > MAX_SUMMARY_CHARS:
        raise LetterError(
            f"clinical case summary of more than {MAX_SUMMARY_CHARS:,} characters, longer than "
            "any letter's; is it really a determination letter?",
            kind="summary_too_long",
        )
    return _SUMMARY_PREAMBLE.sub("", join_lines(lines))


def _require_decisions(items: list[ParsedItem]) -> None:
    undecided = [item for item in items if item.decision is None]
    if len(undecided) == len(items):
        raise LetterError(
            "no decision section: no item line ends with ': Upheld' or ': Overturned' (a draft "
            "letter? drafts are scored by predict.py, not used for training)",
            kind="no_decisions",
        )
    if undecided:
        first = undecided[0]
        raise LetterError(
            f"item {first.item_index + 1} ({first.service[:60]!r}) has no decision; every item "
            f"of a letter ends with ': {DECISIONS[0]}' or ': {DECISIONS[1]}'",
            kind="bad_decision",
        )


def parse_letter(text: str, *, allow_draft: bool = False) -> ParsedLetter:
    """Parse a letter's text; raise :class:`LetterError` with a reason when it cannot be.

    With ``allow_draft`` a letter whose items have no decision yet (a draft, see the module
    docstring) is accepted, its items with ``decision=None``; otherwise every item must
    have one.
    """
    lines = normalise_lines(text)
    if not lines:
        raise LetterError("no text in the letter", kind="empty")
    layout = detect_layout(lines)
    letter = ParsedLetter(layout=layout)
    letter.synthetic = any(SYNTHETIC_MARKER in line for line in lines[:40])

    how_made = _find(lines, _HOW_MADE)
    summary_at = _find(lines, _SUMMARY_HEADING)
    decisions_at = _find(lines, _DECISIONS_HEADING, (summary_at or 0) + 1)
    if decisions_at is None:
        raise LetterError(
            f"no decision section: heading '{_DECISIONS_HEADING}' not found; "
            "ingest the complete letter",
            kind="no_decisions",
        )
    header_end = how_made if how_made is not None else (summary_at or 0)
    header = parse_header("\n".join(lines[:header_end]))
    for key, value in header.items():
        setattr(letter, key, value)

    credentials_end = summary_at if summary_at is not None else decisions_at
    for line in lines[:credentials_end]:
        if m := re.match(r"\s*State\(s\) of Licensure:\s*(.*)$", line, re.IGNORECASE):
            letter.reviewer_licensure = m[1].strip() or None
        elif m := re.match(r"\s*Certification\(s\)/Specialty:\s*(.*)$", line, re.IGNORECASE):
            letter.reviewer_specialty = m[1].strip() or None
    if letter.reviewer_specialty is None and (
        m := _BOARD_CERTIFIED.search(join_lines(lines[:credentials_end]))
    ):
        letter.reviewer_specialty = m["specialty"].strip()
        letter.reviewer_licensure = m["licensure"].strip()

    if summary_at is not None:
        letter.case_summary = _summary(lines[summary_at + 1 : decisions_at])
    facts = summary_facts(letter.case_summary)
    letter.age, letter.sex = facts["age"], facts["sex"]
    letter.injury_date = letter.injury_date or facts["injury_date"]
    letter.items = parse_items(lines, decisions_at + 1)
    if not allow_draft:
        _require_decisions(letter.items)
    return letter
