"""App fixtures: a real SQLite file in tmp_path, the Flask test client, and a real threaded server."""
import threading
import time

import pytest

from app import create_app
from app.http_server import make_http_server

# Tiny synthetic runs: 6 batches per epoch.
TINY = {"dataset": "synthetic", "train_size": 300, "batch_size": 50, "epochs": 2, "hidden": 8}


def wait_for(predicate, timeout=30.0, interval=0.02, message="condition"):
    """Poll until predicate() is truthy; return its value or fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@pytest.fixture
def make_app(tmp_path):
    apps = []

    def factory(**config):
        # Runs train in a worker thread here: a child process per test would add a second to each.
        # The default process executor is what the browser, crash and remote-executor tests run.
        app = create_app({"DATABASE": str(tmp_path / "normlab.sqlite"), "TESTING": True, "EXECUTOR": "thread",
                          **config})
        app.extensions["normlab"].start()
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["normlab"].shutdown()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


def wait_finished(client, run_id, timeout=60):
    return wait_for(lambda: (r := client.get(f"/api/runs/{run_id}").get_json())["status"]
                    not in ("queued", "running") and r, timeout, message=f"run {run_id} to finish")


class LiveServer:
    """The app on a real socket, served in a daemon thread by the server `normlab serve` uses."""

    def __init__(self, app):
        self.app = app
        self.server = make_http_server("127.0.0.1", 0, app)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.app.extensions["normlab"].shutdown()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live_server(make_app):
    server = LiveServer(make_app())
    yield server
    server.stop()
