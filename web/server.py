"""Start the web page on this computer: load the model, warm it up, serve until Ctrl-C.

Served by waitress, a small pure-Python WSGI server, because it reads each request whole
in one network loop before a thread handles it:

- **a bounded worker pool**: :data:`THREADS` threads handle requests, whatever the number
  of connections; at most :data:`MAX_CONNECTIONS` connections are open at once (more
  wait to be accepted);
- **read timeouts**: a connection that sends nothing for :data:`IDLE_SECONDS` is closed,
  and a request not received whole within :data:`REQUEST_SECONDS` (a slow drip) too, so
  half-sent requests hold no thread and not for long;
- **bodies in memory**: a request body of up to :data:`MAX_BODY_BYTES` is kept in memory,
  never spooled to a temporary file (case summaries are medical records), and larger
  ones are refused before they are read; responses are never spooled either.

Request lines are not logged (waitress keeps no access log): nothing a user sends, not
even which page, reaches a log. Uploaded files are parsed by limited worker processes
(:mod:`web.inputs`), never by this one.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import time

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: A made-up draft scored once at start-up, so the first real draft is as fast as the rest.
WARM_UP_SUMMARY = (
    "The patient is a 50 year old with chronic low back pain after a lifting injury. "
    "Treatment to date has included medications and 6 sessions of physical therapy."
)
WARM_UP_SERVICES = ("Physical therapy x 6 visits for the lumbar spine",)
#: How long start-up waits for the model's details (a slow tracking server) before serving
#: without them.
INFO_WAIT_SECONDS = 30.0
#: Threads that handle requests (score drafts, hand uploads to the parsing workers): the
#: most requests handled at once, and so the most parsing workers started at once.
THREADS = 4
#: Connections open at once; more wait in the listening queue until one closes.
MAX_CONNECTIONS = 2_000
#: A connection silent this long is closed (between requests, or in the middle of one).
IDLE_SECONDS = 15
#: A request must arrive whole within this (32 MiB at about 1 MB/s), however it trickles.
REQUEST_SECONDS = 60
#: How often the network loop looks for connections to close.
CHECK_SECONDS = 1
#: Largest request body read; the app refuses anything over its own cap (32 MiB) with a
#: page that says so, and this server refuses, unread, what is larger still.
MAX_BODY_BYTES = 64 * 2**20


def make_server(app, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
    """A waitress server for ``app`` on ``host``:``port`` (0: any free port), not yet
    running: call its ``run()``. Raises ``OSError`` when the address cannot be used."""
    from waitress.adjustments import Adjustments
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer

    class Channel(HTTPChannel):
        """A connection that remembers when its current request began to arrive."""

        request_began = 0.0

        def received(self, data):
            if self.request is None and data:
                self.request_began = time.time()
            return super().received(data)

    class Server(TcpWSGIServer):
        channel_class = Channel

        def maintenance(self, now):
            super().maintenance(now)  # closes connections idle for channel_timeout
            late = now - REQUEST_SECONDS
            for channel in list(self.active_channels.values()):
                receiving = channel.request is not None and not channel.requests
                if receiving and channel.request_began < late:
                    channel.will_close = True

    adjustments = Adjustments(
        host=host,
        port=port,
        threads=THREADS,
        connection_limit=MAX_CONNECTIONS,
        channel_timeout=IDLE_SECONDS,
        cleanup_interval=CHECK_SECONDS,
        max_request_body_size=MAX_BODY_BYTES,
        # above every body and response: nothing is ever spooled to a temporary file
        inbuf_overflow=MAX_BODY_BYTES + 1,
        outbuf_overflow=4 * MAX_BODY_BYTES,
        asyncore_use_poll=True,  # select() stops at file descriptor 1024
        expose_tracebacks=False,
        ident="imr-outcome",
    )
    _raise_open_files(MAX_CONNECTIONS + 200)
    return Server(app, adj=adjustments)


def _raise_open_files(wanted: int) -> None:
    """Let this process hold ``wanted`` open files where the hard limit allows it."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def is_loopback(host: str) -> bool:
    """Whether ``host`` is an address or name of this computer only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def warm_up(loaded) -> None:
    """Score a made-up draft: the first call pays for caches and lazy imports."""
    from data.drafts.rows import draft_rows
    from models.scoring.score import score_rows

    score_rows(loaded, draft_rows(WARM_UP_SUMMARY, list(WARM_UP_SERVICES)), with_what_if=True)


def build(model_uri: str, host: str = DEFAULT_HOST):
    """The app for ``model_uri``, its model loaded and warmed up, its details read.

    Raises :class:`models.store.loading.ModelNotFound` when there is no such model.
    """
    from models.store.loading import load
    from web.app import LOOPBACK_HOSTS, create_app
    from web.model_info import LiveInfo

    loaded = load(model_uri)
    info = LiveInfo(loaded)
    warm_up(loaded)
    info.get(timeout=INFO_WAIT_SECONDS)  # ready means every answer is complete
    # Host headers are checked only on loopback (against DNS rebinding); an explicit
    # --host is reached by whatever name the network gives it
    trusted = LOOPBACK_HOSTS if is_loopback(host) else None
    return create_app(loaded, info, trusted_hosts=trusted)


def serve(model_uri: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Serve the page until interrupted; return the exit status."""
    started = time.perf_counter()
    if not is_loopback(host):
        print(
            f"WARNING: serving on {host}, reachable from other computers. Case summaries are "
            "medical records and this page has no login and no encryption (plain HTTP); use "
            "it only on a network you trust.",
            file=sys.stderr,
        )
    app = build(model_uri, host)
    try:
        server = make_server(app, host, port)
    except OSError as exc:
        print(
            f"error: cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "is another server using that port? choose another with --port",
            file=sys.stderr,
        )
        return 2
    shown = f"[{host}]" if ":" in host else host
    print(
        f"Serving {model_uri} at http://{shown}:{server.effective_port}/ "
        f"(ready in {time.perf_counter() - started:.1f} s; Ctrl-C to stop)",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.run()  # returns on Ctrl-C, its threads stopped
    finally:
        server.close()
    return 0
