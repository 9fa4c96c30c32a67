"""Objective findings on examination or imaging: neurological deficits, red flags, signs.

What the guidelines ask for before imaging, electrodiagnostics, injections or surgery:
radiculopathy, weakness, reflex changes, positive provocative tests, instability, a tear,
red flags. A finding counts only where it is stated without negation or hedging.
"""

from __future__ import annotations

from features.extractors.text import Finding
from features.extractors.treatment_response import _cue_hits
from features.fast_regex import _rx

#: Objective findings that justify imaging, electrodiagnostics, injections or surgery:
#: neurological deficits, red flags and mechanical signs on examination or imaging.
_FINDINGS_CUE = _rx(
    r"radiculopath\w*|radicular|numbness|tingling|paresthesia\w*|weakness|"
    r"decreased\s+(?:sensation|strength|reflex\w*)|diminished\s+(?:sensation|strength|reflex\w*)|"
    r"(?:absent|reduced|hypoactive|asymmetric)\s+reflex\w*|"
    r"positive\s+(?:straight[\s-]+leg|slr|spurling\w*|tinel\w*|phalen\w*|mcmurray\w*|"
    r"drawer|lachman|neer|hawkins|impingement|apprehension|empty\s+can|durkan\w*|"
    r"hoffman\w*|babinski|clonus)|"
    r"atrophy|myelopath\w*|instability|fracture\w*|\btears?\b|\btorn\b|effusion|locking|"
    r"giving\s+way|red\s+flags?|progressive\s+neuro\w*|neurologic(?:al)?\s+deficit\w*|"
    r"dermatomal|foot\s+drop|cauda\s+equina|infection|tumou?r|herniat\w*|stenosis|"
    r"nerve\s+(?:root\s+)?(?:compression|impingement)|dislocat\w*"
)
_FINDINGS_HEDGE = _rx(
    r"\b(?:no|not|negative|denie[sd]|without|absence|absent|lack\w*|free\s+of|"
    r"rule\s+out|r/o|to\s+evaluate|evaluate\s+for|assess\s+for|whether|if|unless|"
    r"suspect\w*|possible|question\w*|concern\s+for)\b"
)


def objective_findings(summary: str) -> Finding:
    """Neurological deficits, red flags or mechanical signs stated without negation."""
    hits = [sp for sp, _, _ in _cue_hits(summary, _FINDINGS_CUE, _FINDINGS_HEDGE, False)]
    return Finding(bool(hits), tuple(hits))
