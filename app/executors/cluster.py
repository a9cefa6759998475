"""The Dask executor: runs train on the workers of a Dask distributed cluster.

``normlab serve --executor dask --scheduler tcp://HOST:8786``. Each run is one task,
submitted with ``pure=False`` (every run is new, even with equal settings) and ``retries=0``.
Per run, three small coordination objects live on the scheduler, named after a random token:

* a ``distributed.Queue`` carrying the events back, in batches (``remote.EventBatcher``:
  every 50 ms or 500 events, at once for start and epoch events). We use Queue, not Pub/Sub:
  Queue items are sequentialised through the scheduler and held there until taken (nothing
  is lost if the dashboard is a moment late, order is kept), while Dask's Pub/Sub was
  best-effort, sent messages only to subscribers known at that moment, was deprecated for its
  race conditions (dask/distributed#8685, #8724) and is gone from current releases. The Queue
  docs ask for small msgpack-able items and not large objects, so events travel as
  ``event_to_dict`` dicts and the final event, which carries the first-layer weight images,
  is the task's *result* (sent worker → dashboard directly, not through the scheduler).
* a ``distributed.Event`` for cancel: set here, waited on by a thread beside the training
  on the worker, which flips a local flag the engine polls every batch (an Event is the
  documented one-way signal; polling a Variable would cost a round trip per check).
* a ``distributed.Variable`` "started": set by the first attempt. If that worker dies, the
  scheduler hands the task to another worker; that attempt sees the flag and refuses at
  once, so no run restarts from seq 0 over events the dashboard already stored.

All three are released when the run ends, whatever the ending.
"""
from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from pathlib import Path

from engine import RunConfig
from engine.events import DoneEvent, Event, event_from_dict

from . import ExecutorError, remote
from .base import EventSink, StopCheck, WorkerLost

log = logging.getLogger(__name__)

# How long to wait before asking the run's Queue again when it was empty (also how often
# cancel is looked at). The get itself never blocks: a Queue.get(timeout=...) that times out
# makes the scheduler log an error with a traceback each time.
POLL_SECONDS = 0.05
# After this long without a message, check that the run's worker is still in the cluster.
SILENCE_SECONDS = 1.0
# A run waits this long for a worker to exist at all before it fails.
NO_WORKER_SECONDS = 30.0
# After a cancel, how long the worker may take to answer before the run is given up.
CANCEL_GRACE_SECONDS = 10.0

_ADDRESS = re.compile(r"tcp://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):([0-9]{1,5})")


def check_scheduler_address(address: str | None) -> str:
    """The address if it looks like tcp://HOST:PORT; ValueError with what is expected otherwise."""
    match = _ADDRESS.fullmatch(address or "")
    if not match or not 1 <= int(match.group(2)) <= 65535:
        raise ValueError(f"the scheduler address must look like tcp://HOST:PORT with a port from 1 to 65535 "
                         f"(e.g. tcp://10.0.0.5:8786, as `dask scheduler` prints it), got {address!r}")
    return address


class DaskExecutor:
    """Submits each run as a task to a Dask distributed cluster and streams its events back."""

    name = "dask"
    trains_here = False  # each worker reads its own files

    def __init__(self, scheduler: str, data_dir: str | Path | None = None, connect_timeout: float = 10.0):
        try:
            self.scheduler = check_scheduler_address(scheduler)
        except ValueError as exc:
            raise ExecutorError(str(exc)) from None
        try:
            import distributed
        except ImportError:
            raise ExecutorError("the dask executor needs the dask and distributed packages: "
                                "pip install 'normlab[cluster]'") from None
        self._distributed = distributed
        self.data_dir = None if data_dir is None else str(data_dir)
        try:
            self.client = distributed.Client(self.scheduler, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {self.scheduler} ({exc}). Start it with "
                                f"`dask scheduler` and workers with `dask worker {self.scheduler} --nthreads 1`, "
                                f"and check the address and that its port is open") from None

    def prepare(self) -> None:
        pass  # the cluster's workers are up already

    def reserved_cores(self) -> list[int]:
        return []  # runs train on the cluster's machines

    def describe(self) -> dict:
        try:  # bounded: a status page must not hang on an unreachable scheduler
            workers = len(self.client.nthreads(callback_timeout=2))
        except Exception:
            workers = None
        known = "" if workers is None else f" ({workers} worker{'s' if workers != 1 else ''} now)"
        return {"executor": self.name, "scheduler": self.scheduler, "cluster_workers": workers,
                "summary": f"runs train on the Dask cluster at {self.scheduler}{known}"}

    # -- one run -----------------------------------------------------------------------------------
    def run(self, config: RunConfig, on_event: EventSink, should_stop: StopCheck) -> Event:
        d = self._distributed
        token = uuid.uuid4().hex[:16]
        names = {part: f"normlab-{token}-{part}" for part in ("events", "cancel", "started")}
        try:
            queue = d.Queue(names["events"], client=self.client)
            cancel = d.Event(names["cancel"], client=self.client)
            started = d.Variable(names["started"], client=self.client)
            started.set("")  # "not started yet"; the first attempt puts its worker here
            future = self.client.submit(remote.dask_task, config.to_dict(), self.data_dir, names,
                                        key=f"normlab-run-{config.penalty}-{token}", pure=False, retries=0)
        except Exception as exc:
            raise WorkerLost(f"could not submit the run to the Dask scheduler at {self.scheduler} "
                             f"({type(exc).__name__}: {exc}); check that it is running, then use 'run again'") from None
        run = _RemoteRun(self, future, queue, remote.InOrder(on_event))
        abandoned = True
        try:
            final = run.follow(should_stop, cancel)
            abandoned = run.abandoned
            return final
        finally:
            self._release(future, queue, cancel, started, abandoned)

    def _release(self, future, queue, cancel, started, abandoned: bool) -> None:
        """Free the run's task and scheduler objects (best effort: the scheduler may be gone)."""
        for step in (lambda: future.done() or future.cancel(),
                     queue.close,
                     # the worker's own handle on the queue is released by the worker; a worker
                     # that died or was abandoned cannot, so release it for it
                     queue.close if abandoned else (lambda: None),
                     cancel.clear,  # a cleared Event with no waiter is dropped by the scheduler
                     started.delete):
            try:
                step()
            except Exception as exc:
                log.debug("could not release a Dask object of a run: %s", exc)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception as exc:
            log.debug("closing the Dask client: %s", exc)


class _RemoteRun:
    """Follows one submitted run: events in order, cancel forwarded, the worker watched."""

    def __init__(self, executor: DaskExecutor, future, queue, stream: remote.InOrder):
        self.executor = executor
        self.future = future
        self.queue = queue
        self.stream = stream
        self.attempt: dict | None = None  # the worker running it, from its hello
        self.abandoned = False
        self.started = time.monotonic()
        self._done = threading.Event()  # wakes the loop as soon as the task ends
        future.add_done_callback(lambda _: self._done.set())

    def follow(self, should_stop: StopCheck, cancel) -> Event:
        cancelled_at = None
        last_heard = last_check = no_worker_since = time.monotonic()
        while True:
            if cancelled_at is None and should_stop():
                self._contact(cancel.set)
                cancelled_at = time.monotonic()
            messages = self._get_all()
            now = time.monotonic()
            if messages:
                for message in messages:
                    self._handle(message)
                last_heard = now
                continue
            if self.future.done():
                return self._finish()
            self._done.wait(POLL_SECONDS)
            if cancelled_at is not None and self.attempt is None:
                # still waiting for a worker: take the task back rather than wait for it to start
                self.abandoned = True
                return self.stream.cancelled("cancelled by request (before a Dask worker started it)",
                                             now - self.started)
            if cancelled_at is not None and now - cancelled_at > CANCEL_GRACE_SECONDS:
                self.abandoned = True
                return self.stream.cancelled(f"cancelled by request (the Dask worker did not stop within "
                                             f"{CANCEL_GRACE_SECONDS:g} s; its task was cancelled)", now - self.started)
            if now - last_heard > SILENCE_SECONDS and now - last_check > SILENCE_SECONDS:
                last_check = now
                workers = self._contact(self.executor.client.nthreads)
                if workers:
                    no_worker_since = now
                if self.attempt is not None and self.attempt["worker"] not in workers:
                    self._drain()
                    if self.future.done():  # it finished just before leaving
                        return self._finish()
                    raise self._worker_gone("left the cluster")
                if self.attempt is None and now - no_worker_since > NO_WORKER_SECONDS:
                    raise WorkerLost(f"no Dask worker has been connected to the scheduler at "
                                     f"{self.executor.scheduler} for {NO_WORKER_SECONDS:g} s, so this run could not "
                                     f"start; start workers with `dask worker {self.executor.scheduler} --nthreads 1`")

    def _handle(self, message: dict) -> None:
        if "hello" in message:
            if self.attempt is not None:
                raise remote.OutOfOrder(f"a second attempt of this run started on Dask worker "
                                        f"{message['hello']['worker']} while {self.attempt['worker']} ran it")
            self.attempt = message["hello"]
            return
        self.stream.deliver([event_from_dict(e) for e in message["events"]])

    def _get_all(self) -> list[dict]:
        """Every message waiting in the run's Queue, oldest first (none: an empty list, at once)."""
        return self._contact(lambda: self.queue.get(batch=True))

    def _drain(self) -> None:
        for message in self._get_all():
            self._handle(message)

    def _finish(self) -> Event:
        """The task ended: deliver what is still queued, then its final event (or explain why not)."""
        self._drain()  # every put finished before the task returned, so all of it is queued
        status = self.future.status
        if status == "finished":
            final = self._contact(self.future.result)
            if isinstance(final, DoneEvent):
                final.first_layer.flags.writeable = False  # as the engine made it
            self.stream.deliver([final])
            return final
        if status == "cancelled":
            self.abandoned = True
            raise WorkerLost(f"the run's Dask task was cancelled on the cluster, {self.stream.where()} "
                             f"(by another client, or the scheduler restarted); use 'run again'")
        exc = self._contact(self.future.exception)
        self.abandoned = True
        if isinstance(exc, remote.AttemptRefused):
            raise self._worker_gone("died", retried=str(exc))
        if isinstance(exc, self.executor._distributed.KilledWorker):
            raise WorkerLost(f"the Dask scheduler gave up on this run, {self.stream.where()}: every worker that "
                             f"ran it died ({exc}). Check the workers' logs (memory limit?), then use 'run again'")
        if isinstance(exc, ImportError):
            raise RuntimeError(f"a Dask worker could not import normlab ({type(exc).__name__}: {exc}); install "
                               f"normlab, the same version as the dashboard, on every worker machine "
                               f"(pip install 'normlab[cluster]')")
        raise exc  # the run's own error (e.g. a DataError on that worker): its reason as with a local run

    def _worker_gone(self, how: str, retried: str | None = None) -> WorkerLost:
        self.abandoned = True
        if self.attempt is not None:
            who = (f"the Dask worker {self.attempt['worker']} (pid {self.attempt['pid']} on "
                   f"{self.attempt['host']}) running this run")
            again = ("; the scheduler's retry on another worker was refused, as it would have started over "
                     "from the first event") if retried else ""
        else:  # it died before its first message: the refusal names it
            who = "the Dask worker running this run"
            again = f" ({retried})" if retried else ""
        return WorkerLost(f"{who} {how} mid-run, {self.stream.where()}{again}. Check that worker's log "
                          f"(out of memory? killed?), then use 'run again'")

    def _contact(self, call):
        """Call the scheduler; losing it is reported as the run's reason."""
        try:
            return call()
        except Exception as exc:
            raise self._no_scheduler(exc) from None

    def _no_scheduler(self, exc: Exception) -> WorkerLost:
        self.abandoned = True
        return WorkerLost(f"lost contact with the Dask scheduler at {self.executor.scheduler} "
                          f"({type(exc).__name__}: {exc}), {self.stream.where()}; check that it is still running, "
                          f"then use 'run again'")
