"""The Flask application: HTML pages (a shell each; small vanilla JS fills them from the JSON
API and refreshes every few seconds) and the JSON API beside them."""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, redirect, render_template, request, session, url_for
from redis import Redis

from config import Settings
from rq_ext import breakers, orphans, timeline
from rq_ext.connection import serializer_from_settings
from rq_ext.dashboard import auth, failed, outbox, reads

log = logging.getLogger("fusion.dashboard")
HERE = Path(__file__).resolve().parent
PAGES = {
    "overview": "Overview",
    "delayed": "Delayed & retry",
    "inflight": "In flight",
    "failed": "Failed",
    "workers": "Workers",
    "outbox": "Outbox",
    "charts": "Charts",
}
#: Seconds between two searches for orphaned jobs (a SCAN of every job key).
ORPHAN_INTERVAL = 60.0
#: The app's :class:`State`, in ``app.extensions``.
STATE = "fusion_dashboard"


class State:
    """What the views share: the connection, the serializer, the settings, a cache."""

    def __init__(self, connection: Redis, settings: Settings) -> None:
        self.connection = connection
        self.settings = settings
        self.serializer = serializer_from_settings(settings)
        self.worker_max_age = float(settings.WORKER_TTL + 60)
        self._orphans: list[str] = []
        self._searcher: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def orphans(self) -> list[str]:
        """The orphaned jobs found by the last search. The search (a SCAN of every job key)
        runs on a background thread every ``ORPHAN_INTERVAL`` seconds, never in a request."""
        with self._lock:
            if self._searcher is None and not self._stopped.is_set():
                self._searcher = threading.Thread(target=self._search_forever, name="orphan-search", daemon=True)
                self._searcher.start()
            return list(self._orphans)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background search (after the search under way, if any)."""
        self._stopped.set()
        with self._lock:
            searcher = self._searcher
        if searcher is not None and searcher is not threading.current_thread():
            searcher.join(timeout)

    def _search_forever(self) -> None:
        while not self._stopped.is_set():
            self._search()
            self._stopped.wait(ORPHAN_INTERVAL)

    def _search(self) -> None:
        try:
            found = orphans.find_orphans(self.connection, self.settings.DOCTOR_ORPHAN_AGE)
        except Exception as exc:  # Redis away: keep the last answer, try again later
            if not self._stopped.is_set():
                log.warning("orphan search failed: %s", type(exc).__name__)
            return
        with self._lock:
            self._orphans = [o.describe() for o in found]


def _page_number() -> int:
    try:
        return max(0, int(request.args.get("page", "0")))
    except ValueError:
        return 0


def stop(app: Flask) -> None:
    """Stop the app's background thread (the orphan search): its owner is done with it."""
    app.extensions[STATE].stop()


def create_app(connection: Redis, settings: Settings) -> Flask:
    app = Flask("fusion_dashboard", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),
        DASHBOARD_TOKEN=settings.DASHBOARD_TOKEN,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        JSON_SORT_KEYS=False,
    )
    state = State(connection, settings)
    app.extensions[STATE] = state
    _pages(app)
    _login(app)
    _api(app, state)
    _actions(app, state)

    @app.after_request
    def headers(response: Any) -> Any:
        response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    return app


def _render(page: str, arg: str = "") -> str:
    return render_template(
        "page.html",
        page=page,
        arg=arg,
        pages=PAGES,
        title=PAGES.get(page, f"Queue {arg}"),
        can_act=bool(auth.token()) and auth.who() is not None,
        needs_login=bool(auth.token()) and auth.who() is None,
        csrf=auth.csrf_token(),
    )


def _pages(app: Flask) -> None:
    @app.get("/")
    def overview() -> str:
        return _render("overview")

    @app.get("/page/<page>")
    def page(page: str) -> str:
        if page not in PAGES:
            abort(404)
        return _render(page)

    @app.get("/queue/<name>")
    def queue(name: str) -> str:
        return _render("queue", name)


def _login(app: Flask) -> None:
    @app.post("/login")
    def login() -> Any:
        if not hmac.compare_digest(request.form.get("csrf", ""), auth.csrf_token()):
            return jsonify(error="CSRF token missing or wrong"), 403
        if not auth.log_in(request.form.get("token", "")):
            return _render("login_failed"), 401
        target = request.form.get("next") or ""
        safe = target.startswith("/") and not target.startswith("//") and "\\" not in target
        return redirect(target if safe else url_for("overview"))

    @app.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect(url_for("overview"))


def _api(app: Flask, state: State) -> None:
    conn = state.connection

    @app.get("/api/queues")
    def api_queues() -> Any:
        return jsonify(reads.queue_rows(conn, state.worker_max_age))

    @app.get("/api/overview")
    def api_overview() -> Any:
        rows = reads.queue_rows(conn, state.worker_max_age)
        warnings = reads.warnings(conn, rows, state.orphans(), state.worker_max_age)
        totals = reads.totals(conn)
        found = breakers.read_all(conn)
        warnings += [f"circuit breaker {breakers.describe(v).strip()}" for v in breakers.not_closed(found)]
        chart = timeline.series(conn, "queue", 60, 5)
        return jsonify(queues=rows, warnings=warnings, totals=totals, chart=chart, breakers=_rows(found))

    @app.get("/api/breakers")
    def api_breakers() -> Any:
        """Every breaker that tripped in the last day, most recently changed first."""
        return jsonify(breakers=_rows(breakers.read_all(conn)))

    @app.get("/api/queue/<name>")
    def api_queue(name: str) -> Any:
        return jsonify(reads.waiting_jobs(conn, name, state.serializer, _page_number()))

    @app.get("/api/delayed")
    def api_delayed() -> Any:
        return jsonify(reads.delayed(conn, state.serializer, _page_number()))

    @app.get("/api/awaiting")
    def api_awaiting() -> Any:
        return jsonify(reads.awaiting_retry(conn, state.serializer, _page_number()))

    @app.get("/api/inflight")
    def api_inflight() -> Any:
        return jsonify(reads.in_flight(conn, state.serializer))

    @app.get("/api/failed")
    def api_failed() -> Any:
        filt = failed.FailedFilter.from_mapping(request.args)
        return jsonify(failed.listing(conn, filt, state.serializer, _page_number()))

    @app.get("/api/workers")
    def api_workers() -> Any:
        return jsonify(reads.workers_page(conn, state.worker_max_age))

    @app.get("/api/outbox")
    def api_outbox() -> Any:
        return jsonify(outbox.snapshot(conn))

    @app.get("/api/charts")
    def api_charts() -> Any:
        """``?range=1h|24h`` and ``by=queue|channel|gateway`` (several: ``by=queue,channel``,
        read from one pass over the buckets)."""
        dims = [d for d in request.args.get("by", "queue").split(",") if d]
        if not dims or any(d not in timeline.DIMENSIONS[:3] for d in dims):
            return jsonify(error="by must be queue, channel or gateway"), 400
        minutes, step = (1440, 15) if request.args.get("range") == "24h" else (60, 1)
        buckets = timeline.read_buckets(conn, minutes)
        if len(dims) == 1:
            return jsonify(timeline.series_of(buckets, dims[0], step))
        return jsonify({d: timeline.series_of(buckets, d, step) for d in dims})


def _rows(found: list[breakers.BreakerView]) -> list[dict[str, Any]]:
    return [v.as_dict() for v in found]


def _actions(app: Flask, state: State) -> None:
    @app.post("/api/failed/requeue")
    @auth.action("requeue")
    def api_requeue(body: dict[str, Any]) -> int:
        return failed.requeue(state.connection, body, state.serializer)

    @app.post("/api/failed/delete")
    @auth.action("delete")
    def api_delete(body: dict[str, Any]) -> int:
        return failed.delete(state.connection, body, state.serializer)


def serve(connection: Redis, settings: Settings, host: str, port: int) -> None:
    """Serve the dashboard with Werkzeug's threaded server (one process, loopback by default)."""
    from werkzeug.serving import run_simple

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per refresh
    if not host.startswith("127.") and host not in ("localhost", "::1") and not settings.DASHBOARD_TOKEN:
        log.warning("dashboard bound to %s: reachable from other hosts (read-only: no token set)", host)
    run_simple(host, port, create_app(connection, settings), threaded=True, use_reloader=False)
