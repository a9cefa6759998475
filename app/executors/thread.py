"""The in-process executor: train in the job manager's own worker thread."""
from __future__ import annotations

from typing import Sequence

from threadpoolctl import threadpool_limits

from engine import RunConfig, train
from engine.data import DataError
from engine.events import Event
from engine.training import warm_up

from ..cores import usable_cores
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
        # Each run's share of the cores, fixed: runs in one process cannot be kept to cores of their own.
        self.threads = max(1, len(usable_cores()) // max(1, concurrent_runs))
        if concurrent_runs > 1:
            # BLAS limits are process-wide: a run ending must not give BLAS threads back to one still going.
            threadpool_limits(limits=1, user_api="blas")

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
        return train(config, dataset, on_event, should_stop, threads=self.threads)

    def close(self) -> None:
        pass
