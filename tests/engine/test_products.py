"""Shared products (engine/fast/products.py): right, and the same numbers whatever the thread count."""
import itertools
import threading
import time

import numpy as np
import pytest

from engine import RunConfig, event_to_dict, train
from engine.fast.products import BLOCKS, MAX_PROBE_EVERY, PROBE, PROBE_EVERY, ProductPool, edges, matmul_into, step_into

THREAD_COUNTS = (1, 2, 3, BLOCKS + 1)


def operands(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 784)).astype(dtype)
    w = rng.standard_normal((784, 200)).astype(dtype)
    dz = rng.standard_normal((64, 200)).astype(dtype)
    return x, w, dz


def test_block_edges_cover_the_dimension_once_on_aligned_cuts():
    for size in (1, 10, 200, 784, 4000):
        cuts = edges(size)
        assert cuts[0] == 0 and cuts[-1] == size and cuts == sorted(set(cuts))
        assert all(c % 16 == 0 for c in cuts[1:-1]) and len(cuts) - 1 <= BLOCKS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_products_are_right_and_identical_for_every_thread_count(dtype):
    x, w, dz = operands(dtype)
    forwards, steps = [], []
    for threads in THREAD_COUNTS:
        pool = ProductPool(threads)
        try:
            out = matmul_into(pool, x, w, np.full((64, 200), np.nan, dtype))
            stepped = w.copy()
            step_into(pool, -0.1, x, dz, 0.9, stepped)
            overwritten = np.full_like(w, np.inf)
            step_into(pool, 1.0, x, dz, 0.0, overwritten)  # β = 0 overwrites, even inf
        finally:
            pool.close()
        forwards.append(out)
        steps.append((stepped, overwritten))
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(forwards[0], x.astype(np.float64) @ w, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(steps[0][0], 0.9 * w - 0.1 * (x.T.astype(np.float64) @ dz), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(steps[0][1], x.T.astype(np.float64) @ dz, rtol=rtol, atol=rtol)
    for forward, (stepped, overwritten) in zip(forwards[1:], steps[1:]):
        assert np.array_equal(forward, forwards[0]) and np.array_equal(stepped, steps[0][0])
        assert np.array_equal(overwritten, steps[0][1])


def test_a_block_that_raises_raises_in_the_caller_and_the_pool_goes_on():
    pool = ProductPool(2)
    done = []
    try:
        def task(i):
            if i == 1:
                raise ValueError("block 1 failed")
            done.append(i)
        with pytest.raises(ValueError, match="block 1 failed"):
            pool.map(task, 3)
        assert sorted(done) == [0, 2]
        pool.map(done.append, 4)
        assert sorted(done[2:]) == [0, 1, 2, 3]
    finally:
        pool.close()


def test_the_helpers_take_blocks_and_end_with_close():
    pool = ProductPool(3)
    seen = set()
    lock = threading.Lock()
    started = threading.Barrier(3, timeout=10)

    def task(i):
        started.wait()  # three blocks that only finish once three threads hold one each
        with lock:
            seen.add(threading.current_thread().name)
    pool.map(task, 3)
    pool.close()
    assert len(seen) == 3 and sum(name.startswith("normlab-products-") for name in seen) == 2
    for thread in threading.enumerate():
        if thread.name.startswith("normlab-products-"):
            thread.join(5)
    assert not [t for t in threading.enumerate() if t.name.startswith("normlab-products-")]


def test_a_run_gives_the_same_events_with_any_threads_even_when_they_change_while_it_runs(tiny_data):
    # batch 64 × 784 inputs × 200 hidden: the products are split
    config = RunConfig(dataset="synthetic", train_size=576, epochs=2, batch_size=64, hidden=200, penalty="l1",
                       lam=1e-4)
    changing = itertools.cycle((1, 2, 3, 1, 4))
    runs = []
    for threads in (1, 2, lambda: next(changing)):
        events = []
        train(config, tiny_data, events.append, threads=threads)
        runs.append([_without_seconds(event_to_dict(e)) for e in events])
    assert runs[0][-1]["event"] == "done"
    assert runs[1] == runs[0] and runs[2] == runs[0]


def _without_seconds(record: dict) -> dict:
    record = {k: v for k, v in record.items() if "seconds" not in k}
    if "first_layer" in record:
        record["first_layer"] = np.asarray(record["first_layer"]).tobytes()
    return record


def _probe_with(block_seconds):
    """A 2-thread pool through one probe of blocks that sleep ``block_seconds(on a helper?)``; whether it shares after."""
    pool = ProductPool(2)
    try:
        def task(i):
            time.sleep(block_seconds(threading.current_thread().name.startswith("normlab-products-")))
        for _ in range(2 * PROBE):
            pool.map(task, 2)
        return pool.sharing
    finally:
        pool.close()


def test_the_pool_stops_sharing_when_its_helpers_make_products_slower():
    # a helper whose block takes far longer than the run's own thread takes for both: a busy core
    assert _probe_with(lambda on_helper: 0.008 if on_helper else 0.001) is False


def test_the_pool_shares_when_its_helpers_make_products_quicker():
    assert _probe_with(lambda on_helper: 0.005) is True  # two blocks at once: half the time


def test_each_probe_that_sharing_loses_doubles_the_wait_for_the_next():
    pool = ProductPool(2)
    try:
        def task(i):  # a helper that is slow to take its block: a machine where sharing does not pay
            if threading.current_thread().name.startswith("normlab-products-"):
                time.sleep(0.004)
        waits = []
        for _ in range(4):
            products = 2 * PROBE + (waits[-1] if waits else 0)
            for _ in range(products):
                pool.map(task, 2)
            assert pool.sharing is False
            waits.append(pool._until_probe)
        assert waits == [2 * PROBE_EVERY, 4 * PROBE_EVERY, 8 * PROBE_EVERY, min(16 * PROBE_EVERY, MAX_PROBE_EVERY)]
    finally:
        pool.close()
