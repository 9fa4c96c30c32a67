"""The web page: draft, batch and model pages over one loaded model (Flask).

Privacy, because case summaries are medical records:

- uploads are read into memory (:class:`InMemoryRequest`; Werkzeug would otherwise spool
  a file over 500 KB to a temporary file) and requests are capped in size;
- nothing submitted is logged: the server logs no request lines (:mod:`web.server`), and
  an unexpected error is logged by its type only, never its message or the form;
- nothing is kept: results are rendered into the response and dropped; responses carry
  ``Cache-Control: no-store`` so the browser does not keep them either;
- no external request: every script, stylesheet and image is served by this app, and the
  Content-Security-Policy forbids loading anything from elsewhere.

Against other sites and hostile files: a request that could change state must come from
this page (:func:`foreign_origin`, checked before every request); uploads are parsed by
limited worker processes (:mod:`web.inputs`), never in this process; no field of a draft
is longer than a case summary may be, and an overlong one is never echoed back.

Scoring goes through :func:`models.scoring.score.score_rows`, as ``predict.py`` does.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from pathlib import Path

from flask import Flask, Response, abort, render_template, request
from flask.wrappers import Request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError

from data.drafts.rows import InputError
from data.letters.errors import LetterError
from models.scoring.output import json_payload, write_csv
from models.scoring.score import score_rows
from web import present
from web.inputs import (
    Draft,
    batch_upload_rows,
    draft_from_file,
    draft_from_form,
    draft_rows_of,
    limit_draft,
)

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
#: Largest request accepted (a batch of letters, or a CSV); larger is refused with a 413.
MAX_UPLOAD_BYTES = 32 * 2**20
#: Largest text field (a case summary is a few KB; the CLI has no limit, the page has one)
MAX_FIELD_BYTES = 2 * 2**20
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"]
#: How long a draft waits for the model's details (read in the background at start-up)
#: before it is answered without the evaluation line.
INFO_WAIT_SECONDS = 5.0
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with the
    # page's own forms, and the origin check below could not tell them from another site's
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
NOT_ADVICE = "This is a statistical estimate from past IMR decisions, not legal or medical advice."
#: Methods that change nothing; every other request must come from the page itself.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def foreign_origin(method: str, headers, host_url: str) -> str | None:
    """Why a request must be refused as sent by another site, or None.

    A request that could change state (any method but GET, HEAD, OPTIONS) must come from
    this page: its ``Origin`` header, which browsers send with every such request, must be
    the page's own (scheme, host and port of ``host_url``); ``Origin: null`` (a sandboxed
    frame, a ``data:`` page, a file on disk) is refused too. Without ``Origin``, the
    browser's ``Sec-Fetch-Site`` must not say another site sent it. A request with neither
    header comes from no browser (curl, a script on this computer), so no other site can
    have made it.
    """
    if method in SAFE_METHODS:
        return None
    origin = headers.get("Origin")
    if origin is not None:
        if origin.rstrip("/").lower() == host_url.rstrip("/").lower():
            return None
        if origin == "null":
            return "it was sent from a page without an address of its own (a file, or a frame)"
        return f"it was sent from {origin!r}, not from this page"
    site = headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return f"the browser says another site ({site}) sent it"
    return None


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n / 2**10:g} KiB"


class InMemoryRequest(Request):
    """A request whose uploaded files stay in memory, never in a temporary file."""

    def _get_file_stream(
        self, total_content_length, content_type, filename=None, content_length=None
    ):
        return io.BytesIO()


class Site:
    """What every route shares: the loaded model, its details, and how a page is made."""

    def __init__(self, app: Flask, loaded, info):
        self.app, self.loaded, self.info = app, loaded, info

    def model(self):
        """The model's details, waiting for them at most :data:`INFO_WAIT_SECONDS`."""
        return self.info.get(timeout=INFO_WAIT_SECONDS)

    def page(self, template: str, status: int = 200, **context):
        model = self.model()
        return (
            render_template(
                template, model=model, synthetic=bool(model and model.synthetic), **context
            ),
            status,
        )

    def draft_page(self, draft: Draft, *, status: int = 200, errors=(), notes=(), results=None):
        context = {"draft": draft, "errors": list(errors), "notes": list(notes)}
        if results is not None:
            summary = draft.scored_summary()
            added = {f["added_text"] for f in draft.added_facts}
            model = self.model()
            context.update(
                services=present.service_views(results, added),
                segments=present.highlighted_summary(
                    summary, results, len(draft.case_summary.strip())
                ),
                evaluation=present.evaluation_lines(model),
                # for the printed result: when, and with which model
                scored_at=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
                model_label=present.model_label(model, self.loaded.uri),
            )
        return self.page("draft.html", status, **context)

    def scored_draft(self):
        """(draft, rows, results, None) of the submitted draft form; (draft, None, None, the
        form with what to fix) when it cannot be scored."""
        # a draft is text: the form-field limit bounds the whole request (Werkzeug applies
        # the field limit to multipart forms only)
        request.max_content_length = self.app.config["MAX_FORM_MEMORY_SIZE"]
        draft = draft_from_form(request.form)
        too_long = limit_draft(draft)  # empties what is too long: it is never echoed back
        if too_long:
            return draft, None, None, self.draft_page(draft, status=422, errors=too_long)
        try:
            rows = draft_rows_of(draft)
        except InputError as exc:
            return draft, None, None, self.draft_page(draft, status=422, errors=[exc.plain])
        results = score_rows(self.loaded, rows, with_what_if=True, detailed=True)
        return draft, rows, results, None


def create_app(loaded, info=None, *, trusted_hosts: list[str] | None = LOOPBACK_HOSTS) -> Flask:
    """The app serving ``loaded`` (a :class:`models.store.loading.LoadedModel`).

    ``info``: the model's details, a :class:`web.model_info.ModelInfo` or a
    :class:`web.model_info.LiveInfo` being read; ``None`` reads them now.
    ``trusted_hosts``: the Host headers answered (loopback names by default, against DNS
    rebinding); ``None`` answers any.
    """
    from web.model_info import ModelInfo, ReadyInfo, read_model_info

    if info is None:
        info = read_model_info(loaded.uri, loaded.run_id, loaded.baseline)
    if isinstance(info, ModelInfo):
        info = ReadyInfo(info)

    app = Flask(
        __name__, template_folder=str(HERE / "templates"), static_folder=str(HERE / "static")
    )
    app.request_class = InMemoryRequest
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_FIELD_BYTES,
        TRUSTED_HOSTS=trusted_hosts,
        SEND_FILE_MAX_AGE_DEFAULT=0,
    )
    app.jinja_env.filters.update(size=_size, fact_value=present.fact_value)
    app.jinja_env.globals.update(
        not_advice=NOT_ADVICE, model_uri=loaded.uri, csv_columns=present.csv_columns()
    )
    site = Site(app, loaded, info)
    for register in (_guard, _draft_routes, _batch_routes, _model_routes, _error_pages):
        register(app, site)
    return app


def _guard(app: Flask, site: Site) -> None:
    """Forms only from the page itself; the security headers on every answer."""

    @app.before_request
    def same_origin_only():
        # against cross-site request forgery: another web page open in the same browser
        # could otherwise post a draft or a file here (the host check stops DNS rebinding)
        why = foreign_origin(request.method, request.headers, request.host_url)
        if why is not None:
            message = (
                f"403 Forbidden: this page takes forms only from itself, and {why}. Open the "
                f"page at {request.host_url} and send the form from there."
            )
            return site.page("error.html", 403, message=message)
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response


def _draft_routes(app: Flask, site: Site) -> None:
    """The draft page, its result to keep (CSV, JSON) and the upload that fills it."""

    @app.get("/")
    def draft_form():
        return site.draft_page(Draft())

    @app.post("/")
    def draft_scored():
        draft, _, results, refused = site.scored_draft()
        return refused or site.draft_page(draft, results=results)

    @app.post("/result.<any(csv, json):kind>")
    def result_download(kind: str):
        """One draft's result to keep: what ``predict.py --json`` prints for it, or the
        scored CSV ``predict.py --csv`` writes (with its reasons), as a download."""
        _, rows, results, refused = site.scored_draft()
        if refused:
            return refused
        name = f"imr-estimate-{dt.date.today().isoformat()}.{kind}"
        if kind == "json":
            body, mimetype = json_payload(site.loaded, results, []) + "\n", "application/json"
        else:
            buffer = io.StringIO()
            write_csv(buffer, rows, results, [])
            body, mimetype = buffer.getvalue(), "text/csv"
        return Response(
            body,
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.post("/letter")
    def letter_upload():
        upload = request.files.get("letter")
        if upload is None or not upload.filename:
            return site.draft_page(
                Draft(),
                status=422,
                errors=[
                    "choose a file to fill the form: a draft (plain text, PDF or Word .docx) "
                    "or a determination letter"
                ],
            )
        name, data = upload.filename, upload.read()
        try:
            draft, notes = draft_from_file(name, data)
        except LetterError as exc:
            return site.draft_page(Draft(), status=422, errors=[f"{name}: {exc.reason}"])
        return site.draft_page(draft, notes=notes)


def _batch_routes(app: Flask, site: Site) -> None:
    """The batch page: a CSV of cases or several letters in, the scored CSV out."""

    @app.get("/batch")
    def batch_form():
        return site.page("batch.html")

    @app.post("/batch")
    def batch_scored():
        files = [(f.filename or "", f.read()) for f in request.files.getlist("files")]
        try:
            rows, unscorable = batch_upload_rows(files)
        except InputError as exc:
            return site.page("batch.html", 422, errors=[str(exc)])
        if not rows:
            errors = [
                f"{b.get('source_file') or 'row ' + str(b.get('row'))}: {b['error']}"
                for b in unscorable
            ]
            return site.page("batch.html", 422, errors=["nothing to score", *errors])
        results = score_rows(site.loaded, rows, with_what_if=False, detailed=True)
        buffer = io.StringIO()
        write_csv(buffer, rows, results, unscorable)
        return Response(
            buffer.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="scored.csv"'},
        )


def _model_routes(app: Flask, site: Site) -> None:
    """The model page and its charts."""
    importance_bars = present.importance_bars(site.loaded.pipeline)

    @app.get("/model")
    def model_page():
        model = site.info.get()
        return site.page(
            "model.html",
            evaluation=present.evaluation_lines(model),
            plain_summary=present.model_summary(model),
            importance_bars=importance_bars,
        )

    @app.get("/model/<name>")
    def model_image(name: str):
        model = site.info.get()
        if model is None or name not in model.images:
            abort(404)
        return Response(model.images[name], mimetype="image/png")


def _error_pages(app: Flask, site: Site) -> None:
    """Errors in a person's words; an unexpected one logged by its type only."""

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):
        message = (
            f"what was sent is larger than this page accepts ({_size(request.max_content_length)}"
            f" in all, {_size(request.max_form_memory_size)} for a text field); send fewer or "
            "smaller files, or a shorter text"
        )
        target = "batch.html" if request.path.startswith("/batch") else "draft.html"
        extra = {} if target == "batch.html" else {"draft": Draft(), "notes": []}
        return site.page(target, 413, errors=[message], **extra)

    @app.errorhandler(SecurityError)
    def untrusted_host(exc):
        # no page links can be built for a host we do not answer: plain text
        return Response(
            "400 Bad Request: this page answers only at http://127.0.0.1 or http://localhost\n",
            400,
            mimetype="text/plain",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return site.page("error.html", exc.code or 500, message=f"{exc.code} {exc.name}")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # the type only: a message could quote the summary, which must never reach a log
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.path)
        return site.page(
            "error.html",
            500,
            message="500 Internal error: the input could not be scored; nothing was kept",
        )
