"""A polite HTTP client for one public site: one connection, a pause between requests,
exponential back-off on 429 and 5xx that honours ``Retry-After``, and a stop after
repeated failures.

Requests go out strictly one after another (no threads, no pool): the next request starts
at least ``delay`` seconds after the previous one ended, or later when the site asked us to
back off. ``clock``/``sleep`` can be injected so that tests check the waits without waiting.

What the site sends is not trusted: each request has a total deadline
(:mod:`data.fetch.deadline`), a body is read only up to ``max_bytes`` (after decompression),
a body that does not decompress is reported, not retried; redirects are followed here, one
polite request at a time, and only to addresses the caller allows (``allow``); a name that
does not resolve stops at once (:class:`NameNotResolved`): it is no busy site to wait for.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from importlib import metadata
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from urllib3.exceptions import NameResolutionError

from data.fetch.deadline import cuttable_session
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
#: (connect, read) timeouts in seconds: the longest silence one step of a request may take.
TIMEOUT = (15.0, 60.0)
#: The whole of one request (connect, headers, body) must be done within this many seconds:
#: a letter is a few hundred KB, and even 20 MiB takes under two minutes at 2 Mbit/s.
DEADLINE_SECONDS = 120.0
#: Statuses that redirect, and how many redirects one request may follow.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
PRODUCT = "imr-outcome-fetch"


class SiteUnavailable(RuntimeError):
    """The site kept failing (or asked for a long pause): the run stops and can be resumed."""


class NameNotResolved(SiteUnavailable):
    """The site's name does not resolve (DNS): no network here, or no site by that name."""


class RefusedUrl(Exception):
    """An address the caller does not allow (a link, or where a redirect points): not fetched.

    ``kind``: ``refused_link``, ``refused_redirect`` or ``too_many_redirects``; ``reason`` is
    a sentence for the report.
    """

    def __init__(self, url: str, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.kind = kind
        self.reason = reason


def http_only(url: str) -> str | None:
    """Why ``url`` may not be fetched (it is not http(s)), or None: the default policy."""
    scheme = urlsplit(url).scheme.lower()
    return None if scheme in ("http", "https") else "not an http(s) address"


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
    """A response: its body read to the end, or cut short for the reason in ``failure``."""

    status: int  # 0 when the deadline passed before the status line arrived
    reason: str
    headers: Mapping[str, str]  # case-insensitive
    body: bytes
    url: str
    #: why the body is incomplete or unusable (``too_large``, ``deadline``, ``undecodable``),
    #: with ``detail`` saying what happened; None for a complete body
    failure: str | None = None
    detail: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def too_large(self) -> bool:
        return self.failure == "too_large"


def one_connection_session(agent: str):
    """A session with a single pooled connection, no automatic retries and our User-Agent,
    and the :class:`~data.fetch.deadline.Deadline` that bounds each of its requests."""
    return cuttable_session(
        agent, pool_connections=1, pool_maxsize=1, max_retries=0, pool_block=True
    )


def unresolved_name(exc: BaseException) -> BaseException | None:
    """The DNS failure behind a connection error (``gaierror``, urllib3's
    ``NameResolutionError``), or None when the error is something else."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    found = None
    while stack:
        error = stack.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, socket.gaierror):
            return error  # the resolver's own words, without urllib3's wrapping
        if isinstance(error, NameResolutionError):
            found = error
        stack += [error.__cause__, error.__context__, getattr(error, "reason", None), *error.args]
    return found


def _redirected(request: HttpRequest, target: str, status: int) -> HttpRequest:
    """The request a redirect asks for: 301/302/303 turn a POST into a GET, as browsers do."""
    if status in (301, 302, 303) and request.method != "HEAD":
        return replace(request, method="GET", url=target, form=None)
    return replace(request, url=target)


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
        deadline: float = DEADLINE_SECONDS,
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
        self.deadline = deadline
        self.clock = clock
        self.sleep = sleep
        #: called just before each request goes out (tests use it to stop a run mid-way)
        self.before_request = before_request
        self.session, self._deadline = one_connection_session(self.user_agent)
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
        """One attempt, within the deadline; connection errors other than the deadline's
        are raised (the caller retries them)."""
        body = bytearray()
        reply = HttpReply(0, "", {}, b"", request.url)
        with self._deadline.running(self.deadline) as deadline:
            try:
                with self.session.request(
                    request.method,
                    request.url,
                    data=list(request.form) if request.form is not None else None,
                    headers={"Accept": request.accept},
                    stream=True,
                    timeout=self.timeout,
                    allow_redirects=False,
                ) as response:
                    reply = HttpReply(
                        response.status_code,
                        response.reason or "",
                        response.headers,
                        b"",
                        response.url,
                    )
                    try:
                        for chunk in response.iter_content(64 * 1024):
                            body += chunk
                            if len(body) > self.max_bytes:
                                reply.failure = "too_large"
                                reply.detail = f"larger than {self.max_bytes // 2**20} MiB" + (
                                    " once decompressed" if _compressed(response) else ""
                                )
                                break
                    except requests.exceptions.ContentDecodingError as exc:
                        reply.failure = "undecodable"
                        encoding = response.headers.get("Content-Encoding", "")
                        reply.detail = (
                            f"its Content-Encoding {encoding!r} does not decode ({str(exc)[:160]})"
                        )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ):
                if not deadline.expired:  # the cut shows as a broken connection: not a retry
                    raise
        if deadline.expired:
            reply.failure = "deadline"
            reply.detail = (
                f"not complete after {self.deadline:g} s ({len(body)} bytes received): the "
                "site is too slow or the transfer stalled"
            )
        reply.body = bytes(body)
        return reply

    def send(
        self, request: HttpRequest, *, allow: Callable[[str], str | None] = http_only
    ) -> HttpReply:
        """Send one request, following redirects that ``allow`` accepts, and retrying 429/5xx
        and broken connections with back-off.

        ``allow(url)`` says why an address may not be fetched (None: it may); the request's
        own address is checked too. Returns the reply for any other status (the caller judges
        a 404, and ``failure``). Raises :class:`RefusedUrl` for an address ``allow`` refuses,
        :class:`NameNotResolved` at once when the site's name does not resolve, and
        :class:`SiteUnavailable` after ``max_attempts`` failed attempts or when the site asks
        for a pause longer than ``max_retry_after``.
        """
        hops = 0
        origin = request.url
        while True:
            problem = allow(request.url)
            if problem is not None:
                if hops:
                    raise RefusedUrl(
                        request.url,
                        "refused_redirect",
                        f"{origin} redirects to {request.url}, {problem}: not followed",
                    )
                raise RefusedUrl(
                    request.url, "refused_link", f"{request.url} is {problem}: not fetched"
                )
            reply = self._attempts(request)
            location = reply.headers.get("Location") if reply.status in REDIRECT_STATUSES else None
            if not location or reply.failure:
                return reply
            hops += 1
            target = urljoin(reply.url, location.strip())
            if hops > MAX_REDIRECTS:
                raise RefusedUrl(
                    target,
                    "too_many_redirects",
                    f"{origin} redirects more than {MAX_REDIRECTS} times: not followed",
                )
            log.info("%s %s redirects to %s", request.method, request.url, target)
            request = _redirected(request, target, reply.status)

    def _attempts(self, request: HttpRequest) -> HttpReply:
        """One request, retried with back-off while the site answers 429/5xx or drops it."""
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
            ) as exc:
                dns = unresolved_name(exc)
                if dns is not None:
                    host = urlsplit(request.url).hostname
                    raise NameNotResolved(
                        f"{host} does not resolve ({dns}): there is no network here, or no "
                        "site by that name (check --base-url). Nothing more is sent; rerun the "
                        "same command when the name resolves."
                    ) from exc
                problem = f"{type(exc).__name__} ({str(exc)[:160]})"
            finally:
                self._last_end = self.clock()
            if reply is not None:
                if reply.failure or reply.status not in RETRY_STATUSES:
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


def _compressed(response: requests.Response) -> bool:
    return bool(response.headers.get("Content-Encoding", "").strip(" ,").replace("identity", ""))
