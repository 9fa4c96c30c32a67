"""The requested service's type (:data:`SERVICE_CATEGORIES`), by ordered rules."""

from __future__ import annotations

import re

from features.extractors.medications import _DRUGS
from features.extractors.text import Finding, _span, lower
from features.fast_regex import _rx

SERVICE_CATEGORIES = (
    "physical_therapy",
    "chiropractic",
    "acupuncture",
    "injection",
    "imaging",
    "medication",
    "surgery",
    "dme",
    "consultation",
    "psychological",
    "lab_test",
    "other",
)
_PREFIX = _rx(
    r"^\s*(?:associated\s+surgical\s+services?\s*:|retrospective(?:\s+request)?(?:\s+for)?|"
    r"(?:pre|post)[\s-]?op(?:erative)?|purchase\s+of|rental\s+of)\s*",
)
_CATEGORY_RULES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (cat, _rx(rx))
    for cat, rx in (
        (
            "psychological",
            r"psycho\w*|\bpsych\b|psychiatr\w*|cognitive[\s-]+behav\w*|(?-i:\bCBT\b)|"
            r"partial\s+hospitali[sz]ation|biofeedback|counsel\w*",
        ),
        (
            "other",
            r"inpatient|skilled\s+nursing|\bSNF\b|home\s+(?:health|aide|care)|\bnurs\w*|"
            r"(?-i:\bRN\b)|\bassist\w*|\bPA\b\s*$|^\s*PA\b|transportation|rehabilitation\s+unit|"
            r"gym\s+membership|weight\s+loss|\bhelper\b|shockwave|\bESWT\b|neurostimulation|"
            r"impedance",
        ),
        (
            "lab_test",
            r"(?-i:\bEKG\b|\bECG\b|\bCBC\b|\bBMP\b|\bCMP\b|\bPTT\b|\bINR\b|\bUDS\b|\bFCE\b)|"
            r"electrocardiogra\w*|\blabs?\b|laborator\w*|blood\s+(?:test|work|draw)|urin\w*|"
            r"drug\s+(?:screen|test)\w*|toxicolog\w*|functional\s+capacity|metabolic\s+panel|"
            r"genetic\s+test\w*|\bA1c\b|hemoglobin|chest\s+x-?ray|electroencephal\w*|(?-i:\bEEG\b)",
        ),
        (
            "imaging",
            r"\bMRIs?\b|magnetic\s+resonance|(?-i:\bCT\b)|\bCAT\s+scan|computed\s+tomograph\w*|"
            r"x[\s-]?rays?|radiograph\w*|bone\s+scan|\bEMGs?\b|\bNCVs?\b|\bNCSs?\b|"
            r"nerve\s+conduction|electro-?\s?diagnostic|electromyogra\w*|arthrogra\w*|"
            r"myelogra\w*|\bDEXA\b|\bPET\b|sonogra\w*|diagnostic\s+ultrasound|(?-i:\bSSEP\b)|"
            r"ultrasound\s+(?:of|for)\s+the\b|doppler",
        ),
        (
            "injection",
            r"inject\w*|\bblocks?\b|epidural|\bESIs?\b|trigger\s+points?\b(?!\s+impedance)|"
            r"facet|radiofrequency|rhizotomy|ablation|platelet|\bPRP\b|viscosupplement\w*|"
            r"synvisc|hyaluron\w*|botox|prolotherapy|medial\s+branch|neurolytic|neuroplasty",
        ),
        (
            "chiropractic",
            r"chiropract\w*|chiro\w*|manipulat\w*|(?-i:\bCMT\b)|spinolator|traction",
        ),
        ("acupuncture", r"acupunct\w*"),
        (
            "physical_therapy",
            r"physical\s+therap\w*|physiotherap\w*|(?-i:\bPT\b)(?!/PTT)|occupational\s+therap\w*|"
            r"(?-i:\bOT\b)|aqua\w*\s+therap\w*|pool\s+therap\w*|hand\s+therapy|"
            r"therapeutic\s+exercise|electrical\s+(?:muscle\s+)?stimulation|e-?stim|"
            r"ultrasound|massage|myofascial\s+release|manual\s+therapy|infrared|"
            r"work\s+(?:hardening|conditioning)|\b(?:exam|examination)\s+\d+\s*(?:x|times)",
        ),
        (
            "surgery",  # named procedures; a bare "surgery" may be a surgical consult
            r"arthroscop\w*|repair|fusion|laminectomy|discectomy|decompression|(?-i:\bORIF\b)|"
            r"arthroplasty|replacement|\brelease\b|tenodesis|reconstruction|"
            r"\b[a-z]+(?:ectomy|otomy|oplasty)\b|excision|debridement",
        ),
        (
            "consultation",
            r"consult\w*|referral|\brefer\b|\bevaluation\b|\beval\b|clearance|\bTOC\b|"
            r"transfer\s+of\s+care|second\s+opinion|follow[\s-]?up\s+visit|office\s+visit|"
            r"\bexam(?:ination)?\b|re-?exam\w*|specialist",
        ),
        ("surgery", r"surger\w*|surgical|\bprocedure\b"),
        (
            "dme",
            r"\bbrace|\bsplint|(?-i:\bTENS\b)|\bunit\b|\bcane\b|crutch\w*|walker|wheel\s?chair|"
            r"commode|shower\s+chair|cold\s+(?:compression\s+)?therapy|cryotherapy|hot/cold|"
            r"ice/heat|heat\s+therapy|\bsling\b|slingshot|orthotic\w*|insoles?|pillow|mattress|"
            r"\bbed\b|cushion|scooter|workstation|\bchair\b|\bboot\b|collar|\bsupport\b|"
            r"garment|stimulator|\bpump\b|compression\s+(?:stockings?|device)|\bwrap\b|"
            r"\bpads?\b(?!\s*#)|durable|\bkit\b",
        ),
    )
)
_MED_SERVICE = _rx(
    rf"\b(?:{_DRUGS})\b|\d\s*(?:mg|mcg|gm?|ml)\b|\d\s*%|#\s*\d|\btabs?\b|\btablets?\b|"
    r"capsules?|\bcream\b|\bgel\b|\bointment\b|\bpatch\b|\bsupply\b|\brefills?\b",
)
# Unmistakable medication signals, checked before the DME rules ("Salonpas pad #60").
_MED_STRONG = _rx(rf"\b(?:{_DRUGS})\b|\d\s*(?:mg|mcg)\b")


def service_category(service: str | None) -> Finding:
    """Requested service type, one of :data:`SERVICE_CATEGORIES`.

    Rules are ordered, first match wins: psych, facility/nursing ("other"), labs (so
    "PT/PTT" is a lab), imaging (diagnostic ultrasound only; bare "Ultrasound 1 times 8" is a
    therapy modality), injections, chiropractic, acupuncture, physical therapy, named
    surgical procedures, then a named drug or dose ("Twelve acupuncture visits with
    Capsaicin patch" stays acupuncture), consultation, "surgery", DME, medication forms.
    """
    text = service or ""
    low = lower(text)
    prefix = _PREFIX.match(low)
    pos = prefix.end() if prefix else 0  # "Associated surgical service: Shoulder Brace"
    for cat, rx in _CATEGORY_RULES:
        if cat == "consultation" and (m := _MED_STRONG.search(low, pos)):
            return Finding("medication", (_span(text, m.start(), m.end()),))
        if m := rx.search(low, pos):
            return Finding(cat, (_span(text, m.start(), m.end()),))
    if m := _MED_SERVICE.search(low, pos):
        return Finding("medication", (_span(text, m.start(), m.end()),))
    return Finding("other")
