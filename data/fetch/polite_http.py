"""A polite HTTP client for one public site: one connection, a pause between requests,
exponential back-off on 429 and 5xx that honours ``Retry-After``, and a stop after
repeated failures.

Requests go out strictly one after another (no threads, no pool): the next request starts
at least ``delay`` seconds after the previous one ended, or later when the site asked us to
back off. ``clock``/``sleep`` can be injected so that tests check the waits without waiting.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from importlib import metadata
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter

from settings import MAX_LETTER_BYTES

log = logging.getLogger(__name__)

DEFAULT_DELAY_SECONDS = 3.0
#: The command line refuses anything faster; only tests go below (``min_delay=0``).
MIN_DELAY_SECONDS = 1.0
#: Statuses that mean "not now": retried with back-off.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Attempts of one request before the run stops.
MAX_ATTEMPTS = 5
#: First back-off wait; it doubles with every failed attempt, up to MAX_BACKOFF_SECONDS.
BACKOFF_BASE_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 300.0
#: A site asking for a longer pause than this (Retry-After) is left alone: the run stops.
MAX_RETRY_AFTER_SECONDS = 1800.0
#: (connect, read) timeouts in seconds.
TIMEOUT = (15.0, 60.0)
PRODUCT = "imr-outcome-fetch"


class SiteUnavailable(RuntimeError):
    """The site kept failing (or asked for a long pause): the run stops and can be resumed."""


def project_version() -> str:
    try:
        return metadata.version("imr-outcome")
    except metadata.PackageNotFoundError:
        return "0"


def user_agent(delay: float, contact: str | None = None) -> str:
    """An honest User-Agent: who we are, what we do and how fast."""
    contact_part = f"; contact: {contact}" if contact else ""
    return (
        f"{PRODUCT}/{project_version()} (IMR outcome predictor, a research tool fetching public "
        f"IMR determination letters one request at a time, {delay:g} s apart"
        f"{contact_part}) python-requests/{requests.__version__}"
    )


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class HttpRequest:
    """One request as the walk plans it; ``form`` is sent form-urlencoded, in order."""

    method: str
    url: str
    form: tuple[tuple[str, str], ...] | None = None
    accept: str = "*/*"

    def describe(self) -> str:
        body = f"  {urlencode(self.form)}" if self.form else ""
        return f"{self.method} {self.url}{body}"


@dataclass
class HttpReply:
    """A complete response (the body read to its end, or to the size limit)."""

    status: int
    reason: str
    headers: Mapping[str, str]  # case-insensitive
    body: bytes
    url: str
    too_large: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def one_connection_session(agent: str) -> requests.Session:
    """A session with a single pooled connection, no automatic retries and our User-Agent."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0, pool_block=True)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = agent
    return session


class PoliteClient:
    """Sends requests one at a time, spaced, with back-off; see the module docstring."""

    def __init__(
        self,
        *,
        delay: float = DEFAULT_DELAY_SECONDS,
        contact: str | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base: float = BACKOFF_BASE_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
        max_bytes: int = MAX_LETTER_BYTES,
        timeout: tuple[float, float] = TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        before_request: Callable[[HttpRequest], None] | None = None,
        min_delay: float = MIN_DELAY_SECONDS,
    ) -> None:
        if delay < min_delay:
            raise ValueError(f"delay {delay:g} s is below the minimum of {min_delay:g} s")
        self.delay = delay
        self.user_agent = user_agent(delay, contact)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        #: called just before each request goes out (tests use it to stop a run mid-way)
        self.before_request = before_request
        self.session = one_connection_session(self.user_agent)
        self.requests_sent = 0
        self.retries = 0
        self._last_end: float | None = None
        self._not_before: float | None = None

    def close(self) -> None:
        self.session.close()

    def pause(self, seconds: float) -> None:
        """Make the next request wait at least ``seconds`` from now (and the usual delay)."""
        self._not_before = max(self._not_before or 0.0, self.clock() + seconds)

    def _wait_turn(self) -> None:
        targets = []
        if self._last_end is not None:
            targets.append(self._last_end + self.delay)
        if self._not_before is not None:
            targets.append(self._not_before)
        if targets:
            pause = max(targets) - self.clock()
            if pause > 0:
                self.sleep(pause)

    def _once(self, request: HttpRequest) -> HttpReply:
        with self.session.request(
            request.method,
            request.url,
            data=list(request.form) if request.form is not None else None,
            headers={"Accept": request.accept},
            stream=True,
            timeout=self.timeout,
        ) as response:
            body = bytearray()
            too_large = False
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > self.max_bytes:
                    too_large = True
                    break
            return HttpReply(
                status=response.status_code,
                reason=response.reason or "",
                headers=response.headers,
                body=bytes(body),
                url=response.url,
                too_large=too_large,
            )

    def send(self, request: HttpRequest) -> HttpReply:
        """Send one request, retrying 429/5xx and broken connections with back-off.

        Returns the reply for any other status (the caller judges a 404). Raises
        :class:`SiteUnavailable` after ``max_attempts`` failed attempts or when the site asks
        for a pause longer than ``max_retry_after``.
        """
        failures = 0
        while True:
            self._wait_turn()
            if self.before_request is not None:
                self.before_request(request)
            self.requests_sent += 1
            retry_after = None
            reply = None
            try:
                reply = self._once(request)
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                problem = f"{type(exc).__name__} ({str(exc)[:160]})"
            finally:
                self._last_end = self.clock()
            if reply is not None:
                if reply.status not in RETRY_STATUSES:
                    self._not_before = None
                    return reply
                problem = f"HTTP {reply.status} {reply.reason}".strip()
                retry_after = retry_after_seconds(reply.headers.get("Retry-After"))
            failures += 1
            target = f"{request.method} {request.url}"
            if failures >= self.max_attempts:
                raise SiteUnavailable(
                    f"{target} failed {failures} times, the last with {problem}; stopping so as "
                    "not to burden the site. Everything so far is saved: rerun the same command "
                    "later to resume."
                )
            wait = min(self.max_backoff, self.backoff_base * 2 ** (failures - 1))
            if retry_after is not None:
                if retry_after > self.max_retry_after:
                    raise SiteUnavailable(
                        f"{target}: {problem}, and the site asks to wait {retry_after:.0f} s "
                        "(Retry-After); stopping. Rerun the same command later to resume."
                    )
                wait = max(wait, retry_after)
            self.retries += 1
            log.warning(
                "%s: %s; waiting %.0f s before attempt %d", target, problem, wait, failures + 1
            )
            self._not_before = self._last_end + max(wait, self.delay)
