"""The in-process executor: train in the job manager's own worker thread."""
from __future__ import annotations

import os
from contextlib import nullcontext
from typing import Sequence

from threadpoolctl import threadpool_limits

from engine import RunConfig, train
from engine.data import DataError
from engine.events import Event
from engine.training import warm_up

from ..datasets import DatasetCache
from .base import EventSink, StopCheck, runs_at_a_time


class ThreadExecutor:
    """Runs the engine in the calling thread; datasets are loaded once and shared read-only."""

    name = "thread"
    trains_here = True

    def __init__(self, datasets: DatasetCache, concurrent_runs: int = 1, preload: Sequence[str] = ()):
        self.datasets = datasets
        self.concurrent_runs = concurrent_runs
        self.preload = tuple(preload)

    def describe(self) -> dict:
        n = self.concurrent_runs
        return {"executor": self.name,
                "summary": f"{runs_at_a_time(n)}, in {'threads' if n > 1 else 'a thread'} of the server's own process"}

    def reserved_cores(self) -> list[int]:
        return []  # runs train in this process's threads, anywhere

    def prepare(self) -> None:
        """Compile the engine's kernels and load the datasets to preload before the first run."""
        warm_up()
        for name in self.preload:  # the first worker loads it; the others find it loaded
            try:
                self.datasets.get(name)
            except DataError:  # the cache told the terminal and the page; a run on it fails with the reason
                pass

    def run(self, config: RunConfig, on_event: EventSink, should_stop: StopCheck) -> Event:
        dataset = self.datasets.get(config.dataset)
        with self._blas_limits():
            return train(config, dataset, on_event, should_stop)

    def _blas_limits(self):
        """Split the BLAS threads between concurrent runs (one run uses them all).

        threadpoolctl's limits are process-wide, so with several runs this is a ceiling for
        all of them together; the process executor gives each run its own.
        """
        if self.concurrent_runs <= 1:
            return nullcontext()
        return threadpool_limits(limits=max(1, (os.cpu_count() or 1) // self.concurrent_runs))

    def close(self) -> None:
        pass
