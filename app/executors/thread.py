"""The in-process executor: train in the job manager's own worker thread."""
from __future__ import annotations

from threadpoolctl import threadpool_limits

from engine import RunConfig, train
from engine.events import Event
from engine.training import warm_up

from ..cores import usable_cores
from ..datasets import DatasetCache
from .base import EventSink, StopCheck


class ThreadExecutor:
    """Runs the engine in the calling thread; datasets are loaded once and shared read-only."""

    name = "thread"

    def __init__(self, datasets: DatasetCache, concurrent_runs: int = 1):
        self.datasets = datasets
        self.concurrent_runs = concurrent_runs
        # Each run's share of the cores, fixed: runs in one process cannot be kept to cores of their own.
        self.threads = max(1, len(usable_cores()) // max(1, concurrent_runs))
        if concurrent_runs > 1:
            # BLAS limits are process-wide: a run ending must not give BLAS threads back to one still going.
            threadpool_limits(limits=1, user_api="blas")

    def describe(self) -> dict:
        return {"executor": self.name}

    def reserved_cores(self) -> list[int]:
        return []  # runs train in this process's threads, anywhere

    def prepare(self) -> None:
        """Compile the engine's kernels before the first run (a few seconds after an install)."""
        warm_up()

    def run(self, config: RunConfig, on_event: EventSink, should_stop: StopCheck) -> Event:
        dataset = self.datasets.get(config.dataset)
        return train(config, dataset, on_event, should_stop, threads=self.threads)

    def close(self) -> None:
        pass
