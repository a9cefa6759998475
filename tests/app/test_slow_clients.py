"""Slow and stalled clients cannot hold the server: time limits on requests, a cap on connections.

Most tests set short limits (config) to stay fast; the 200-connection one runs with the defaults.
"""
import json
import select
import socket
import threading
import time

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Message, Request

from app.http_server import send_whole

from .conftest import LiveServer, wait_for
from .test_ws import Viewer, get, post

IDLE, DEADLINE = 0.3, 1.0
LIMITS = {"REQUEST_IDLE_TIMEOUT": IDLE, "REQUEST_TIMEOUT": DEADLINE}
# Stages a request can stall at: nothing sent, half the request line, half the headers, half the body.
HALF_SENT = [b"", b"GET /api/ru", b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAcc",
             b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             b"Content-Length: 40\r\n\r\n{\"dataset\": "]
SMALL_RUN = {"dataset": "synthetic", "train_size": 300, "batch_size": 50, "epochs": 2, "hidden": 8}
# 20 000 batch events: a catch-up frame of about a megabyte.
BIG_RUN = {"dataset": "synthetic", "train_size": 4000, "batch_size": 1, "epochs": 5, "hidden": 8}


@pytest.fixture
def server(make_app):
    server = LiveServer(make_app(**LIMITS))
    yield server
    server.stop()


def connect(server, sent=b"", rcvbuf=None):
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(sent)
    return sock


def read_until_closed(sock, timeout=10.0):
    """Everything the server sends before it closes the connection, and how long that took."""
    started = time.monotonic()
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:  # closed on bytes it did not read: what came before still counts
        pass
    return data, time.monotonic() - started


def dribble(sock, data, every=0.05):
    """Send ``data`` a byte at a time until the server answers or closes: (its answer, seconds taken)."""
    started = time.monotonic()
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break
        time.sleep(every)
        if select.select([sock], [], [], 0)[0]:
            break
    answer, _ = read_until_closed(sock)
    return answer, time.monotonic() - started


@pytest.mark.parametrize("sent", HALF_SENT, ids=["nothing", "half-line", "half-headers", "half-body"])
def test_a_stalled_or_half_sent_request_is_closed_after_the_idle_timeout(server, sent):
    sock = connect(server, sent)
    answer, took = read_until_closed(sock)
    sock.close()
    assert IDLE * 0.9 <= took < DEADLINE + 2
    if b"Content-Length" in sent:  # the app was reading the body: it says why the request ended
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive in time" in answer
    else:
        assert answer == b""


def test_headers_dribbled_within_the_idle_timeout_are_cut_at_the_deadline(server):
    sock = connect(server, b"GET /api/runs HTTP/1.1\r\nX-Endless: ")
    answer, took = dribble(sock, b"a" * 200)  # a byte every 50 ms, well within the idle timeout: ~10 s
    sock.close()
    assert answer == b"" and DEADLINE * 0.9 <= took < DEADLINE + 2


def test_a_dribbled_body_is_cut_at_the_deadline_with_a_408(server):
    body = json.dumps(SMALL_RUN).encode()
    sock = connect(server, b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n" % len(body))
    answer, took = dribble(sock, body)  # ~5 s at this pace
    sock.close()
    assert DEADLINE * 0.9 <= took < DEADLINE + 2
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 408")
    error = json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"]
    assert f"{IDLE:g} s" in error and f"{DEADLINE:g} s" in error
    assert get(server, "/api/runs") == []  # no run was made from the part that came


def test_the_dashboard_answers_while_200_slow_clients_hold_connections(live_server):
    """With the default limits: 200 connections stalled at every stage of a request."""
    baseline = threading.active_count()
    stalled = [connect(live_server, HALF_SENT[i % len(HALF_SENT)]) for i in range(200)]
    try:
        wait_for(lambda: threading.active_count() >= baseline + 200, timeout=10, message="a server thread on each")
        for _ in range(3):
            started = time.monotonic()
            assert get(live_server, "/api/runs") == []
            assert time.monotonic() - started < 1.0
        assert select.select(stalled, [], [], 0)[0] == []  # all still open, none answered
    finally:
        for sock in stalled:
            sock.close()


def test_connections_over_the_cap_get_a_503_from_the_accepting_thread_and_make_no_thread(make_app):
    cap = 20
    server = LiveServer(make_app(MAX_CONNECTIONS=cap, REQUEST_IDLE_TIMEOUT=30, REQUEST_TIMEOUT=60))
    stalled, extra = [], []
    try:
        get(server, "/api/runs")  # the server's own threads are up
        time.sleep(0.2)  # and the request's thread has ended
        baseline = threading.active_count()
        stalled = [connect(server, HALF_SENT[i % 3]) for i in range(cap)]
        wait_for(lambda: threading.active_count() >= baseline + cap, timeout=10, message="a thread on each")
        extra = [connect(server, HALF_SENT[i % 3]) for i in range(30)]
        for sock in extra:
            answer, _ = read_until_closed(sock)
            assert answer.startswith(b"HTTP/1.1 503") and b"(its limit)" in answer
        assert threading.active_count() <= baseline + cap + 2
        for sock in stalled:
            sock.close()  # their threads end and their places come free
        wait_for(lambda: threading.active_count() <= baseline, timeout=10, message="the threads to end")
        assert get(server, "/api/runs") == []
    finally:
        for sock in stalled + extra:
            sock.close()
        server.stop()


@pytest.mark.parametrize("ping_interval", [25, None])
def test_a_live_websocket_quiet_beyond_both_time_limits_still_receives_frames(make_app, ping_interval):
    server = LiveServer(make_app(**LIMITS, WS_PING_INTERVAL=ping_interval))
    try:
        viewer = Viewer(server)
        viewer.wait_hello()
        time.sleep(DEADLINE * 2)  # nothing goes either way
        run = post(server, "/api/runs", SMALL_RUN)
        wait_for(lambda: viewer.next(0.5) and viewer.messages[-1]["type"] == "run", timeout=10,
                 message="the new run's notice")
        viewer.subscribe({run["id"]: -1})
        viewer.until_final(run["id"])
        assert viewer.seqs[run["id"]] == list(range(get(server, f"/api/runs/{run['id']}/metrics")["last_seq"] + 1))
        assert viewer.ws.connected
        viewer.close()
    finally:
        server.stop()


def test_a_large_frame_arrives_whole_and_a_websocket_client_that_stops_reading_is_let_go(make_app):
    # No pings: only the send timeout can let go of a client that stops reading (pings would find
    # it a ping interval later), and the socket's reader thread ends within the idle timeout.
    server = LiveServer(make_app(**LIMITS, WS_PING_INTERVAL=None))
    lab = server.app.extensions["normlab"]
    sock = None
    try:
        run = post(server, "/api/runs", BIG_RUN)
        wait_for(lambda: get(server, f"/api/runs/{run['id']}")["status"] == "completed", timeout=60, message="the run")
        viewer = Viewer(server)
        viewer.subscribe({run["id"]: -1})
        viewer.until_final(run["id"])
        assert viewer.seqs[run["id"]] == list(range(get(server, f"/api/runs/{run['id']}/metrics")["last_seq"] + 1))
        viewer.close()
        wait_for(lambda: lab.open_sockets == 0, timeout=10, message="the viewer's handler to end")

        baseline = threading.active_count()
        sock = connect(server, rcvbuf=16384)
        ws = WSConnection(ConnectionType.CLIENT)
        sock.sendall(ws.send(Request(host=f"127.0.0.1:{server.port}", target="/ws")))
        sock.settimeout(5)
        while not any(isinstance(event, AcceptConnection) for event in ws.events()):
            ws.receive_data(sock.recv(4096))
        wait_for(lambda: lab.open_sockets == 1, timeout=5, message="the socket's handler")
        for _ in range(12):  # ~12 MB of frames asked for, one at a time (a frame may go every 55 ms); none read
            sock.sendall(ws.send(Message(data=json.dumps({"type": "subscribe", "runs": {str(run["id"]): -1}}))))
            time.sleep(0.1)
        wait_for(lambda: lab.open_sockets == 0, timeout=15, message="the stalled socket's handler to give up")
        wait_for(lambda: threading.active_count() <= baseline, timeout=10, message="its threads to end")
    finally:
        if sock is not None:
            sock.close()
        server.stop()


def test_send_whole_waits_for_a_slow_reader_and_gives_up_on_a_stalled_one():
    sender, receiver = socket.socketpair()
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    sender.settimeout(IDLE)
    receiver.settimeout(5)
    data = bytes(range(256)) * 800  # 200 KiB, far more than the buffers hold
    got = bytearray()

    def read_slowly():  # 16 KiB every 50 ms: ~0.6 s in all, twice the timeout, never idle that long
        while len(got) < len(data):
            got.extend(receiver.recv(16384))
            time.sleep(0.05)

    reader = threading.Thread(target=read_slowly, daemon=True)
    reader.start()
    try:
        assert send_whole(sender, data) == len(data)
        reader.join(10)
        assert bytes(got) == data
        # a plain send on a socket with a timeout sends only what fits: why send_whole exists
        assert 0 < sender.send(data) < len(data)
        with pytest.raises(TimeoutError):  # nobody reads any more
            send_whole(sender, data)
    finally:
        sender.close()
        receiver.close()
