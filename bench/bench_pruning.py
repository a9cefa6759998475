"""Time the pruning curve a finished run computes, against its target of 0.5 s on 2 cores.

Run by hand, never by CI::

    .venv/bin/python bench/bench_pruning.py                  # 2 threads, the fast path
    .venv/bin/python bench/bench_pruning.py --threads 1
    .venv/bin/python bench/bench_pruning.py --readable       # the readable path, for comparison

The reference setup: a 784 → 200 sigmoid → 10 float32 network (the reference study's, with a
run's initial weights: the cost does not depend on their values) and 10 000 synthetic test
images as uint8 pixels,
scaled chunk by chunk as a run does. It prints the median seconds per curve (both schemes,
all 13 fractions) over ``--repeats`` curves and the CPU the rest of the machine used meanwhile
(NOISY when other processes kept more than half a core busy: rerun then), then PASS or MISS
against the target.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.data import synthetic_dataset  # noqa: E402
from engine.initializers import DEFAULT_INIT  # noqa: E402
from engine.network import Network  # noqa: E402
from engine.pruning import pruning_curve  # noqa: E402
from engine.training import preprocess  # noqa: E402

TARGET_SECONDS = 0.5
NOISY_OTHER_CORES = 0.5  # other processes' CPU per wall second above which the figure is suspect


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent (every process, this one too), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # not idle, not iowait
    return busy / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for the curve (default 2)")
    parser.add_argument("--repeats", type=int, default=7, help="curves timed (default 7)")
    parser.add_argument("--test-size", type=int, default=10_000, help="test images (default 10 000)")
    parser.add_argument("--readable", action="store_true", help="time the readable path instead")
    args = parser.parse_args()

    data = synthetic_dataset(n_train=100, n_test=args.test_size, seed=0)
    net = Network.build((784, 200, 10), "sigmoid", DEFAULT_INIT, np.random.default_rng(0), "float32")
    labels = np.asarray(data.y_test, dtype=np.intp)
    prepare = lambda pixels: preprocess(pixels, "float32")  # noqa: E731

    def curve():
        return pruning_curve(net, data.x_test, labels, prepare=prepare, readable=args.readable, threads=args.threads)

    # The fast path's threads each take a chunk, so BLAS gets one thread per thread; the readable
    # path is single-threaded Python around BLAS products, which may use all of them.
    with threadpool_limits(limits=args.threads if args.readable else 1, user_api="blas"):
        result = curve()  # compiles (or loads) the kernel; not timed
        seconds, others = [], []
        for _ in range(args.repeats):
            machine0, own0, t0 = machine_cpu_seconds(), time.process_time(), time.perf_counter()
            curve()
            elapsed = time.perf_counter() - t0
            seconds.append(elapsed)
            others.append(max(0.0, machine_cpu_seconds() - machine0 - (time.process_time() - own0)))
    median = statistics.median(seconds)
    other_cores = sum(others) / sum(seconds)
    path = "readable" if args.readable else "fast"
    print(f"pruning curve ({path}, {args.threads} thread(s), {args.test_size} test images, 784-200-10 float32): "
          f"median {median:.3f} s per curve over {args.repeats} (min {min(seconds):.3f}, max {max(seconds):.3f}); "
          f"other processes used {other_cores:.2f} cores meanwhile"
          + (" NOISY" if other_cores > NOISY_OTHER_CORES else ""))
    print(f"unpruned accuracy {result.accuracy_global[0]:.4f}; prunable fraction global "
          f"{result.prunable_fraction_global:g}, first layer {result.prunable_fraction_first_layer:g}")
    verdict = "PASS" if median <= TARGET_SECONDS else "MISS"
    print(f"{verdict}: target ≤ {TARGET_SECONDS} s per curve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
