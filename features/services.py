"""What a requested service is, and the surgery it belongs to.

:func:`service_kind` reads the one service taxonomy (:file:`features/knowledge/services.toml`
and :file:`subcategories.toml`): the first row whose pattern the service's wording matches
gives its sub-category, and with it the broad category, the guideline's stance, the DWC
request category and the criteria that apply. A service no row matches is
``unrecognised``: the model then has only the overall rate to go on, and says so.

:func:`link` tells whether an item belongs to a surgery (peri-operative): by its own
wording ("Post-op ...", "Associated surgical service: ..."), or by its kind together with
a surgery requested in the same draft or stated in the summary as requested, scheduled,
authorized or recently done (:mod:`features.extractors.surgery_plan`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from features.extractors.regions import body_regions_in
from features.extractors.surgery_plan import (
    CERTIFIED,
    DENIED,
    LINKING,
    PERFORMED,
    SurgeryMention,
    recent_surgery,
    surgery_mentions,
)
from features.extractors.text import Span, _span
from features.knowledge import UNRECOGNISED, SubCategory, knowledge

NOT_RECOMMENDED, CONDITIONAL, SUPPORTED = "not_recommended", "conditional", "supported"


@dataclass(frozen=True)
class ServiceKind:
    """The sub-category of a requested service and what the guideline says of it."""

    subcategory: str
    category: str
    stance: str
    label: str
    evidence: str = ""  # the words it was recognised by
    dwc: str = ""  # its DWC request category (before any peri-operative filing)
    row: int = 0  # the row of services.toml that matched (0: none)
    span: tuple[int, int] = (0, 0)

    @property
    def recognised(self) -> bool:
        return self.subcategory != UNRECOGNISED

    @property
    def spec(self) -> SubCategory | None:
        """Its row of :file:`subcategories.toml` (None when unrecognised)."""
        return knowledge().subcategories.get(self.subcategory)


_UNRECOGNISED = ServiceKind(UNRECOGNISED, "other", CONDITIONAL, "unrecognised service")


def _text(service: str | None) -> str:
    return " ".join(str(service or "").split())


@lru_cache(maxsize=4096)
def service_kind(service: str | None) -> ServiceKind:
    """The kind of a requested service, with the words it was recognised by."""
    text = _text(service)
    if sum(c.isalpha() for c in text) < 3:
        return _UNRECOGNISED
    k = knowledge()
    for row in k.services:
        match = row.pattern.search(text)
        if match is None:
            continue
        if row.subcategory == UNRECOGNISED:
            return ServiceKind(
                UNRECOGNISED,
                "other",
                CONDITIONAL,
                "unrecognised service",
                match.group(0),
                row=row.row,
            )
        sub = k.subcategories[row.subcategory]
        return ServiceKind(
            sub.name,
            sub.category,
            sub.stance,
            sub.label,
            match.group(0),
            row.dwc or sub.dwc,
            row.row,
            match.span(),
        )
    return _UNRECOGNISED


def subcategory_names() -> tuple[str, ...]:
    """Every sub-category, in table order, then ``unrecognised``."""
    return (*knowledge().subcategories, UNRECOGNISED)


def categories() -> tuple[str, ...]:
    """The broad service categories (:file:`taxonomy.toml`)."""
    return tuple(knowledge().categories)


# ------------------------------------------------------------------------ surgery links
@dataclass(frozen=True)
class Link:
    """Whether an item belongs to a surgery, which, and what is known of that surgery."""

    perioperative: bool = False
    surgery: str = ""  # the surgery: a service of the draft, or the summary's words
    in_draft: bool = False  # the surgery is requested in the same draft
    status: str = ""  # what the summary says of it (certified, scheduled, ... denied)
    evidence: tuple[Span, ...] = ()
    why: str = ""  # how the link was made


NO_LINK = Link()


_LIMBS = frozenset({"upper_extremity", "lower_extremity"})


def _regions(text: str) -> frozenset[str]:
    return frozenset(body_regions_in(text))


def _same_region(service: str, regions: frozenset[str]) -> bool:
    """Does the item's body region fit the surgery's? (unknown on either side: yes)"""
    own = _regions(service)
    if not own or not regions or own & _LIMBS or regions & _LIMBS:
        return True
    return bool(own & regions)


def link(
    service: str,
    siblings: tuple[str, ...],
    summary: str,
    *,
    reference: str | None = None,
    injury_days: int | None = None,
) -> Link:
    """Does ``service`` belong to a surgery of its draft (``siblings``: every service of
    the draft, itself included) or of its summary? See :file:`subcategories.toml`'s
    ``perioperative`` field for the rules of each kind."""
    kind = service_kind(service)
    spec = kind.spec
    if spec is None or spec.surgery:
        return NO_LINK
    k = knowledge()
    peri = k.perioperative
    drafted = [s for s in siblings if s != service and (sk := service_kind(s).spec) and sk.surgery]
    mentions = surgery_mentions(summary, reference)
    stated = _stated_status(mentions)
    words = peri["service_words"].search(_text(service))
    mode = spec.perioperative
    summary_links = [
        m
        for m in mentions
        if m.status in LINKING[:3] or recent_surgery(m, peri["recent_days"], injury_days)
    ]
    in_region_draft = [s for s in drafted if _same_region(service, _regions(s))]
    in_region_summary = [m for m in summary_links if _same_region(service, m.regions)]

    def in_draft(why: str, surgery: str) -> Link:
        return Link(True, surgery, True, stated, (), why)

    def in_summary(why: str, m: SurgeryMention) -> Link:
        return Link(True, m.evidence[0][2], False, m.status, m.evidence, why)

    if mode == "always" or words:
        if drafted:
            return in_draft("its wording, with a surgery of the draft", drafted[0])
        if summary_links:
            return in_summary("its wording, with a surgery in the summary", summary_links[0])
        span = (_span(_text(service), *words.span()),) if words else ()
        return Link(True, "", False, stated, span, "its wording" if words else "its kind")
    if mode == "never":
        return NO_LINK
    if mode in ("with_surgery_in_draft", "with_surgery") and in_region_draft:
        return in_draft("a surgery requested in the same draft", in_region_draft[0])
    if mode == "with_surgery" and in_region_summary:
        return in_summary("a surgery in the summary", in_region_summary[0])
    if mode == "medication":
        days = peri["recent_days_medication"]
        recent = [m for m in mentions if recent_surgery(m, days, injury_days)]
        if recent:
            return in_summary("a surgery in the last weeks", recent[0])
        if (drafted or summary_links) and _said_postop(summary, service):
            if drafted:
                return in_draft("the summary ties it to the surgery", drafted[0])
            return in_summary("the summary ties it to the surgery", summary_links[0])
    return NO_LINK


def _stated_status(mentions: tuple[SurgeryMention, ...]) -> str:
    statuses = {m.status for m in mentions}
    for status in (CERTIFIED, DENIED, *LINKING, PERFORMED):
        if status in statuses:
            return status
    return ""


def _said_postop(summary: str, service: str) -> bool:
    """Does a sentence of the summary name this medication with post-operative words?"""
    from features.extractors.text import lower, sentences

    name = next((w for w in _text(service).split() if len(w) > 3 and w.isalpha()), "")
    if not name:
        return False
    low, key = lower(summary), name.lower()
    words = knowledge().perioperative["service_words"]
    return any(key in low[s:e] and words.search(summary[s:e]) for s, e in sentences(summary))
