"""The process executor (the default): runs train in child processes, sharing the cores out.

The job manager's N worker threads (``--workers N``, by default one per core) each drive their
own child process, so training never competes with the server's threads for the interpreter
lock: pages, sockets and store writes cannot slow a run. Each worker starts its child when it
starts (``prepare``), so the first run does not wait for an interpreter.

Whenever a run starts or ends, the cores are divided again among the runs in flight
(``app.cores.divide``): a run alone uses every core for its products, k runs get a group of
cores each, and the thread count is never more than the cores. Each child reads its share
before every product (a shared integer the parent sets), so a running run gives up or takes
cores within a batch, and its numbers stay the same (engine/fast/products.py).

When every worker can have a core of its own (``workers`` ≤ the cores this process may use, and
at least two), each child is kept to its share's cores (``sched_setaffinity`` on all its
threads), the highest-numbered first. Left free, the scheduler moves a run between cores
whenever a watching browser's threads wake, and each move costs it its warm caches:
bench_dashboard part 1 measured a watched run ~7 % slower in CPU seconds unpinned, and no slower
pinned. With more workers than cores nothing is pinned and each run has one thread. With fewer
workers than cores, runs keep to the highest-numbered ``workers`` cores and ``normlab serve``
keeps its own threads on the others (``keep_threads_off``): a sched_switch trace showed them
preempting a pinned run ~1 % of its time.

Children are started with the *spawn* method (a fresh interpreter), never fork: forking a
threaded server copies locks held by other threads. A child serves one run at a time for the
one thread that owns it and stays up between runs, keeping its imports and datasets (a fresh
child costs about a second before its first batch). One pipe per child carries the run's
settings down and its events up in batches; a child that dies shows as the pipe's end-of-file
and an ``exitcode`` saying how, and is replaced for the next run.
"""
from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.util
import os
import signal
import threading
import time
from pathlib import Path

from engine import RunConfig
from engine.events import DoneEvent, Event

from ..cores import Share, divide, run_cores, usable_cores
from . import remote
from .base import DataReport, EventSink, StopCheck, WorkerLost, runs_at_a_time

# After a cancel, how long the child may take to answer before it is stopped.
CANCEL_GRACE_SECONDS = 5.0
# How often the parent looks at the cancel flag and the child's health while no message comes.
POLL_SECONDS = 0.05


def keep_threads_off(cores: set[int] | list[int]) -> list[int]:
    """Keep every thread of this process, and those it starts later, off ``cores``; the cores it
    keeps, or [] when none would be left (or the platform cannot say) and nothing changed.

    For the process that owns the server (``normlab serve``): its page, socket and store threads
    then never take the core a run process is kept to. On Linux affinity is per thread and a new
    thread inherits its creator's, so every current thread is set."""
    if not hasattr(os, "sched_setaffinity") or not cores:
        return []
    keep = sorted(set(usable_cores()) - set(cores))
    if keep:
        set_thread_cores(keep)
    return keep


def set_thread_cores(cores: set[int] | list[int] | tuple[int, ...], pid: int | str = "self") -> None:
    """Let every thread of process ``pid`` (and those they start later) run on ``cores`` only."""
    for _ in range(2):  # twice over, for threads started meanwhile
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:  # the process ended
            return
        for task in tasks:
            try:
                os.sched_setaffinity(int(task.name), cores)
            except OSError:  # the thread ended meanwhile
                pass


class _Child:
    """One child process, its end of the pipe, its cancel flag, its share of the cores, and whether it
    is still loading the datasets it preloads."""

    def __init__(self, context, name: str, number: int, cores: list[int], preload: tuple[str, ...] = (),
                 data_dir: str | None = None):
        self.number = number
        self.conn, child_conn = context.Pipe(duplex=True)
        self.cancel = context.Event()
        self.threads = context.RawValue("i", 1)  # read by the child before each product
        self.preloading = bool(preload)
        self.tells_progress = False  # the first of several children loading alike tells how it goes
        self.process = context.Process(target=remote.process_main,
                                       args=(child_conn, self.cancel, self.threads, preload, data_dir),
                                       name=name, daemon=True)
        # Born with SIGINT and SIGTERM blocked (the mask survives fork and exec): a Ctrl-C while the
        # child is still importing would print its traceback. process_main ignores both, then unblocks.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, remote.STOP_SIGNALS)
        try:
            self.process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        child_conn.close()  # the child holds the only other end now: its death shows as EOF here
        self.share = Share(1)
        if cores:  # its start-up (imports, kernels) off the server's cores too
            set_thread_cores(cores, self.process.pid)

    def take(self, share: Share) -> None:
        """Train with ``share`` from the next product on."""
        if share.cores and share.cores != self.share.cores:
            set_thread_cores(share.cores, self.process.pid)
        self.threads.value = share.threads
        self.share = share

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.exitcode is None

    def stop(self, timeout: float = 5.0) -> None:
        """Ask it to leave (kill it if it must), and free its resources."""
        try:
            if self.process.is_alive():
                try:
                    self.conn.send(None)
                except OSError:
                    pass
                self.process.join(min(timeout, 1.0))
            if self.process.is_alive():
                self.process.kill()
            self.process.join(timeout)
            self.conn.close()
            if self.process.exitcode is not None:
                self.process.close()
        except ValueError:  # already closed by another thread
            pass


class ProcessExecutor:
    """Runs each run in a spawned child process of the calling thread; events come back in batches."""

    name = "process"
    trains_here = True

    def __init__(self, data_dir: str | Path | None = None, workers: int = 1, pin: bool = True,
                 preload: tuple[str, ...] = (), report: DataReport | None = None):
        self.data_dir = None if data_dir is None else str(data_dir)
        self.workers = workers
        # Loaded by each run process as it starts, where its runs need them (the server process
        # never uses a dataset); ``report`` hears how it goes, for the terminal and the pages.
        self.preload = tuple(preload)
        self.report = report
        cores = usable_cores()
        self._cores = run_cores(cores, workers)  # what the runs in flight divide among them
        self._pin = pin and hasattr(os, "sched_setaffinity") and len(cores) >= max(2, workers)
        self._running: list[_Child] = []  # children training a run, in the order their runs started
        self._context = multiprocessing.get_context("spawn")
        self._local = threading.local()
        self._children: set[_Child] = set()
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._closed = False
        # At exit multiprocessing SIGTERMs daemonic children and waits for them, but ours ignore
        # SIGTERM (remote.process_main): stop them first, should no one have closed this executor.
        multiprocessing.util.Finalize(self, _stop_children, args=(self._children, self._lock), exitpriority=0)

    def describe(self) -> dict:
        with self._lock:
            alive = sum(child.alive() for child in self._children)
            running = [{"pid": child.pid, "threads": child.share.threads, "cores": list(child.share.cores)}
                       for child in self._running]
        return {"executor": self.name, "processes": alive, "cores": self.reserved_cores(), "running": running,
                "summary": self.summary()}

    def summary(self) -> str:
        """How runs train, for a person: "2 runs at a time, each in its own process, kept to its share of the cores; …"."""
        n = self.workers
        where = "in its own process" if n == 1 else "each in its own process"
        if self._pin:
            where += ", kept to its share of the cores"
        return f"{runs_at_a_time(n)}, {where}; a run alone uses every core"

    def reserved_cores(self) -> list[int]:
        """The cores run processes are kept to ([] when none is pinned)."""
        return list(self._cores) if self._pin else []

    def prepare(self) -> None:
        """Start this thread's child now (its interpreter and imports take about a second) and wait
        while it loads the datasets to preload."""
        child = self._child()
        try:
            while child.preloading:
                if child.conn.poll(POLL_SECONDS):
                    self._heard(child, *child.conn.recv())
                elif not child.alive():
                    break  # the next run starts another
        except (EOFError, OSError, ValueError):  # it died or the executor was closed meanwhile
            pass

    def run(self, config: RunConfig, on_event: EventSink, should_stop: StopCheck) -> Event:
        child = self._child()
        child.cancel.clear()
        self._redivide(add=child)
        try:
            return self._follow(child, config, on_event, should_stop)
        finally:
            self._redivide(remove=child)

    def _redivide(self, add: _Child | None = None, remove: _Child | None = None) -> None:
        """Divide the cores again among the runs in flight, one joining or leaving."""
        with self._lock:
            if add is not None:
                self._running.append(add)
            if remove is not None and remove in self._running:
                self._running.remove(remove)
            for child, share in zip(self._running, divide(self._cores, len(self._running), self._pin)):
                child.take(share)

    def _follow(self, child: _Child, config: RunConfig, on_event: EventSink, should_stop: StopCheck) -> Event:
        """Send the run to ``child`` and deliver its events until its final one."""
        try:
            child.conn.send((config.to_dict(), self.data_dir))
        except OSError:
            raise self._lost(child, remote.InOrder(on_event)) from None
        stream = remote.InOrder(on_event)
        started = time.monotonic()
        cancelled_at = None
        between_runs = False  # True once the child answered with its final event or its error
        try:
            while True:
                if cancelled_at is None and should_stop():
                    child.cancel.set()
                    cancelled_at = time.monotonic()
                if child.conn.poll(POLL_SECONDS):
                    try:
                        kind, payload = child.conn.recv()
                    except (EOFError, OSError):
                        raise self._lost(child, stream) from None
                    except Exception as exc:  # a message cut short by the child's death
                        raise self._lost(child, stream, f"its last message was unreadable ({exc})") from None
                    if kind == "events":
                        stream.deliver(payload)
                    elif kind in ("data", "ready"):  # a new child still preloading before this run
                        self._heard(child, kind, payload)
                    elif kind == "final":
                        between_runs = True
                        if isinstance(payload, DoneEvent):
                            payload.first_layer.flags.writeable = False  # as the engine made it
                        stream.deliver([payload])
                        return payload
                    else:
                        between_runs = True
                        error, where = payload  # the run's own error, e.g. a DataError; the child is fine
                        raise error from remote.RemoteTraceback(where)
                elif not child.alive():
                    raise self._lost(child, stream)
                elif cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE_SECONDS:
                    return stream.cancelled(f"cancelled by request (the worker process did not stop within "
                                            f"{CANCEL_GRACE_SECONDS:g} s and was killed)", time.monotonic() - started)
        finally:
            if not between_runs:  # it may still be training or sending: never reuse it
                self._discard(child)

    def _heard(self, child: _Child, kind: str, payload) -> None:
        """A preloading child's progress ("data") or its end ("ready"). Each child loads its own copy;
        one tells every step (the terminal and the page would show each step once per child), every
        one its failures."""
        if kind == "ready":
            child.preloading = False
        elif kind == "data" and self.report is not None:
            if child.tells_progress or payload[1].startswith("failed:"):
                self.report(*payload)

    def _child(self) -> _Child:
        """This thread's child process, started (again) when there is none alive."""
        child = getattr(self._local, "child", None)
        if child is not None and child.alive():
            return child
        if child is not None:
            self._discard(child)
        with self._lock:
            if self._closed:
                raise RuntimeError("the process executor is closed")
            number = next(self._numbers)
            child = _Child(self._context, f"normlab-run-process-{number}", number, self._cores if self._pin else [],
                           self.preload, self.data_dir)
            child.tells_progress = not any(c.alive() and c.tells_progress for c in self._children)
            self._children.add(child)
        self._local.child = child
        return child

    def _discard(self, child: _Child) -> None:
        with self._lock:
            self._children.discard(child)
        if getattr(self._local, "child", None) is child:
            self._local.child = None
        child.stop()

    def _lost(self, child: _Child, stream: remote.InOrder, detail: str | None = None) -> WorkerLost:
        pid = child.pid
        child.process.join(2.0)
        code = child.process.exitcode
        self._discard(child)
        hint = ("The usual cause is the out-of-memory killer or someone stopping the process: check free memory "
                "(or use fewer --workers), then use 'run again'")
        if code is None:
            how = "stopped answering"
        elif code < 0:
            try:
                how = f"was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
            hint = "Its error, if it printed one, is in the server's terminal output; then use 'run again'"
        extra = f"; {detail}" if detail else ""
        return WorkerLost(f"the worker process (pid {pid}) running this run {how} mid-run, "
                          f"{stream.where()}{extra}. {hint}")

    def close(self) -> None:
        """Stop every child (the job manager has cancelled and waited for the runs before this)."""
        with self._lock:
            self._closed = True
        _stop_children(self._children, self._lock)


def _stop_children(children: set[_Child], lock: threading.Lock) -> None:
    """Stop every child in ``children`` and empty it (also at exit or when the executor is collected)."""
    with lock:
        stopping = list(children)
        children.clear()
    for child in stopping:
        child.stop()
