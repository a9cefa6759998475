"""Sockets end cleanly: malformed and oversize messages, the socket cap, and no thread left behind."""
import http.client
import json
import logging
import socket
import threading
import time

import pytest
from simple_websocket import Client, ConnectionClosed

from app import ws as ws_module

from .conftest import LiveServer, wait_for


def open_socket(server):
    ws = Client.connect(server.ws_url)
    ws.send(json.dumps({"type": "ping"}))  # a reply nudges the hello out (see test_ws)
    assert json.loads(ws.receive(timeout=5))["type"] == "hello"
    assert json.loads(ws.receive(timeout=5))["type"] == "pong"
    return ws


def closed_by_server(ws, timeout=5.0):
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.receive(timeout=0.2)
    except ConnectionClosed:
        return True
    return False


def test_malformed_message_gets_a_reason_and_the_socket_closes(live_server):
    lab = live_server.app.extensions["normlab"]
    ws = open_socket(live_server)
    ws.send("this is not json")
    error = json.loads(ws.receive(timeout=5))
    assert error["type"] == "error" and "not valid JSON" in error["error"]
    assert closed_by_server(ws)
    assert ws.close_reason == 1007
    wait_for(lambda: lab.open_sockets == 0, timeout=5, message="the handler to exit")


def test_oversize_message_closes_the_socket_and_the_handler_exits(live_server):
    lab = live_server.app.extensions["normlab"]
    ws = open_socket(live_server)
    ws.send(json.dumps({"type": "subscribe", "runs": {}, "padding": "x" * 100_000}))
    assert closed_by_server(ws)
    assert ws.close_reason == 1009
    wait_for(lambda: lab.open_sockets == 0, timeout=5, message="the handler to exit")


def test_socket_cap_refuses_the_next_handshake(make_app):
    server = LiveServer(make_app(MAX_SOCKETS=2))
    try:
        first, second = open_socket(server), open_socket(server)
        wait_for(lambda: server.app.extensions["normlab"].open_sockets == 2)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("GET", "/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                            "Sec-WebSocket-Key": "MDEyMzQ1Njc4OWFiY2RlZg==", "Sec-WebSocket-Version": "13"})
        response = conn.getresponse()
        assert response.status == 503 and b"the limit" in response.read()
        conn.close()
        first.close()
        second.close()
    finally:
        server.stop()


def test_thread_count_returns_to_baseline_after_100_sockets(live_server):
    lab = live_server.app.extensions["normlab"]
    open_socket(live_server).close()  # warm up the server's own threads
    wait_for(lambda: lab.open_sockets == 0)
    time.sleep(0.3)
    baseline = threading.active_count()
    for _ in range(10):
        sockets = [open_socket(live_server) for _ in range(10)]
        for ws in sockets:
            ws.close()
    wait_for(lambda: lab.open_sockets == 0, timeout=10, message="every handler to exit")
    wait_for(lambda: threading.active_count() <= baseline, timeout=10,
             message=f"threads back to {baseline} (now {threading.active_count()})")


def handshake(port, key="MDEyMzQ1Njc4OWFiY2RlZg=="):
    """A raw WebSocket upgrade request: (status, body, connection); a 101's connection is the open socket."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}
    if key:
        headers["Sec-WebSocket-Key"] = key
    conn.request("GET", "/ws", headers=headers)
    response = conn.getresponse()
    body = b"" if response.status == 101 else response.read()
    return response.status, body, conn


def test_socket_cap_is_exact_under_concurrent_handshakes(live_server):
    lab = live_server.app.extensions["normlab"]
    limit = lab.config.max_sockets
    barrier = threading.Barrier(100)
    results = []

    def connect():
        barrier.wait(timeout=20)
        results.append(handshake(live_server.port))

    threads = [threading.Thread(target=connect) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        statuses = sorted(status for status, _, _ in results)
        assert len(results) == 100 and statuses == [101] * limit + [503] * (100 - limit), statuses
        for status, body, _ in results:
            if status == 503:
                assert json.loads(body) == {"error": f"{limit} live connections are open (the limit); close some tabs"}
        assert lab.open_sockets == limit
    finally:
        for _, _, conn in results:
            conn.close()  # the clients vanish without a closing handshake
    wait_for(lambda: lab.open_sockets == 0, timeout=10, message="every place to be given back")
    open_socket(live_server).close()


def test_socket_place_comes_back_when_the_handshake_or_handler_fails(make_app, monkeypatch):
    server = LiveServer(make_app(MAX_SOCKETS=2))
    lab = server.app.extensions["normlab"]
    try:
        for _ in range(3):  # more failures than places: each must give its place back
            status, _, conn = handshake(server.port, key=None)
            conn.close()
            assert status != 101
        wait_for(lambda: lab.open_sockets == 0, timeout=5, message="failed handshakes to give their places back")

        def broken(self):
            raise RuntimeError("a handler that fails")
        monkeypatch.setattr(ws_module.StreamClient, "serve", broken)
        for _ in range(3):  # a failed handler's place comes back once its request ends (not at once)
            status, _, conn = handshake(server.port)
            assert status == 101
            conn.close()
            wait_for(lambda: lab.open_sockets == 0, timeout=5, message="the failed handler to give its place back")
        monkeypatch.undo()
        first, second = open_socket(server), open_socket(server)
        assert handshake(server.port)[0] == 503
        first.close()
        second.close()
    finally:
        server.stop()


def raw_handshake(server, headers: bytes):
    """Send a raw GET /ws with these header lines; the status and the headers and body that came back."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(b"GET /ws HTTP/1.1\r\n" + headers + b"\r\n")
        reply = conn.makefile("rb")
        status = int(reply.readline().split()[1])
        head = {}
        for line in iter(reply.readline, b"\r\n"):
            name, _, value = line.decode("latin-1").partition(":")
            head[name.strip().lower()] = value.strip()
        body = reply.read(int(head.get("content-length", 0))) if status != 101 else b""
    return status, head, body


HOST = b"Host: 127.0.0.1\r\n"
UPGRADE = b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
KEY = b"Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\n"
V13 = b"Sec-WebSocket-Version: 13\r\n"


@pytest.mark.parametrize("headers, status, says", [
    (HOST + UPGRADE + KEY + b"Sec-WebSocket-Version: 8\r\n", 426, "version 13"),
    (HOST + UPGRADE + KEY, 400, "Sec-WebSocket-Version"),
    (HOST + UPGRADE + V13, 400, "Sec-WebSocket-Key"),
    (HOST + UPGRADE + b"Sec-WebSocket-Key: abc\r\n" + V13, 400, "Sec-WebSocket-Key"),
    (HOST + b"Connection: Upgrade\r\n" + KEY + V13, 400, "Upgrade: websocket"),
    (HOST + UPGRADE + KEY + V13 + b"X-Note: a\x00b\r\n", 400, "X-Note"),
    (UPGRADE + KEY + V13, 400, "Host"),
])
def test_a_malformed_handshake_is_refused_with_a_json_reason_and_no_traceback(live_server, caplog, headers, status,
                                                                               says):
    got, head, body = raw_handshake(live_server, headers)
    assert got == status and head["content-type"] == "application/json"
    assert says in json.loads(body)["error"]
    assert head["sec-websocket-version"] == "13"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert raw_handshake(live_server, HOST + UPGRADE + KEY + V13)[0] == 101  # a good one still works


def test_a_failure_in_the_socket_loop_closes_it_with_1011_not_an_http_500(live_server, monkeypatch, caplog):
    lab = live_server.app.extensions["normlab"]
    ws = open_socket(live_server)

    def broken(version):
        raise RuntimeError("hub bug")

    monkeypatch.setattr(lab.hub, "notices_after", broken)
    assert closed_by_server(ws)
    assert ws.close_reason == 1011  # a raw "HTTP/1.1 500" in the stream showed as a protocol error (1002)
    assert any(r.exc_info and "hub bug" in str(r.exc_info[1]) for r in caplog.records)
    wait_for(lambda: lab.open_sockets == 0, timeout=5, message="the handler to exit")
