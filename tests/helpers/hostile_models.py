"""Hostile model files, written as an attacker would, and a limited runner to load them.

Issue 16 found that a model file could call any scikit-learn, NumPy or SciPy function
when loaded. :data:`FUNCTIONS` are the four it named, each with arguments that create a
marker file when the function is called; :func:`call_by_name` calls one as a loader that
resolves names from a file would (the control that shows a payload is live). The makers
write the same calls in every form a model file could take: the skops archive of earlier
versions (with the type list that admitted them), the skops schema as bare JSON, and JSON
model documents that name the functions or smuggle them into parameters.

Every load runs in a subprocess under ``resource`` limits (:func:`run_limited`):

    python -m tests.helpers.hostile_models load FILE...   one JSON line per file: refused or loaded
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: The acceptance checks' ``ulimit -v 4000000`` (KiB) and two minutes of CPU.
LIMITS = {resource.RLIMIT_AS: 4_000_000 * 1024, resource.RLIMIT_CPU: 120}


def _limited() -> None:
    for kind, value in LIMITS.items():
        resource.setrlimit(kind, (value, value))


def run_limited(
    args: list[str], env: dict[str, str] | None = None, *, timeout: float = 300, **kw
) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` from the repository under the limits; output as text."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=kw.pop("cwd", REPO),
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=timeout,
        preexec_fn=_limited,
        **kw,
    )


def python_limited(code: str, env: dict[str, str] | None = None, **kw):
    """``python -c CODE`` under the limits; its last stdout line parsed as JSON."""
    run = run_limited(["-c", code], env, **kw)
    if run.returncode != 0:
        raise AssertionError(f"exit {run.returncode}:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


# --- the calls -------------------------------------------------------------------------------


def functions(marker: Path) -> dict[str, tuple[str, str, list, dict]]:
    """The issue's four functions: {label: (module, name, args, kwargs)}; each call creates
    ``marker``."""
    touch = f"open({str(marker)!r}, 'w').close()"
    return {
        "assert_run_python_script_without_output": (
            "sklearn.utils._testing",
            "assert_run_python_script_without_output",
            [touch],
            {},
        ),
        "runstring": ("numpy.testing._private.utils", "runstring", [touch, {}], {}),
        "savetxt": ("numpy", "savetxt", [str(marker), [[1.0]]], {}),
        "savemat": ("scipy.io", "savemat", [str(marker), {"a": [1.0]}], {}),
    }


def call_by_name(module: str, name: str, args: list, kwargs: dict) -> None:
    """What a loader that calls functions named in a file does (the control)."""
    import importlib

    function = getattr(importlib.import_module(module), name)
    function(*args, **kwargs)


def _node(cls: str, module: str, loader: str, content=None, **extra) -> dict:
    node = {"__class__": cls, "__module__": module, "__loader__": loader, **extra}
    if content is not None:
        node["content"] = content
    return node


def _json_node(value) -> dict:
    return _node(type(value).__name__, "builtins", "JsonNode", json.dumps(value), is_json=True)


def _plain_node(value) -> dict:
    if isinstance(value, list):
        return _node("list", "builtins", "ListNode", [_plain_node(v) for v in value])
    if isinstance(value, dict):
        content = {k: _plain_node(v) for k, v in value.items()}
        return _node("dict", "builtins", "DictNode", content, key_types=_plain_node([]))
    return _json_node(value)


def skops_schema(module: str, name: str, args: list, kwargs: dict) -> dict:
    """The schema of a skops file holding ``make_pipeline(FunctionTransformer(f))`` whose
    ``func`` is stored as a ``ConstructorFromReduceNode`` of ``module.name`` with ``args``:
    skops calls ``module.name(*args)`` when it builds that node, if the type list admits
    the name (the list of earlier versions admitted any NumPy, SciPy or scikit-learn
    name)."""
    del kwargs  # that node passes positional arguments only
    call = _node(
        name,
        module,
        "ConstructorFromReduceNode",
        _node("tuple", "builtins", "TupleNode", [_plain_node(a) for a in args]),
    )
    transformer = _node(
        "FunctionTransformer",
        "sklearn.preprocessing._function_transformer",
        "ObjectNode",
        _node("dict", "builtins", "DictNode", {"func": call}, key_types=_plain_node(["str"])),
    )
    step = _node("tuple", "builtins", "TupleNode", [_json_node("f"), transformer])
    steps = _node("list", "builtins", "ListNode", [step])
    content = _node(
        "dict", "builtins", "DictNode", {"steps": steps}, key_types=_plain_node(["str"])
    )
    return {
        **_node("Pipeline", "sklearn.pipeline", "ObjectNode", content),
        "protocol": 2,
        "_skops_version": "0.16.0",
    }


def skops_archive(module: str, name: str, args: list, kwargs: dict) -> bytes:
    """A skops file (a zip holding ``schema.json``) calling ``module.name`` on load."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps(skops_schema(module, name, args, kwargs)))
    return buffer.getvalue()


def skops_type_list(module: str, name: str) -> bytes:
    """The ``pipeline.types.json`` an attacker rewrote to admit the function."""
    return json.dumps([f"{module}.{name}"]).encode()


def hostile_documents(marker: Path, genuine: dict) -> dict[str, bytes]:
    """JSON model files calling the issue's functions, in every form: {label: bytes}.

    ``genuine`` is a real model document; some forms hide a call inside it.
    """
    out = {}
    for label, (module, name, args, kwargs) in functions(marker).items():
        call = {"__class__": name, "__module__": module, "args": args, "kwargs": kwargs}
        out[f"class {label}"] = _doc_with_step(genuine, 0, f"{module}.{name}", {"args": args})
        out[f"skops schema {label}"] = json.dumps(skops_schema(module, name, args, kwargs))
        out[f"call in a parameter {label}"] = _doc_with_param(genuine, "n_jobs", call)
        out[f"call in a fitted field {label}"] = _doc_with_fitted(genuine, "scale_", call)
        out[f"extra fitted field {label}"] = _doc_with_fitted(genuine, "func", call)
    transformer = {"func": "numpy.testing._private.utils.runstring", "kw_args": None}
    out["FunctionTransformer step"] = _doc_with_step(genuine, 1, "FunctionTransformer", transformer)
    return {k: (v if isinstance(v, bytes) else v.encode()) for k, v in out.items()}


def _copy(doc: dict) -> dict:
    return json.loads(json.dumps(doc))


def _doc_with_step(genuine: dict, index: int, cls: str, params: dict) -> str:
    doc = _copy(genuine)
    doc["steps"][index]["class"] = cls
    doc["steps"][index]["params"] = params
    return json.dumps(doc)


def _doc_with_param(genuine: dict, key: str, value) -> str:
    doc = _copy(genuine)
    doc["steps"][0]["params"][key] = value
    return json.dumps(doc)


def _doc_with_fitted(genuine: dict, key: str, value) -> str:
    doc = _copy(genuine)
    doc["steps"][1]["fitted"][key] = value
    return json.dumps(doc)


def _load(paths: list[str]) -> None:
    """Load each file with ``load_pipeline``; print one JSON line per file."""
    from models.store.persistence import UntrustedModelError, load_pipeline

    for path in paths:
        try:
            load_pipeline(Path(path))
        except UntrustedModelError as exc:
            print(json.dumps({"path": path, "refused": str(exc)}), flush=True)
        else:
            print(json.dumps({"path": path, "refused": None}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["load"]:
        _load(sys.argv[2:])
    else:
        sys.exit(__doc__)
