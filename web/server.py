"""Start the web page on this computer: load the model, warm it up, serve until Ctrl-C.

Served by Werkzeug's threaded WSGI server (it comes with Flask, which comes with MLflow):
enough for the few people of one office on one machine, and it needs nothing else
installed. Request lines are not logged (:class:`QuietHandler`): nothing a user sends,
not even which page, reaches a log.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import time

from werkzeug.serving import WSGIRequestHandler, make_server

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


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without the access log (method, path and status per request)."""

    def log_request(self, code="-", size="-") -> None:
        pass


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
    from models.scoring.drafts import draft_rows
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
        server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
    except OSError as exc:
        print(
            f"error: cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "is another server using that port? choose another with --port",
            file=sys.stderr,
        )
        return 2
    shown = f"[{host}]" if ":" in host else host
    print(
        f"Serving {model_uri} at http://{shown}:{server.server_port}/ "
        f"(ready in {time.perf_counter() - started:.1f} s; Ctrl-C to stop)",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
