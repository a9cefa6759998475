"""The dashboard's HTTP server: Werkzeug's threaded server, bounded against slow and stalled clients.

Why Werkzeug's server, bounded here, and not gunicorn or waitress: flask-sock runs under gunicorn
only with its gthread worker, which gives a connection a thread once its first bytes arrive and
then blocks that thread reading the rest (gunicorn's docs ask for a buffering proxy in front
against slow clients), and a worker its arbiter kills on its timeout takes the in-process job
manager and stream hub with it; waitress cannot serve flask-sock at all. Bounding Werkzeug's
server keeps one process, the sockets as they are, and adds no dependency.

Each connection gets a thread, at most ``max_connections`` (app/config.py) at once; beyond that the accepting
thread answers a short 503 itself, so no thread is made. A connection serves one request (Werkzeug
always answers ``Connection: close``). Reading the request waits at most ``request_idle_timeout``
for each next bytes, and the request line, headers and body must all be in within
``request_timeout`` of connecting. A WebSocket, once upgraded, is read by simple-websocket's own
thread (after its selector says there is data), so neither limit cuts a live socket; its pings
find clients that vanished. Sends, of responses and WebSocket messages alike, give up when the
client takes nothing for ``request_idle_timeout``, so a client that stops reading cannot hold a
thread either.
"""
from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from typing import Any

from flask import Flask
from werkzeug.exceptions import RequestTimeout
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

log = logging.getLogger(__name__)

# Warn about refused connections at most this often (an attack would otherwise flood the log).
REFUSAL_LOG_SECONDS = 60.0


def make_http_server(host: str, port: int, app: Flask) -> BoundedWSGIServer:
    """The server for ``app``, bound to host:port (0 picks a free port), limits from its ServerConfig."""
    config = app.extensions["normlab"].config
    return BoundedWSGIServer(host, port, app, idle_timeout=config.request_idle_timeout,
                             request_timeout=config.request_timeout, max_connections=config.max_connections)


class BoundedWSGIServer(ThreadedWSGIServer):
    """A thread per connection up to ``max_connections``; each request read within the time limits."""

    def __init__(self, host: str, port: int, app: Flask, *, idle_timeout: float, request_timeout: float,
                 max_connections: int):
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        self._next_refusal_log = 0.0
        body = json.dumps({"error": f"the server is serving {max_connections} connections (its limit); "
                                    f"try again shortly"}).encode()
        self._busy = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
                      b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        super().__init__(host, port, app, handler=BoundedRequestHandler)

    def process_request(self, request: socket.socket, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: its slot is free again
            self._slots.release()
            raise

    def process_request_thread(self, request: socket.socket, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """Answer 503 from the accepting thread without waiting on the client, then close."""
        now = time.monotonic()
        if now >= self._next_refusal_log:
            self._next_refusal_log = now + REFUSAL_LOG_SECONDS
            log.warning("%d connections are open (the limit): answering new ones 503 for now", self.max_connections)
        try:
            request.setblocking(False)
            try:
                request.recv(65536)  # what already came: closing on unread bytes would reset the connection
            except BlockingIOError:
                pass
            request.send(self._busy)
        except OSError:
            pass
        self.shutdown_request(request)


class BoundedRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, reading the request within the server's time limits."""

    server: BoundedWSGIServer

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # socketserver puts it on the connection: sends wait that long at most
        super().setup()
        self.rfile.close()  # replaced by a reader that also keeps the deadline
        deadline = time.monotonic() + self.server.request_timeout
        self.rfile = io.BufferedReader(RequestReader(self.connection, self.server.idle_timeout, deadline))
        self.wfile = SocketWriter(self.connection)

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["werkzeug.socket"] = UpgradedSocket(self.connection)  # what a WebSocket takes over
        environ["wsgi.input"] = RequestBody(environ["wsgi.input"], self.server)
        return environ


class RequestReader(io.RawIOBase):
    """The request's bytes: each read waits at most ``idle`` seconds, and none goes past ``deadline``.

    A client that sent nothing at all by then (a browser's spare connection, say) reads as one
    that went away; one that stopped part-way raises TimeoutError, on which the handler closes
    the connection (``RequestBody`` turns it into a 408 while the app reads the body).
    """

    def __init__(self, sock: socket.socket, idle: float, deadline: float):
        self._sock = sock
        self._idle = idle
        self._deadline = deadline
        self._received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError("the request took longer than the server allows to arrive")
            self._sock.settimeout(min(self._idle, remaining))
            try:
                count = self._sock.recv_into(buffer)
            finally:
                self._sock.settimeout(self._idle)
        except TimeoutError:
            if self._received == 0:
                return 0
            raise
        self._received += count
        return count


class RequestBody(io.RawIOBase):
    """``wsgi.input``: a body that breaks the time limits ends its request with a 408 that says so.

    Werkzeug would report the TimeoutError as a client that sent a malformed request (400).
    """

    def __init__(self, stream: Any, server: BoundedWSGIServer):
        self._stream = stream
        self._server = server

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return self._stream.readinto(buffer)
        except TimeoutError:
            server = self._server
            raise RequestTimeout(f"the request did not arrive in time: the server waits {server.idle_timeout:g} s "
                                 f"at most for the next bytes and {server.request_timeout:g} s for the whole "
                                 f"request") from None


class SocketWriter(io.RawIOBase):
    """The response's way out: every byte is sent, and a client that takes none for the idle timeout is dropped."""

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return send_whole(self._sock, data)


class UpgradedSocket:
    """The connection as a WebSocket library sees it: it may stay quiet, and what it sends goes whole.

    Reads wait as long as it takes: a live socket is quiet by design, and its pings find clients
    that vanished. Sends go whole or fail: with a timeout on the socket, Python's ``send`` waits
    for room and then sends only what fits, and simple-websocket ignores the count, so a large
    message would go out in part and corrupt the stream.
    """

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def recv(self, size: int) -> bytes:
        while True:
            try:
                return self._sock.recv(size)
            except TimeoutError:
                continue

    def send(self, data: Any) -> int:
        return send_whole(self._sock, data)

    sendall = send

    def close(self) -> None:
        """Leave it open: the server closes the connection when the handler ends, which still writes to it."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def send_whole(sock: socket.socket, data: Any) -> int:
    """Send every byte of ``data``; TimeoutError when the client took none for the socket's timeout.

    Unlike ``sendall``, whose timeout bounds the whole call, a slow client that keeps reading is
    never cut off in the middle of a large response.
    """
    view = memoryview(data).cast("B")
    total = len(view)
    while view:
        view = view[sock.send(view):]
    return total
