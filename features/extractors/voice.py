"""Sentence voice: is a sentence history, the plan, or the request and its UR decision?

Summaries mix three voices: the history (what was done), the plan/request (what is asked
for) and the utilization review's reasons. A therapy or study counts as done only outside
request/plan wording, unless a past-tense marker is attached to it.
"""

from __future__ import annotations

from functools import lru_cache

from features.extractors.text import lower
from features.fast_regex import _rx

# Request / UR voice: the sentence is about the disputed request or the UR decision.
_STRONG_REQUEST = _rx(
    r"original\s+request|request\s+for\s+authori[sz]ation|\bRFA\b|claims\s+administrator|"
    r"IMR\s+eligible|utilization\s+review|(?-i:\bUR\b)|non-?certif\w*|"
    r"\b(?:was|were|is|are|be|been|being)\s+(?:\w+\s+)?(?:requested|denied|modified|"
    r"non-?certified|sought|ordered|recommended|proposed|planned|scheduled|endorsed)\b|"
    r"\brequested\b|\brequests?\s+(?:for|was|were|is|are)\b|\bthe\s+request\b|"
    r"\bprevious(?:ly)?\s+(?:reviewed|denied)|\bprior\s+review|"
    r"\bdenials?\b",  # "a prior denial was made for x-rays": the study was asked for
)
# Plan / intent voice: overridden by a past-tense marker in the same sentence.
_WEAK_PLAN = _rx(
    r"treatment\s+plan|plan\s+of\s+care|\bplan\b|recommend\w*|\bordered\b|\bsought\b|"
    r"referr\w*|\brefer\b|\bwill\b|\bwould\b|\bconsider\w*|\bto\s+(?:start|begin|continue|"
    r"undergo|try|pursue|rule\s+out)\b|\bawait\w*|schedul\w*|\bplanned\b|\bproposed\b|"
    r"pending|candidate|\bif\b|\bshould\b|\bneed(?:s|ed)?\b|\bwarrant\w*|rule\s+out|"
    r"\br/o\b|prescribed\s+(?:services|treatment)|\bappeal\w*|\bunder\s+review\b",
)
_PAST = _rx(
    r"to\s+date|\bha(?:s|d|ve)\b|underw[e]?nt|undergone|completed|attended|received|"
    r"previous\w*|\bprior\b|\bpast\b|history\s+of|\bbegan\b|\bbegun\b|\bstarted\b|\btried\b|"
    r"\bfailed\b|despite|help(?:ed|ing|s)\b|improv\w*|benefit\w*|included|consisted|"
    r"status\s+post|\bs/p\b|\bwent\b|\bgone\b|\bwas\s+treated|\bwere\s+treated|"
    r"\bcurrently\b|\balready\b|\bongoing\b|\bparticipat\w*|\bcourse\s+of\b|\bcourse\b",
)
# A done-marker right before a mention survives even request voice
# ("the UR noted the applicant had completed 6 sessions of physical therapy").
_CLOSE_PAST_BEFORE = _rx(
    r"\b(?:completed|attended|underw[e]?nt|undergone|received|has\s+had|had\s+had|have\s+had|"
    r"previously|prior|already|had\s+been\s+(?:authorized|approved))\b(?:\W+\w+){0,5}\W*$",
)
_NEGATED_BEFORE = _rx(
    r"(?:\bno\b|\bnever\b|\bwithout\b|\black\s+of\b|\babsence\s+of\b|\bdenie[sd]\b|"
    r"\bnot\s+(?:had|received|undergone|attended|tried|participated|started|begun|done|"
    r"performed|obtained)\b|\bno\s+(?:documentation|record|evidence|indication)\s+of\b)"
    r"(?:\W+\w+){0,4}\W*$",
)


# "The treatment plan included ..." is plan voice: its "included" is not a past marker.
_PLAN_LEAD = _rx(
    r"\bplan\s+(?:of\s+care\s+)?(?:\w+\s+){0,4}?(?:included|includes|consisted|was|is)\b"
)


@lru_cache(maxsize=65536)
def _voice(text: str, start: int, end: int) -> tuple[bool, bool, bool]:
    """(request voice, plan voice, past marker) of the sentence text[start:end]."""
    low = lower(text)
    plan_leads = [(m.start(), m.end()) for m in _PLAN_LEAD.finditer(low, start, end)]
    past = any(
        not any(a <= m.start() < b for a, b in plan_leads) for m in _PAST.finditer(low, start, end)
    )
    return (
        _STRONG_REQUEST.search(low, start, end) is not None,
        bool(plan_leads) or _WEAK_PLAN.search(low, start, end) is not None,
        past,
    )


def _is_history(text: str, s: int, e: int, mention_start: int) -> bool:
    """Does a mention at ``mention_start`` in sentence [s, e) describe something done?"""
    low = lower(text)
    before = low[max(s, mention_start - 80) : mention_start]
    if _NEGATED_BEFORE.search(before):
        return False
    request, plan, past = _voice(text, s, e)
    if _CLOSE_PAST_BEFORE.search(before):
        return True
    if request:
        return False
    return past or not plan
