"""The MLflow tracking store as a client: bounded waits, and errors that name the store.

MLflow's HTTP client retries a failed request 7 times with exponential back-off and waits
up to 120 s per request: an unreachable tracking server costs about 4 minutes before any
error. :func:`tracking_client` bounds that (unless the user set those variables) so a
dead server fails within about 20 s, and :func:`ask` turns MLflow's errors into
:class:`TrackingUnreachable` (naming the URI) or :class:`NotInStore`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from settings import tracking_uri

T = TypeVar("T")

#: Bounds on MLflow's HTTP waits: 2 attempts of at most 8 s each, about 1 s back-off between.
HTTP_WAITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "8",
}
#: MLflow error codes that mean "no such thing", not "no answer".
_NOT_FOUND_CODES = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


class TrackingUnreachable(RuntimeError):
    """The tracking store did not answer; the message names its URI and what to check."""


class NotInStore(LookupError):
    """The tracking store answered that the thing asked for does not exist."""


def bound_http_waits() -> None:
    """Set :data:`HTTP_WAITS` in the environment, keeping any value the user set."""
    for name, value in HTTP_WAITS.items():
        os.environ.setdefault(name, value)


def is_remote(uri: str) -> bool:
    """True for a tracking server reached over HTTP(S)."""
    return uri.startswith(("http://", "https://"))


def tracking_client(uri: str | None = None):
    """A public ``MlflowClient`` for ``uri`` (default: ``MLFLOW_TRACKING_URI``), waits bounded."""
    uri = uri or tracking_uri()
    if is_remote(uri):
        bound_http_waits()
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _first_line(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:limit]


def ask(what: str, call: Callable[[], T], uri: str | None = None) -> T:
    """Run ``call`` against the tracking store, translating MLflow's errors.

    ``NotInStore`` when the store says the thing does not exist; ``TrackingUnreachable``
    naming the URI for any other MLflow or connection failure.
    """
    from mlflow.exceptions import MlflowException

    uri = uri or tracking_uri()
    try:
        return call()
    except MlflowException as exc:
        if exc.error_code in _NOT_FOUND_CODES:
            raise NotInStore(_first_line(exc)) from exc
        raise unreachable(uri, what, exc) from exc
    except OSError as exc:  # connection errors that MLflow did not wrap
        raise unreachable(uri, what, exc) from exc


def unreachable(uri: str, what: str, exc: BaseException) -> TrackingUnreachable:
    """The error for a tracking store that did not answer ``what``."""
    hint = (
        "check that the server runs and the URL is right, or set MLFLOW_TRACKING_URI"
        if is_remote(uri)
        else "check the store and MLFLOW_TRACKING_URI"
    )
    return TrackingUnreachable(
        f"the tracking store {uri} did not answer ({what}): {_first_line(exc)}; {hint}"
    )
