"""Save and load the fitted pipeline as a JSON model document: data, never code.

The document (:mod:`models.store.model_document`) holds the fitted parameters only. Reading
it parses JSON strictly (one document of at most :data:`MAX_DOCUMENT_BYTES`, UTF-8, no
duplicate keys, no NaN or infinity, no deep nesting) and builds the project's own classes
from it; nothing in the file names code to import or call. Saving checks that the
document gives back exactly the fitted state it was written from, so what is loaded is
what was trained. Training records the document's SHA-256 in its run
(:mod:`models.store.registry`), and every loader checks it before reading
(:mod:`models.store.loading`, :mod:`models.store.serving`).

Model files of earlier versions (skops archives with a list of trusted types, pickles)
are refused with a message to retrain: their formats could call functions when read.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from models.store.model_document import UntrustedModelError, from_document, to_document

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "PIPELINE_FILE",
    "UntrustedModelError",
    "file_sha256",
    "load_pipeline",
    "load_pipeline_bytes",
    "save_pipeline",
]

#: The model document's file name in a run's artifacts.
PIPELINE_FILE = "pipeline.json"
#: A model document is a few kB; anything much larger is not one.
MAX_DOCUMENT_BYTES = 8 << 20
_RETRAIN = "retrain with train.py, and do not load model files from places you do not control"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _no_constants(name: str):
    raise ValueError(f"{name} is not a number a model document may hold")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key appears twice in one object")
    return dict(pairs)


def _what_it_is(data: bytes) -> str | None:
    """What a file that is not a model document looks like, for the refusal."""
    if data[:4] == b"PK\x03\x04":
        return "a zip archive (the skops format of earlier versions, which can call functions)"
    if data[:1] == b"\x80":
        return "a pickle"
    return None


def load_pipeline_bytes(data: bytes, source: object):
    """The fitted pipeline of a model document already read (and its hash checked)."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UntrustedModelError(
            f"{source}: {len(data):,} bytes is no model document (at most "
            f"{MAX_DOCUMENT_BYTES:,}); {_RETRAIN}"
        )
    kind = _what_it_is(data)
    if kind:
        raise UntrustedModelError(
            f"{source}: {kind}, not a model document; model files are JSON documents of "
            f"fitted parameters now: {_RETRAIN}"
        )
    try:
        doc = json.loads(
            data.decode("utf-8"), parse_constant=_no_constants, object_pairs_hook=_unique_keys
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise UntrustedModelError(
            f"{source}: not a JSON model document ({reason}); {_RETRAIN}"
        ) from None
    try:
        return from_document(doc)
    except UntrustedModelError as exc:
        advice = "" if "retrain with train.py" in str(exc) else f"; {_RETRAIN}"
        raise UntrustedModelError(f"{source}: refusing the model document: {exc}{advice}") from None


def load_pipeline(path: Path):
    """The fitted pipeline of the model document at ``path`` (see :func:`load_pipeline_bytes`).

    It checks no hash: callers that know the recorded SHA-256 check it first.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise UntrustedModelError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return load_pipeline_bytes(data, path)


def save_pipeline(model, path: Path) -> Path:
    """Write ``model`` as a model document at ``path``; refuse one that would not load back
    exactly as it is."""
    from models.store.model_document import same_fitted_state

    path = Path(path)
    text = json.dumps(to_document(model), indent=1, allow_nan=False)
    differences = same_fitted_state(model, load_pipeline_bytes(text.encode(), path))
    if differences:
        raise UntrustedModelError(
            f"{path}: the model document would change {', '.join(differences)}; not saved"
        )
    path.write_text(text, encoding="utf-8")
    return path
