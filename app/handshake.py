"""The WebSocket handshake on ``/ws``, checked before flask-sock hands it to wsproto (RFC 6455 §4.2.1).

wsproto raises on a handshake it cannot accept (another protocol version, no key, no Host), which
Flask answers with a 500 and a traceback in the log, and it accepts a key that is not one at all.
Here each of those is a 400 with a JSON error like the rest of the API, and another protocol
version a 426 naming the one spoken here (RFC 6455 §4.4).
"""
from __future__ import annotations

import base64
import binascii
import re

from flask import Response, jsonify, request
from werkzeug.datastructures import Headers

SOCKET_PATH = "/ws"
VERSION = "13"
KEY_BYTES = 16  # the client's nonce, sent in base64
# RFC 7230 §3.2: a header's name is a token; its value visible characters, spaces and tabs. wsproto
# rebuilds the request from these headers and raises on some that break the rules (e.g. a NUL).
TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def check_handshake() -> Response | None:
    """A ``before_app_request`` hook: refuse a malformed handshake on /ws; leave every other request alone."""
    if request.path != SOCKET_PATH:
        return None
    problem = handshake_problem(request.headers)
    if problem is None:
        return None
    status, message = problem
    response = jsonify({"error": message})
    response.status_code = status
    response.headers["Sec-WebSocket-Version"] = VERSION  # the version a client should retry with
    return response


def handshake_problem(headers: Headers) -> tuple[int, str] | None:
    """The HTTP status and reason that refuse this handshake, or None when it may go ahead."""
    for name, value in headers.items():
        if not TOKEN.fullmatch(name) or not FIELD_VALUE.fullmatch(value):
            return 400, f"the header {name[:40]!r} is not valid HTTP (RFC 7230 §3.2)"
    connection = {token.strip().lower() for token in headers.get("Connection", "").split(",")}
    if headers.get("Upgrade", "").strip().lower() != "websocket" or "upgrade" not in connection:
        return 400, ("this address is the dashboard's live stream and takes only a WebSocket handshake "
                     "(Upgrade: websocket, Connection: Upgrade)")
    version = headers.get("Sec-WebSocket-Version")
    if version is None:
        return 400, f"the handshake needs Sec-WebSocket-Version: {VERSION}"
    if version.strip() != VERSION:
        return 426, f"only WebSocket version {VERSION} is spoken here, got {version[:20]!r}"
    if not is_key(headers.get("Sec-WebSocket-Key")):
        return 400, f"Sec-WebSocket-Key must be {KEY_BYTES} bytes in base64 (24 characters)"
    if not headers.get("Host"):
        return 400, "the handshake needs a Host header"
    return None


def is_key(value: str | None) -> bool:
    if value is None:
        return False
    try:
        return len(base64.b64decode(value.strip().encode("ascii"), validate=True)) == KEY_BYTES
    except (UnicodeEncodeError, binascii.Error):
        return False
