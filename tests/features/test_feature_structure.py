"""The features package's structure: one import face, no reads from tests/, forgetful caches.

* ``features.extractors`` is a package of topic modules; every name that other modules,
  tests and benchmarks use through it (``ex.<name>``, ``from features.extractors import``)
  must still resolve there.
* Production code never reads from ``tests/`` (the gold file is package data).
* Every ``lru_cache`` of ``features/`` is bounded, and a scored request leaves all of them
  empty: a served process keeps no case summary (medical text) after answering.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import features

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = ("analysis", "data", "features", "models", "web", "predict.py", "train.py")
SUMMARY = (
    "The injured worker is a 52-year-old clerk with low back pain radiating to the left leg "
    "since a lifting injury. She has completed 12 sessions of physical therapy without "
    "lasting relief. An MRI of the lumbar spine showed a disc protrusion at L4-5. The "
    "treating physician requested an epidural steroid injection."
)
SERVICES = ["Lumbar epidural steroid injection at L4-5", "Physical therapy 2x4 lumbar"]


def _python_files(*roots: str) -> list[Path]:
    out = []
    for root in roots:
        path = REPO / root
        out += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return [p for p in out if ".venv" not in p.parts]


def _names_used_through_the_face() -> set[str]:
    """Names read as ``ex.<name>`` (where ``ex`` is the extractors) or imported from it."""
    names: set[str] = set()
    for path in _python_files(*PRODUCTION, "tests", "benchmarks"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "features":
                aliases |= {a.asname or a.name for a in node.names if a.name == "extractors"}
            if isinstance(node, ast.ImportFrom) and node.module == "features.extractors":
                names |= {a.name for a in node.names}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                names.add(node.attr)
    return names


def test_every_name_used_through_features_extractors_resolves():
    from features import extractors as ex

    used = _names_used_through_the_face()
    # the extractors features/facts.py and features/criteria.py call
    assert {"Finding", "objective_findings", "prior_therapy", "ur_modified"} <= used
    assert sorted(n for n in used if not hasattr(ex, n)) == []
    assert all(hasattr(ex, n) for n in ex.__all__)


def test_extractors_are_small_topic_modules():
    package = REPO / "features" / "extractors"
    modules = sorted(p.name for p in package.glob("*.py"))
    assert len(modules) >= 10
    sizes = {p.name: len(p.read_text().splitlines()) for p in package.glob("*.py")}
    assert max(sizes.values()) < 300, sizes
    assert not (REPO / "features" / "extractors.py").exists()


def _strings_outside_docstrings(tree: ast.AST) -> list[str]:
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_production_code_reads_nothing_from_tests():
    offenders = []
    for path in _python_files(*PRODUCTION):
        for value in _strings_outside_docstrings(ast.parse(path.read_text(encoding="utf-8"))):
            if value in ("tests", "fixtures") or re.match(r"tests?/|fixtures/", value):
                offenders.append(f"{path.relative_to(REPO)}: {value!r}")
    assert offenders == []


def test_the_gold_file_is_package_data_and_still_measures():
    from features.gold_eval import GOLD_FILE, load_gold

    assert GOLD_FILE.is_file()
    assert "tests" not in GOLD_FILE.relative_to(REPO).parts
    gold = load_gold()
    assert len(gold) > 100 and {"source_file", "item_index"} <= set(gold[0])


def _cached_functions() -> dict[str, object]:
    """Every ``@lru_cache``/``@cache`` function of features/, found in the source."""

    def is_cache(decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        return name in ("lru_cache", "cache")

    found = {}
    for path in _python_files("features"):
        parts = path.relative_to(REPO).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(map(is_cache, node.decorator_list)):
                found[f"{module}.{node.name}"] = getattr(importlib.import_module(module), node.name)
    return found


def _sizes() -> dict[str, int]:
    return {name: fn.cache_info().currsize for name, fn in _cached_functions().items()}


def test_every_feature_cache_is_bounded():
    cached = _cached_functions()
    assert len(cached) >= 10  # the text, voice, facts and services caches
    unbounded = [name for name, fn in cached.items() if fn.cache_info().maxsize is None]
    assert unbounded == []


def test_clear_caches_empties_every_feature_cache():
    from features.criteria import assess
    from features.facts import extract_row

    row = {"case_summary": SUMMARY, "service": SERVICES[0]}
    extract_row(row)
    assess(row)
    filled = {name for name, size in _sizes().items() if size}
    assert {
        "features.extractors.text.lower",
        "features.extractors.voice._voice",
        "features.facts._summary_findings",
    } <= filled
    features.clear_caches()
    assert {name: size for name, size in _sizes().items() if size} == {}


def test_a_scored_request_leaves_no_case_summary_cached(trained_store, monkeypatch):
    from data.drafts.rows import draft_rows
    from models.scoring.score import score_rows

    at_clear: dict[str, int] = {}
    clear = features.clear_caches

    def measured_clear():
        at_clear.update(_sizes())
        clear()

    monkeypatch.setattr(features, "clear_caches", measured_clear)
    results = score_rows(trained_store.loaded, draft_rows(SUMMARY, SERVICES), with_what_if=True)
    assert len(results) == len(SERVICES)
    assert sum(at_clear.values()) > 0  # scoring did use the caches ...
    assert {name: size for name, size in _sizes().items() if size} == {}  # ... and emptied them


class _Boom(RuntimeError):
    pass


class _BrokenModel:
    baseline = None

    @property
    def pipeline(self):
        raise _Boom("the model failed")


def test_caches_are_emptied_when_scoring_fails():
    from data.drafts.rows import draft_rows
    from features.facts import extract_row
    from models.scoring.score import score_rows

    extract_row({"case_summary": SUMMARY, "service": SERVICES[0]})
    assert sum(_sizes().values()) > 0
    with pytest.raises(_Boom):
        score_rows(_BrokenModel(), draft_rows(SUMMARY, SERVICES))
    assert {name: size for name, size in _sizes().items() if size} == {}
