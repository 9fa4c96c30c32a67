"""Word lists the extractors share, and the guideline limits they read.

Only plain data lives here (strings, tuples, dicts); the compiled regular expressions are
built from it once, at import time, in :mod:`features.extractors`. Keeping the vocabulary
apart from the matching code makes both easier to review. The visit limits come from the
reviewed guideline tables (:file:`features/knowledge/limits.toml`).
"""

from __future__ import annotations

#: Therapy modalities whose prior sessions are counted.
THERAPY_MODALITIES = ("pt", "chiro", "acupuncture", "ot", "aquatic", "psych")

#: Regex source per therapy modality, as written in case summaries.
#: ``(?-i:PT)`` keeps "PT" case-sensitive so "pt" inside words or "Pt." never matches;
#: "PT/PTT" (prothrombin time) is excluded. "Chiropractic physiotherapy" is chiropractic.
THERAPY_PATTERNS = {
    "pt": (
        r"physical\s+therap(?:y|ies|ist)|(?<!chiropractic\s)(?<!chiropractic/)physiotherapy|"
        r"(?-i:\bPT\b)(?!/PTT)|therapeutic\s+exercises?|hand\s+therapy"
    ),
    "chiro": (
        r"chiropract\w*|chirotherap\w*|chiro-?physio\w*|\bchiro\b|spinal\s+manipulation|"
        r"manipulative\s+(?:therap\w*|treatments?)|(?-i:\bCMT\b)"
    ),
    "acupuncture": r"(?:electro-?\s?)?acupunct\w*",
    "ot": r"occupational\s+therap\w*|(?-i:\bOT\b)",
    "aquatic": r"aqua(?:tic)?[\s-]*therap\w*|pool\s+therapy|aquatic\s+(?:exercise|program)\w*|"
    r"hydrotherap\w*",
    "psych": (
        r"psychotherap\w*|cognitive[\s-]+behavio(?:u)?ral\s+therap\w*|(?-i:\bCBT\b)|"
        r"psycholog\w*\s+(?:treatment|therapy|sessions?|visits?|counsel\w*|care)|"
        r"psych(?:iatric)?\s+(?:appointments?|sessions?|visits?|treatment|therapy|care)|"
        r"counsel(?:l)?ing"
    ),
}

#: Literal substrings (lower case) one of which every match of the pattern contains; a
#: cheap pre-check that skips the regex pass when none occurs.
THERAPY_GATES = {
    "pt": ("physical", "physio", "pt", "therapeutic", "hand therapy"),
    "chiro": ("chiro", "manipula", "cmt"),
    "acupuncture": ("acupunct",),
    "ot": ("occupational", "ot"),
    "aquatic": ("aqua", "pool", "hydro"),
    "psych": ("psych", "cognitive", "cbt", "counsel"),
}

#: Diagnostic studies. "CT" is case-sensitive; therapeutic ultrasound is handled separately.
IMAGING_MODALITIES = ("xray", "mri", "ct", "emg_ncv", "ultrasound", "bone_scan")
IMAGING_PATTERNS = {
    "xray": (
        r"x[\s-]?rays?|radiographs?\b|radiography|"
        r"radiographic\s+(?:stud|imag|view|film|find)\w*|plain[\s-]+films?"
    ),
    "mri": r"\bMRIs?\b|\bMRA\b|magnetic\s+resonance|\bMR\s+arthrogra\w*",
    "ct": r"(?-i:\bCT\b)|\bCAT\s+scans?|compute(?:d|rized)\s+(?:axial\s+)?tomograph\w*",
    "emg_ncv": (
        r"\bEMGs?\b|\bNCVs?\b|\bNCSs?\b|electromyogra\w*|nerve\s+conduction|"
        r"electro-?\s?diagnostic\w*|(?-i:\bEDS\b)"
    ),
    "ultrasound": r"ultrasound|sonogra\w*|doppler",
    "bone_scan": r"bone\s+scan\w*|scintigra\w*",
}

IMAGING_GATES = {
    "xray": ("ray", "radiograph", "film"),
    "mri": ("mri", "mra", "magnetic", "mr"),
    "ct": ("ct", "cat", "tomograph"),
    "emg_ncv": ("emg", "ncv", "ncs", "electro", "nerve", "eds"),
    "ultrasound": ("ultrasound", "sonogra", "doppler"),
    "bone_scan": ("bone", "scintigra"),
}

#: Body regions, for the request and for counting regions in the summary.
BODY_REGIONS = (
    "cervical",
    "thoracic",
    "lumbar",
    "shoulder",
    "elbow",
    "wrist_hand",
    "hip_pelvis",
    "knee",
    "ankle_foot",
    "head",
    "trunk",
    "upper_extremity",
    "lower_extremity",
)
REGION_PATTERNS = {
    "cervical": r"cervic\w*|\bneck\b|(?-i:\bC[1-7](?:-[C1-7]+)?\b)",
    "thoracic": r"thoracic|thoracolumbar|dorsal\s+spine|mid[\s-]?back|upper\s+back",
    "lumbar": r"lumb\w*|low(?:er)?\s+back|sacr\w*|coccy\w*|(?-i:\bL[1-5](?:-[LS]?\d)?\b)|"
    r"sciatic\w*",
    "shoulder": r"shoulders?|rotator\s+cuff|scapul\w*|acromi\w*|clavic\w*|labr(?:um|al)",
    "elbow": r"elbows?|epicondyl\w*|cubital|forearms?",
    "wrist_hand": r"wrists?|hands?\b|fingers?|thumbs?|digits?|carpal|palms?|de\s+quervain",
    "hip_pelvis": r"\bhips?\b|pelvi\w*|groin|buttocks?|glute\w*|trochanter\w*|thighs?",
    "knee": r"knees?|patell\w*|menisc\w*|(?-i:\bACL\b)",
    "ankle_foot": r"ankles?|\bfoot\b|\bfeet\b|\btoes?\b|\bheels?\b|plantar|achilles|calcane\w*|"
    r"tarsal|lisfranc",
    "head": r"\bhead\b|\bface\b|facial|brain|concussion\w*|headaches?|skull|\bjaw\b|\bTMJ\b",
    "trunk": r"\bchest\b|\bribs?\b|abdom\w*|\bcolon\b|kidney",
    "upper_extremity": r"upper\s+extremit\w*|\barms?\b",
    "lower_extremity": r"lower\s+extremit\w*|\blegs?\b",
}

REGION_GATES = {
    "cervical": ("cervic", "neck", "c1", "c2", "c3", "c4", "c5", "c6", "c7"),
    "thoracic": ("thoracic", "dorsal", "mid", "upper back"),
    "lumbar": ("lumb", "low", "sacr", "coccy", "l1", "l2", "l3", "l4", "l5", "sciatic"),
    "shoulder": ("shoulder", "rotator", "scapul", "acromi", "clavic", "labr"),
    "elbow": ("elbow", "epicondyl", "cubital", "forearm"),
    "wrist_hand": ("wrist", "hand", "finger", "thumb", "digit", "carpal", "palm", "quervain"),
    "hip_pelvis": ("hip", "pelvi", "groin", "buttock", "glute", "trochanter", "thigh"),
    "knee": ("knee", "patell", "menisc", "acl"),
    "ankle_foot": ("ankle", "foot", "feet", "toe", "heel", "plantar", "achilles", "calcane",
                   "tarsal", "lisfranc"),
    "head": ("head", "face", "facial", "brain", "concussion", "skull", "jaw", "tmj"),
    "trunk": ("chest", "rib", "abdom", "colon", "kidney"),
    "upper_extremity": ("upper", "arm"),
    "lower_extremity": ("lower", "leg"),
}  # fmt: skip

#: Medication classes: generic and brand names seen in California WC letters.
#: Names are space-separated; "_" joins the words of a multi-word name.
MEDICATION_CLASSES = (
    "opioid",
    "nsaid",
    "muscle_relaxant",
    "neuropathic",
    "antidepressant",
    "topical",
    "ppi",
    "sleep_anxiolytic",
)
MEDICATION_NAMES = {
    "opioid": (
        "norco hydrocodone vicodin oxycodone oxycontin percocet endocet tramadol ultram ultracet "
        "tylenol_#3 tylenol_with_codeine codeine morphine ms_contin fentanyl duragesic dilaudid "
        "hydromorphone methadone tapentadol nucynta buprenorphine butrans suboxone oxymorphone "
        "opana opioid opioids opiate opiates trezix"
    ),
    "nsaid": (
        "nsaid nsaids ibuprofen motrin advil naproxen naprosyn anaprox aleve meloxicam mobic "
        "diclofenac celecoxib celebrex etodolac lodine ketoprofen nabumetone relafen ketorolac "
        "toradol indomethacin duexis anti-inflammatory anti-inflammatories antiinflammatory "
        "piroxicam feldene"
    ),
    "muscle_relaxant": (
        "cyclobenzaprine flexeril fexmid amrix baclofen tizanidine zanaflex carisoprodol soma "
        "methocarbamol robaxin metaxalone skelaxin orphenadrine norflex chlorzoxazone parafon "
        "lorzone muscle_relaxant muscle_relaxants tabradol"
    ),
    "neuropathic": (
        "gabapentin neurontin pregabalin lyrica topiramate topamax carbamazepine tegretol "
        "lamotrigine oxcarbazepine anticonvulsant anticonvulsants anti-epileptic fanatrex"
    ),
    "antidepressant": (
        "amitriptyline elavil nortriptyline pamelor duloxetine cymbalta venlafaxine effexor "
        "sertraline zoloft fluoxetine prozac trazodone desyrel citalopram celexa escitalopram "
        "lexapro paroxetine paxil bupropion wellbutrin mirtazapine remeron antidepressant "
        "antidepressants"
    ),
    "topical": (
        "lidoderm lidocaine terocin salonpas anecream flector menthoderm capsaicin "
        "compounded topical_compound compound_cream topical_analgesic topical_cream "
        "transdermal voltaren_gel ketoprofen_cream flurbiprofen"
    ),
    "ppi": (
        "omeprazole prilosec pantoprazole protonix esomeprazole nexium lansoprazole prevacid "
        "rabeprazole aciphex dexlansoprazole dexilant proton_pump"
    ),
    "sleep_anxiolytic": (
        "zolpidem ambien eszopiclone lunesta diazepam valium alprazolam xanax lorazepam ativan "
        "clonazepam klonopin temazepam restoril dicopanol"
    ),
}

#: Other drug names that only tell us a request is a medication.
OTHER_MEDICATION_NAMES = (
    "zofran ondansetron pepcid famotidine ranitidine zantac deprizine synapryn ketophene "
    "viagra sildenafil tylenol acetaminophen aspirin prednisone medrol methylprednisolone "
    "colace senna docusate imitrex sumatriptan"
)


# Visit limits live in the reviewed guideline tables (features/knowledge/limits.toml, with
# their sources); the extractors read them here by their old names.
def _limits():
    from features.knowledge import knowledge

    k = knowledge()
    visits = {m: (v["trial"], v["ceiling"], v["source"]) for m, v in k.visits.items()}
    return visits, dict(k.postsurgical["regions"]), k.postsurgical["default"]


#: MTUS/ODG visit limits per therapy modality: (trial visits, usual ceiling, source).
#: These are the common caps UR and IMR reviewers quote; conditions differ, so they are
#: features for the model to weigh, not rules.
#: Post-surgical physical medicine ceilings by body region (MTUS Postsurgical Treatment
#: Guidelines); procedures within a region differ, this is the common figure.
GUIDELINE_CEILINGS, POSTSURGICAL_CEILINGS, DEFAULT_POSTSURGICAL_CEILING = _limits()

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "eighteen": 18,
    "twenty": 20,
    "twenty-four": 24,
    "twenty four": 24,
    "thirty": 30,
    "thirty-six": 36,
    "once": 1,
    "twice": 2,
}
