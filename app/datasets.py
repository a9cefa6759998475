"""Datasets loaded once per process and shared read-only by every run."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from engine.data import DataError, Dataset, load_dataset

log = logging.getLogger(__name__)

ProgressSink = Callable[[str, str, float | None], None]


class DatasetCache:
    """Loads each dataset on first use (one loader at a time per name) and keeps it."""

    def __init__(self, data_dir: str | Path | None = None, on_progress: ProgressSink | None = None):
        self.data_dir = data_dir
        self.on_progress = on_progress
        self._datasets: dict[str, Dataset] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, name: str) -> Dataset:
        """The dataset called ``name``, loading (and, for MNIST, downloading) it the first time."""
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._datasets:
                progress = self._progress_for(name)
                try:
                    dataset = load_dataset(name, self.data_dir, progress=progress)
                except DataError as exc:
                    progress(f"failed: {exc}", None)
                    raise
                progress(f"{name} ready: {len(dataset.y_train)} train / {len(dataset.y_test)} test ({dataset.source})", 1.0)
                self._datasets[name] = dataset
            return self._datasets[name]

    def report(self, name: str, message: str, fraction: float | None) -> None:
        """Tell the terminal and the pages how loading ``name`` goes (also for loads in run processes)."""
        # one line in the terminal (a failure lists every source tried); the pages get the lines
        log.info("[data] %s: %s%s", name, " ".join(message.split()), f" {fraction:.0%}" if fraction is not None else "")
        if self.on_progress is not None:
            self.on_progress(name, message, fraction)

    def _progress_for(self, name: str):
        return lambda message, fraction: self.report(name, message, fraction)
