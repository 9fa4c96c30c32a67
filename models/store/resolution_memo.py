"""Remember the tracking store's answer about a model while the store's file is unchanged.

Asking a local SQLite tracking store through the public MLflow client costs about 2.5 s
of CPU on every ``predict.py`` (importing MLflow and SQLAlchemy, and the store's schema
check), more than the prediction itself. For a store that is a local SQLite file the
answer (which version an alias names, its run, the hashes and type list the run
recorded, its base rates) cannot change while the file does not. So the answer is kept
beside the model cache, keyed by the file's identity (device, inode, size and
modification time of the database and of its ``-wal`` and ``-journal`` files, and the
change counter SQLite keeps in its file header, which every committed write increments),
and signed with HMAC-SHA256 under a per-user key kept outside the cache (``IMR_CACHE_KEY``
or ``~/.config/imr-outcome/cache.key``, created with mode 0600). A memo planted or edited
in the cache folder fails the signature and is ignored; any write to the store (an alias
moved, a run added) changes the identity, and the next load asks MLflow again. Stores
reached over HTTP are always asked.

:func:`sign` and :func:`verify` sign other things kept in the cache folder under the same
key (the web page's model details, :mod:`web.model_info`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from pathlib import Path

from settings import tracking_uri

logger = logging.getLogger(__name__)

KEY_BYTES = 32
#: Bytes 24-27 of a SQLite file: the file change counter (sqlite.org/fileformat.html).
_COUNTER = slice(24, 28)


def store_identity(uri: str | None = None) -> dict | None:
    """What changes whenever a local SQLite store is written; ``None`` for other stores."""
    uri = uri or tracking_uri()
    if not uri.startswith("sqlite:///"):
        return None
    path = Path(uri.removeprefix("sqlite:///"))
    identity = {}
    for suffix in ("", "-wal", "-journal"):
        try:
            info = os.stat(f"{path}{suffix}")
        except FileNotFoundError:
            identity[suffix or "db"] = None
            continue
        except OSError:
            return None
        identity[suffix or "db"] = [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns]
    if identity["db"] is None:
        return None
    try:
        with open(path, "rb") as f:
            identity["counter"] = f.read(100)[_COUNTER].hex()
    except OSError:
        return None
    return identity


def key_path() -> Path:
    """The per-user signing key: ``IMR_CACHE_KEY``, else under ``~/.config/imr-outcome``."""
    if os.environ.get("IMR_CACHE_KEY"):
        return Path(os.environ["IMR_CACHE_KEY"])
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "imr-outcome" / "cache.key"


def _key() -> bytes | None:
    """The signing key, created on first use; ``None`` (memo off) if it is not ours alone."""
    path = key_path()
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it just now
            return _key()
        except OSError as exc:
            logger.info("no memo of store answers: cannot create the key %s (%s)", path, exc)
            return None
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
        info = os.lstat(path)
    except OSError as exc:
        logger.info("no memo of store answers: cannot read the key %s (%s)", path, exc)
        return None
    if (
        not stat.S_ISREG(info.st_mode)
        or info.st_uid != os.getuid()
        or info.st_mode & 0o077
        or info.st_size != KEY_BYTES
    ):
        logger.warning(
            "ignoring the cache key %s: it must be a %d-byte file owned by you with mode 0600; "
            "delete it to have a new one made",
            path,
            KEY_BYTES,
        )
        return None
    return path.read_bytes()


def _hmac(key: bytes, purpose: str, body: object) -> str:
    message = json.dumps([purpose, body], sort_keys=True).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(purpose: str, body: object) -> str | None:
    """HMAC-SHA256 of ``body`` (JSON data) for ``purpose``; ``None`` when there is no key."""
    key = _key()
    return None if key is None else _hmac(key, purpose, body)


def verify(purpose: str, body: object, signature: object) -> bool:
    """Whether ``signature`` is ours for ``body`` and ``purpose`` (False without a key)."""
    key = _key()
    if key is None or not isinstance(signature, str):
        return False
    return hmac.compare_digest(_hmac(key, purpose, body), signature)


def _signature(key: bytes, uri: str, identity: dict, answer: dict) -> str:
    return _hmac(key, "store answer", [uri, identity, answer])


def _memo_path(folder: Path, uri: str) -> Path:
    return folder / f"answer-{hashlib.sha256(uri.encode()).hexdigest()[:16]}.json"


def recall(folder: Path, uri: str) -> dict | None:
    """The remembered answer for ``uri`` if the store is unchanged and the memo is ours."""
    identity = store_identity()
    if identity is None:
        return None
    try:
        memo = json.loads(_memo_path(folder, uri).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(memo, dict) or memo.get("identity") != identity:
        return None
    key = _key()
    answer = memo.get("answer")
    if key is None or not isinstance(answer, dict):
        return None
    expected = _signature(key, uri, identity, answer)
    if not hmac.compare_digest(expected, str(memo.get("signature", ""))):
        logger.warning("ignoring %s: its signature does not match", _memo_path(folder, uri))
        return None
    return answer


def remember(folder: Path, uri: str, identity: dict | None, answer: dict) -> None:
    """Keep ``answer`` for ``uri`` if the store still has the ``identity`` it had when asked."""
    if identity is None or store_identity() != identity:
        return  # not a local store, or written to while we asked: do not keep the answer
    key = _key()
    if key is None:
        return
    memo = {"identity": identity, "answer": answer}
    memo["signature"] = _signature(key, uri, identity, answer)
    path = _memo_path(folder, uri)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(memo), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        logger.info("could not keep the store's answer in %s (%s)", path, exc)
