"""Response to prior treatment: documented failure and documented benefit.

Failure/benefit statements are ignored when hedged or negated ("lack of documented failure
of conservative care"), and read clause by clause.
"""

from __future__ import annotations

import re

from features.extractors.medications import _DRUGS
from features.extractors.text import Finding, Span, _span, clause_of, lower, sentences
from features.fast_regex import _rx

_TREATMENT_WORDS = (
    r"therap\w*|treatment|physical|(?-i:\bPT\b)|chiro\w*|acupunct\w*|medications?|\bmeds\b|"
    r"injections?|\bblocks?\b|\bNSAIDs?\b|anti-?inflammator\w*|conservative|exercis\w*|"
    r"\bbraces?\b|splint\w*|\bTENS\b|\bice\b|\bheat\b|surger\w*|modalit\w*|program|\btried\b|"
    r"\btrial\b|\bpills?\b|\bpatch\w*|\bcream\b|\bcare\b|manipulation|massage"
)
_TREATMENT_RE = _rx(rf"{_TREATMENT_WORDS}|\b(?:{_DRUGS})\b")

# "not working" is about a treatment only with a treatment/pronoun subject; "the injured
# worker is currently not working" is work status.
_NOT_WORKING = (
    r"\b(?:it|this|that|they|which|therapy|treatment|medications?|injections?)\s+"
    r"(?:\w+\s+){0,2}?not\s+working\b"
)
_FAIL_CUE = _rx(
    r"\bfailed\b(?!\s+to\s+(?:approve|certify|authori[sz]e|support|document|provide|establish|"
    r"demonstrate|meet|show|indicate|include|mention|report|note|specify|describe|outline|"
    r"attach|submit|address|clarify|discuss|furnish|state|identify))|"
    r"\bfailure\s+(?:of|with|to\s+(?:improve|respond))\b|"
    r"\bdid\s+not\s+(?:help|work|improve|benefit|resolve|alleviate|respond|relieve|"
    r"provide\s+(?:any\s+)?(?:relief|benefit))|"
    r"\b(?:was|were|is|are|has\s+been|have\s+been|being)\s+not\s+(?:beneficial|helpful|effective|"
    r"successful|helping)|" + _NOT_WORKING + "|"
    r"\bnot\s+(?:seem(?:ed)?\s+to\s+)?(?:improv\w*|respond\w*|benefit\w*)\s+(?:with|from|to|after)\b|"
    r"\bno\s+(?:\w+\s+)?(?:relief|benefit|improvement|help)\s+(?:from|with|after|following)\b|"
    r"\bwithout\s+(?:\w+\s+)?(?:relief|benefit|improvement|success)\b|"
    r"\b(?:unsuccessful|ineffective|ineffectual)\b|"
    r"\bdespite\s+(?:\w+\s+){0,3}?(?:" + _TREATMENT_WORDS + r")|"
    r"\b(?:refractory|recalcitrant|unresponsive)\s+to\b|"
    r"\bno\s+longer\s+(?:helps?|helping|effective|working)\b",
)
_FAIL_SELF_CONTAINED = _rx(r"^(?:despite|refractory|recalcitrant|unresponsive)")
_NOT_A_FAILURE = _rx(r"(?:heart|renal|kidney|respiratory|liver|congestive)\s+failure")
# Hedges / negations before a cue in the same clause: UR reasons, conditions, plans.
_HEDGE_BEFORE = _rx(
    r"\b(?:no|not|lack\w*|without|absence|absent|insufficient|unclear|unknown|whether|if|unless|"
    r"should|must|would|could|might|consider\w*|until|prior\s+to|before|to\s+determine|"
    r"need(?:s|ed)?\s+to|require[sd]?|criteria|guidelines?|recommend\w*|candidate|expected|"
    r"anticipated|goal|in\s+order\s+to|to\s+document)\b",
)


def _cue_hits(text: str, cue: re.Pattern, hedge: re.Pattern, need_treatment: bool):
    """(span, treatment_in_clause, sentence index) of unhedged cue matches."""
    low = lower(text)
    for m in cue.finditer(low):
        cs, ce, i = clause_of(text, m.start())
        if m.end() > ce:  # a cue never spans a clause break
            continue
        prefix = low[max(cs, m.start() - 90) : m.start()]
        if hedge.search(prefix):
            continue
        tail = low[m.start() : min(ce, m.end() + 25)]
        if _NOT_A_FAILURE.search(tail) or _NOT_A_FAILURE.search(
            low[max(cs, m.start() - 15) : m.end()]
        ):
            continue
        treated = bool(_TREATMENT_RE.search(low, cs, ce))
        if need_treatment and not treated and not _FAIL_SELF_CONTAINED.match(m[0]):
            continue
        yield _span(text, m.start(), m.end()), treated, i


def documented_failure(summary: str | None) -> Finding:
    """True when the summary states a prior treatment failed / did not help.

    Hedged or negated statements are not failures: "there is no evidence that the applicant
    has failed muscle relaxants", "lack of documented failure of conservative care",
    "consider PT if symptoms fail to improve". "Failed to approve" (UR wording) and organ
    failure are not treatment failures. The clause must name a treatment.
    """
    text = summary or ""
    hits = [sp for sp, _, _ in _cue_hits(text, _FAIL_CUE, _HEDGE_BEFORE, True)]
    return Finding(bool(hits), tuple(hits))


_IMPROVE_CUE = _rx(
    r"\bhelp(?:ed|s|ing|ful)\b|\bbeneficial\b|\bbenefit(?:ed|ted|s)?\s+from\b|"
    r"\b(?:significant|good|some|moderate|great|excellent|mild|partial|\d+\s*%|\d+\s+percent)\s+"
    r"(?:pain\s+)?(?:relief|improvement|reduction|benefit)|"
    r"\bimprov(?:ed|ement|ing|es)\b|\brelie(?:f|ves|ved)\b|"
    r"\bdecreas(?:ed|e)\s+(?:in\s+)?(?:pain|tenderness|symptoms|spasm)|"
    r"\breduc(?:ed|tion)\s+(?:in\s+)?(?:pain|symptoms)|"
    r"\bpain\s+(?:had\s+|has\s+|was\s+|is\s+)?(?:decreased|reduced|better|controlled)|"
    r"\bincreased\s+(?:function\w*|range|mobility|strength|activit\w*|flexibility)|"
    r"\bfunctional\s+(?:improvement|gains?)|\bmore\s+flexible|\bless\s+pain\b|"
    r"\bbetter\s+(?:with|after|since)\b|"
    r"\b(?:noted|found|seemed|appeared|reported|said)\s+to\s+(?:improve|help|relieve|reduce|decrease)",
)
_NO_IMPROVE_CUE = _rx(
    r"\bnot\s+(?:\w+\s+){0,2}?improv\w*|\bno\s+(?:significant\s+|real\s+|lasting\s+|noticeable\s+|"
    r"further\s+)?(?:improvement|relief|benefit|better)\b|\bno\s+changes?\s+in\b|"
    r"\bnot\s+(?:any\s+)?better\b|\b(?:remain(?:s|ed)?|was|were|is|are)\s+unchanged\b|"
    r"\bdid\s+not\s+(?:help|work|improve|benefit|relieve|provide)|"
    r"\bnot\s+(?:beneficial|helpful|effective|helping)\b|" + _NOT_WORKING + "|"
    r"\bwithout\s+(?:\w+\s+)?(?:relief|benefit|improvement)\b|\bdespite\b|\bfailed\b(?!\s+to\s+"
    r"(?:approve|certify|authori[sz]e|support|document|provide|establish|demonstrate))|"
    r"\bno\s+longer\s+(?:helps?|effective|working)|\bminimal\s+(?:relief|improvement|benefit)|"
    r"\bplateau\w*",
)
# Benefit hedges: UR wording and purposes ("injections to reduce pain and restore motion").
_BENEFIT_HEDGE = _rx(
    r"\b(?:lack\w*|documentation|documented|evidence|unclear|whether|if|unless|would|should|"
    r"must|need\w*|required?|criteria|guidelines?|recommend\w*|support\w*|candidate|expected|"
    r"anticipated|goals?|in\s+order|to|for|absence|insufficient|objective)\s*(?:\w+\s+){0,2}$",
)
_BENEFIT_LOOKBACK = 2  # sentences before a cue searched for the treatment it refers to


def documented_benefit(summary: str | None) -> Finding:
    """'improvement', 'no_improvement', 'both' or None, about benefit from prior treatment.

    An improvement counts only when a treatment is named in its clause or the sentence
    before ("physical therapy was helping", "90% improvement following the injection");
    symptoms that merely got better are not a treatment benefit. A statement of no benefit
    counts even without a named treatment ("no changes in complaints or level of
    functioning" over a course of care), but a treatment-attributed improvement outranks an
    unattributed no-improvement ("has not improved much; however, PT has helped").
    """
    text = summary or ""
    low = lower(text)
    sents = sentences(text)

    def attributed(hits):
        out = []
        for sp, treated, i in hits:
            near = treated or any(
                _TREATMENT_RE.search(low, *sents[j])
                for j in range(max(0, i - _BENEFIT_LOOKBACK), i)
            )
            out.append((sp, near))
        return out

    neg_spans = {sp[0] for sp, _, _ in _cue_hits(text, _NO_IMPROVE_CUE, _HEDGE_BEFORE, False)}
    imp = [
        (sp, near)
        for sp, near in attributed(_cue_hits(text, _IMPROVE_CUE, _BENEFIT_HEDGE, False))
        if near and sp[0] not in neg_spans and not _overlaps_negation(text, sp)
    ]
    no = attributed(_cue_hits(text, _NO_IMPROVE_CUE, _HEDGE_BEFORE, False))
    no_attr = [sp for sp, near in no if near]
    if imp and no_attr:
        return Finding("both", tuple(sp for sp, _ in imp) + tuple(no_attr))
    if imp:
        return Finding("improvement", tuple(sp for sp, _ in imp))
    if no:
        return Finding("no_improvement", tuple(sp for sp, _ in no))
    return Finding(None)


_NEG_JUST_BEFORE = _rx(r"\b(?:not|no|never|n't|without|nor)\s+(?:\w+\s+)?$")


def _overlaps_negation(text: str, sp: Span) -> bool:
    low = lower(text)
    return bool(_NEG_JUST_BEFORE.search(low[max(0, sp[0] - 20) : sp[0]]))
