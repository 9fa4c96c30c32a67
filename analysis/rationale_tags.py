"""Tag each decision rationale with the denial reasons the reviewer gave, in the vocabulary.

POST-DECISION TEXT: the rationale is written after the decision. These tags are
training-time labels (for letters the hand-checked gold does not cover) and analysis;
no model input reads them, and nothing under ``features/`` or ``models/`` imports this
module (a test checks; ``models/training.py`` passes its labels to the reason ranking as
targets).

How it reads: the rationale is split into sentences; a sentence that only states what a
guideline says ("The MTUS recommends ...", "ODG states ...") is skipped unless it also
applies it to this case ("Given that ...", "the patient", "this request"): a guideline
quoted is not a reason (labelling guide, rule 1). Each remaining sentence is matched against
one pattern per code (:data:`PATTERNS`); the codes come out in the order the reviewer first
gives them.

    .venv/bin/python -m analysis.rationale_tags [--dataset DIR] [--out FILE.md]
    .venv/bin/python -m analysis.rationale_tags --against-gold [--dataset DIR] [--out FILE.md]

prints (or writes) the table of codes by service category and decision, or the tagger's
precision and recall by code against the hand-checked gold (``analysis/gold``).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from features.reason_vocabulary import CODES

_NEG = r"(?:no|not|lack\w*|without|absen\w*|fail\w*|unclear|insufficient|inadequate|nor)"

#: Reason code -> pattern over one sentence of the rationale (case-insensitive).
PATTERNS: dict[str, str] = {
    "not_recommended": (
        r"\bnot\s+(?:generally\s+)?recommended\b(?!\s+(?:for\s+longer|beyond\s+\d|longer|until))|"
        r"do(?:es)?\s+not\s+(?:specifically\s+)?recommend|no\s+recommendations?\s+(?:of|for)|"
        r"not\s+(?:supported|indicated)\s+(?:by|per|for)\s+(?:the\s+)?(?:guidelines?|mtus|odg|acoem)|"
        r"guidelines?\s+do(?:es)?\s+not\s+support|its\s+usage\s+is\s+not\s+supported|"
        r"only\s+(?:topical\s+formulation|fda)|not\s+(?:fda[\s-]+)?approved|"
        r"only\s+(?:be\s+)?recommended\s+for|is\s+not\s+indicated\s+for\s+(?:this|acute|the)|"
        r"not\s+involved\s+in\s+a\s+program|beyond\s+the\s+(?:acute|emergency)\s+phase|"
        r"(?:adjunct|in\s+conjunction\s+with)[^.]{0,60}functional\s+restoration|"
        r"should\s+be\s+avoided|not\s+(?:been\s+)?proven\s+effective|"
        r"(?:condition|pain)\s+is\s+due\s+to|insufficient\s+(?:studies|evidence)|"
        r"do(?:es)?\s+not\s+support\s+the\s+use|not\s+(?:recommended|supported)\s+for\s+topical|"
        r"(?:is|are)\s+not\s+indicated\s+for\s+(?:acute|topical)|"
        r"(?:necessity\s+for|request\s+for)\s+(?:a\s+|an\s+)?(?:nerve\s+conduction|electromyography|"
        r"emg|ncs|ncv)[^.]{0,30}\s+is\s+not\s+supported|not\s+been\s+diagnosed\s+with\s+any\s+of\s+these|"
        r"within\s+the\s+initial\s+48|multiple\s+(?:physical\s+)?modalities"
    ),
    "exceeds_quantity": (
        r"\bexceed\w*(?![^.]{0,50}short[\s-]+term)|"
        r"in\s+excess\s+of(?!\s+the\s+recommended\s+treatment\s+period)|excessive?\b|surpass\w*|"
        r"additional\s+(?:sessions?|visits?)\s+(?:is|are|would\s+be)\s+contingent|"
        r"(?:approved|authorized|certified|completed|received|had)\s+(?:for\s+)?(?:an?\s+)?"
        r"(?:initial\s+)?(?:\d+|one|two|three|four|five|six|eight|ten|twelve)\s+(?:\w+\s+){0,3}"
        r"(?:sessions?|visits?)|"
        r"(?:purchase|rental)\s+(?:is\s+)?not\s+supported|30[\s-]day\s+(?:home\s+)?trial|"
        r"more\s+than\s+the\s+(?:recommended|guideline)|recommend\s+up\s+to\s+\d+\s+(?:sessions|visits)"
    ),
    "no_functional_improvement": (
        _NEG + r"[^.]{0,120}(?:functional\s+(?:improvement|gains?|benefit|response)|"
        r"objective\s+(?:functional\s+)?(?:improvement|response|benefit|gains?|decrease|increase)|"
        r"(?:quantified|numerical|measurable)\s+(?:evidence|pain|decrease|improvement)|efficacy|"
        r"benefit(?:ing|ed)?\s+from|response\s+to\s+(?:the\s+)?(?:prior\s+|previous\s+|initial\s+)?"
        r"(?:therapy|treatment|medication|usage|use|acupuncture|injection|sessions?|visits?)|"
        r"improvement\s+(?:in|with|from)|pain\s+relief|decrease\s+in\s+pain)|"
        r"(?:functional\s+improvement|efficacy|benefit)[^.]{0,60}not\s+(?:been\s+)?"
        r"(?:documented|demonstrated|established|provided|indicated|noted)|"
        r"results\s+(?:of|from)\s+the\s+(?:initial|prior|previous)|"
        r"not\s+(?:been\s+)?beneficial|did\s+not\s+(?:help|improve|benefit)|"
        r"not\s+alleviated|(?:the\s+)?type\s+of\s+improvement"
    ),
    "no_conservative_care_failure": (
        r"(?:no|not|lack\w*|without|absen\w*|unclear|insufficient)(?!\s+clear\s+rationale)[^.]{0,80}"
        r"(?:fail\w*|trial\w*|tried|complet\w*|exhaust\w*|attempt)[^.]{0,60}"
        r"(?:conservative|physical\s+therapy|\bpt\b|non-?operative|home\s+exercise|"
        r"rest\b|medications?\s+and)|"
        r"(?:has|have)\s+not\s+(?:yet\s+)?(?:had|failed|tried|completed|trialed)[^.]{0,40}"
        r"(?:conservative|physical\s+therapy|therapy|treatment)|"
        r"yet\s+to\s+(?:complete|undergo|try|begin)|(?:improving|benefit\w*|helping|helped)\s+"
        r"(?:with|from)\s+(?:the\s+)?(?:physical\s+therapy|\bpt\b|chiropractic|conservative|therapy)|"
        r"(?:conservative|physical\s+therapy)[^.]{0,60}(?:which\s+seems\s+to\s+be\s+helping|"
        r"not\s+(?:been\s+)?(?:started|completed|tried|exhausted|failed)|has\s+helped|"
        r"fully\s+implemented)|failed\s+to\s+improve\s+with\s+conservative|"
        r"response\s+to\s+conservative|what\s+(?:recent\s+)?conservative|"
        r"(?:lack|no)\s+[^.]{0,60}significant\s+conservative|"
        r"only\s+(?:about\s+)?(?:\d+|one|two|three)\s+(?:weeks?|days?)\s+(?:since|after|post|from)|"
        r"only\s+documented\s+[^.]{0,60}(?:visits|sessions)|"
        r"(?:lack|no)\s+[^.]{0,40}(?:of|regarding|regard)\s+(?:recent\s+)?conservative\s+"
        r"(?:care|treatment|therapy)|failure\s+of\s+conservative|course\s+of\s+conservative|"
        r"failure\s+to\s+progress\s+(?:in\s+)?a\s+strength|"
        r"(?:physical\s+therapy|\bpt\b)\s+was\s+(?:started|completed|tried)|"
        r"(?:no|lack)[^.]{0,40}failed\s+(?!first|second)(?:\w+\s+){0,2}(?:treatment|therapy|medications?)|"
        r"(?:therapy|\bpt\b)\s+and\s+is\s+improving|responding\s+to\s+(?:physical\s+therapy|\bpt\b|"
        r"therapy|conservative|treatment)"
    ),
    "no_first_line_trial": (
        r"first[\s-]+line|second[\s-]+line|"
        r"(?:failure|fail\w*|trial\w*|tried)[^.]{0,40}(?:antidepressants?|anticonvulsants?|"
        r"anti-?epileptic|non-?opioid|other\s+(?:muscle\s+relaxants|medications?|treatment\s+methods))|"
        r"(?:intoleran\w*|unable\s+to\s+(?:use|take|tolerate|swallow)|cannot\s+tolerate|"
        r"not\s+able\s+to\s+tolerate|contraindicat\w*)[^.]{0,60}(?:oral|pill|tablet|nsaid)|"
        r"(?:topical|liquid)[^.]{0,40}(?:versus|vs\.?|rather\s+than|instead\s+of|over)[^.]{0,30}"
        r"(?:oral|pill|tablet)"
    ),
    "no_objective_findings": (
        r"red[\s-]+flags?|neurolog\w*\s+(?:deficits?|findings|dysfunction|compromise|"
        r"abnormalit\w*|examination|signs)|objective\s+(?:findings|evidence\s+of|signs|clinical)|"
        r"nerve\s+(?:root\s+)?(?:compromise|impingement|dysfunction|problem)|"
        r"(?:no|lack\s+of|absence\s+of|without)(?![^.]{0,30}(?:mri|electrodiagnostic))[^.]{0,50}"
        r"(?:deficits?|radicul\w*|myelopathy|"
        r"spasms?|instability|abnormal\s+findings|clinical\s+signs|signs\s+(?:and|or)\s+symptoms|"
        r"characteristic\s+signs|physical\s+(?:exam\w*\s+)?findings)|"
        r"(?:exam\w*|examination)\s+(?:did\s+not|does\s+not|failed\s+to|was\s+(?:normal|unremarkable))|"
        r"(?:strength|reflexes|sensation)\s+(?:and\s+\w+\s+)?(?:are|were|is|was)\s+intact|"
        r"night\s+pain|activity\s+limitation|functional\s+limitation\s+was\s+not|"
        r"(?:does\s+not|did\s+not)\s+have\s+[^.]{0,40}exam\w*\s+findings|twitch|"
        r"no\s+evidence\s+of\s+(?:acute\s+)?(?:muscle\s+)?spasms?|evidence\s+of\s+neuropathic|"
        r"physical\s+examination\s+findings\s+to"
    ),
    "no_imaging_support": (
        r"(?:plain\s+(?:films?|radiographs?)|radiographs?|x-?rays?)[^.]{0,40}(?:not|no|absent|lack)|"
        r"(?:no|lack\s+of|absence\s+of|without)[^.]{0,40}(?:plain\s+films?|radiographs?|"
        r"prior\s+x-?rays?|imaging\s+(?:studies|findings|results|reports?|evidence))|"
        r"(?:mri|imaging|electrodiagnostic|emg|eds|study|studies)[^.]{0,60}(?:does|did)\s+not\s+"
        r"(?:show|demonstrate|corroborate|confirm|reveal|document)|corroborat\w*|"
        r"imaging\s+(?:findings\s+)?(?:was|were)\s+not\s+(?:provided|available|submitted)|"
        r"(?:x-?ray|imaging|mri)\s+(?:official\s+)?reports?\s+(?:are|is|were|was)\s+not\s+available|"
        r"(?:no|without)\s+(?:recent\s+)?(?:mri|imaging|electrodiagnostic)[^.]{0,40}supporting|"
        r"(?:mri|imaging)\s+does\s+not\s+indicate|correlating\s+(?:mri|imaging)|"
        r"imaging\s+was\s+relatively\s+benign"
    ),
    "repeat_imaging_no_change": (
        r"\brepeat\s+(?:mri|imaging|study|studies|ct|x-?rays?|emg|eds|electrodiagnostic|"
        r"plain|lumbar|cervical)|significant\s+change|"
        r"(?:additional|another)\s+(?:study|imaging|mri|x-?ray|electrodiagnostic)|"
        r"(?:had|has\s+had|obtained|already\s+(?:had|undergone))\s+(?:a\s+|an\s+)?(?:prior\s+|previous\s+)?"
        r"(?:mri|x-?rays?|ct|emg|electrodiagnostic|imaging)"
    ),
    "no_monitoring": (
        r"urine\s+drug|\buds\b|\bcures\b|4\s*a'?s|four\s+a'?s|pain\s+(?:agreement|contract)|"
        r"(?:risk|screening)\s+(?:assessment|screening|evaluation|for\s+(?:risk|addiction|abuse))|"
        r"aberrant|(?:continued\s+)?monitoring\b(?!\s+of\s+wound)|compliance|"
        r"(?:in\s+excess\s+of|exceeding|beyond)\s+the\s+(?:recommended\s+)?(?:treatment\s+period|"
        r"guideline\s+recommendation\s+for\s+short|short[\s-]+term)|"
        r"long[\s-]+term\s+(?:use|usage)\s+(?:is|are|of|would)|limit\s+the\s+use\s+to|"
        r"(?:ongoing|continued|chronic)\s+(?:usage|use)\s+(?:of\s+(?:the\s+)?(?:medication|cyclobenzaprine|"
        r"muscle|opioid))|post-?op\s+opioid\s+guidelines|"
        r"opioid\s+guidelines\s+have\s+not\s+been\s+met|risk\s+of\s+addiction|"
        r"long[\s-]+term\s+use\s+is\s+not\s+recommended"
    ),
    "associated_service_not_needed": (
        r"(?:surgical\s+intervention|surgery|surgical\s+(?:procedure|request)|primary\s+"
        r"(?:procedure|request)|concurrent\s+request|requested\s+procedure)[^.]{0,60}not\s+"
        r"(?:medically\s+necessary|supported|certified|indicated|approved|recommended)|"
        r"\bancillary\b|given\s+(?:that\s+)?the\s+request\s+for\s+[^.]{0,60}\s+is\s+not\s+supported|"
        r"not\s+(?:recommended|needed|indicated|required)\s+for\s+(?:arthroscop\w*|low[\s-]+risk)|"
        r"(?:high|intermediate|intermittent)\s+risk\s+surgery"
    ),
    "no_indication": (
        r"(?:no|lack\s+of|without|absence\s+of|fail\w*\s+to\s+furnish)\s+(?:a\s+|an\s+)?"
        r"(?:clear\s+|evidence[\s-]+based\s+|compelling\s+|documented\s+|specific\s+|objective\s+|or\s+)*"
        r"(?:rationale|explanation|reason\s+(?:for|why))|"
        r"(?:no|lack\s+of)\s+(?:a\s+)?(?:clear\s+|documented\s+)?indications?\s+(?:for|to\s+support)|"
        r"(?:rationale|indication|reason)[^.]{0,60}not\s+(?:been\s+)?(?:provided|given|documented|"
        r"apparent|clear|stated|discussed)|"
        r"(?:unclear|not\s+clear|not\s+(?:clearly\s+)?(?:stated|documented|explained))\s+"
        r"(?:why|how\s+(?:the|this|it|an?)\b|what\s+(?:is|was)\s+suspected|as\s+to\s+why(?!\s+a\s+repeat)|"
        r"of\s+the\s+rationale)|"
        r"(?:candidate\s+for|consider\w*|contemplat\w*|plan(?:ned)?\s+(?:for\s+)?|intent\w*|"
        r"willingness|indications?\s+that|discussion\s+of)[^.]{0,60}(?:surg\w*|invasive)|"
        r"not\s+a\s+(?:surgical\s+)?candidate|"
        r"(?:gastrointestinal|\bgi\b)\s+(?:events|risk|symptoms|complaints|bleeding)|peptic\s+ulcer|"
        r"homebound|suspected\b(?!\s+small)|(?<!evidence\sof\s)neuropathic\s+pain|osteoarthritis|"
        r"depression|anxiety|\bcrps\b|"
        r"not\s+(?:been\s+)?diagnosed|history\s+of\s+bleeding|"
        r"(?:need|necessity)\s+(?:for|of)\s+[^.]{0,60}\s+(?:is|was|has)\s+not|"
        r"not\s+address\s+medical\s+necessity|not\s+apparent|how\s+the\s+[^.]{0,40}to\s+benefit|"
        r"return\s+to\s+work\s+attempts|"
        r"(?:not|no)\s+(?:an?\s+)?(?:adjunct|in\s+conjunction)|reduced\s+or\s+not\s+tolerated|"
        r"(?:not|does\s+not)\s+meet\s+(?:any\s+of\s+)?(?:these|the|those)\s+criteria|"
        r"criteria\s+(?:have|has|were|was)\s+not\s+(?:been\s+)?met|concerns\s+that\s+meet|"
        r"no\s+failure\s+to\s+improve|not\s+indications\s+for|demonstrated\s+the\s+indication|"
        r"indication\s+for\s+[^.]{0,30}\s+is\s+not\s+supported|not\s+clear\s+what|"
        r"(?:not|no)\s+(?:document\s+)?any\s+diagnosis|done\s+independently|"
        r"in\s+preparation\s+for\s+surgery|clarification\s+of\s+the\s+anatomy"
    ),
    "insufficient_documentation": (
        r"(?<!do\s)(?<!does\s)not\s+specif(?:y|ied)\b|unspecified|fail\w*\s+to\s+(?:specify|provide\s+"
        r"(?:the\s+)?(?:quantity|frequency|dos\w*|duration))|(?:quantity|frequency|dosage|dose|"
        r"duration|body\s+part|number\s+of\s+(?:sessions|visits)|medication\s+regimen|strength)"
        r"[^.]{0,40}(?:not\s+(?:been\s+)?(?:provided|noted|documented|included|specified|stated)|"
        r"unclear|unknown)|unclear\s+(?:if|whether|how\s+many)|(?:unknown|unspecified)\s+quantity|"
        r"could\s+not\s+be\s+established|not\s+(?:provided|included)\s+with\s+the\s+request|"
        r"(?:short|long)[\s-]+term\s+goals|(?:records?|notes?)\s+(?:were|was)\s+not\s+"
        r"(?:provided|submitted)|(?:lack\s+of|no)\s+information\s+(?:regarding|as\s+to|about)|"
        r"not\s+indicate\s+the\s+nature|specifying\s+when|no\s+mention\s+(?:on|of)\s+whether|"
        r"how\s+many\s+(?:sessions|visits)"
    ),
    "other": (
        r"already\s+(?:been\s+)?(?:approved|authorized|certified)|duplicat\w*|redundant|"
        r"pending\s+(?:the\s+)?(?:\w+\s+)?(?:consultation|evaluation)"
    ),
}
_COMPILED = {code: re.compile(p, re.IGNORECASE) for code, p in PATTERNS.items()}
assert tuple(PATTERNS) == CODES, "one pattern per published code, in order"

#: Words that tie a sentence to this case: a sentence without any is the guideline speaking.
_CASE = re.compile(
    r"\b(?:the|this)\s+(?:patient|claimant|injured\s+worker|applicant|worker|employee|iw)\b|"
    r"\b(?:he|she|his|her|him)\b|\bdocument\w*|\brecords?\b|\bnotes?\b|\bsubmitted\b|"
    r"\bprovided\b|\bnoted\b|\breview\w*|\brequest\w*|\bhere\b|in\s+this\s+case|\bgiven\b|"
    r"\bhowever\b|\btherefore\b|\bas\s+such\b|\bmoreover\b|\badditionally\b|\bfurthermore\b|"
    r"\bcurrent\w*|\btreating\b|\bprovider\b|\bphysician\b|\bmedical\s+necessity\b|"
    r"\bthere\s+(?:is|was|were)\s+(?:no|a\s+lack|lack|insufficient|inadequate)\b|\bunclear\b|"
    r"\bdoes\s+not\s+appear\b|\bpurchase\b|\bthere\s+is\s+not\b|\bpatients?\s+(?:has|had|is|was)\b|"
    r"\bphysical\s+exam\w*\s+(?:did|does|was|revealed|showed|noted)\b",
    re.IGNORECASE,
)
#: Text in quotation marks is the guideline's (or the service's) words, not the reviewer's.
_QUOTED = re.compile(r"\"[^\"]{0,600}\"|“[^”]{0,600}”")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“(])")
#: Sentences of a rationale that only close it ("... is not medically necessary").
_BOILERPLATE = re.compile(
    r"^(?:therefore|as\s+such|thus|consequently|given\s+the\s+above|based\s+on\s+the\s+above)?,?\s*"
    r"(?:the\s+)?(?:request(?:ed)?|decision)\b[^.]{0,200}\b(?:is|was)\s+(?:not\s+)?"
    r"(?:medically\s+necessary|supported)\.?$",
    re.IGNORECASE,
)


def sentences(rationale: str | None) -> list[str]:
    """The rationale's sentences (whitespace collapsed)."""
    text = " ".join(str(rationale or "").split())
    return [s for s in _SENTENCE.split(text) if s]


def case_sentences(rationale: str | None) -> list[str]:
    """The sentences that speak of this case: quoted guideline text and the closing
    "not medically necessary" boilerplate are left out."""
    out = []
    for sentence in sentences(rationale):
        if _BOILERPLATE.match(sentence):
            continue
        sentence = _QUOTED.sub(" ", sentence)
        if _CASE.search(sentence):
            out.append(sentence)
    return out


def tag_rationale(rationale: str | None) -> list[str]:
    """The reason codes a rationale gives, in the order the reviewer first gives them."""
    first: dict[str, tuple[int, int]] = {}
    for number, sentence in enumerate(case_sentences(rationale)):
        for code, rx in _COMPILED.items():
            match = rx.search(sentence)
            if match and code not in first:
                first[code] = (number, match.start())
    return sorted(first, key=first.__getitem__)


def tagged_reasons(items: pd.DataFrame) -> list[list[str]]:
    """The tagger's codes of each item: its rationale's for upheld items, none for
    overturned ones (a reviewer who overturns gives no denial reason)."""
    return [
        tag_rationale(r) if d == "Upheld" else []
        for r, d in zip(items["decision_rationale"], items["decision"], strict=True)
    ]


# --- measured against the gold ------------------------------------------------------------


def against_gold(items: pd.DataFrame, gold: list[dict] | None = None) -> pd.DataFrame:
    """Precision and recall of the tagger by code on the gold's upheld items.

    Rows: one per code, then ``any`` (micro-averaged over codes); columns ``gold`` (items
    the gold gives the code), ``tagged``, ``both``, ``precision``, ``recall``. Also
    ``first_in_gold``: the share of items whose first tagged code is one the gold gives.
    """
    from analysis.rationale_gold import load_gold, match_items

    gold = load_gold() if gold is None else gold
    rows, _ = match_items(gold, items)
    pairs = [
        (set(g["reasons"]), tag_rationale(rows[k]["decision_rationale"]))
        for g in gold
        if g["decision"] == "Upheld" and (k := (g["letter_id"], g["item_index"])) in rows
    ]
    table = []
    for code in (*CODES, "any"):
        if code == "any":
            g_n = sum(len(g) for g, _ in pairs)
            t_n = sum(len(t) for _, t in pairs)
            both = sum(len(g & set(t)) for g, t in pairs)
        else:
            g_n = sum(code in g for g, _ in pairs)
            t_n = sum(code in t for _, t in pairs)
            both = sum(code in g and code in t for g, t in pairs)
        table.append(
            {
                "code": code,
                "gold": g_n,
                "tagged": t_n,
                "both": both,
                "precision": both / t_n if t_n else float("nan"),
                "recall": both / g_n if g_n else float("nan"),
            }
        )
    out = pd.DataFrame(table)
    out.attrs["items"] = len(pairs)
    out.attrs["first_in_gold"] = (
        sum(bool(t) and t[0] in g for g, t in pairs) / len(pairs) if pairs else float("nan")
    )
    out.attrs["untagged"] = sum(not t for _, t in pairs)
    return out


# --- the table by service category --------------------------------------------------------


def reason_table(items: pd.DataFrame) -> pd.DataFrame:
    """Counts of each code by service category and decision (the tagger's codes).

    Columns: ``category``, ``decision``, ``items`` (that category and decision), then one
    column per code: how many of those items' rationales give it.
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
        counts = {code: sum(code in t for t in group["tags"]) for code in CODES}
        rows.append({"category": category, "decision": decision, "items": len(group), **counts})
    return pd.DataFrame(rows).sort_values(["decision", "items"], ascending=[False, False])


def _markdown_table(frame: pd.DataFrame, digits: int = 2) -> list[str]:
    def cell(v):
        return f"{v:.{digits}f}" if isinstance(v, float) else str(v)

    columns = list(frame.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return lines


def to_markdown(table: pd.DataFrame) -> str:
    """The category table as Markdown."""
    lines = [
        "# Reasons reviewers give, by service category and decision (tagger)",
        "",
        "Counts of rationales the tagger gives each code (post-decision text: analysis only,",
        "never a model input). Made with",
        "`.venv/bin/python -m analysis.rationale_tags --out FILE`.",
        "",
        *_markdown_table(table),
    ]
    return "\n".join(lines) + "\n"


def gold_markdown(table: pd.DataFrame) -> str:
    """The precision/recall table as Markdown."""
    lines = [
        f"Upheld items of the gold: {table.attrs['items']}; the first tagged code is one the "
        f"gold gives in {table.attrs['first_in_gold']:.0%}; no code tagged: "
        f"{table.attrs['untagged']}.",
        "",
        *_markdown_table(table),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="dataset folder (default: ../shared)")
    parser.add_argument("--out", type=Path, help="write the Markdown table here")
    parser.add_argument(
        "--against-gold", action="store_true", help="precision and recall by code against the gold"
    )
    args = parser.parse_args(argv)
    from data.ingest import dataset_or_shared_letters

    items = dataset_or_shared_letters(args.dataset)
    text = (
        gold_markdown(against_gold(items))
        if args.against_gold
        else to_markdown(reason_table(items))
    )
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
