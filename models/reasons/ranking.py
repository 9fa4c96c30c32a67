"""Likely denial reasons, ranked by how likely the reviewer is to give them.

For a requested service, P(the reviewer cites code k | the denial is upheld) for every
code of the vocabulary (:mod:`features.reason_vocabulary`) but ``other``, from two things
known before filing:

- **the kind of service**: how often reviewers gave code k for its sub-category in the
  training letters, pulled toward its category's rate and that toward the rate over all
  letters where a sub-category or category has few letters (pseudo-count
  :data:`PSEUDO_ITEMS`). A kind of service no training letter holds falls back to its
  category, then to all letters: the guideline's own criteria of that service (below)
  then do most of the ranking;
- **what the draft documents**: the status of the code's criterion as
  :func:`features.criteria.assess` reads it from the draft (not met, not documented, met,
  or not one of the service's criteria in the guideline tables).

- **the form of the request** (:data:`FLAG_NAMES`): whether the service asks for more of a
  treatment (additional, continued, refill), whether it states an amount, and how many
  services the draft disputes together.

A regularised logistic regression over (item, code) pairs combines them: the log-odds of
the smoothed rate enter as an offset (with no other evidence the ranking *is* the
sub-category's frequency table), and the weights learn how the draft's criteria and the
request's form move a code away from it: per code an intercept, the criterion's status
(shared, and a more strongly penalised per-code adjustment), and per code the request's
form. The rates a training item sees leave out its own case, so nothing is learned from
an item's own label.

The labels are the codes the reviewers gave (the hand-checked gold, else the rationale
tagger): post-decision, training-time targets only. The fitted ranking is plain JSON
(:meth:`ReasonRanking.to_json`): rates, coefficients, names; never code.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from features.reason_vocabulary import CODES, OTHER, listed_only_when_checked, reason_code_of

#: The codes a ranking orders (``other`` names no criterion and nothing to document).
RANKED_CODES: tuple[str, ...] = tuple(c for c in CODES if c != OTHER)
MET, NOT_MET, NOT_DOCUMENTED, ABSENT = "met", "not_met", "not_documented", "absent"
#: When two criteria of a draft name one code, the one that speaks against it wins.
_WORST = {NOT_MET: 3, NOT_DOCUMENTED: 2, MET: 1, ABSENT: 0}
_STATUSES = (NOT_MET, NOT_DOCUMENTED, MET)
#: Items' worth of weight of the broader rate against a sub-category's (or category's) own.
PSEUDO_ITEMS = 5.0
#: Inverse L2 strength of the shared weights; per-code status adjustments get
#: :data:`ADJUST_PENALTY` times the penalty (few letters show each code).
C = 1.0
ADJUST_PENALTY = 10.0
#: The request's form: more of a treatment, an amount stated, log(services disputed together).
FLAG_NAMES = ("continuation", "quantity_stated", "many_services")
_CONTINUATION = re.compile(r"addition|continu|refill|remaining|ongoing", re.IGNORECASE)
_AMOUNT = re.compile(
    r"#\s?\d|\bx\s?\d|\d+\s*(?:sessions?|visits?|times|units?|tablets?|caps)|\btimes\s+\d",
    re.IGNORECASE,
)
FORMAT = "imr-reason-ranking/1"


@dataclass(frozen=True)
class Profile:
    """What the ranking reads of one requested service (all pre-filing)."""

    subcategory: str
    category: str
    status: Mapping[str, str] = field(default_factory=dict)  # reason code -> status
    flags: Mapping[str, float] = field(default_factory=dict)  # generic facts of the request


def request_flags(service: str, n_services: int) -> dict[str, float]:
    """The form of a request (:data:`FLAG_NAMES`) from its service text and the number of
    services disputed with it."""
    return {
        "continuation": float(bool(_CONTINUATION.search(service or ""))),
        "quantity_stated": float(bool(_AMOUNT.search(service or ""))),
        "many_services": math.log(max(1, n_services)),
    }


def profile(assessment, service: str = "", n_services: int = 1) -> Profile:
    """The :class:`Profile` of a :class:`features.criteria.Assessment` of ``service``.

    Each criterion counts under its reason code (its own ``reason_code`` when the knowledge
    tables give one, else the vocabulary's code of its id)."""
    status: dict[str, str] = {}
    for criterion in assessment.criteria:
        code = reason_code_of(criterion)
        if code is None:
            continue
        if _WORST[criterion.status] > _WORST[status.get(code, ABSENT)]:
            status[code] = criterion.status
    kind = assessment.kind
    return Profile(kind.subcategory, kind.category, status, request_flags(service, n_services))


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


@dataclass
class _Counts:
    """Label counts overall, by category and by sub-category (upheld items with a code)."""

    n: float = 0.0
    codes: Counter = field(default_factory=Counter)
    cat_n: Counter = field(default_factory=Counter)
    cat_codes: Counter = field(default_factory=Counter)  # (category, code)
    sub_n: Counter = field(default_factory=Counter)
    sub_codes: Counter = field(default_factory=Counter)  # (sub-category, code)
    sub_category: dict = field(default_factory=dict)

    def add(self, p: Profile, labels: Iterable[str], sign: float = 1.0) -> None:
        self.n += sign
        self.cat_n[p.category] += sign
        self.sub_n[p.subcategory] += sign
        self.sub_category.setdefault(p.subcategory, p.category)
        for code in set(labels):
            self.codes[code] += sign
            self.cat_codes[(p.category, code)] += sign
            self.sub_codes[(p.subcategory, code)] += sign

    def rate(self, p: Profile, code: str) -> float:
        """Smoothed rate of ``code`` for ``p``'s sub-category (category, then overall)."""
        overall = (self.codes[code] + 0.5) / (self.n + 1.0)
        cat = (self.cat_codes[(p.category, code)] + PSEUDO_ITEMS * overall) / (
            self.cat_n[p.category] + PSEUDO_ITEMS
        )
        return (self.sub_codes[(p.subcategory, code)] + PSEUDO_ITEMS * cat) / (
            self.sub_n[p.subcategory] + PSEUDO_ITEMS
        )

    def as_json(self) -> dict:
        return {
            "n": self.n,
            "codes": dict(self.codes),
            "categories": {
                cat: {"n": n, "codes": {c: v for (k, c), v in self.cat_codes.items() if k == cat}}
                for cat, n in self.cat_n.items()
            },
            "subcategories": {
                sub: {
                    "n": n,
                    "category": self.sub_category[sub],
                    "codes": {c: v for (k, c), v in self.sub_codes.items() if k == sub},
                }
                for sub, n in self.sub_n.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping) -> _Counts:
        out = cls(n=float(data["n"]), codes=Counter(data["codes"]))
        for cat, entry in data["categories"].items():
            out.cat_n[cat] = float(entry["n"])
            for code, v in entry["codes"].items():
                out.cat_codes[(cat, code)] = float(v)
        for sub, entry in data["subcategories"].items():
            out.sub_n[sub] = float(entry["n"])
            out.sub_category[sub] = entry["category"]
            for code, v in entry["codes"].items():
                out.sub_codes[(sub, code)] = float(v)
        return out


def _names() -> list[str]:
    names = [f"code={c}" for c in RANKED_CODES] + ["rate_logit"]
    names += [f"status={s}" for s in _STATUSES]
    names += [f"{c}|status={s}" for c in RANKED_CODES for s in _STATUSES]
    names += [f"{c}|{f}" for c in RANKED_CODES for f in FLAG_NAMES]
    return names


def _row(p: Profile, code: str, rate: float) -> np.ndarray:
    x = np.zeros(len(_NAMES))
    x[_INDEX[f"code={code}"]] = 1.0
    x[_INDEX["rate_logit"]] = _logit(rate)
    for f in FLAG_NAMES:
        if p.flags.get(f):
            x[_INDEX[f"{code}|{f}"]] = float(p.flags[f])
    status = p.status.get(code, ABSENT)
    if status != ABSENT:
        x[_INDEX[f"status={status}"]] = 1.0
        x[_INDEX[f"{code}|status={status}"]] = 1.0
    return x


_NAMES = _names()
_INDEX = {n: i for i, n in enumerate(_NAMES)}


@dataclass
class ReasonRanking:
    """A fitted ranking: the label counts and the weights of the combining regression."""

    counts: _Counts
    coef: np.ndarray
    intercept: float
    #: upheld items with a code the ranking learned from, by label source
    trained_on: dict = field(default_factory=dict)
    #: whether the weights were learned from reviewers' codes (else the guideline's prior)
    learned: bool = False

    # -- fitting -------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        profiles: Sequence[Profile],
        labels: Sequence[Sequence[str] | None],
        groups: Sequence[str],
        *,
        sources: Sequence[str] | None = None,
        every_item: bool = False,
    ) -> ReasonRanking:
        """Fit on the upheld items that carry at least one code (``labels[i]`` not empty;
        ``None`` or ``[]`` for the others, e.g. overturned items). ``groups``: the case of
        each item, left out of the rates its own rows see. ``every_item``: fit on every item
        (``None`` and ``[]`` as "no code cited"): P(cited) unconditionally, not given an
        upheld denial.

        With no labelled item at all (letters without rationales), the ranking is the
        guideline's: every code its prior, the draft's statuses ordering them."""
        keep = [i for i, lab in enumerate(labels) if lab or every_item]
        labels = [lab or [] for lab in labels]
        counts = _Counts()
        by_group: dict[str, _Counts] = {}
        for i in keep:
            counts.add(profiles[i], labels[i])
            by_group.setdefault(str(groups[i]), _Counts()).add(profiles[i], labels[i])
        trained_on = dict(Counter(sources[i] for i in keep)) if sources is not None else {}
        trained_on["items"] = sum(1 for i in keep if labels[i])
        if trained_on["items"] < 5 or len({c for i in keep for c in labels[i]}) < 2:
            return cls(counts, _prior_coef(), 0.0, trained_on, learned=False)
        rows, y = [], []
        for i in keep:
            own = by_group[str(groups[i])]
            loo = _minus(counts, own)
            for code in RANKED_CODES:
                rows.append(_row(profiles[i], code, loo.rate(profiles[i], code)))
                y.append(1.0 if code in labels[i] else 0.0)
        X, y = np.vstack(rows), np.asarray(y)
        penalty = np.array([ADJUST_PENALTY if "|" in n else 1.0 for n in _NAMES])
        penalty[: len(RANKED_CODES)] = 0.1  # the per-code intercepts: nearly free
        # the rate is an offset: its weight is 1, the others move codes away from it
        r = _INDEX["rate_logit"]
        offset, X[:, r] = X[:, r].copy(), 0.0
        coef, intercept = _penalised_logistic(X, y, penalty / C, offset=offset)
        coef[r] += 1.0
        return cls(counts, coef, intercept, trained_on, learned=True)

    # -- scoring -------------------------------------------------------------------------
    def probabilities(self, p: Profile) -> dict[str, float]:
        """P(reviewer cites code | upheld) for every ranked code."""
        X = np.vstack([_row(p, code, self.counts.rate(p, code)) for code in RANKED_CODES])
        z = X @ self.coef + self.intercept
        return {c: float(1 / (1 + math.exp(-v))) for c, v in zip(RANKED_CODES, z, strict=True)}

    def rank(self, p: Profile) -> list[tuple[str, float]]:
        """``(code, P)`` from the most likely reason down (ties: published order)."""
        probs = self.probabilities(p)
        return sorted(probs.items(), key=lambda kv: (-kv[1], RANKED_CODES.index(kv[0])))

    # -- JSON ----------------------------------------------------------------------------
    def to_json(self) -> dict:
        """The ranking as plain JSON data (numbers, strings, lists)."""
        return {
            "format": FORMAT,
            "pseudo_items": PSEUDO_ITEMS,
            "features": list(_NAMES),
            "coef": [float(v) for v in self.coef],
            "intercept": float(self.intercept),
            "counts": self.counts.as_json(),
            "trained_on": self.trained_on,
            "learned": self.learned,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> ReasonRanking:
        """Read :meth:`to_json`'s output back; a ranking of another format is refused."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(f"not a reason ranking of format {FORMAT}")
        if list(data["features"]) != _NAMES or data.get("pseudo_items") != PSEUDO_ITEMS:
            raise ValueError("the reason ranking was fitted by other code; retrain")
        return cls(
            _Counts.from_json(data["counts"]),
            np.asarray(data["coef"], dtype=float),
            float(data["intercept"]),
            dict(data.get("trained_on", {})),
            bool(data.get("learned", False)),
        )


def _minus(total: _Counts, part: _Counts) -> _Counts:
    out = _Counts(
        n=total.n - part.n,
        codes=Counter(total.codes),
        cat_n=Counter(total.cat_n),
        cat_codes=Counter(total.cat_codes),
        sub_n=Counter(total.sub_n),
        sub_codes=Counter(total.sub_codes),
        sub_category=total.sub_category,
    )
    out.codes.subtract(part.codes)
    out.cat_n.subtract(part.cat_n)
    out.cat_codes.subtract(part.cat_codes)
    out.sub_n.subtract(part.sub_n)
    out.sub_codes.subtract(part.sub_codes)
    return out


def _prior_coef() -> np.ndarray:
    """Weights with no letters to learn from: the rate as it is, and a criterion the draft
    does not meet or document ranked above one it meets."""
    coef = np.zeros(len(_NAMES))
    coef[_INDEX["rate_logit"]] = 1.0
    coef[_INDEX[f"status={NOT_MET}"]] = 1.0
    coef[_INDEX[f"status={NOT_DOCUMENTED}"]] = 0.5
    coef[_INDEX[f"status={MET}"]] = -1.0
    return coef


def _penalised_logistic(X, y, penalty, *, offset, iterations: int = 50):
    """L2-penalised logistic regression with an offset, by Newton's method (intercept
    free)."""
    n, d = X.shape
    Xa = np.hstack([X, np.ones((n, 1))])
    beta = np.zeros(d + 1)
    reg = np.append(penalty, 0.0)
    for _ in range(iterations):
        z = Xa @ beta + offset
        p = 1 / (1 + np.exp(-z))
        grad = Xa.T @ (p - y) + reg * beta
        hess = (Xa * (p * (1 - p))[:, None]).T @ Xa + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta[:d], float(beta[d])


#: A user sees the first :data:`LISTED` reasons of the ranking, and the next ones up to
#: :data:`MAX_LISTED` when the reviewer is at least as likely as not to cite them.
LISTED, MAX_LISTED, ALSO_LISTED_FROM = 3, 5, 0.5
#: Listed when the ranking learned nothing and the draft leaves no criterion open: every
#: request needs a documented indication.
FALLBACK_CODE = "no_indication"


def listed_reasons(ranking: ReasonRanking, p: Profile) -> list[tuple[str, float]]:
    """The likely denial reasons a user is shown, most likely first, at least one.

    A learned ranking lists its first :data:`LISTED` codes (a criterion the draft meets
    included: reviewers often still find it wanting; leaving those out lowers the top-three
    agreement in CV below the sub-category table, ``benchmarks/reasons_ranking.py
    --without-met``) and the next ones the reviewer is as likely as not to cite.
    A code the vocabulary lists only when checked (``listed_when``) is left out where the
    service's criteria do not check it. With nothing learned (letters without rationales),
    the criteria of the service the draft does not meet or document, not met first; else
    :data:`FALLBACK_CODE`."""
    # a code the vocabulary lists only where the service's criteria check it (a surgery's
    # certification for an item that belongs to none) is no reason a reviewer would give
    checked_only = listed_only_when_checked()
    order = [(c, q) for c, q in ranking.rank(p) if c not in checked_only or c in p.status]
    if ranking.learned:
        extra = [(c, q) for c, q in order[LISTED:MAX_LISTED] if q >= ALSO_LISTED_FROM]
        return order[:LISTED] + extra
    open_ = [(c, q) for c, q in order if p.status.get(c) in (NOT_MET, NOT_DOCUMENTED)]
    return open_ or [(FALLBACK_CODE, ranking.probabilities(p)[FALLBACK_CODE])]


def _profiles(rows: list[dict]) -> list[Profile]:
    from features.criteria import assess

    out = []
    for row in rows:
        siblings = row.get("letter_services")
        n = len(siblings) if isinstance(siblings, list | tuple | np.ndarray) else 1
        out.append(profile(assess(row), str(row.get("service") or ""), n))
    return out


#: Below this many rows per process, profiles are read in this process.
_MIN_ROWS_PER_JOB = 2000


def item_profiles(items) -> list[Profile]:
    """The :class:`Profile` of every row of a frame of pre-filing items (with
    ``letter_services``, see :func:`features.guideline.with_letter_services`); in several
    processes for large frames (rows are independent)."""
    from joblib import Parallel, delayed, effective_n_jobs

    from features.guideline import INPUT_COLUMNS

    rows = items.loc[:, [c for c in INPUT_COLUMNS if c in items.columns]].to_dict("records")
    jobs = effective_n_jobs(-1)
    if jobs > 1 and len(rows) >= 2 * _MIN_ROWS_PER_JOB:
        chunks = np.array_split(np.arange(len(rows)), jobs)
        parts = Parallel(n_jobs=jobs)(
            delayed(_profiles)([rows[i] for i in chunk]) for chunk in chunks
        )
        return [p for part in parts for p in part]
    return _profiles(rows)


def frequency_ranking(counts: _Counts, p: Profile) -> list[str]:
    """The baseline: the codes most often given for ``p``'s sub-category in training,
    falling back to its category, then to all letters (ties: overall frequency)."""

    def key(code):
        return (
            -counts.sub_codes[(p.subcategory, code)] if counts.sub_n[p.subcategory] else 0,
            -counts.cat_codes[(p.category, code)] if counts.cat_n[p.category] else 0,
            -counts.codes[code],
            RANKED_CODES.index(code),
        )

    return sorted(RANKED_CODES, key=key)


def label_counts(profiles: Sequence[Profile], labels: Sequence[Sequence[str] | None]) -> _Counts:
    """The label counts of the labelled items (what the baseline and the rates use)."""
    counts = _Counts()
    for p, lab in zip(profiles, labels, strict=True):
        if lab:
            counts.add(p, lab)
    return counts
