"""What a requested service is: its category, its sub-category and the guideline's stance.

One table, :data:`SUBCATEGORIES`, maps the wording of a requested service to a
sub-category (opioid, compounded topical, PT, MRI, epidural injection, ...), the broad
category it belongs to (the categories of :func:`features.extractors.service_category`
and of the published overturn statistics), and what the California MTUS (with ACOEM and
ODG where the letters cite them) says of it in general:

- ``not_recommended``: the guideline does not recommend it for chronic use or at all
  (compounded topicals with a non-recommended ingredient, muscle relaxants beyond a short
  course, benzodiazepines and hypnotics, "medical foods", passive modalities, ...);
- ``conditional``: recommended when criteria are documented (most requests);
- ``supported``: generally supported when asked for in the usual way (follow-up visits
  with the treating physician, specialist consultations, first-line drugs, the usual
  peri-operative services of a surgery).

The first matching row wins, so specific rows come before general ones. A service that
no row matches is ``unrecognised``: the model then has only the overall rate to go on,
and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

NOT_RECOMMENDED, CONDITIONAL, SUPPORTED = "not_recommended", "conditional", "supported"


@dataclass(frozen=True)
class ServiceKind:
    """The sub-category of a requested service and what the guideline says of it."""

    subcategory: str
    category: str
    stance: str
    label: str
    evidence: str = ""

    @property
    def recognised(self) -> bool:
        return self.subcategory != "unrecognised"


# Ingredients that make a compounded topical "not recommended" under MTUS: "any compounded
# product that contains at least one drug (or drug class) that is not recommended is not
# recommended" (muscle relaxants, gabapentin, topical NSAIDs other than diclofenac, ...).
_TOPICAL_BAD = (
    r"cyclobenzaprine|baclofen|gabapentin|flurbiprofen|ketoprofen|dexamethasone|"
    r"dextromethorphan|tramadol|amitriptyline|bupivacaine|camphor|menthol"
)

#: (sub-category, category, stance, label, pattern); first match wins.
SUBCATEGORIES: tuple[tuple[str, str, str, str, str], ...] = (
    # Peri-operative services are decided with their surgery, whatever they are.
    ("preop_clearance", "consultation", SUPPORTED, "pre-operative clearance",
     r"pre-?\s?op\w*\s+(?:medical\s+)?clearance|medical\s+clearance"),
    ("preop_test", "lab_test", SUPPORTED, "pre-operative test",
     r"pre-?\s?op\w*\s+(?:labs?|cbc|bmp|cmp|ekg|ecg|pt/ptt|chest|x-?ray|urinalysis)|"
     r"labs\s+to\s+include"),
    ("surgical_assistant", "other", SUPPORTED, "surgical assistant",
     r"\bassistant\s+(?:pa|surgeon)\b|\bpa\s+assist|surgical\s+assist"),
    ("postop_therapy", "physical_therapy", CONDITIONAL, "post-operative therapy",
     r"(?:associated\s+surgical\s+service|post-?\s?op\w*)[:\s]+.{0,40}"
     r"(?:physical|occupational|hand)\s+therap|post-?\s?op\w*\s+(?:pt|therapy)"),
    ("postop_dme", "dme", CONDITIONAL, "post-operative equipment",
     r"associated\s+surgical\s+service[:\s]+.{0,30}"
     r"(?:sling|brace|cold|cryo|ice|wrap|pillow|compression|walker|crutch|cane|cpm)"),
    ("postop_medication", "medication", CONDITIONAL, "post-operative medication",
     r"post-?\s?op\w*\s+(?:percocet|norco|zofran|ondansetron|keflex|medication)"),
    ("surgery", "surgery", CONDITIONAL, "surgery",
     r"arthroscop\w*|arthroplast\w*|\brepair\b|fusion|laminectom\w*|discectom\w*|"
     r"decompression|(?:tunnel|finger|tendon|nerve)\s+release|meniscectom\w*|replacement|\borif\b|tenodesis|"
     r"\bsurgery\b(?!\s+(?:eval|consult))|acromioplast\w*|debridement|reconstruction"),
    # Medications.
    ("med_compound_topical", "medication", NOT_RECOMMENDED, "compounded topical",
     r"(?:" + _TOPICAL_BAD + r").{0,60}(?:cream|gel|ointment|base|topical|patch|%)|"
     r"\d\s?%.{0,40}(?:" + _TOPICAL_BAD + r")|compound\w*|anecream|terocin|menthoderm"),
    ("med_food", "medication", NOT_RECOMMENDED, "medical food / oral suspension kit",
     r"deprizine|synapryn|tabradol|fanatrex|dicopanol|ketophene|theramine|sentra|"
     r"trepadone|gabadone|medical\s+food|trezix"),
    ("med_topical_nsaid", "medication", CONDITIONAL, "topical NSAID",
     r"voltaren\s+gel|diclofenac\s+(?:sodium\s+)?\d?\.?\d*\s?%|flector|pennsaid|salonpas"),
    ("med_lidocaine", "medication", CONDITIONAL, "topical lidocaine",
     r"lidoderm|lidocaine"),
    ("med_opioid", "medication", CONDITIONAL, "opioid",
     r"norco|hydrocodone|vicodin|oxycodone|oxycontin|percocet|tramadol|ultram|ultracet|"
     r"codeine|morphine|fentanyl|dilaudid|hydromorphone|methadone|tapentadol|nucynta|"
     r"buprenorphine|butrans|oxymorphone|opana|opioid"),
    ("med_muscle_relaxant", "medication", NOT_RECOMMENDED, "muscle relaxant",
     r"cyclobenzaprine|flexeril|fexmid|amrix|baclofen|tizanidine|zanaflex|carisoprodol|"
     r"\bsoma\b|methocarbamol|robaxin|metaxalone|skelaxin|orphenadrine|norflex|lorzone|"
     r"chlorzoxazone|muscle\s+relax"),
    ("med_sleep_anxiolytic", "medication", NOT_RECOMMENDED, "hypnotic / benzodiazepine",
     r"zolpidem|ambien|eszopiclone|lunesta|diazepam|valium|alprazolam|xanax|lorazepam|"
     r"ativan|clonazepam|klonopin|temazepam|restoril"),
    ("med_ppi", "medication", CONDITIONAL, "stomach protectant (PPI/H2)",
     r"omeprazole|prilosec|pantoprazole|protonix|esomeprazole|nexium|lansoprazole|"
     r"prevacid|rabeprazole|dexilant|pepcid|famotidine|ranitidine|zantac"),
    ("med_antidepressant", "medication", SUPPORTED, "antidepressant",
     r"amitriptyline|elavil|nortriptyline|pamelor|duloxetine|cymbalta|venlafaxine|effexor|"
     r"sertraline|zoloft|fluoxetine|prozac|trazodone|citalopram|escitalopram|lexapro|"
     r"paroxetine|bupropion|wellbutrin|mirtazapine"),
    ("med_neuropathic", "medication", SUPPORTED, "anticonvulsant for neuropathic pain",
     r"gabapentin|neurontin|pregabalin|lyrica|topiramate|carbamazepine|lamotrigine"),
    ("med_nsaid", "medication", SUPPORTED, "oral NSAID",
     r"ibuprofen|motrin|naproxen|naprosyn|anaprox|meloxicam|mobic|diclofenac|voltaren|"
     r"celecoxib|celebrex|etodolac|nabumetone|relafen|ketorolac|indomethacin|nsaid"),
    # Injections before imaging: "epidural ... under fluoroscopy" is an injection.
    ("injection_epidural", "injection", CONDITIONAL, "epidural steroid injection",
     r"epidural|transforaminal|\besi\b"),
    ("injection_facet", "injection", CONDITIONAL, "facet injection / medial branch block",
     r"facet|medial\s+branch|radiofrequency|rhizotomy|neurotomy|neurolytic"),
    ("injection_trigger_point", "injection", NOT_RECOMMENDED, "trigger point injection",
     r"trigger\s+points?\s+inject"),
    ("injection_prp", "injection", NOT_RECOMMENDED, "platelet-rich plasma injection",
     r"platelet[\s-]+rich|\bprp\b"),
    ("injection_other", "injection", CONDITIONAL, "joint / soft-tissue injection",
     r"inject\w*|cortisone|corticosteroid|neuroplasty|viscosupplement|synvisc|block"),
    # Diagnostics.
    ("imaging_emg_ncv", "imaging", CONDITIONAL, "electrodiagnostic study (EMG/NCV)",
     r"\bemg\b|\bncv\b|\bncs\b|electromyogra\w*|nerve\s+conduction|\bssep\b"),
    ("imaging_mri", "imaging", CONDITIONAL, "MRI",
     r"\bmri\b|magnetic\s+resonance|\bmr\s+arthrogra\w*"),
    ("imaging_ct", "imaging", CONDITIONAL, "CT scan", r"\bct\b|\bcat\s+scan|tomograph\w*"),
    ("imaging_xray", "imaging", CONDITIONAL, "X-ray", r"x-?\s?rays?|radiograph\w*"),
    ("imaging_other", "imaging", CONDITIONAL, "other imaging",
     r"bone\s+scan|ultrasound\s+(?:of|guided)|diagnostic\s+ultrasound|scan\b|imaging"),
    ("lab_drug_screen", "lab_test", CONDITIONAL, "urine drug screen",
     r"urine\s+(?:drug|tox|test)|drug\s+(?:screen|test)|\buds\b"),
    ("lab_fce", "lab_test", NOT_RECOMMENDED, "functional capacity evaluation",
     r"functional\s+capacity"),
    ("lab_other", "lab_test", CONDITIONAL, "lab / other test",
     r"\blabs?\b|blood|\bcbc\b|\bbmp\b|\bekg\b|\becg\b|electroencephalogra\w*|\beeg\b|"
     r"genetic|\btest(?:ing)?\b"),
    ("inpatient_rehab", "other", CONDITIONAL, "inpatient rehabilitation",
     r"inpatient|acute\s+rehab\w*|rehabilitation\s+unit|skilled\s+nursing"),
    # Therapies.
    ("therapy_passive", "physical_therapy", NOT_RECOMMENDED, "passive modality",
     r"electrical\s+(?:muscle\s+)?stim\w*|e-?\s?stim|infrared|pulsed\s+ultrasound|"
     r"^ultrasound|myofascial\s+release|traction|spinolator|diathermy|hot/cold|"
     r"heat\s+(?:to|therapy)|shockwave|\beswt\b|impedance|neurostimulation|tpii"),
    ("therapy_acupuncture", "acupuncture", CONDITIONAL, "acupuncture", r"acupunct\w*"),
    ("therapy_chiro", "chiropractic", CONDITIONAL, "chiropractic / manipulation",
     r"chiro\w*|manipulat\w*"),
    ("therapy_psych", "psychological", SUPPORTED, "psychological treatment",
     r"psycho\w*|cognitive\s+behavio\w*|\bcbt\b|biofeedback|counsel\w*|partial\s+hospital"),
    ("therapy_pt", "physical_therapy", CONDITIONAL, "physical / occupational therapy",
     r"physical\s+therap\w*|occupational\s+therap\w*|hand\s+therap\w*|physiotherap\w*|"
     r"therapeutic\s+exercise|manual\s+therapy|\bpt\b|\bot\b|work\s+(?:hardening|cond)"),
    ("program_frp", "other", CONDITIONAL, "functional restoration program",
     r"functional\s+restoration|\bfrp\b|chronic\s+pain\s+program|hello\s+program"),
    # Visits and consultations.
    ("visit_followup", "consultation", SUPPORTED, "follow-up visit with the treating physician",
     r"follow[\s-]?up|office\s+visit|re-?\s?exam|return\s+visit|\bvisit\s+with\b"),
    ("visit_consult", "consultation", SUPPORTED, "specialist consultation / evaluation",
     r"consult\w*|referral|evaluation|\beval\b|\btoc\b|transfer\s+of\s+care|"
     r"initial\s+exam|neurosurg\w*|orthop\w*|surgeon"),
    # Equipment and care at home.
    ("dme_tens", "dme", CONDITIONAL, "TENS unit", r"\btens\b|\bh-?wave\b|interferential"),
    ("dme_brace", "dme", CONDITIONAL, "brace / support",
     r"brace|support\b|orthos[ie]s|orthotic|splint|sling|pillow|collar|insoles?"),
    ("dme_other", "dme", CONDITIONAL, "durable medical equipment",
     r"unit\b|cold\s+therapy|cryo|wheelchair|scooter|walker|commode|chair|\bpad\b|"
     r"workstation|\bbed\b|cane|crutch|rental|purchase|wrap"),
    ("home_care", "other", CONDITIONAL, "home health / nursing",
     r"home\s+(?:health|aide|care)|\brn\b|nurs\w*|wound\s+care"),
    ("transportation", "other", NOT_RECOMMENDED, "transportation", r"transport\w*"),
    ("med_other", "medication", CONDITIONAL, "other medication",
     r"\b\d+(?:\.\d+)?\s?mg\b|tablets?|capsules?|refills?|viagra|zofran|"
     r"ondansetron|prednisone|medrol|acetaminophen|tylenol|supply"),
    ("therapy_pt_generic", "physical_therapy", CONDITIONAL, "physical / occupational therapy",
     r"therap\w*|sessions?|visits?|exercise"),
)  # fmt: skip

_COMPILED = tuple(
    (sub, cat, stance, label, re.compile(pattern, re.IGNORECASE))
    for sub, cat, stance, label, pattern in SUBCATEGORIES
)

#: Every sub-category name, in table order, plus ``unrecognised``.
SUBCATEGORY_NAMES: tuple[str, ...] = (
    *dict.fromkeys(row[0] for row in SUBCATEGORIES),
    "unrecognised",
)
#: Sub-categories that are peri-operative: decided together with a surgery.
PERIOPERATIVE = frozenset(
    {"preop_clearance", "preop_test", "surgical_assistant", "postop_dme", "postop_medication"}
)
THERAPIES = frozenset(
    {"therapy_pt", "therapy_pt_generic", "therapy_chiro", "therapy_acupuncture", "therapy_psych"}
)


@lru_cache(maxsize=4096)
def service_kind(service: str | None) -> ServiceKind:
    """The sub-category of a requested service, with the words it was recognised by."""
    text = " ".join(str(service or "").split())
    if sum(c.isalpha() for c in text) < 3:
        return ServiceKind("unrecognised", "other", CONDITIONAL, "unrecognised service")
    for sub, cat, stance, label, rx in _COMPILED:
        match = rx.search(text)
        if match:
            return ServiceKind(sub, cat, stance, label, match.group(0))
    return ServiceKind("unrecognised", "other", CONDITIONAL, "unrecognised service")
