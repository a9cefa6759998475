"""Who may talk to the dashboard: Host and Origin checks, an optional token, and security headers.

* Host: only names this server answers to (DNS rebinding makes a foreign name resolve to us).
* Origin: a state-changing request or a WebSocket handshake from another site's page is refused
  (CSRF, cross-site WebSocket hijacking); browsers always send Origin on those.
* Token: required on every API call, page and socket when the server listens beyond loopback.
  ``?token=…`` on any page sets an HttpOnly, SameSite=Strict cookie, as Jupyter does, and redirects
  to the same page and query without the token (never to another server: see ``local_location``).
  ``Authorization: Bearer …`` works too (the scheme in any case, RFC 7235).
"""
from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import quote, urlencode, urlsplit

from flask import Flask, abort, jsonify, make_response, redirect, request

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Path characters a Location keeps as they are (RFC 3986 pchar and "/"); all else is percent-encoded.
PATH_CHARACTERS = "/-._~!$&'()*+,;=:@"
QUERY_CHARACTERS = "/,:@!$'()*;"

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


def init_security(app: Flask, allowed_hosts: tuple[str, ...], token: str | None) -> None:
    """Install the checks and headers on ``app``: Host among loopback and ``allowed_hosts``, ``token`` when set."""
    allowed = {h.lower() for h in (*LOOPBACK_NAMES, *allowed_hosts)}

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
    """Refuse a request that does not carry ``token`` (query on a page, Bearer header, or cookie)."""
    given = request.args.get("token")
    if given is not None and request.method in SAFE_METHODS and not request.path.startswith("/api"):
        if not hmac.compare_digest(given.encode(), token.encode()):
            return refuse(403, "wrong token")
        rest = [(name, value) for name, value in request.args.items(multi=True) if name != "token"]
        response = make_response(redirect(local_location(request.script_root + request.path, rest)))
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        return response
    offered = bearer_token(request.headers.get("Authorization", "")) or request.cookies.get(TOKEN_COOKIE, "")
    if not hmac.compare_digest(offered.encode(), token.encode()):
        return refuse(401, "this server needs its token: open the address it printed (with ?token=…) "
                           "or send 'Authorization: Bearer <token>'")
    return None


def bearer_token(header: str) -> str | None:
    """The credentials of an ``Authorization: Bearer …`` header (the scheme is case-insensitive, RFC 7235)."""
    scheme, _, credentials = header.strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def local_location(path: str, query: Iterable[tuple[str, str]] = ()) -> str:
    """A Location header that every browser resolves to ``path`` on this same server, with ``query``.

    Anything but plain path characters is percent-encoded (controls, spaces, ``\\``: browsers drop
    tabs and newlines and read ``\\`` as ``/``), and leading slashes collapse into one, since
    ``//host/…`` names another server: redirecting to the request's own path is then never an open
    redirect.
    """
    location = "/" + quote(path, safe=PATH_CHARACTERS).lstrip("/")
    encoded = urlencode(list(query), safe=QUERY_CHARACTERS, quote_via=quote)
    return f"{location}?{encoded}" if encoded else location


def refuse(status: int, message: str):
    if request.path.startswith("/api") or is_websocket():
        return jsonify({"error": message}), status
    abort(make_response(f"{message}\n", status, {"Content-Type": "text/plain; charset=utf-8"}))
