"""The job manager: a FIFO queue of runs and background worker threads that train them.

A run's row exists (status 'queued') before it is queued; whatever happens to it, the
worker's ``finally`` leaves it with a final status and a reason. The training thread
only appends to the hub and buffers rows for the store: it never touches a socket.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Sequence

from engine import RunConfig
from engine.data import DataError
from engine.studies import MAX_RUNS

from .executors import Executor, WorkerLost
from .executors.base import one_line
from .hub import StreamHub
from .recorder import Recorder
from .run_view import FINAL_STATUS, LIVE, run_view
from .store import NewRun, NewStudy, NoRoom, Store

log = logging.getLogger(__name__)

# Queued study runs are bounded apart from runs launched on their own: room for three studies
# of the largest size, so that any study is admitted whole while the queue stays bounded.
STUDY_QUEUE_LIMIT = 3 * MAX_RUNS
# A run that ends with one of these logs one line (tracebacks are for bugs): its data cannot be
# had (the message names every source tried), or the process or machine training it went away.
EXPECTED_FAILURES = (DataError, WorkerLost)


class Conflict(Exception):
    """The request is not possible in the run's current state (HTTP 409)."""


class QueueFull(Exception):
    """Too many runs of that kind are waiting (HTTP 429); the message says which limit and what fits."""


class JobManager:
    """Owns the queue, the workers and the cancel flags of running runs."""

    def __init__(self, store: Store, hub: StreamHub, executor: Executor, workers: int, queue_limit: int,
                 study_queue_limit: int):
        self.store = store
        self.hub = hub
        self.executor = executor
        self.workers = workers
        self.queue_limit = queue_limit
        self.study_queue_limit = study_queue_limit
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._cancel_flags: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        """Re-queue the runs that were waiting when the server last stopped, then start the workers."""
        for run_id in self.store.run_ids_with_status("queued"):
            self._queue.put(run_id)
        for i in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"normlab-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel running runs, stop the workers and wait for them."""
        self._stopping.set()
        with self._lock:
            for flag in self._cancel_flags.values():
                flag.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self.executor.close()

    # -- requests ------------------------------------------------------------------
    def submit(self, config: RunConfig, label: str | None = None, group: str | None = None) -> dict[str, Any]:
        """Queue one run launched on its own (QueueFull past the queue limit)."""
        return self._queue_runs([_new_run(config, label, group)], None)[1][0]

    def submit_together(self, configs: Sequence[RunConfig], group: str) -> list[dict[str, Any]]:
        """Queue runs launched together (a comparison), all or none, within the queue limit."""
        return self._queue_runs([_new_run(c, None, group) for c in configs], None)[1]

    def submit_study(self, name: str, spec: dict[str, Any], configs: Sequence[RunConfig],
                     labels: Sequence[str]) -> tuple[int, list[dict[str, Any]]]:
        """Create a study and queue all its runs, or nothing, within the study queue limit."""
        runs = [_new_run(c, label) for c, label in zip(configs, labels, strict=True)]
        study_id, views = self._queue_runs(runs, NewStudy(name, spec))
        assert study_id is not None
        return study_id, views

    def _queue_runs(self, runs: list[NewRun], study: NewStudy | None) -> tuple[int | None, list[dict[str, Any]]]:
        limit = self.study_queue_limit if study else self.queue_limit
        try:
            study_id, run_ids = self.store.queue_runs(runs, limit, study)
        except NoRoom as exc:
            raise QueueFull(_no_room_message(len(runs), exc.waiting, limit, study is not None)) from None
        views = [self._announce(run_id) for run_id in run_ids]  # before a worker can take them: 'queued' is heard first
        for run_id in run_ids:
            self._queue.put(run_id)
        return study_id, views

    def cancel(self, run_id: int) -> dict[str, Any]:
        """Cancel a queued run (it never starts) or a running one (it stops within a batch)."""
        run = self._require(run_id)
        if run["status"] == "queued" and self.store.set_status(run_id, "cancelled", "cancelled before it started",
                                                               only_from=("queued",)):
            return self._announce(run_id)
        with self._lock:
            flag = self._cancel_flags.get(run_id)
        if flag is None:
            raise Conflict(f"run {run_id} is {self._require(run_id)['status']}; only queued or running runs can be cancelled")
        if flag.is_set():
            raise Conflict(f"run {run_id} is already being cancelled")
        flag.set()
        self._wait_until_not_running(run_id, timeout=2.0)
        return run_view(self._require(run_id), self.hub)

    def cancel_study(self, study_id: int) -> list[int]:
        """Cancel every queued and running run of a study: the queued at once (none of them starts),
        the running within a batch (waited for, up to 2 s together). The ids of the runs cancelled."""
        queued = self.store.cancel_queued_runs(study_id, "cancelled with its study before it started")
        for run_id in queued:
            self._announce(run_id)
        running = [r["id"] for r in self.store.study_runs(study_id) if r["status"] == "running"]
        with self._lock:
            flags = [self._cancel_flags[i] for i in running if i in self._cancel_flags]
        for flag in flags:
            flag.set()
        deadline = time.monotonic() + 2.0
        for run_id in running:
            self._wait_until_not_running(run_id, max(0.0, deadline - time.monotonic()))
        return sorted(queued + running)

    def delete(self, run_id: int) -> None:
        run = self._require(run_id)
        if run["status"] in LIVE:
            raise Conflict(f"run {run_id} is {run['status']}; cancel it before deleting it")
        self.store.delete_run(run_id)
        self.hub.forget(run_id)
        self.hub.notify({"type": "run_deleted", "id": run_id})

    def queue_length(self) -> int:
        """Queued runs launched on their own (what the queue limit counts)."""
        return self.store.count_queued(study_runs=False)

    def study_queue_length(self) -> int:
        """Queued study runs (what the study queue limit counts)."""
        return self.store.count_queued(study_runs=True)

    # -- the worker ----------------------------------------------------------------
    def _work(self) -> None:
        try:
            self._serve_queue()
        finally:
            self.store.release()

    def _serve_queue(self) -> None:
        try:
            self.executor.prepare()
        except Exception:  # the first run tries again and fails with the reason if it must
            log.exception("the %s executor could not get ready in this worker", self.executor.name)
        while not self._stopping.is_set():
            run_id = self._queue.get()
            if run_id is None:
                return
            try:
                self._execute(run_id)
            except Exception:  # the worker must survive anything one run does
                log.exception("run %s: unexpected error in the worker", run_id)

    def _execute(self, run_id: int) -> None:
        flag = threading.Event()
        with self._lock:
            self._cancel_flags[run_id] = flag
        try:
            if not self.store.set_status(run_id, "running", only_from=("queued",)):
                return  # cancelled or deleted while waiting
            run = self.store.get_run(run_id)
            self.hub.open_run(run_id)
            self._announce(run_id)
            recorder = Recorder(self.store, self.hub, run_id)
            status, reason, logged = "failed", "the run stopped unexpectedly", False
            try:
                config = RunConfig.from_dict(run["settings"])
                final = self.executor.run(config, recorder.on_event, flag.is_set)
                status, reason = FINAL_STATUS[final.kind], getattr(final, "reason", None)
            except EXPECTED_FAILURES as exc:  # its message says what happened and what to do
                reason = str(exc)
            except Exception as exc:  # a bug: its traceback is for whoever fixes it
                log.exception("run %s failed with an exception", run_id)
                reason, logged = f"{type(exc).__name__}: {exc}", True
            finally:
                if self._stopping.is_set() and status == "cancelled":
                    status, reason = "interrupted", "the server was shut down while this run was running"
                if status == "failed" and not logged:
                    log.warning("run %s failed: %s", run_id, one_line(reason or ""))
                recorder.finish(status, reason)
                self.hub.close_run(run_id)
        finally:
            with self._lock:
                self._cancel_flags.pop(run_id, None)
            if self.store.get_run(run_id) is not None:
                self._announce(run_id)

    # -- helpers -------------------------------------------------------------------
    def _require(self, run_id: int) -> dict[str, Any]:
        run = self.store.get_run(run_id)
        if run is None:
            raise KeyError(run_id)
        return run

    def _announce(self, run_id: int) -> dict[str, Any]:
        """Tell every socket the run's view as the store now has it, and return that view."""
        view = run_view(self._require(run_id), self.hub)
        self.hub.notify({"type": "run", "run": view})
        return view

    def _wait_until_not_running(self, run_id: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if run_id not in self._cancel_flags:
                    return
            time.sleep(0.01)


def _new_run(config: RunConfig, label: str | None, group: str | None = None) -> NewRun:
    return NewRun(config.to_dict(), label or config.describe_penalty(), group)


def _no_room_message(runs: int, waiting: int, limit: int, study: bool) -> str:
    """Which limit refused the work, and how much of it would fit."""
    if study:
        what = (f"this study has {runs} runs; {waiting} study runs are waiting and at most {limit} may "
                f"(the study queue limit, counted apart from runs launched on their own)")
        if runs > limit:
            return f"{what}, so a study may have at most {limit} runs on this server"
    else:
        what = (f"{waiting} runs are waiting and at most {limit} may (the queue limit; study runs are counted apart); "
                f"this needs {runs} more place{'s' if runs != 1 else ''}")
    return f"{what}, and {max(0, limit - waiting)} are free now. Wait for some to finish or cancel some"
