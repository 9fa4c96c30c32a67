"""Pure text -> fact extractors for IMR items, each returning the value and its evidence.

Every extractor takes plain text (the letter's case summary or the item's service text)
and returns a :class:`Finding`: the value plus the spans of the input that support it,
so a prediction can quote why. Only pre-filing text goes in (see
:data:`settings.PRE_FILING_COLUMNS`).

Summaries mix three voices: the history (what was done), the plan/request (what is asked
for) and the utilization review's reasons ("lack of documented failure of conservative
care"). Most rules are about telling them apart, at sentence and clause level
(:mod:`~features.extractors.voice`): a therapy or study counts as done only outside
request/plan wording unless a past-tense marker is attached to it, and failure/benefit
statements are ignored when hedged or negated.

This package is the one import path (``from features import extractors as ex``); the
extractors live in modules by clinical topic:

==========================  ===========================================================
module                      extracts
==========================  ===========================================================
``prior_therapy``           prior sessions per therapy modality, and their total
``therapy_request``         requested amount, request modality, guideline trial/ceiling
``treatment_response``      documented failure and documented benefit of treatment
``imaging``                 imaging studies performed, results, repeat imaging
``findings``                objective findings: neurological deficits, red flags, signs
``care_status``             functional improvement and failed conservative care, as statuses
``context``                 negated / hedged / other-voice mentions (a small ConText)
``regions``                 body regions of the summary and of the request
``case_facts``              chronicity (days since injury), number of diagnoses
``history``                 work status, surgery history, psychological comorbidity
``medications``             medication classes in use, class of a medication request
``claims_admin``            the claims administrator's guidelines and partial approval
``documented``              a named set of wording documented (not negated) in the summary
``request_specifics``       what a request states: dose, quantity, visits, body part, ...
``surgery_plan``            a surgery the summary speaks of, and its status
``readability``             whether the summary is English clinical prose at all
``text`` / ``voice``        shared text units (sentences, clauses, findings) and voice
==========================  ===========================================================

All regular expressions are compiled once at import (:func:`features.fast_regex._rx`);
nothing here holds state except bounded per-text caches, which
:func:`features.clear_caches` empties.
"""

from __future__ import annotations

from features.extractors.care_status import conservative_care_status, improvement_status
from features.extractors.case_facts import chronicity_days, diagnosis_count
from features.extractors.claims_admin import CA_FAMILIES, ca_guideline_families, ur_modified
from features.extractors.context import assertions, hand_negation
from features.extractors.documented import documented
from features.extractors.findings import findings_status, objective_findings
from features.extractors.history import psych_comorbidity, surgery_history, work_status
from features.extractors.imaging import (
    imaging_studies,
    repeat_imaging,
    service_imaging_modalities,
)
from features.extractors.medications import (
    SERVICE_MED_CLASSES,
    medication_classes,
    service_medication_class,
)
from features.extractors.prior_therapy import prior_therapy, prior_total
from features.extractors.readability import summary_readability
from features.extractors.regions import body_regions, body_regions_in, request_region
from features.extractors.request_specifics import request_specifics
from features.extractors.surgery_plan import surgery_mentions
from features.extractors.text import (
    NUM,
    Finding,
    Span,
    clause_of,
    clauses,
    lower,
    sentence_of,
    sentences,
    to_number,
)
from features.extractors.text import _clause_breaks as _clause_breaks
from features.extractors.text import _sentence_starts as _sentence_starts
from features.extractors.text import _words as _words
from features.extractors.therapy_request import (
    adds_to_prior,
    guideline_comparison,
    request_modality,
    requested_amount,
)
from features.extractors.treatment_response import _cue_hits as _cue_hits
from features.extractors.treatment_response import documented_benefit, documented_failure
from features.extractors.voice import _voice as _voice
from features.fast_regex import _rx as _rx
from features.lexicon import IMAGING_MODALITIES, THERAPY_MODALITIES

# ``X as X`` imports above re-export private helpers that other feature modules share
# (cue patterns are built with _rx and read with _cue_hits, and tests reach the text
# helpers) so that ``ex.<name>`` keeps working; they stay out of __all__.
__all__ = [
    "CA_FAMILIES",
    "IMAGING_MODALITIES",
    "NUM",
    "SERVICE_MED_CLASSES",
    "THERAPY_MODALITIES",
    "Finding",
    "Span",
    "adds_to_prior",
    "assertions",
    "body_regions",
    "body_regions_in",
    "ca_guideline_families",
    "chronicity_days",
    "clause_of",
    "clauses",
    "conservative_care_status",
    "diagnosis_count",
    "documented",
    "documented_benefit",
    "documented_failure",
    "findings_status",
    "guideline_comparison",
    "hand_negation",
    "imaging_studies",
    "improvement_status",
    "lower",
    "medication_classes",
    "objective_findings",
    "prior_therapy",
    "prior_total",
    "psych_comorbidity",
    "repeat_imaging",
    "request_modality",
    "request_region",
    "request_specifics",
    "requested_amount",
    "sentence_of",
    "sentences",
    "service_imaging_modalities",
    "service_medication_class",
    "summary_readability",
    "surgery_history",
    "surgery_mentions",
    "to_number",
    "ur_modified",
    "work_status",
]
