"""Nothing finished is lost: SIGKILL the server mid-run, restart it on the same database."""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import TINY, wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`normlab serve` in its own process (with ``new_session``, leading its own process group, as a service)."""

    def __init__(self, db, port, *extra, new_session=False):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", str(port),
                                      "--no-preload", *extra], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, start_new_session=new_session)
        wait_for(self.ready, timeout=30, interval=0.1, message="the server to start")

    def ready(self):
        assert self.proc.poll() is None, self.proc.stderr.read()
        try:
            return self.get("/api/status")
        except OSError:
            return None

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.load(response)

    def post(self, path, body):
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc.stderr.close()

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()


def stored_epochs(db, run_id):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM epochs WHERE run_id = ?", (run_id,)).fetchone()[0]


def test_sigkill_mid_run_loses_nothing_finished(tmp_path):
    db = tmp_path / "normlab.sqlite"
    server = ServerProcess(db, free_port())
    try:
        done = server.post("/api/runs", TINY)
        wait_for(lambda: server.get(f"/api/runs/{done['id']}")["status"] == "completed", message="first run")
        finished_metrics = server.get(f"/api/runs/{done['id']}/metrics")
        long = server.post("/api/runs", {**TINY, "epochs": 1000, "train_size": 2000, "hidden": 64})
        waiting = server.post("/api/runs", TINY)
        wait_for(lambda: stored_epochs(db, long["id"]) >= 3, message="three epochs of the long run stored")
    finally:
        server.kill()
    kept = stored_epochs(db, long["id"])

    server = ServerProcess(db, free_port())
    try:
        assert server.get(f"/api/runs/{done['id']}")["status"] == "completed"
        assert server.get(f"/api/runs/{done['id']}/metrics") == finished_metrics
        interrupted = server.get(f"/api/runs/{long['id']}")
        assert interrupted["status"] == "interrupted" and "server stopped" in interrupted["reason"]
        metrics = server.get(f"/api/runs/{long['id']}/metrics")
        assert len(metrics["epoch"]["epoch"]) == kept >= 3
        assert metrics["epoch"]["epoch"] == list(range(1, kept + 1))
        steps = metrics["batch"]["step"]
        assert steps == list(range(1, len(steps) + 1))  # every batch up to the last commit, no hole
        wait_for(lambda: server.get(f"/api/runs/{waiting['id']}")["status"] == "completed",
                 message="the queued run to run after the restart")
        again = server.post(f"/api/runs/{long['id']}/rerun", {})
        assert again["settings"] == interrupted["settings"]
        server.post(f"/api/runs/{again['id']}/cancel", {})
    finally:
        server.stop()


def test_locked_database_gives_a_clear_startup_error(tmp_path):
    db = tmp_path / "locked.sqlite"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", "0",
                                 "--no-preload"], env={**os.environ, "PYTHONPATH": str(ROOT), "NORMLAB_DB_TIMEOUT": "1"},
                                capture_output=True, text=True, timeout=60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1 and time.monotonic() - started < 30
    assert "database is locked" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("where", ["/proc/normlab/db.sqlite", "{tmp}/a-file/db.sqlite"])
def test_unusable_database_path_gives_a_clear_startup_error(tmp_path, where):
    (tmp_path / "a-file").write_text("not a folder")
    result = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--db", where.format(tmp=tmp_path), "--port", "0",
                             "--no-preload"], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "cannot use the database" in result.stderr and "Traceback" not in result.stderr
