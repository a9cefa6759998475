"""Who may talk to the dashboard: Host and Origin checks, an optional token, and security headers.

* Host: only names this server answers to (DNS rebinding makes a foreign name resolve to us).
* Origin: a state-changing request or a WebSocket handshake from another site's page is refused
  (CSRF, cross-site WebSocket hijacking); browsers always send Origin on those.
* Token: required on every API call, page and socket when the server listens beyond loopback.
  ``?token=…`` on any page sets an HttpOnly, SameSite=Strict cookie, as Jupyter does.
"""
from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import Flask, abort, jsonify, make_response, redirect, request

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "normlab_token"

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",  # Plotly sets inline styles on its own elements
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def host_name(host: str) -> str:
    """``example.org:5000`` → ``example.org``; ``[::1]:5000`` → ``::1``."""
    return (urlsplit(f"//{host}").hostname or "").lower()


def init_security(app: Flask) -> None:
    """Install the checks and headers on ``app`` (settings: ALLOWED_HOSTS, TOKEN)."""
    allowed = {h.lower() for h in (*LOOPBACK_NAMES, *app.config.get("ALLOWED_HOSTS", ()))}
    token = app.config.get("TOKEN") or None

    @app.before_request
    def check_request():
        if host_name(request.host) not in allowed:
            return refuse(403, f"host {request.host[:100]!r} is not one this server answers to; "
                               f"open it as http://127.0.0.1:PORT/ (or add the name with --allow-host)")
        origin = request.headers.get("Origin")
        if origin is not None and (request.method not in SAFE_METHODS or is_websocket()):
            if not same_origin(origin):
                return refuse(403, "requests from another site's page are refused (cross-site request)")
        if token is not None:
            return check_token(token)
        return None

    @app.after_request
    def add_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def is_websocket() -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def same_origin(origin: str) -> bool:
    """Whether the Origin header names this very server (host and port)."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https"):
        return False
    try:
        origin_port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    here = urlsplit(f"//{request.host}")
    here_port = here.port or int(request.environ.get("SERVER_PORT") or 80)
    return (parts.hostname or "").lower() == (here.hostname or "").lower() and origin_port == here_port


def check_token(token: str):
    given = request.args.get("token")
    if given is not None and request.method in SAFE_METHODS and not request.path.startswith("/api"):
        if not hmac.compare_digest(given.encode(), token.encode()):
            return refuse(403, "wrong token")
        response = make_response(redirect(request.path))
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        return response
    header = request.headers.get("Authorization", "")
    offered = header[7:] if header.startswith("Bearer ") else request.cookies.get(TOKEN_COOKIE, "")
    if not hmac.compare_digest(offered.encode(), token.encode()):
        return refuse(401, "this server needs its token: open the address it printed (with ?token=…) "
                           "or send 'Authorization: Bearer <token>'")
    return None


def refuse(status: int, message: str):
    if request.path.startswith("/api") or is_websocket():
        return jsonify({"error": message}), status
    abort(make_response(f"{message}\n", status, {"Content-Type": "text/plain; charset=utf-8"}))
