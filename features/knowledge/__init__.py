"""Guideline knowledge as reviewed data: the tables of this folder, loaded and checked.

The tables (TOML, one concern each; docs/knowledge.md says how to review and change them):

====================  =====================================================================
file                  holds
====================  =====================================================================
criteria.toml         the guideline criteria: label, reason code, status function, what to
                      document, the what-if sentence, the model inputs they set
taxonomy.toml         the broad categories, how peri-operative items are filed, the MTUS
                      clinical topic of each body region
subcategories.toml    each kind of service: category, stance and its source, DWC request
                      category, when it is peri-operative, the criteria that apply
services.toml         which wording is which kind (ordered regular expressions)
limits.toml           visit, post-surgical, drug-duration and device-trial limits, sourced
evidence.toml         what counts as documented: named sets of summary wording
====================  =====================================================================

The denial-reason vocabulary (13 codes, the criterion of each) is the project's one table of
it, :file:`features/reason_vocabulary.csv`; every criterion here gives one of its codes.

:func:`knowledge` loads them once and checks every field and cross-reference; a mistake
raises :class:`KnowledgeError` naming the file, the row and the field, and how to fix it.
Nothing here interprets a case: :mod:`features.services` classifies services and
:mod:`features.criteria` evaluates criteria from these tables.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

KNOWLEDGE_DIR = Path(__file__).resolve().parent
#: The denial-reason vocabulary (shared with the reasons' ranking and the gold).
VOCABULARY_FILE = KNOWLEDGE_DIR.parent / "reason_vocabulary.csv"

STANCES = ("not_recommended", "conditional", "supported")
PERIOPERATIVE_MODES = ("never", "always", "with_surgery_in_draft", "with_surgery", "medication")
#: What a request may be asked to state (``specifics`` of ``request_specified``).
SPECIFICS = (
    "dose",
    "quantity",
    "frequency",
    "visits",
    "body_part",
    "duration",
    "levels",
    "test_names",
)
#: The status of a criterion.
STATUSES = ("met", "not_met", "not_documented")
UNRECOGNISED = "unrecognised"
#: Fields a sub-category may override for one of its criteria, and their types.
OVERRIDE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "label": str,
    "to_document": str,
    "what_if": str,
    "source": str,
    "status": str,
    "evidence": str,
    "first_line": list,
    "specifics": list,
}


class KnowledgeError(ValueError):
    """A knowledge table is malformed: the message names the file, row, field and fix."""


@dataclass(frozen=True)
class ReasonCode:
    """One code of the denial-reason vocabulary."""

    code: str
    criterion: str
    meaning: str


@dataclass(frozen=True)
class CriterionSpec:
    """A criterion as :file:`criteria.toml` defines it."""

    id: str
    reason_code: str
    label: str
    status: str
    to_document: str
    what_if: str
    met_feature: str
    not_met_feature: str
    evidence: str = ""


@dataclass(frozen=True)
class CriterionUse:
    """A criterion as it applies to one sub-category (its overrides merged in)."""

    id: str
    reason_code: str
    label: str
    status: str
    to_document: str
    what_if: str
    source: str
    met_feature: str
    not_met_feature: str
    evidence: str = ""
    first_line: tuple[str, ...] = ()
    specifics: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubCategory:
    """A kind of requested service and what the guideline says of it."""

    name: str
    label: str
    category: str
    stance: str
    source: str
    dwc: str
    perioperative: str
    surgery: bool
    criteria: tuple[CriterionUse, ...]
    modality: str = ""
    drug: str = ""
    not_recommended_regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceRow:
    """One row of :file:`services.toml`: wording -> sub-category."""

    row: int
    subcategory: str
    pattern: re.Pattern
    dwc: str = ""
    note: str = ""
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvidenceSet:
    """A named set of wording that documents something (:file:`evidence.toml`)."""

    name: str
    meaning: str
    pattern: re.Pattern


@dataclass(frozen=True)
class Knowledge:
    """Every table, checked."""

    reason_codes: MappingProxyType  # code -> ReasonCode
    criteria: MappingProxyType  # id -> CriterionSpec
    categories: MappingProxyType  # category -> meaning
    subcategories: MappingProxyType  # name -> SubCategory
    services: tuple[ServiceRow, ...]
    evidence: MappingProxyType  # name -> EvidenceSet
    visits: MappingProxyType  # modality -> {trial, ceiling, cite, source}
    postsurgical: MappingProxyType  # {default, cite, source, regions: {region: visits}}
    drugs: MappingProxyType  # drug -> {weeks, source}
    devices: MappingProxyType  # device -> {trial_days, source}
    perioperative: MappingProxyType  # {dwc, service_words (compiled), recent_days, ...}
    regions: MappingProxyType  # region -> MTUS clinical topic
    files: tuple[Path, ...] = field(default=())

    def features(self) -> dict[str, int]:
        """The model inputs the criteria set, each with its sign (+1 met, -1 not met)."""
        out: dict[str, int] = {}
        for spec in self.criteria.values():
            if spec.met_feature:
                out[spec.met_feature] = +1
            if spec.not_met_feature:
                out[spec.not_met_feature] = -1
        return out


# --------------------------------------------------------------------------- loading
def _read(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise KnowledgeError(f"{path}: cannot be read ({exc.strerror}); restore the file") from None
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"{path}: not valid TOML ({exc}); fix the syntax there") from None


class _Checker:
    """Field checks that name the file, the row and the field."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, row: str, name: str, problem: str, fix: str) -> KnowledgeError:
        return KnowledgeError(f"{self.path.name}: {row}: field '{name}': {problem}; {fix}")

    def get(self, table: dict, row: str, name: str, kind, *, required=True, default=None):
        if name not in table:
            if required:
                raise self.fail(row, name, "missing", "add it")
            return default
        value = table[name]
        if not isinstance(value, kind):
            expected = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.fail(
                row, name, f"is {type(value).__name__}, not {expected}", "change its type"
            )
        return value

    def choice(self, table, row, name, choices, *, required=True, default=None):
        value = self.get(table, row, name, str, required=required, default=default)
        if value is not None and value not in choices:
            raise self.fail(
                row,
                name,
                f"{value!r} is not one of {', '.join(map(repr, choices))}",
                "use one of them",
            )
        return value

    def strings(self, table, row, name, *, required=False) -> tuple[str, ...]:
        values = self.get(table, row, name, list, required=required, default=[])
        for value in values:
            if not isinstance(value, str):
                raise self.fail(row, name, f"holds {value!r}, not text", "quote every entry")
        return tuple(values)

    def regex(self, source: str, row: str, name: str) -> re.Pattern:
        try:
            return re.compile(source, re.IGNORECASE)
        except re.error as exc:
            raise self.fail(
                row, name, f"not a valid regular expression ({exc})", "fix the pattern"
            ) from None

    def unknown(self, table: dict, row: str, allowed) -> None:
        extra = sorted(set(table) - set(allowed))
        if extra:
            raise self.fail(
                row,
                extra[0],
                "is not a field of this table",
                f"use one of {', '.join(sorted(allowed))}",
            )


def _dwc_ok(value: str) -> bool:
    # form_value of the DWC search: "Category * SubCategory * DrugClass" (checked against
    # ../shared/dwc/request_categories.csv by the tests, which is not ours to copy)
    return value.count("*") >= 2 and bool(value.strip())


def _reason_codes(path: Path, criteria_ids) -> dict[str, ReasonCode]:
    """The vocabulary as :mod:`features.reason_vocabulary` reads and checks it (the one
    reader of that table), each code's criterion checked against ``criteria.toml``."""
    from features.reason_vocabulary import VocabularyError, vocabulary

    try:
        table = vocabulary(path)
    except VocabularyError as exc:
        raise KnowledgeError(str(exc)) from None
    out = {}
    for reason in table.values():
        if reason.criterion and reason.criterion not in criteria_ids:
            raise KnowledgeError(
                f"{path.name}: {reason.code}: field 'criterion': {reason.criterion!r} is not in "
                "criteria.toml; name a criterion of features/knowledge/criteria.toml"
            )
        out[reason.code] = ReasonCode(reason.code, reason.criterion, reason.meaning)
    return out


def _criteria(folder: Path, evidence) -> dict[str, CriterionSpec]:
    path = folder / "criteria.toml"
    check, data = _Checker(path), _read(path)
    out = {}
    fields = (
        "reason_code",
        "label",
        "status",
        "to_document",
        "what_if",
        "met_feature",
        "not_met_feature",
    )
    for cid, table in data.items():
        row = f"[{cid}]"
        check.unknown(table, row, (*fields, "evidence"))
        ev = check.get(table, row, "evidence", str, required=False, default="")
        if ev and ev not in evidence:
            raise check.fail(row, "evidence", f"{ev!r} is not a set of evidence.toml", "name a set")
        out[cid] = CriterionSpec(cid, *(check.get(table, row, f, str) for f in fields), evidence=ev)
    return out


def _evidence(folder: Path) -> dict[str, EvidenceSet]:
    path = folder / "evidence.toml"
    check, data = _Checker(path), _read(path)
    out = {}
    for name, table in data.items():
        row = f"[{name}]"
        check.unknown(table, row, ("meaning", "patterns"))
        patterns = check.strings(table, row, "patterns", required=True)
        if not patterns:
            raise check.fail(row, "patterns", "is empty", "give at least one pattern")
        joined = "|".join(f"(?:{p})" for p in patterns)
        try:
            compiled = re.compile(joined, re.IGNORECASE)
        except re.error:  # name the pattern at fault (compiling each costs time: only now)
            for i, source in enumerate(patterns):
                check.regex(source, f"{row} pattern {i + 1}", "patterns")
            compiled = check.regex(joined, row, "patterns")
        out[name] = EvidenceSet(name, check.get(table, row, "meaning", str), compiled)
    return out


def _subcategories(
    folder, criteria, categories, evidence, visits, regions
) -> dict[str, SubCategory]:
    path = folder / "subcategories.toml"
    check, data = _Checker(path), _read(path)
    fields = {
        "label", "category", "stance", "source", "dwc", "perioperative", "surgery", "criteria",
        "modality", "drug", "not_recommended_regions",
    }  # fmt: skip
    out = {}
    for name, table in data.items():
        row = f"[{name}]"
        if name == UNRECOGNISED:
            raise check.fail(row, "name", f"{UNRECOGNISED!r} is reserved", "choose another name")
        applied = check.strings(table, row, "criteria", required=True)
        overrides = {k: v for k, v in table.items() if isinstance(v, dict)}
        check.unknown({k: v for k, v in table.items() if k not in overrides}, row, fields)
        if not applied:
            raise check.fail(
                row, "criteria", "is empty", "list at least one criterion of criteria.toml"
            )
        for cid in applied:
            if cid not in criteria:
                raise check.fail(
                    row, "criteria", f"{cid!r} is not in criteria.toml", "name a criterion"
                )
        for cid in overrides:
            if cid not in applied:
                raise check.fail(
                    f"[{name}.{cid}]", "criteria", f"overrides {cid!r}, which {name} does not list",
                    "add it to the criteria or remove the table",
                )  # fmt: skip
        dwc = check.get(table, row, "dwc", str)
        if not _dwc_ok(dwc):
            raise check.fail(
                row,
                "dwc",
                f"{dwc!r} is not a DWC form_value",
                "copy one from request_categories.csv",
            )
        stance = check.choice(table, row, "stance", STANCES)
        source = check.get(table, row, "source", str)
        modality = check.get(table, row, "modality", str, required=False, default="")
        if modality and modality not in visits:
            raise check.fail(
                row,
                "modality",
                f"{modality!r} has no [visits.{modality}] in limits.toml",
                "add it or fix the name",
            )
        drug = check.get(table, row, "drug", str, required=False, default="")
        bad_regions = [
            r for r in check.strings(table, row, "not_recommended_regions") if r not in regions
        ]
        if bad_regions:
            raise check.fail(
                row,
                "not_recommended_regions",
                f"{bad_regions[0]!r} is not a region of taxonomy.toml",
                "use a region name",
            )
        if stance != "conditional" and "guideline_recommends" not in applied:
            raise check.fail(
                row, "criteria", f"stance {stance!r} but no 'guideline_recommends'", "list it first"
            )
        uses = []
        for cid in applied:
            uses.append(_use(check, name, criteria[cid], overrides.get(cid, {}), source, evidence))
        out[name] = SubCategory(
            name=name,
            label=check.get(table, row, "label", str),
            category=check.choice(table, row, "category", tuple(categories)),
            stance=stance,
            source=source,
            dwc=dwc,
            perioperative=check.choice(table, row, "perioperative", PERIOPERATIVE_MODES),
            surgery=check.get(table, row, "surgery", bool, required=False, default=False),
            criteria=tuple(uses),
            modality=modality,
            drug=drug,
            not_recommended_regions=check.strings(table, row, "not_recommended_regions"),
        )
    return out


def _use(
    check: _Checker, sub: str, spec: CriterionSpec, override: dict, source: str, evidence
) -> CriterionUse:
    row = f"[{sub}.{spec.id}]"
    check.unknown(override, row, OVERRIDE_FIELDS)
    values = {}
    for name, kind in OVERRIDE_FIELDS.items():
        if name in override:
            values[name] = check.get(override, row, name, kind)
    ev = values.get("evidence", spec.evidence)
    if ev and ev not in evidence:
        raise check.fail(row, "evidence", f"{ev!r} is not a set of evidence.toml", "name a set")
    for name in ("first_line", "specifics"):
        entries = values.get(name, [])
        if not all(isinstance(v, str) for v in entries):
            raise check.fail(row, name, "holds a value that is not text", "quote every entry")
    bad = [s for s in values.get("specifics", []) if s not in SPECIFICS]
    if bad:
        raise check.fail(
            row, "specifics", f"{bad[0]!r} is not one of {', '.join(SPECIFICS)}", "use those"
        )
    return CriterionUse(
        id=spec.id,
        reason_code=spec.reason_code,
        label=values.get("label", spec.label),
        status=values.get("status", spec.status),
        to_document=values.get("to_document", spec.to_document),
        what_if=values.get("what_if", spec.what_if),
        source=values.get("source", source),
        met_feature=spec.met_feature,
        not_met_feature=spec.not_met_feature,
        evidence=ev,
        first_line=tuple(values.get("first_line", ())),
        specifics=tuple(values.get("specifics", ())),
    )


def _services(folder: Path, subcategories) -> tuple[ServiceRow, ...]:
    path = folder / "services.toml"
    check, data = _Checker(path), _read(path)
    rows = data.get("service")
    if not isinstance(rows, list) or not rows:
        raise KnowledgeError(f"{path.name}: no [[service]] rows; add the service patterns")
    out = []
    for i, table in enumerate(rows, start=1):
        sub = table.get("subcategory", "?") if isinstance(table, dict) else "?"
        row = f"[[service]] row {i} ({sub})"
        check.unknown(table, row, ("subcategory", "pattern", "dwc", "note", "examples"))
        sub = check.get(table, row, "subcategory", str)
        if sub != UNRECOGNISED and sub not in subcategories:
            raise check.fail(
                row,
                "subcategory",
                f"{sub!r} is not in subcategories.toml",
                "add it there or fix the name",
            )
        dwc = check.get(table, row, "dwc", str, required=False, default="")
        if dwc and not _dwc_ok(dwc):
            raise check.fail(
                row,
                "dwc",
                f"{dwc!r} is not a DWC form_value",
                "copy one from request_categories.csv",
            )
        out.append(
            ServiceRow(
                row=i,
                subcategory=sub,
                pattern=check.regex(check.get(table, row, "pattern", str), row, "pattern"),
                dwc=dwc,
                note=check.get(table, row, "note", str, required=False, default=""),
                examples=check.strings(table, row, "examples"),
            )
        )
    return tuple(out)


def _limits(folder: Path) -> dict:
    path = folder / "limits.toml"
    check, data = _Checker(path), _read(path)
    check.unknown(data, "top level", ("visits", "postsurgical", "drugs", "devices"))
    visits = {}
    for modality, table in data.get("visits", {}).items():
        row = f"[visits.{modality}]"
        check.unknown(table, row, ("trial", "ceiling", "cite", "source"))
        trial, ceiling = check.get(table, row, "trial", int), check.get(table, row, "ceiling", int)
        if not 0 < trial <= ceiling:
            raise check.fail(
                row,
                "trial",
                f"{trial} is not between 1 and the ceiling {ceiling}",
                "fix the numbers",
            )
        visits[modality] = MappingProxyType(
            {
                "trial": trial,
                "ceiling": ceiling,
                "cite": check.get(table, row, "cite", str),
                "source": check.get(table, row, "source", str),
            }
        )
    post = data.get("postsurgical", {})
    row = "[postsurgical]"
    check.unknown(post, row, ("default", "cite", "source", "regions"))
    regions = check.get(post, row, "regions", dict)
    for region in regions:
        check.get(regions, f"[postsurgical.regions] {region}", region, int)
    postsurgical = MappingProxyType(
        {
            "default": check.get(post, row, "default", int),
            "cite": check.get(post, row, "cite", str),
            "source": check.get(post, row, "source", str),
            "regions": MappingProxyType(dict(regions)),
        }
    )
    drugs = {}
    for drug, table in data.get("drugs", {}).items():
        row = f"[drugs.{drug}]"
        check.unknown(table, row, ("weeks", "source", "in_use"))
        drugs[drug] = MappingProxyType(
            {
                "weeks": check.get(table, row, "weeks", int),
                "source": check.get(table, row, "source", str),
                "in_use": check.get(table, row, "in_use", str),
            }
        )
    devices = {}
    for device, table in data.get("devices", {}).items():
        row = f"[devices.{device}]"
        check.unknown(table, row, ("trial_days", "source"))
        devices[device] = MappingProxyType(
            {
                "trial_days": check.get(table, row, "trial_days", int),
                "source": check.get(table, row, "source", str),
            }
        )
    return {"visits": visits, "postsurgical": postsurgical, "drugs": drugs, "devices": devices}


def _taxonomy(folder: Path) -> dict:
    path = folder / "taxonomy.toml"
    check, data = _Checker(path), _read(path)
    check.unknown(data, "top level", ("categories", "perioperative", "regions"))
    categories = check.get(data, "top level", "categories", dict)
    for name in categories:
        check.get(categories, "[categories]", name, str)
    peri = check.get(data, "top level", "perioperative", dict)
    row = "[perioperative]"
    check.unknown(peri, row, ("dwc", "service_words", "recent_days", "recent_days_medication"))
    dwc = check.get(peri, row, "dwc", str)
    if not _dwc_ok(dwc):
        raise check.fail(
            row, "dwc", f"{dwc!r} is not a DWC form_value", "copy one from request_categories.csv"
        )
    perioperative = {
        "dwc": dwc,
        "service_words": check.regex(
            check.get(peri, row, "service_words", str), row, "service_words"
        ),
        "recent_days": check.get(peri, row, "recent_days", int),
        "recent_days_medication": check.get(peri, row, "recent_days_medication", int),
    }
    regions = check.get(data, "top level", "regions", dict)
    for name in regions:
        check.get(regions, "[regions]", name, str)
    if "default" not in regions:
        raise check.fail(
            "[regions]", "default", "missing", "add the text used when the region is unknown"
        )
    return {
        "categories": dict(categories),
        "perioperative": perioperative,
        "regions": dict(regions),
    }


def _check_cross_references(k: Knowledge) -> None:
    codes = set(k.reason_codes)
    for spec in k.criteria.values():
        if spec.reason_code not in codes:
            raise KnowledgeError(
                f"criteria.toml: [{spec.id}]: field 'reason_code': {spec.reason_code!r} is not in "
                "features/reason_vocabulary.csv; use a code of the vocabulary"
            )
    for code in k.reason_codes.values():
        if code.criterion and k.criteria[code.criterion].reason_code != code.code:
            raise KnowledgeError(
                f"reason_vocabulary.csv: {code.code}: field 'criterion': {code.criterion!r} gives "
                f"{k.criteria[code.criterion].reason_code!r} in criteria.toml; make the two agree"
            )
    used = {row.subcategory for row in k.services}
    unused = [name for name in k.subcategories if name not in used]
    if unused:
        raise KnowledgeError(
            f"subcategories.toml: [{unused[0]}]: no row of services.toml gives it; add a pattern "
            "for it or remove it"
        )


#: Loaded tables by folder. Not a function cache: the tables hold no case text, and
#: :func:`features.clear_caches` (which empties the caches after each request) need not
#: reload them.
_LOADED: dict[tuple[Path, Path], Knowledge] = {}


def knowledge(folder: Path = KNOWLEDGE_DIR, vocabulary: Path = VOCABULARY_FILE) -> Knowledge:
    """Every table of ``folder``, loaded once and checked (raises :class:`KnowledgeError`)."""
    key = (Path(folder), Path(vocabulary))
    if key not in _LOADED:
        _LOADED[key] = _load(*key)
    return _LOADED[key]


def _load(folder: Path, vocabulary: Path) -> Knowledge:
    evidence = _evidence(folder)
    criteria = _criteria(folder, evidence)
    reason_codes = _reason_codes(vocabulary, criteria)
    taxonomy = _taxonomy(folder)
    limits = _limits(folder)
    subcategories = _subcategories(
        folder, criteria, taxonomy["categories"], evidence, limits["visits"], taxonomy["regions"]
    )
    out = Knowledge(
        reason_codes=MappingProxyType(reason_codes),
        criteria=MappingProxyType(criteria),
        categories=MappingProxyType(taxonomy["categories"]),
        subcategories=MappingProxyType(subcategories),
        services=_services(folder, subcategories),
        evidence=MappingProxyType(evidence),
        visits=MappingProxyType(limits["visits"]),
        postsurgical=limits["postsurgical"],
        drugs=MappingProxyType(limits["drugs"]),
        devices=MappingProxyType(limits["devices"]),
        perioperative=MappingProxyType(taxonomy["perioperative"]),
        regions=MappingProxyType(taxonomy["regions"]),
        files=tuple(sorted(folder.glob("*.toml"))),
    )
    _check_cross_references(out)
    return out


def region_guideline(region: str | None) -> str:
    """The MTUS clinical topic of a body region (``{region_guideline}`` in sources)."""
    regions = knowledge().regions
    return regions.get(region or "", regions["default"])


def source_text(source: str, region: str | None) -> str:
    """A criterion's source with ``{region_guideline}`` filled in."""
    return (
        source.replace("{region_guideline}", region_guideline(region)) if "{" in source else source
    )
