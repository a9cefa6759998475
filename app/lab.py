"""The running lab: the store, the stream hub, the datasets and the job manager, owned together."""
from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from .config import ServerConfig
from .datasets import DatasetCache
from .db_lock import DatabaseLock
from .executors import make_executor
from .hub import StreamHub
from .jobs import JobManager
from .store import Store, StoreError

log = logging.getLogger(__name__)


class Lab:
    """What one dashboard process owns; reachable as ``app.extensions["normlab"]``.

    Building it touches nothing (``create_app`` only builds); ``start`` takes the database and
    starts the workers, ``shutdown`` undoes that (and is safe without a start).
    """

    def __init__(self, config: ServerConfig):
        self.config = config
        self.db_lock = DatabaseLock(config.database)
        self.store = Store(config.database, config.db_timeout)
        self.hub = StreamHub()
        self.data_progress: dict[str, dict[str, Any]] = {}
        self.datasets = DatasetCache(config.data_dir, self._on_data_progress)
        self.interrupted: list[int] = []  # the runs start() found left running by the last server
        self._started = False
        self._stopping = threading.Event()
        self._sockets_lock = threading.Lock()
        self.open_sockets = 0

    def start(self) -> None:
        """Take the database, mark the runs the last server left running interrupted, start the executor
        and the workers (queued runs go on; the executor preloads the dataset where runs train). StoreError or ExecutorError when
        that cannot be done; nothing is left held then."""
        if self._started:
            raise RuntimeError("the lab is started already")
        # Taken before the database is touched: marking runs interrupted is for the one server that owns it.
        self.db_lock.acquire()
        try:
            self._open()
        except BaseException:
            self.store.close()
            self.db_lock.release()
            raise
        self._started = True
        self.jobs.start()  # the executor preloads config.preload_dataset where the runs train

    def _open(self) -> None:
        config = self.config
        self.store.initialize()
        try:
            self.interrupted = self.store.mark_interrupted()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use the database {config.database}: {exc}") from exc
        # Made here, not in __init__: the dask executor connects to its scheduler as it is made.
        self.executor = make_executor(config, self.datasets)
        self.jobs = JobManager(self.store, self.hub, self.executor, config.workers, config.queue_limit,
                               config.study_queue_limit)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

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
        if self._started:
            self.jobs.shutdown()
        self.store.close()
        self.db_lock.release()

    def _on_data_progress(self, dataset: str, message: str, fraction: float | None) -> None:
        self.data_progress[dataset] = {"message": message, "fraction": fraction}
        self.hub.notify({"type": "data", "dataset": dataset, "message": message, "fraction": fraction})
