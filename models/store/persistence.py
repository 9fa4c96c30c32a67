"""Save and load the fitted pipeline in the skops format, trusting the exact types it holds.

skops refuses to instantiate any type it is not told to trust. At save time we record the
exact set of types the fitted pipeline holds beyond skops' own defaults (its
``get_untrusted_types`` on the written file) in ``<name>.types.json`` beside it; training
also logs that list in the MLflow run. At load time a file may hold only those recorded
types, and the recorded list itself must pass :func:`check_type_policy`: types from
scikit-learn, NumPy, SciPy, ``collections`` and this project's packages, never a
``builtins`` callable, ``functools`` (``partial``), ``operator``, ``eval``/``exec``, or
anything from ``os``/``subprocess`` and their kin. Anything else is refused with the type's
name, so neither a tampered model file nor a tampered type list can run code.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

#: Modules whose types a model file may contain (prefixes of the dotted type name).
ALLOWED_MODULE_PREFIXES = (
    "sklearn.",
    "numpy.",
    "scipy.",
    "collections.",
    "features.",
    "models.",
    "data.",
)
#: Modules never admitted, even under an allowed prefix (first component of the name).
FORBIDDEN_MODULES = frozenset(
    {
        "builtins",
        "functools",
        "operator",
        "os",
        "posix",
        "nt",
        "subprocess",
        "sys",
        "shutil",
        "socket",
        "importlib",
        "pickle",
        "marshal",
        "runpy",
        "code",
        "codeop",
        "ctypes",
        "pty",
        "io",
        "pathlib",
        "tempfile",
        "multiprocessing",
        "webbrowser",
        "types",
        "inspect",
    }
)
#: Callable names refused wherever they live (``numpy.load``, ``x.eval``, ...).
FORBIDDEN_NAMES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "__import__",
        "system",
        "popen",
        "spawn",
        "open",
        "load",
        "loads",
        "fromfile",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "breakpoint",
        "input",
    }
)
TYPES_SUFFIX = ".types.json"


class UntrustedModelError(RuntimeError):
    """A model file holds a type that is not admitted; the message names it."""


def types_path(path: Path) -> Path:
    """Where the recorded type list of the skops file ``path`` lives (beside it)."""
    path = Path(path)
    return path.with_name(path.stem + TYPES_SUFFIX)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_type_policy(types: list[str], source: object) -> None:
    """Refuse any type outside the admitted modules or among the forbidden ones, by name."""
    refused = []
    for name in types:
        if not isinstance(name, str):
            refused.append(repr(name))
            continue
        parts = name.split(".")
        if (
            not name.startswith(ALLOWED_MODULE_PREFIXES)
            or parts[0] in FORBIDDEN_MODULES
            or parts[-1] in FORBIDDEN_NAMES
        ):
            refused.append(name)
    if refused:
        raise UntrustedModelError(
            f"{source}: refusing a model holding type(s) {', '.join(refused)}; a model file "
            "may hold only scikit-learn, NumPy, SciPy and this project's own types. Retrain "
            "with train.py, and do not load model files from places you do not control"
        )


def save_pipeline(model, path: Path) -> Path:
    """Write a fitted pipeline to ``path`` (skops) and its exact type list beside it."""
    import skops.io as sio

    path = Path(path)
    sio.dump(model, path)
    types = sorted(sio.get_untrusted_types(file=path))
    check_type_policy(types, f"the pipeline being saved to {path}")
    types_path(path).write_text(json.dumps(types, indent=1), encoding="utf-8")
    return path


def recorded_types(path: Path, listing: Path | None = None) -> list[str]:
    """The type list recorded at save time: ``listing``, by default the file beside ``path``."""
    listing = Path(listing) if listing else types_path(path)
    try:
        types = json.loads(listing.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UntrustedModelError(
            f"{path}: no recorded type list {listing.name} beside it; retrain with train.py"
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UntrustedModelError(f"{listing}: unreadable type list ({exc})") from exc
    if not isinstance(types, list):
        raise UntrustedModelError(f"{listing}: the type list is not a JSON array")
    return types


def _load_checked(found: list[str], trusted: list[str], source: object, load):
    check_type_policy(trusted, source)
    unexpected = sorted(set(found) - set(trusted))
    if unexpected:
        raise UntrustedModelError(
            f"{source}: refusing type(s) {', '.join(unexpected)} that the trained pipeline did "
            "not hold (the file was changed after training); retrain with train.py"
        )
    return load(sorted(set(found)))


def _damaged(source: object, exc: Exception) -> UntrustedModelError:
    return UntrustedModelError(f"{source}: not a readable skops model file ({type(exc).__name__})")


def load_pipeline(path: Path, trusted: list[str] | None = None):
    """Load a pipeline written by :func:`save_pipeline`.

    ``trusted`` is the type list recorded at save time (read from beside the file when not
    given). The file may hold exactly those types; each must pass the type policy.
    """
    import skops.io as sio

    path = Path(path)
    trusted = recorded_types(path) if trusted is None else list(trusted)
    check_type_policy(trusted, path)
    try:
        found = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _damaged(path, exc) from exc
    return _load_checked(found, trusted, path, lambda types: sio.load(path, trusted=types))


def load_pipeline_bytes(data: bytes, trusted: list[str], source: object):
    """:func:`load_pipeline` for a skops file already read (and verified) in memory."""
    import skops.io as sio

    check_type_policy(trusted, source)
    try:
        found = sio.get_untrusted_types(data=data)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise _damaged(source, exc) from exc
    return _load_checked(found, trusted, source, lambda types: sio.loads(data, trusted=types))
