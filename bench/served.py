"""`normlab serve` in a child process, and the small HTTP helpers the benches talk to it with."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


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
        env = child_env()
        if blas_threads:
            env.update({var: str(blas_threads) for var in BLAS_VARS})
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", str(self.port),
                                      "--no-preload", "--executor", executor, *extra],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
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
