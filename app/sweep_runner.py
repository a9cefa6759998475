"""Runs of ``normlab sweep`` side by side: the process executor without a server, results in order.

Up to ``workers`` runs train at once, each in a run process of the process executor (the
same machinery, sharing and pinning as ``normlab serve``), driven by one thread per worker.
``results`` yields the final events in the order of the configs, each as soon as it and
every one before it has finished, so the output is the same whatever order runs end in.
A run's numbers do not depend on where it trained nor with how many threads
(engine/fast/products.py), so a sweep gives what running its configs one after another gives.
"""
from __future__ import annotations

import itertools
import threading
from typing import Callable, Iterator, Sequence

from engine import RunConfig
from engine.events import Event, FailedEvent

from .executors import ProcessExecutor


class SweepRunner:
    """Trains ``configs`` with up to ``workers`` at once in run processes; iterate ``results()``."""

    def __init__(self, configs: Sequence[RunConfig], workers: int, data_dir: str | None,
                 should_stop: Callable[[], bool]):
        self.configs = list(configs)
        self.workers = max(1, min(workers, len(self.configs)))
        self.should_stop = should_stop
        self.executor = ProcessExecutor(data_dir, self.workers)
        self._finals: dict[int, Event] = {}
        self._next = itertools.count()
        self._ready = threading.Condition()

    def results(self) -> Iterator[Event]:
        """Each run's final event, in the order of the configs; stops starting runs once one is cancelled."""
        threads = [threading.Thread(target=self._work, name=f"normlab-sweep-{i}", daemon=True)
                   for i in range(self.workers)]
        for thread in threads:
            thread.start()
        try:
            for i in range(len(self.configs)):
                with self._ready:
                    while i not in self._finals:
                        if not any(t.is_alive() for t in threads) and i not in self._finals:
                            return  # no one will train it: a cancel stopped the sweep
                        self._ready.wait(0.2)
                    final = self._finals.pop(i)
                yield final
                if final.kind == "cancelled":
                    return
        finally:
            for thread in threads:
                thread.join()
            self.executor.close()

    def _work(self) -> None:
        self.executor.prepare()
        while not self.should_stop() and (i := next(self._next)) < len(self.configs):
            final = self._train(self.configs[i])
            with self._ready:
                self._finals[i] = final
                self._ready.notify_all()

    def _train(self, config: RunConfig) -> Event:
        try:
            return self.executor.run(config, lambda event: None, self.should_stop)
        except Exception as exc:  # the run process died, or the data could not be loaded there
            return FailedEvent(seq=0, reason=f"{type(exc).__name__}: {exc}", epoch=0, step=0, seconds=0.0)
