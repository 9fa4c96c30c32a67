"""The hand-written negation against medspaCy's ConText: agreement with the reviewers, cost.

The criterion statuses read from a summary (``features.extractors.findings_status``,
``improvement_status``, ``conservative_care_status``) find their cues with the project's
patterns and ask a negation detector whether each cue is negated, hypothetical or
uncertain (``negation=``). This swaps that detector and nothing else:

* ``hand``: :func:`features.extractors.context.hand_negation` (the project's triggers);
* ``medspacy``: medspaCy's ConText with its default English rules, on a blank spaCy
  tokenizer (no model download), over the same sentences and the same cue spans
  (``is_negated`` -> negated, ``is_uncertain`` -> uncertain, ``is_hypothetical`` ->
  hypothetical; historical and family are not used).

The summary's voices (the worker's complaints, diagnosis labels, UR and guideline
sentences) apply to both. Reported per detector: the agreement table of
:mod:`analysis.criterion_agreement` on the training letters, the time to read every
summary (CPU), and what importing it costs a cold process (wall and CPU time, medians of
``--runs`` alternating runs, beside a bare ``import sklearn, pandas``). medspaCy is not a project
dependency; install it in a separate environment to run this::

    python3 -m venv /tmp/ctx && /tmp/ctx/bin/pip install -e . medspacy
    /tmp/ctx/bin/python benchmarks/bench_negation.py --gold GOLD.json [--dataset DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

_NLP = {}


def medspacy_negation(text, spans):
    """ConText's negated / uncertain / hypothetical for each (start, end) span of ``text``."""
    from spacy.tokens import Span

    from features.extractors.text import sentences

    if not _NLP:
        import medspacy.context  # noqa: F401  (registers the medspacy_context factory)
        import spacy

        nlp = spacy.blank("en")
        _NLP["nlp"] = nlp
        _NLP["context"] = nlp.add_pipe(
            "medspacy_context", config={"input_span_type": "group", "span_group_name": "cues"}
        )
    nlp, context = _NLP["nlp"], _NLP["context"]
    doc = nlp.make_doc(text)
    starts = {s for s, _ in sentences(text)}
    for token in doc:  # the extractors' sentences, so both detectors see the same scope
        token.is_sent_start = token.i == 0 or token.idx in starts
    targets = []
    for s, e in spans:
        span = doc.char_span(s, e, alignment_mode="expand")
        targets.append(span if span is not None else Span(doc, 0, 0))
    doc.spans["cues"] = targets
    context(doc)
    out = []
    for span in targets:
        mods = set()
        if span._.is_negated:
            mods.add("negated")
        if span._.is_uncertain:
            mods.add("uncertain")
        if span._.is_hypothetical:
            mods.add("hypothetical")
        out.append(frozenset(mods))
    return out


DETECTORS = {"hand": None, "medspacy": medspacy_negation}
IMPORTS = {
    "bare": "import sklearn, pandas",
    "hand": "import sklearn, pandas; import features.extractors",
    "medspacy": "import sklearn, pandas; import features.extractors; "
    "import spacy, medspacy.context; spacy.blank('en').add_pipe('medspacy_context')",
}


#: The issue's own phrases (issue 15, item 5), with the status each must read as.
CASES = (
    ("findings", "Red flags were not noted.", "not_met"),
    ("findings", "No red flags were noted.", "not_met"),
    ("findings", "Negative straight leg raise, intact sensation and strength.", "not_met"),
    ("findings", "Neurological examination was normal.", "not_met"),
    ("findings", "Weakness was not present in the lower extremities.", "not_met"),
    ("findings", "The injured worker denied numbness, tingling or weakness.", "not_met"),
    ("findings", "No weakness, but decreased sensation in the L5 dermatome.", "met"),
    ("findings", "The MRI was ordered to rule out a rotator cuff tear.", None),
    ("findings", "Spurling test is questionable on the left.", None),
    ("improvement", "Therapy notes do not document objective functional improvement.", "not_met"),
    ("improvement", "Six PT visits without documented functional improvement.", "not_met"),
    ("improvement", "No improvement with prior PT.", "not_met"),
    ("improvement", "Physical therapy was not helpful.", "not_met"),
    ("improvement", "Physical therapy has helped with her pain.", "met"),
    ("improvement", "PT was requested to improve function.", None),
    ("care", "She had 12 sessions of PT plus NSAIDs with pain still 7/10.", "met"),
    ("care", "He has not yet had physical therapy.", "not_met"),
    ("care", "Consider physical therapy if symptoms fail to improve.", None),
    ("care", "The request was denied for lack of documented failure of conservative care.", None),
)


def case_results(detector) -> list[tuple[str, object, object]]:
    """(sentence, expected, read) for each of :data:`CASES`."""
    from features import extractors as ex

    read = {
        "findings": ex.findings_status,
        "improvement": ex.improvement_status,
        "care": ex.conservative_care_status,
    }
    return [(t, want, read[kind](t, negation=detector).value) for kind, t, want in CASES]


def import_times(runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of a cold interpreter running each import line.

    The variants alternate so that load from other work falls on each; CPU time (user +
    system of the child) is the steadier figure on a shared machine.
    """
    import resource

    times: dict[str, list[tuple[float, float]]] = {k: [] for k in IMPORTS}
    for _ in range(runs):
        for name, code in IMPORTS.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            times[name].append((wall, cpu))
    return {
        k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for k, v in times.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, action="append", required=True)
    parser.add_argument("--dataset", type=Path, help="dataset folder holding items.parquet")
    parser.add_argument("--runs", type=int, default=9, help="cold imports per variant")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import features
    from analysis.criterion_agreement import agreement, format_table, load_gold, summary_statuses
    from data.ingest import dataset_or_shared_letters

    items = dataset_or_shared_letters(args.dataset)
    gold = load_gold(args.gold)
    summaries = items["case_summary"].fillna("").drop_duplicates().tolist()
    for name, detector in DETECTORS.items():
        features.clear_caches()
        if detector is not None:
            detector("Warm up.", [(0, 4)])
        start = time.process_time()  # CPU time: steadier than wall time on a shared machine
        for summary in summaries:
            summary_statuses({"case_summary": summary}, negation=detector)
        seconds = time.process_time() - start
        result = agreement(items, gold, lambda row, d=detector: summary_statuses(row, d))
        cases = case_results(detector)
        wrong = [(t, want, got) for t, want, got in cases if want != got]
        print(f"\n## {name}: {len(summaries)} summaries read in {seconds:.2f} s of CPU")
        print(f"the issue's phrases: {len(cases) - len(wrong)} of {len(cases)} read right")
        for t, want, got in wrong:
            print(f"  wrong: {t!r} read {got}, should be {want}")
        print()
        print(format_table(result))
    print("\n## cold import, median seconds (wall, CPU)\n")
    for name, (wall, cpu) in import_times(args.runs).items():
        print(f"{name:<10}{wall:6.2f}{cpu:6.2f}  {IMPORTS[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
