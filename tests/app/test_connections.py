"""Each HTTP connection gets its own server thread: its SQLite connection must close with it.

The store once kept one connection per thread until shutdown, so every HTTP connection left two
file descriptors and a page cache behind; under ``ulimit -n 256`` every request failed after
about 120 of them, and a dashboard left open polls its way there alone.
"""
import http.client
import json
import os
import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from simple_websocket import Client

from .conftest import TINY, LiveServer, wait_finished, wait_for

ROOT = Path(__file__).resolve().parents[2]
CLIENT_THREADS = 4


def get_on_a_new_connection(port, path):
    """One request on a fresh TCP connection (as a browser polling through a proxy, or curl, does)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def hammer(port, path, requests):
    """``requests`` GETs from a few client threads; how many answers had each status."""
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        statuses = list(pool.map(lambda _: get_on_a_new_connection(port, path), range(requests)))
    return {status: statuses.count(status) for status in set(statuses)}


def open_descriptors():
    return len(os.listdir("/proc/self/fd"))


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def create_run(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/api/runs", body=json.dumps(TINY), headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 201
    return json.load(response)["id"]


def test_2000_connections_leave_descriptors_memory_and_store_where_they_were(make_app):
    server = LiveServer(make_app())
    try:
        lab = server.app.extensions["normlab"]
        run_id = create_run(server)
        wait_finished(server.app.test_client(), run_id)
        path = f"/api/runs/{run_id}"
        hammer(server.port, path, 200)  # warm up: imports, caches and allocator arenas settle
        fds, rss = open_descriptors(), rss_bytes()

        assert hammer(server.port, path, 2000) == {200: 2000}

        # Each leaked connection held 2 descriptors and ~120 KB: 4 000 and ~240 MB here.
        wait_for(lambda: open_descriptors() <= fds + 5, timeout=5,
                 message=f"descriptors back to {fds} (now {open_descriptors()})")
        assert rss_bytes() - rss < 16 * 2**20
        assert lab.store.open_connections <= 1  # at most the worker thread's
    finally:
        server.stop()


def test_socket_handler_closes_its_connection_when_the_socket_ends(live_server):
    lab = live_server.app.extensions["normlab"]
    run_id = create_run(live_server)
    wait_finished(live_server.app.test_client(), run_id)
    before = lab.store.open_connections
    sockets = [Client.connect(live_server.ws_url) for _ in range(5)]
    for ws in sockets:
        ws.send(json.dumps({"type": "subscribe", "runs": {str(run_id): -1}}))  # the handler reads the store
    wait_for(lambda: lab.store.open_connections >= before + 5, timeout=5, message="the handlers to use the store")
    for ws in sockets:
        ws.close()
    wait_for(lambda: lab.open_sockets == 0, timeout=5, message="the handlers to exit")
    wait_for(lambda: lab.store.open_connections <= before, timeout=5,
             message=f"their connections closed (open: {lab.store.open_connections})")


def test_worker_threads_close_their_connections_as_they_stop(make_app):
    app = make_app(WORKERS=2)
    client = app.test_client()
    lab = app.extensions["normlab"]
    runs = [client.post("/api/runs", json=TINY).get_json()["id"] for _ in range(2)]
    for run_id in runs:
        wait_finished(client, run_id)
    assert lab.store.open_connections >= 1  # the workers' (requests here close theirs at teardown)
    lab.jobs.shutdown()
    assert lab.store.open_connections == 0


def limit_descriptors():
    """In the child, before exec: the limit that made the leak an outage."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def test_serve_under_ulimit_256_answers_5000_connections(tmp_path):
    log = open(tmp_path / "serve.log", "w+")  # a file, not a pipe: a full pipe would stall the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--db", str(tmp_path / "db.sqlite"), "--port", "0",
         "--no-preload", "--executor", "thread"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=log,
        preexec_fn=limit_descriptors)
    try:
        port = wait_for(lambda: serving_port(proc, tmp_path / "serve.log"), timeout=30, interval=0.1,
                        message="the server to start")
        server = type("Server", (), {"port": port})
        run_id = create_run(server)
        assert hammer(port, f"/api/runs/{run_id}", 5000) == {200: 5000}
        assert get_on_a_new_connection(port, "/api/status") == 200
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
    assert "Too many open files" not in (tmp_path / "serve.log").read_text()


def serving_port(proc, log_path):
    """The port ``normlab serve --port 0`` printed, once it did."""
    assert proc.poll() is None, log_path.read_text()
    for line in log_path.read_text().splitlines():
        if "normlab dashboard: http://127.0.0.1:" in line:
            return int(line.split("http://127.0.0.1:")[1].split("/")[0])
    return None
