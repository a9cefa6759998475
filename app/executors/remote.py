"""Code shared by the executors that train somewhere else (a child process, a Dask worker).

Worker side: ``run_training`` loads the dataset through the engine's data module (once per
process), trains, and hands events to ``send`` in batches (``EventBatcher``); the final event
is returned, not batched, so each executor can carry it the way that suits it.
``process_main`` and ``dask_task`` are the two entry points; on a Dask worker the batches go
out through a ``BackgroundSender`` so training never waits on a round trip to the scheduler.

Dashboard side: ``InOrder`` delivers what comes back to the job manager's ``on_event`` and
checks that sequence numbers arrive gap-free, exactly once.

A worker imports this module by name, so normlab (same version) must be installed where it
runs: trivially true for child processes; on a cluster, on every worker machine.
"""
from __future__ import annotations

import os
import signal
import socket
import threading
import time
import traceback
from typing import Any, Callable

from engine import RunConfig, train
from engine.fast.products import Threads
from engine.training import warm_up
from engine.data import DataError, Dataset, load_dataset
from engine.data.progress import Progress
from engine.events import FINAL_KINDS, CancelledEvent, Event, event_to_dict

from .base import EventSink, StopCheck, WorkerLost

# A batch of events is sent when it holds this many events, when this many seconds passed
# since the last send, and always at once for start and epoch events (the final event is
# returned separately, after everything before it was sent).
MAX_BATCH_EVENTS = 500
MAX_BATCH_SECONDS = 0.05
# A child process's pipe is cheap to write to: send more often, so the pipe adds at most
# this much to the live chart's delay (the hub's frames come every 50 ms anyway).
PIPE_BATCH_SECONDS = 0.02
# What a terminal's Ctrl-C and a service manager's stop send to every process of the group.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}

Send = Callable[[list[Event]], None]


# -- worker side ----------------------------------------------------------------------------------

class EventBatcher:
    """An ``on_event`` for the engine that sends events in batches, in order."""

    def __init__(self, send: Send, max_events: int = MAX_BATCH_EVENTS, max_seconds: float = MAX_BATCH_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.send = send
        self.max_events = max_events
        self.max_seconds = max_seconds
        self.clock = clock
        self.pending: list[Event] = []
        self.last_send = clock()
        self.batches = 0

    def __call__(self, event: Event) -> None:
        if event.kind in FINAL_KINDS:
            self.flush()  # the caller sends the final event itself, after these
            return
        self.pending.append(event)
        if (event.kind != "batch" or len(self.pending) >= self.max_events
                or self.clock() - self.last_send >= self.max_seconds):
            self.flush()

    def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            self.send(batch)
            self.batches += 1
        self.last_send = self.clock()


class BackgroundSender:
    """Sends batches from a thread of its own, in order, so training never waits on the network.

    Batches that pile up while a send is in flight go out together in the next one (up to
    ``max_events`` per message); past ``max_pending`` waiting events the training waits
    (a scheduler that cannot keep up slows the run rather than filling the worker's memory).
    A failed send is raised to the training at its next event, and by ``close``.
    """

    def __init__(self, send: Send, max_events: int = 2000, max_pending: int = 50_000):
        self._send = send
        self.max_events = max_events
        self.max_pending = max_pending
        self._pending: list[Event] = []
        self._cond = threading.Condition()
        self._closing = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="normlab-event-sender", daemon=True)
        self._thread.start()

    def __call__(self, events: list[Event]) -> None:
        with self._cond:
            while self.error is None and len(self._pending) >= self.max_pending:
                self._cond.wait()
            if self.error is not None:
                raise self.error
            self._pending.extend(events)
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:
                    return
                batch = self._pending[:self.max_events]
                del self._pending[:self.max_events]
                self._cond.notify_all()  # room again for a training thread held at max_pending
            try:
                self._send(batch)
            except BaseException as exc:
                with self._cond:
                    self.error = exc
                    self._cond.notify_all()
                return

    def close(self, timeout: float | None = None) -> None:
        """Send what is left, stop the thread; raise the send error if there was one."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error


_datasets: dict[tuple[str, str | None], Dataset] = {}
_datasets_lock = threading.Lock()


def dataset_for(name: str, data_dir: str | None, progress: Progress | None = None) -> Dataset:
    """The dataset, loaded on first use in this process and kept (a Dask worker runs many runs)."""
    key = (name, None if data_dir is None else str(data_dir))
    with _datasets_lock:
        if key not in _datasets:
            _datasets[key] = load_dataset(name, data_dir, progress)
        return _datasets[key]


def preload_datasets(names: tuple[str, ...], data_dir: str | None, send: Callable[[Any], None]) -> None:
    """Load ``names`` in this run process before its first run, telling the parent how it goes:
    ("data", (name, message, fraction)) messages, then ("ready", None)."""
    for name in names:
        def progress(message: str, fraction: float | None, name: str = name) -> None:
            send(("data", (name, message, fraction)))
        try:
            dataset = dataset_for(name, data_dir, progress)
            progress(f"{name} ready: {len(dataset.y_train)} train / {len(dataset.y_test)} test ({dataset.source})", 1.0)
        except DataError as exc:  # a run on it fails with the same reason
            progress(f"failed: {exc}", None)
    send(("ready", None))


def run_training(config: dict[str, Any], data_dir: str | None, send: Send, should_stop: StopCheck,
                 max_seconds: float = MAX_BATCH_SECONDS, threads: Threads = 1) -> Event:
    """Train one run here with ``threads`` (see ``engine.train``); batches go to ``send`` (at least every
    ``max_seconds``); the final event is returned (everything before it sent)."""
    warm_up()  # once per process: a no-op after the first run (or the run process's start-up)
    run_config = RunConfig.from_dict(config)
    batcher = EventBatcher(send, max_seconds=max_seconds)
    final = train(run_config, dataset_for(run_config.dataset, data_dir), batcher, should_stop, threads=threads)
    batcher.flush()
    return final


def process_main(conn, cancel, threads, preload: tuple[str, ...] = (), data_dir: str | None = None) -> None:
    """Entry point of a child process (spawned, never forked): runs one run after another.

    First loads the ``preload`` datasets (``preload_datasets``: the parent waits for "ready").
    Receives (config dict, data_dir) or None (stop) on ``conn``; for each run sends
    ("events", [Event, ...]) messages, then ("final", Event) or ("error", (exception, traceback text)).
    ``cancel`` is a multiprocessing Event the parent sets to stop the current run and clears
    before the next. ``threads`` is a shared integer: the threads the run's products may use,
    set by the parent as runs start and end (read before each product). One BLAS thread.
    The child keeps its datasets (and its imports) from run to run.
    """
    from threadpoolctl import threadpool_limits

    # Ctrl-C in the terminal reaches the whole process group, and systemctl stop sends SIGTERM to
    # every process of the service: the parent decides (it cancels the run, the run is interrupted).
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked from birth (process.py)
    with threadpool_limits(limits=1):
        warm_up()  # while the parent waits for its first run, not during it
        if preload:
            try:
                preload_datasets(preload, data_dir, conn.send)
            except (BrokenPipeError, ConnectionError):
                return
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):  # the parent is gone
                return
            if job is None:
                return
            config, data_dir = job
            try:
                final = run_training(config, data_dir, lambda events: conn.send(("events", events)), cancel.is_set,
                                     PIPE_BATCH_SECONDS, lambda: threads.value)
                conn.send(("final", final))
            except (BrokenPipeError, ConnectionError):
                return
            except Exception as exc:  # reported to the parent: the run fails with this reason
                where = traceback.format_exc()  # a traceback does not travel with a pickled exception
                try:
                    conn.send(("error", (exc, where)))
                except Exception:  # not picklable
                    conn.send(("error", (RuntimeError(f"{type(exc).__name__}: {exc}"), where)))


class RemoteTraceback(Exception):
    """Where an exception raised in a run process came from: set as the re-raised exception's
    cause, so the server's log shows the run process's traceback too (as concurrent.futures does)."""

    def __str__(self) -> str:
        return "\n" + self.args[0] if self.args else ""


class AttemptRefused(RuntimeError):
    """A Dask worker was asked to start a run that an earlier, lost attempt had already started."""


def dask_task(config: dict[str, Any], data_dir: str | None, names: dict[str, str]) -> Event:
    """The task a Dask worker runs for one run; see cluster.py for the other end.

    ``names`` holds the names of the run's Queue (events), Event (cancel) and Variable
    (started). If the scheduler re-runs this task because the first worker died, the
    Variable shows an earlier attempt and this one refuses at once: starting again from
    seq 0 would repeat events the dashboard already stored.
    """
    from distributed import Event as DaskEvent, Queue, Variable, get_client, get_worker

    client = get_client()
    here = {"worker": get_worker().address, "pid": os.getpid(), "host": socket.gethostname()}
    started = Variable(names["started"], client=client)
    # The dashboard sets it to "" before submitting; a late attempt after the dashboard
    # cleaned up finds nothing and gives up after the timeout.
    try:
        earlier = started.get(timeout=5)
    except TimeoutError:
        raise AttemptRefused("the dashboard no longer waits for this run") from None
    if earlier:
        raise AttemptRefused(f"this run already started on Dask worker {earlier['worker']} (pid {earlier['pid']} "
                             f"on {earlier['host']}), which was lost; not starting it again on {here['worker']}")
    started.set(here)
    queue = Queue(names["events"], client=client)
    queue.put({"hello": here})
    stop, finished = threading.Event(), threading.Event()
    watcher = threading.Thread(target=_watch_cancel, args=(DaskEvent(names["cancel"], client=client), stop, finished),
                               name="normlab-cancel-watch", daemon=True)
    watcher.start()
    sender = BackgroundSender(lambda events: queue.put({"events": [event_to_dict(e) for e in events]}))
    closed = False
    try:
        final = run_training(config, data_dir, sender, stop.is_set)
        closed = True
        sender.close()  # every put is done before the task returns: the dashboard relies on that
        return final
    finally:
        finished.set()
        if not closed:  # the training raised: stop the sender, the training's error is the one to report
            try:
                sender.close(timeout=5)
            except Exception:
                pass
        queue.close()


def _watch_cancel(cancel, stop: threading.Event, finished: threading.Event) -> None:
    """Turn the run's distributed.Event into a local flag, so the engine's per-batch check costs nothing."""
    while not finished.is_set():
        try:
            if cancel.wait(timeout=0.25):
                stop.set()
                return
        except Exception:  # the client is closing; the run ends anyway
            return


# -- dashboard side -------------------------------------------------------------------------------

class OutOfOrder(WorkerLost):
    """Events came back with a gap or a repeat (a lost message or a second attempt)."""


class InOrder:
    """Delivers events to the job manager's ``on_event``, checking seq is 0, 1, 2, … with no gap."""

    def __init__(self, on_event: EventSink):
        self.on_event = on_event
        self.next_seq = 0
        self.epoch = 0
        self.step = 0
        self.messages = 0

    def deliver(self, events: list[Event]) -> None:
        self.messages += 1
        for event in events:
            if event.seq != self.next_seq:
                raise OutOfOrder(f"the run's events came back out of order: event {event.seq} arrived where "
                                 f"{self.next_seq} was expected, so some were lost or repeated in transit")
            self.next_seq += 1
            if event.kind in ("batch", "epoch"):
                self.epoch, self.step = event.epoch, event.step
            self.on_event(event)

    def where(self) -> str:
        """Where the run got to, for messages: 'after event 57 (epoch 2, step 40)'."""
        if self.next_seq == 0:
            return "before it sent any event"
        return f"after event {self.next_seq - 1} (epoch {self.epoch}, step {self.step})"

    def cancelled(self, reason: str, seconds: float) -> Event:
        """A final CancelledEvent made here, for a run whose worker did not answer the cancel in time."""
        event = CancelledEvent(seq=self.next_seq, reason=reason, epoch=self.epoch, step=self.step, seconds=seconds)
        self.deliver([event])
        return event
