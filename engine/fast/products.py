"""A step's large matrix products, cut into fixed blocks that the run's threads share.

BLAS stays on one thread inside a run. OpenBLAS's own threads would change a product's last
bits with their number (its threaded path blocks the sum differently), and they spin between
calls: when anything else wants the cores (a watching browser, another run) a product waits
for a helper that is not running. Here a product is cut into the same ``BLOCKS`` blocks
whatever the thread count, each block one single-threaded BLAS call, and the run's threads
claim blocks until none is left. So

* a run's numbers do not depend on how many threads it has, nor on that number changing
  while it runs (the server re-divides the cores as runs start and end);
* a helper that does not get a core in time only leaves its block to the run's own thread,
  which then computes it itself;
* between products the helpers sleep in a blocking wait, taking no core from anyone;
* on a machine whose cores are busy the hand-overs can still cost more than the helpers give,
  so the pool keeps timing both ways (a few products shared, as many alone, every few hundred)
  and shares only while sharing is the quicker: never much slower than one thread.
"""
from __future__ import annotations

import itertools
import os
import queue
import threading
import time
from typing import Callable

import numpy as np

from .blas import bound_gemm, gemm_tn

# Blocks per product: up to this many threads share one product. Fixed for the machine, so
# that the numbers never depend on the thread count; block edges fall on multiples of ALIGN.
# More blocks cost more at one thread (each BLAS call packs the shared operand again).
BLOCKS = max(2, min(4, os.cpu_count() or 1))
ALIGN = 16
# A probe, PROBE products shared then PROBE alone, decides whether to share until the next one
# (even counts: a step's two products alternate). Probes come every PROBE_EVERY products while
# sharing wins; each probe that it loses doubles the wait, up to MAX_PROBE_EVERY, so a machine
# where sharing never pays loses almost nothing to probing.
PROBE_EVERY, MAX_PROBE_EVERY, PROBE = 400, 12_800, 40
# Products with fewer multiply-adds are one NumPy call: a hand-over would cost more than it saves.
MIN_SPLIT_WORK = 1 << 20

Threads = int | Callable[[], int]


class _Job:
    """One product's blocks: claimed one by one by whichever thread is free; done when all are."""

    def __init__(self, task: Callable[[int], None], count: int):
        self.task, self.count = task, count
        self._claims, self._finished = itertools.count(), itertools.count(1)  # next() is atomic in CPython
        self._done = threading.Lock()
        self._done.acquire()
        self.error: BaseException | None = None

    def work(self) -> None:
        while (i := next(self._claims)) < self.count:
            try:
                self.task(i)
            except BaseException as exc:  # raised again in the thread that owns the product
                self.error = exc
            if next(self._finished) == self.count:
                self._done.release()

    def wait(self) -> None:
        self._done.acquire()
        if self.error is not None:
            raise self.error


class ProductPool:
    """Threads that share a run's products; ``threads`` (an int, or read before each product) may change any time.

    Only the thread that owns the run calls ``map``. Helpers start when first needed and
    stop with ``close``.
    """

    def __init__(self, threads: Threads = 1):
        self._threads = threads if callable(threads) else (lambda: threads)
        self._helpers: list[queue.SimpleQueue] = []
        self._probe_left = 2 * PROBE  # products left in the current probe (0: between probes)
        self._wait = PROBE_EVERY  # products between probes (doubled by each probe sharing loses)
        self._until_probe = PROBE_EVERY  # products until the next probe
        self._probe = [0.0, 0.0]  # seconds of the probe's products: alone, shared
        self.sharing = True  # between probes: whether helpers take part

    def threads(self) -> int:
        """How many threads the next product may use (at least 1)."""
        return max(1, int(self._threads()))

    def map(self, task: Callable[[int], None], count: int) -> None:
        """``task(i)`` for every i < count, on up to ``threads()`` threads; returns when all are done."""
        helpers = min(self.threads(), count) - 1
        if helpers <= 0:
            for i in range(count):
                task(i)
            return
        probing = self._probe_left > 0
        share = self._probe_left > PROBE if probing else self.sharing
        start = time.perf_counter() if probing else 0.0
        if share:
            job = _Job(task, count)
            for inbox in self._started(helpers):
                inbox.put(job)
            job.work()
            job.wait()
        else:
            for i in range(count):
                task(i)
        if probing:
            self._probe[share] += time.perf_counter() - start
            self._probe_left -= 1
            if self._probe_left == 0:
                won = self._probe[1] < self._probe[0]
                self._wait = PROBE_EVERY if won else min(2 * self._wait, MAX_PROBE_EVERY)
                self.sharing, self._until_probe, self._probe = won, self._wait, [0.0, 0.0]
        else:
            self._until_probe -= 1
            if self._until_probe <= 0:
                self._probe_left = 2 * PROBE

    def _started(self, helpers: int) -> list[queue.SimpleQueue]:
        while len(self._helpers) < helpers:
            inbox: queue.SimpleQueue = queue.SimpleQueue()
            threading.Thread(target=_serve, args=(inbox,), name=f"normlab-products-{len(self._helpers) + 1}",
                             daemon=True).start()
            self._helpers.append(inbox)
        return self._helpers[:helpers]

    def close(self) -> None:
        """Let the helpers end (they hold nothing)."""
        for inbox in self._helpers:
            inbox.put(None)
        self._helpers = []


def _serve(inbox: queue.SimpleQueue) -> None:
    while (job := inbox.get()) is not None:
        job.work()  # a job posted before its product finished without us claims nothing: harmless


def edges(size: int) -> list[int]:
    """The block edges of a dimension of ``size``: ``BLOCKS`` near-equal parts on ``ALIGN`` boundaries."""
    inner = [min(size, round(size * i / BLOCKS / ALIGN) * ALIGN) for i in range(1, BLOCKS)]
    return sorted({0, *inner, size})


def _splittable(work: int, *arrays: np.ndarray) -> bool:
    c = arrays[-1]
    return (work >= MIN_SPLIT_WORK and bound_gemm(c.dtype) is not None
            and all(a.dtype == c.dtype and a.flags.c_contiguous for a in arrays))


def matmul_into(pool: ProductPool, x: np.ndarray, w: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out ← x·w`` (x (n, k), w (k, m), out (n, m)), in blocks of w's columns; returns ``out``."""
    (n, k), m = x.shape, w.shape[1]
    if not _splittable(n * k * m, x, w, out):
        return np.matmul(x, w, out=out)
    gemm, size = bound_gemm(out.dtype), out.itemsize
    cuts = edges(m)
    x_at, w_at, out_at = x.ctypes.data, w.ctypes.data, out.ctypes.data

    def block(i: int) -> None:
        lo, hi = cuts[i], cuts[i + 1]
        gemm.block(False, n, hi - lo, k, 1.0, x_at, k, w_at + lo * size, m, 0.0, out_at + lo * size, m)
    pool.map(block, len(cuts) - 1)
    return out


def step_into(pool: ProductPool, alpha: float, x: np.ndarray, dz: np.ndarray, beta: float, w: np.ndarray) -> None:
    """``w ← β·w + α·xᵀ·dz`` in place (x (n, k), dz (n, m), w (k, m)), in blocks of w's rows: ``gemm_tn``, shared."""
    (n, k), m = x.shape, dz.shape[1]
    if not _splittable(n * k * m, x, dz, w) or w.shape != (k, m):
        if beta == 0.0:  # an overwrite: whatever w held (even inf or NaN) must not leak in
            np.matmul(x.T, dz, out=w)
            if alpha != 1.0:
                w *= alpha
        else:
            gemm_tn(alpha, x, dz, beta, w)
        return
    gemm, size = bound_gemm(w.dtype), w.itemsize
    cuts = edges(k)
    x_at, dz_at, w_at = x.ctypes.data, dz.ctypes.data, w.ctypes.data

    def block(i: int) -> None:
        lo, hi = cuts[i], cuts[i + 1]
        gemm.block(True, hi - lo, m, n, alpha, x_at + lo * size, k, dz_at, m, beta, w_at + lo * m * size, m)
    pool.map(block, len(cuts) - 1)
