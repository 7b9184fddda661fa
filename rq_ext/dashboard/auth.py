"""Who may act: read-only unless ``DASHBOARD_TOKEN`` is set; then an action needs the token,
as ``Authorization: Bearer <token>`` (API clients) or a session from the login form plus the
session's CSRF token in ``X-CSRF-Token`` (the pages). Every action is logged, masked."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, jsonify, request, session

from wrappers.masking import mask_text

log = logging.getLogger("fusion.dashboard")


def token() -> str:
    return str(current_app.config.get("DASHBOARD_TOKEN") or "")


def token_matches(given: str) -> bool:
    expected = token()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def who() -> str | None:
    """Who is acting, or None when the request may not act."""
    if _bearer():
        return f"bearer token from {request.remote_addr}" if token_matches(_bearer()) else None
    if session.get("auth") and session.get("token_ok") == _session_mark():
        return f"session from {request.remote_addr}"
    return None


def _session_mark() -> str:
    # A session stays valid only for the token it logged in with (changing the token logs out).
    return hmac.new(token().encode(), b"dashboard-session", "sha256").hexdigest()[:16]


def log_in(given: str) -> bool:
    if not token_matches(given):
        log.warning("dashboard login refused from %s", request.remote_addr)
        return False
    session.clear()
    session.update(auth=True, token_ok=_session_mark())
    csrf_token()
    log.info("dashboard login from %s", request.remote_addr)
    return True


def _refusal() -> tuple[Any, int] | None:
    if not token():
        return jsonify(error="read-only: DASHBOARD_TOKEN is not set"), 403
    actor = who()
    if actor is None:
        return jsonify(error="log in or send Authorization: Bearer <DASHBOARD_TOKEN>"), 401
    if not _bearer() and not hmac.compare_digest(request.headers.get("X-CSRF-Token", ""), csrf_token()):
        return jsonify(error="CSRF token missing or wrong"), 403
    return None


def action(name: str) -> Callable[[Callable[..., int]], Callable[..., Any]]:
    """An action endpoint: checks the right to act, runs ``func`` (returning how many jobs it
    touched), logs who, what and how many, and answers ``{"action", "count"}``."""

    def decorate(func: Callable[..., int]) -> Callable[..., Any]:
        @wraps(func)
        def endpoint(*args: Any, **kwargs: Any) -> Any:
            refusal = _refusal()
            if refusal is not None:
                log.warning("dashboard %s refused from %s: %s", name, request.remote_addr, refusal[0].json["error"])
                return refusal
            body = request.get_json(silent=True) or {}
            count = func(body, *args, **kwargs)
            scope = (
                "filter " + mask_text(repr(body.get("filter")))
                if body.get("filter")
                else f"{len(body.get('jobs') or [])} selected"
            )
            log.info("dashboard %s by %s (%s): %d job(s)", name, who(), scope, count, extra={"event": "dashboard"})
            return jsonify(action=name, count=count)

        return endpoint

    return decorate
