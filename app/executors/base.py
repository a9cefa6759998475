"""The executor interface the job manager drives."""
from __future__ import annotations

from typing import Callable, Protocol

from engine import RunConfig
from engine.events import Event

EventSink = Callable[[Event], None]
StopCheck = Callable[[], bool]
DataReport = Callable[[str, str, "float | None"], None]  # (dataset, message, fraction): how loading goes


class WorkerLost(RuntimeError):
    """The process or machine running a run went away; the message says which and how."""


class Executor(Protocol):
    """Runs one training run to its end, from a job-manager worker thread.

    ``run`` blocks until the run ends and returns its final event. It must deliver every
    event to ``on_event`` in order, in the calling thread, and stop the run within a batch
    or two once ``should_stop()`` is true. It raises (e.g. WorkerLost) when the run could
    not finish; the job manager records the message as the run's reason.
    """

    name: str
    trains_here: bool  # runs read their data on this machine (False: on a cluster's workers)

    def describe(self) -> dict:
        """Facts for GET /api/status, with ``summary``: one sentence for a person, e.g. "2 runs at a
        time, each in its own process on its own core"."""

    def prepare(self) -> None:
        """Called by each worker thread once, before it waits for its first run: get ready
        (e.g. start the process the thread's runs will train in, and load the datasets to
        preload there) so a run does not wait."""

    def reserved_cores(self) -> list[int]:
        """The cores of this machine kept for runs alone ([] when runs train elsewhere or anywhere):
        ``normlab serve`` keeps its own threads off them."""

    def run(self, config: RunConfig, on_event: EventSink, should_stop: StopCheck) -> Event: ...

    def close(self) -> None: ...


def runs_at_a_time(n: int) -> str:
    return f"{n} run{'s' if n != 1 else ''} at a time"


def one_line(text: str) -> str:
    """A message of several lines (a data error lists every source it tried) as one log line."""
    return " ".join(text.split())
