"""The running lab: the store, the stream hub, the datasets and the job manager, owned together."""
from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from .datasets import DatasetCache
from .db_lock import DatabaseLock
from .executors import make_executor
from .hub import StreamHub
from .jobs import STUDY_QUEUE_LIMIT, JobManager
from .store import Store, StoreError

log = logging.getLogger(__name__)


class Lab:
    """What one dashboard process owns; reachable as ``app.extensions["normlab"]``."""

    def __init__(self, database: str | Path, data_dir: str | Path | None, workers: int, queue_limit: int,
                 db_timeout: float = 10.0, executor: str = "process", scheduler: str | None = None,
                 pin: bool = True, study_queue_limit: int = STUDY_QUEUE_LIMIT):
        # Taken before the database is touched: marking runs interrupted is for the one server that owns it.
        self.db_lock = DatabaseLock(database)
        self.db_lock.acquire()
        try:
            self._open(database, db_timeout, data_dir, workers, executor, scheduler, pin)
        except BaseException:
            self.db_lock.release()
            raise
        self.jobs = JobManager(self.store, self.hub, self.executor, workers, queue_limit, study_queue_limit)
        self._stopping = threading.Event()
        self._sockets_lock = threading.Lock()
        self.open_sockets = 0

    def _open(self, database: str | Path, db_timeout: float, data_dir: str | Path | None, workers: int,
              executor: str, scheduler: str | None, pin: bool) -> None:
        self.store = Store(database, db_timeout)
        self.store.initialize()
        try:
            self.interrupted = self.store.mark_interrupted()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use the database {database}: {exc}") from exc
        self.hub = StreamHub()
        self.data_progress: dict[str, dict[str, Any]] = {}
        self.datasets = DatasetCache(data_dir, self._on_data_progress)
        try:
            self.executor = make_executor(executor, self.datasets, workers, data_dir, scheduler, pin)
        except Exception:
            self.store.close()
            raise

    def start(self) -> None:
        self.jobs.start()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def preload(self, dataset: str) -> threading.Thread:
        """Load a dataset in the background so the first run does not wait for it."""
        def load() -> None:
            try:
                self.datasets.get(dataset)
            except Exception as exc:  # shown on the page and in the terminal; runs will fail with it
                log.error("could not load %s: %s", dataset, exc)
                self._on_data_progress(dataset, f"failed: {exc}", None)
        thread = threading.Thread(target=load, name=f"normlab-preload-{dataset}", daemon=True)
        thread.start()
        return thread

    def reserve_socket(self, limit: int) -> bool:
        """Take one of ``limit`` socket places, or say none is free.

        Checked and taken under one lock, before the handshake, so that no number of
        simultaneous handshakes can get past the limit.
        """
        with self._sockets_lock:
            if self.open_sockets >= limit:
                return False
            self.open_sockets += 1
            return True

    def release_socket(self) -> None:
        """Give back a place taken with ``reserve_socket``."""
        with self._sockets_lock:
            self.open_sockets -= 1

    def status(self) -> dict[str, Any]:
        """Server facts for the page: the executor (and its scheduler), concurrent runs, the two queue limits, data."""
        jobs = self.jobs
        return {**self.executor.describe(), "workers": jobs.workers,
                "queue_length": jobs.queue_length(), "queue_limit": jobs.queue_limit,
                "study_queue_length": jobs.study_queue_length(), "study_queue_limit": jobs.study_queue_limit,
                "open_sockets": self.open_sockets, "data": self.data_progress}

    def shutdown(self) -> None:
        """Stop sockets and workers; runs cut short are marked interrupted; then let go of the database."""
        self._stopping.set()
        self.jobs.shutdown()
        self.store.close()
        self.db_lock.release()

    def _on_data_progress(self, dataset: str, message: str, fraction: float | None) -> None:
        self.data_progress[dataset] = {"message": message, "fraction": fraction}
        self.hub.notify({"type": "data", "dataset": dataset, "message": message, "fraction": fraction})
