"""Helpers for the browser tests: the live server and filling in the dashboard's form."""
from __future__ import annotations

import json
import math
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"

# Tiny synthetic runs: a few hundred steps, a second or a few each.
TINY = {"dataset": "synthetic", "train_size": 600, "batch_size": 50, "hidden": 16, "epochs": 3}
# Long enough to watch live (a few seconds on two cores).
WATCHABLE = {"dataset": "synthetic", "train_size": 3000, "batch_size": 32, "hidden": 32, "epochs": 100}  # ~3 s


def total_steps(settings: dict) -> int:
    return math.ceil(settings["train_size"] / settings["batch_size"]) * settings["epochs"]


class LiveServer:
    """The app served in a daemon thread by the server `normlab serve` uses, plus small JSON helpers."""

    def __init__(self, db_path: Path, **config):
        from app import create_app
        from app.http_server import make_http_server

        self.app = create_app({"DATABASE": str(db_path), "TESTING": True, **config})
        self.app.extensions["normlab"].start()
        self.server = make_http_server("127.0.0.1", 0, self.app)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="normlab-test-server", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        lab = self.app.extensions.get("normlab")
        if lab is not None and hasattr(lab, "shutdown"):
            lab.shutdown()
        self.thread.join(5)

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read() or b"null")

    def runs(self) -> list[dict]:
        status, body = self.api("GET", "/api/runs")
        assert status == 200, body
        return body

    def run(self, run_id: int) -> dict:
        status, body = self.api("GET", f"/api/runs/{run_id}")
        assert status == 200, body
        return body

    def launch(self, **settings) -> dict:
        status, body = self.api("POST", "/api/runs", settings)
        assert status == 201, body
        return body

    def wait_for_status(self, run_id: int, statuses, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run["status"] in statuses:
                return run
            assert time.monotonic() < deadline, f"run {run_id} still {run['status']} after {timeout} s"
            time.sleep(0.05)

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until no run is queued or running (tests in a module share one worker)."""
        deadline = time.monotonic() + timeout
        while any(r["status"] in ("queued", "running") for r in self.runs()):
            assert time.monotonic() < deadline, "runs still going"
            time.sleep(0.05)


def fill_settings(page, settings: dict, form: str = "", prefix: str = "f") -> None:
    """Put settings into a settings form (opening its "Advanced" section for the fields inside it).

    ``form`` scopes the form (a CSS selector); ``prefix`` is its controls' id prefix.
    """
    advanced = page.locator(f"{form} details.advanced".strip())
    if advanced.get_attribute("open") is None:
        advanced.locator("summary").click()
    for name, value in settings.items():
        control = page.locator(f"#{prefix}-{name}")
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(str(value))
        else:
            control.fill(str(value))


_REPLAYED: list = []


def replayed_events() -> list:
    """A real tiny synthetic run's events (trained once per test process, about a second), which
    ``store_runs`` stores as other runs' events."""
    if not _REPLAYED:
        from engine import RunConfig, train
        from engine.data import synthetic_dataset

        train(RunConfig.from_dict({**TINY, "train_size": 300, "hidden": 8, "epochs": 2}),
              synthetic_dataset(2000, 1000), _REPLAYED.append)
    return _REPLAYED


def store_runs(server: LiveServer, runs: list[dict], study: str | None = None) -> tuple[int | None, list[int]]:
    """Runs put straight into the server's store as if they had run (hundreds in a second, no training):
    each a dict of settings (RunConfig's, the rest default) plus optional ``accuracy`` (its final test
    accuracy), ``status`` (completed unless said; others end with no events at all, as a run that
    fails at once), ``reason`` and ``label``; with ``study``, as a new study of that name.
    Returns the study's id (or None) and the runs' ids. The pages learn of them on their next request."""
    from dataclasses import replace

    from app.store import NewRun, NewStudy
    from engine import RunConfig

    extra = ("accuracy", "status", "reason", "label")
    store = server.app.extensions["normlab"].store
    configs = [RunConfig.from_dict({k: v for k, v in spec.items() if k not in extra}) for spec in runs]
    new = [NewRun(c.to_dict(), spec.get("label", c.describe_penalty())) for c, spec in zip(configs, runs)]
    study_id, ids = store.queue_runs(new, 10**9, NewStudy(study, {"settings": configs[0].to_dict()}) if study else None)
    events = replayed_events()
    for run_id, spec in zip(ids, runs):
        status = spec.get("status", "completed")
        if status == "completed":
            final = replace(events[-1], test_accuracy=spec.get("accuracy", events[-1].test_accuracy))
            store.record(run_id, [*events[:-1], final], final_status="completed")
        else:
            store.record(run_id, [], final_status=status, reason=spec.get("reason", f"{status} in a test"))
    store.release()
    return study_id, ids
