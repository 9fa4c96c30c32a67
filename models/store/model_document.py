"""The fitted model as a JSON document of its fitted parameters, and back.

A model file holds numbers and names, never code. The document is::

    {"format": "imr-outcome.fitted-pipeline", "version": 1,
     "steps": [{"name": ..., "class": ..., "params": {...}, "fitted": {...}}, ...]}

``class`` is looked up in :data:`STEP_CLASSES`, a fixed table of the classes the recipe
is made of (:mod:`models.recipe`); nothing else is constructed, and nothing is imported
or called by a name the file gives. ``params`` are the constructor's parameters (exactly
its keys; plain JSON values: null, booleans, numbers, short strings, flat lists of
those). ``fitted`` are the learned attributes, with the exact keys, types and shapes the
table declares (``d``: the number of features, ``k``: of calibration folds), every
number finite. A stateless step (the guideline features: nothing is learned) keeps only
its feature names; on load it is fitted on no rows and must give the same names, so
adding or renaming guideline criteria needs no change here: the names are data.

:func:`from_document` refuses anything else with :class:`UntrustedModelError`, naming the
step and field (values quoted short and escaped). Validation is in two passes: the whole
document is checked before any class is constructed.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FORMAT = "imr-outcome.fitted-pipeline"
VERSION = 1
#: Bounds on what a document may hold (the shipped model is a few kB).
MAX_STEPS = 8
MAX_LIST = 10_000
MAX_TEXT = 200
MAX_INT = 2**31
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class UntrustedModelError(RuntimeError):
    """A model file is not a valid model document; the message names what and where."""


def quoted(value: object, limit: int = 60) -> str:
    """``value`` for a message: escaped (no control characters or markup), cut short."""
    text = ascii(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Field:
    """One fitted attribute: ``kind`` of its numbers, ``shape`` (ints or symbols ``d``,
    ``k``; empty for a scalar), returned as a NumPy array or a tuple, maybe null."""

    kind: str  # "float", "int" or "str"
    shape: tuple = ()
    as_tuple: bool = False
    nullable: bool = False
    #: a scalar that must equal this symbol's value (``n_features_in_`` is ``d``)
    equals: str | None = None


@dataclass(frozen=True)
class StepClass:
    """How a step class is stored: its role in the pipeline, its class (imported by our
    code, never by a name from a file), and its fitted fields."""

    role: str  # "features" (first), "transform", "classifier" (last)
    load: Callable[[], type]
    fitted: dict[str, Field] = field(default_factory=dict)
    #: stateless: fitted on no rows at load; the document keeps its feature names only
    empty_input: Callable[[], Any] | None = None
    check: Callable[[Any, dict], None] | None = None


def _guideline_features() -> type:
    from features.guideline import GuidelineFeatures

    return GuidelineFeatures


def _no_items():
    import pandas as pd

    from features.guideline import REQUIRED_COLUMNS

    return pd.DataFrame({column: pd.Series([], dtype=object) for column in REQUIRED_COLUMNS})


def _standard_scaler() -> type:
    from sklearn.preprocessing import StandardScaler

    return StandardScaler


def _monotone() -> type:
    from models.monotone import MonotoneLogisticRegression

    return MonotoneLogisticRegression


def _check_classifier(model, dims: dict) -> None:
    d = dims["d"]
    for name in ("signs", "penalty_factors"):
        value = getattr(model, name)
        if value is not None and len(value) != d:
            raise UntrustedModelError(f"params.{name} has {len(value)} entries for {d} features")
    if not isinstance(model.C, int | float) or isinstance(model.C, bool) or model.C <= 0:
        raise UntrustedModelError(f"params.C must be a positive number, not {quoted(model.C)}")
    classes = model.classes_
    if classes[0] >= classes[1]:
        raise UntrustedModelError("fitted.classes_ must be two increasing labels")


#: The step classes a model document may name: the recipe's, and nothing else.
STEP_CLASSES: dict[str, StepClass] = {
    "GuidelineFeatures": StepClass("features", _guideline_features, empty_input=_no_items),
    "StandardScaler": StepClass(
        "transform",
        _standard_scaler,
        {
            "mean_": Field("float", ("d",), nullable=True),
            "var_": Field("float", ("d",), nullable=True),
            "scale_": Field("float", ("d",), nullable=True),
            "n_features_in_": Field("int", equals="d"),
            "n_samples_seen_": Field("float"),
        },
    ),
    "MonotoneLogisticRegression": StepClass(
        "classifier",
        _monotone,
        {
            "classes_": Field("int", (2,)),
            "coef_": Field("float", (1, "d")),
            "intercept_": Field("float", (1,)),
            "fold_coef_": Field("float", ("k", "d")),
            "fold_intercept_": Field("float", ("k",)),
            "calibration_": Field("float", (2,), as_tuple=True),
            "n_iter_": Field("int", (1,)),
            "n_features_in_": Field("int", equals="d"),
        },
        check=_check_classifier,
    ),
}
FEATURE_NAMES = "feature_names"


# --- reading ---------------------------------------------------------------------------------


def _keys(value: object, expected: set[str], where: str) -> dict:
    if not isinstance(value, dict):
        raise UntrustedModelError(f"{where} must be a JSON object, not {type(value).__name__}")
    missing, extra = expected - set(value), set(value) - expected
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks {', '.join(sorted(missing))}")
        if extra:
            parts.append(f"has unknown key(s) {', '.join(quoted(k) for k in sorted(extra)[:5])}")
        raise UntrustedModelError(f"{where} {' and '.join(parts)}")
    return value


def _scalar(value: object, kind: str, where: str):
    if kind == "float" and isinstance(value, float) and math.isfinite(value):
        return value
    integer = isinstance(value, int) and not isinstance(value, bool)
    if kind == "int" and integer and abs(value) < MAX_INT:
        return value
    if kind == "str" and isinstance(value, str) and len(value) <= MAX_TEXT:
        return value
    raise UntrustedModelError(f"{where} must be a finite {kind}, not {quoted(value)}")


def _nested(value: object, spec: Field, dims: dict, where: str, depth: int = 0) -> list:
    """Check ``value`` against the field's shape (binding symbols); return it flattened."""
    if depth == len(spec.shape):
        return [_scalar(value, spec.kind, where)]
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise UntrustedModelError(f"{where} must be a list of at most {MAX_LIST} entries")
    size = spec.shape[depth]
    if isinstance(size, str):
        size = dims.setdefault(size, len(value))
    if len(value) != size:
        raise UntrustedModelError(f"{where} has {len(value)} entries where {size} are expected")
    flat = []
    for i, item in enumerate(value):
        flat.extend(_nested(item, spec, dims, f"{where}[{i}]", depth + 1))
    return flat


def _fitted_value(value: object, spec: Field, dims: dict, where: str):
    import numpy as np

    if value is None and spec.nullable:
        return None
    if not spec.shape:
        scalar = _scalar(value, spec.kind, where)
        if spec.equals and scalar != dims.get(spec.equals):
            raise UntrustedModelError(
                f"{where} is {quoted(scalar)} where the model has {dims.get(spec.equals)}"
            )
        return scalar
    flat = _nested(value, spec, dims, where)
    shape = tuple(dims[s] if isinstance(s, str) else s for s in spec.shape)
    if spec.as_tuple:
        return tuple(flat)
    dtype = {"float": np.float64, "int": np.int64, "str": object}[spec.kind]
    return np.array(flat, dtype=dtype).reshape(shape)


def _param(value: object, where: str, *, in_list: bool = False):
    """A constructor parameter: null, a boolean, a finite number, a short string, or a flat
    list of those."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= MAX_TEXT:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, int) and abs(value) < MAX_INT:
        return value
    if isinstance(value, list) and not in_list and len(value) <= MAX_LIST:
        return [_param(v, f"{where}[{i}]", in_list=True) for i, v in enumerate(value)]
    raise UntrustedModelError(
        f"{where} must be null, a boolean, a finite number, a string of at most {MAX_TEXT} "
        f"characters or a flat list of those, not {quoted(value)}"
    )


def _param_names(cls: type) -> set[str]:
    """The constructor's parameters (scikit-learn's contract: they are its ``get_params``)."""
    signature = inspect.signature(cls.__init__)
    return {
        name
        for name, p in signature.parameters.items()
        if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


@dataclass
class _Checked:
    name: str
    spec: StepClass
    params: dict
    fitted: dict


def _check_steps(doc: object) -> tuple[list[_Checked], dict]:
    """Pass 1: every key, type, shape and number of the document; nothing constructed."""
    doc = _keys(doc, {"format", "version", "steps"}, "the document")
    if doc["format"] != FORMAT:
        raise UntrustedModelError(
            f"format is {quoted(doc['format'])}, not {FORMAT!r}: not a model document"
        )
    if doc["version"] != VERSION or isinstance(doc["version"], bool):
        raise UntrustedModelError(
            f"version {quoted(doc['version'])} of the model document; this code reads version "
            f"{VERSION}: retrain with train.py"
        )
    steps = doc["steps"]
    if not isinstance(steps, list) or not 2 <= len(steps) <= MAX_STEPS:
        raise UntrustedModelError(f"steps must be a list of 2 to {MAX_STEPS} steps")
    dims: dict[str, int] = {}
    checked, names = [], set()
    for i, step in enumerate(steps):
        where = f"step {i + 1}"
        step = _keys(step, {"name", "class", "params", "fitted"}, where)
        name = step["name"]
        if not isinstance(name, str) or not _NAME.match(name) or name in names:
            raise UntrustedModelError(f"{where}: name {quoted(name)} is not a new step name")
        names.add(name)
        where = f"step {i + 1} ({name})"
        spec = STEP_CLASSES.get(step["class"]) if isinstance(step["class"], str) else None
        if spec is None:
            raise UntrustedModelError(
                f"{where}: unknown class {quoted(step['class'])}; a model document may name "
                f"only {', '.join(STEP_CLASSES)}"
            )
        role = "features" if i == 0 else "classifier" if i == len(steps) - 1 else "transform"
        if spec.role != role:
            raise UntrustedModelError(f"{where}: {step['class']} cannot be the {role} step")
        params = step["params"]
        _keys(params, _param_names(spec.load()), f"{where} params")  # known names only
        params = {k: _param(v, f"{where} params.{k}") for k, v in params.items()}
        if spec.empty_input is not None:
            fields = {FEATURE_NAMES: Field("str", ("d",))}
        else:
            fields = spec.fitted
        fitted = _keys(step["fitted"], set(fields), f"{where} fitted")
        values = {
            k: _fitted_value(fitted[k], f, dims, f"{where} fitted.{k}") for k, f in fields.items()
        }
        checked.append(_Checked(name, spec, params, values))
    return checked, dims


def from_document(doc: object):
    """The fitted pipeline a model document describes, or :class:`UntrustedModelError`."""
    checked, dims = _check_steps(doc)
    from sklearn.pipeline import Pipeline

    steps = []
    for i, step in enumerate(checked):
        where = f"step {i + 1} ({step.name})"
        cls = step.spec.load()
        try:
            estimator = cls(**step.params)
            if step.spec.empty_input is not None:
                estimator.fit(step.spec.empty_input())
                names = [str(n) for n in estimator.get_feature_names_out()]
                if names != list(step.fitted[FEATURE_NAMES]):
                    raise UntrustedModelError(
                        f"this code computes the features {quoted(names, 200)}, the model was "
                        f"trained on {quoted(list(step.fitted[FEATURE_NAMES]), 200)}: retrain "
                        "with train.py"
                    )
            else:
                for attribute, value in step.fitted.items():  # names from the table only
                    setattr(estimator, attribute, value)
                if hasattr(cls, "_parameter_constraints"):
                    estimator._validate_params()  # scikit-learn's own parameter check
            if step.spec.check is not None:
                step.spec.check(estimator, dims)
        except UntrustedModelError as exc:
            raise UntrustedModelError(f"{where}: {exc}") from None
        except (ValueError, TypeError, KeyError) as exc:
            raise UntrustedModelError(
                f"{where}: refused by {cls.__name__} ({quoted(str(exc), 200)}); the model does "
                "not fit this code: retrain with train.py"
            ) from None
        steps.append((step.name, estimator))
    return Pipeline(steps)


# --- writing ---------------------------------------------------------------------------------


def _plain(value: object):
    """NumPy scalars and arrays, tuples: plain JSON values."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _plain_field(value: object, spec: Field):
    import numpy as np

    if value is None:
        return None
    if not spec.shape:
        return {"float": float, "int": int, "str": str}[spec.kind](_plain(value))
    if spec.as_tuple:
        return [float(v) if spec.kind == "float" else v for v in _plain(list(value))]
    dtype = {"float": np.float64, "int": np.int64, "str": object}[spec.kind]
    return np.asarray(value).astype(dtype, copy=False).tolist()


def to_document(pipeline) -> dict:
    """The model document of a fitted pipeline made of :data:`STEP_CLASSES` only."""
    from sklearn.pipeline import Pipeline

    if type(pipeline) is not Pipeline:
        raise UntrustedModelError(f"only a Pipeline can be saved, not {type(pipeline).__name__}")
    defaults = inspect.signature(Pipeline.__init__).parameters
    for key, value in pipeline.get_params(deep=False).items():
        if key != "steps" and value != defaults[key].default:
            raise UntrustedModelError(f"the pipeline's {key}={value!r} cannot be saved")
    steps = []
    for name, estimator in pipeline.steps:
        spec = STEP_CLASSES.get(type(estimator).__name__)
        if spec is None or type(estimator) is not spec.load():
            raise UntrustedModelError(
                f"step {name}: {type(estimator).__module__}.{type(estimator).__name__} is not "
                f"a class a model document may hold ({', '.join(STEP_CLASSES)})"
            )
        params = {k: _plain(v) for k, v in estimator.get_params(deep=False).items()}
        if spec.empty_input is not None:
            fitted = {FEATURE_NAMES: [str(n) for n in estimator.get_feature_names_out()]}
        else:
            fitted = {k: _plain_field(getattr(estimator, k), f) for k, f in spec.fitted.items()}
        steps.append(
            {"name": name, "class": type(estimator).__name__, "params": params, "fitted": fitted}
        )
    return {"format": FORMAT, "version": VERSION, "steps": steps}


def same_fitted_state(original, restored) -> list[str]:
    """What differs between two pipelines' parameters and fitted fields (empty: none)."""
    import numpy as np

    differences = []
    for (name, a), (_, b) in zip(original.steps, restored.steps, strict=True):
        spec = STEP_CLASSES[type(a).__name__]
        pa = {k: _plain(v) for k, v in a.get_params(deep=False).items()}
        pb = {k: _plain(v) for k, v in b.get_params(deep=False).items()}
        if pa != pb:
            differences.append(f"{name} params")
        if spec.empty_input is not None:
            if list(a.get_feature_names_out()) != list(b.get_feature_names_out()):
                differences.append(f"{name} feature names")
            continue
        for attribute in spec.fitted:
            x, y = getattr(a, attribute), getattr(b, attribute)
            if isinstance(x, np.ndarray):
                same = isinstance(y, np.ndarray) and x.dtype == y.dtype and np.array_equal(x, y)
            else:
                same = _plain(x) == _plain(y)
            if not same:
                differences.append(f"{name}.{attribute}")
    return differences
