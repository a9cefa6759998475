"""`normlab serve` and `normlab` CLI runs in child processes, and the HTTP and WebSocket helpers the
benches talk to a server with."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# The seed-sized run the benches time: synthetic data, 20 000 examples, hidden 200, batch 64.
SEED_RUN = {"penalty": "none", "dataset": "synthetic", "train_size": 20000, "batch_size": 64, "hidden": 200,
            "lr": 0.1, "seed": 0, "activation": "sigmoid", "dtype": "float32"}
BATCHES_PER_EPOCH = 313  # ceil(20 000 / 64)


def child_env(blas_threads: int | None = None) -> dict[str, str]:
    """This process's environment with the repo importable; BLAS limited to ``blas_threads`` when given."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if blas_threads:
        env.update({var: str(blas_threads) for var in BLAS_VARS})
    return env


def run_cli(*args: str, blas_threads: int | None = None, launcher: tuple[str, ...] = (),
            timeout: float | None = None) -> subprocess.CompletedProcess:
    """``python -m app.cli ARGS`` from the repo root (behind ``launcher`` when given); an error with
    the tail of its stderr unless it exits 0."""
    proc = subprocess.run([*launcher, sys.executable, "-m", "app.cli", *args], cwd=ROOT,
                          env=child_env(blas_threads), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"normlab {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return proc


def json_records(stdout: str) -> list[dict]:
    """The JSON Lines records of a ``--json`` run's output."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, body: dict | None = None, method: str | None = None, timeout: float = 30) -> Any:
    """One request on a new connection; the JSON answer (None for an empty one)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data, headers, method=method)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


class ServeProcess:
    """`python -m app.cli serve --no-preload` on a given database, logging to ``logfile``."""

    def __init__(self, db: Path, logfile: Path, executor: str = "process", blas_threads: int | None = None,
                 extra: tuple[str, ...] = ()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(logfile, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", str(self.port),
                                      "--no-preload", "--executor", executor, *extra],
                                     cwd=ROOT, env=child_env(blas_threads), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                http(self.url + "/api/status")
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start; see {logfile}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_finished(url: str, run_id: int, timeout: float = 3600) -> dict:
    """The run once it ended; an error unless it completed."""
    deadline = time.monotonic() + timeout
    while True:
        run = http(f"{url}/api/runs/{run_id}")
        if run["status"] not in ("queued", "running"):
            if run["status"] != "completed":
                raise RuntimeError(f"run {run_id} ended {run['status']}: {run.get('reason')}")
            return run
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} still {run['status']} after {timeout} s")
        time.sleep(0.2)


def follow_run(url: str, run_id: int, on_entry: Callable[[dict], None], timeout: float = 3600) -> None:
    """A viewer without a browser: subscribe to the run from its start and hand each frame's entry for
    it to ``on_entry`` until the entry holding the run's final event."""
    from simple_websocket import Client

    ws = Client.connect(url.replace("http://", "ws://") + "/ws")
    try:
        ws.send(json.dumps({"type": "subscribe", "runs": {str(run_id): -1}}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = ws.receive(timeout=1)
            message = json.loads(raw) if raw is not None else {}
            for entry in message.get("runs", []) if message.get("type") == "frame" else []:
                on_entry(entry)
                if "final" in entry:
                    return
        raise RuntimeError(f"run {run_id}: no final event after {timeout} s")
    finally:
        ws.close()
