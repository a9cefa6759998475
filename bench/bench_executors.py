"""Throughput of normlab's executors on one small sweep, side by side. Run by hand, never by CI::

    .venv/bin/pip install 'dask>=2024.1' 'distributed>=2024.1'     # or: pip install -e '.[cluster]'
    .venv/bin/python bench/bench_executors.py                        # 6 runs: none/l1/l2 × 2 seeds
    .venv/bin/python bench/bench_executors.py --epochs 5 --only thread,process

The sweep is seed-sized synthetic runs (train_size 20 000, hidden 200, batch 64, lr 0.1; penalties
none, L1 λ=1e-4, L2 λ=0.01 × seeds 0 and 1), trained

(a) by the thread executor, one run after another (one run at a time uses every core),
    and again with one thread (a baseline: one core busy);
(b) by the process executor with 2 workers (2 child processes sharing the cores out);
(c) by the dask executor on a LocalCluster of 2 worker processes × 1 thread.

Each side starts cold (fresh processes, datasets not loaded yet), driven the way the job manager
drives it: N threads each calling ``executor.run`` with an ``on_event`` that keeps every event.
Reported per side: wall time of the whole sweep and runs per minute; and per run its wall time as
seen by the caller against the engine's own ``seconds`` (its final event: first step to last
epoch, without data loading), the difference being what running it elsewhere and streaming its
events back costs that run. Every run's events are checked to arrive complete and in order.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import queue
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine import RunConfig  # noqa: E402
from engine.events import Event  # noqa: E402

import procfs  # noqa: E402

PENALTIES = (("none", 0.0), ("l1", 1e-4), ("l2", 0.01))


@dataclass
class RunResult:
    config: RunConfig
    final: Event
    wall: float  # seconds from executor.run() to its return, in the calling thread
    events: int

    @property
    def engine(self) -> float:
        return self.final.seconds

    @property
    def overhead(self) -> float:
        return self.wall - self.final.seconds


@dataclass
class SideResult:
    name: str
    workers: int
    wall: float
    setup: float  # seconds to create the executor (and the cluster), not in ``wall``
    runs: list[RunResult]

    @property
    def runs_per_minute(self) -> float:
        return len(self.runs) / self.wall * 60


def sweep_configs(args) -> list[RunConfig]:
    return [RunConfig(dataset="synthetic", train_size=args.train_size, hidden=args.hidden, epochs=args.epochs,
                      batch_size=64, lr=0.1, penalty=penalty, lam=lam, seed=seed)
            for seed in range(args.seeds) for penalty, lam in PENALTIES]


def drive(executor, configs: list[RunConfig], threads: int) -> tuple[float, list[RunResult]]:
    """Run the configs through ``executor`` from ``threads`` threads, as the job manager would."""
    jobs: queue.Queue[RunConfig] = queue.Queue()
    for config in configs:
        jobs.put(config)
    results: list[RunResult] = []
    errors: list[BaseException] = []

    def work() -> None:
        while True:
            try:
                config = jobs.get_nowait()
            except queue.Empty:
                return
            events: list[Event] = []
            started = time.perf_counter()
            try:
                final = executor.run(config, events.append, lambda: False)
            except BaseException as exc:  # reported after the sweep
                errors.append(exc)
                return
            wall = time.perf_counter() - started
            assert [e.seq for e in events] == list(range(len(events))), "events out of order"
            assert events[-1] is final and final.kind == "done", final
            results.append(RunResult(config, final, wall, len(events)))

    started = time.perf_counter()
    workers = [threading.Thread(target=work, name=f"bench-worker-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started, results


def bench_thread(configs, threads: int | None = None) -> SideResult:
    from app.datasets import DatasetCache
    from app.executors import ThreadExecutor

    started = time.perf_counter()
    executor = ThreadExecutor(DatasetCache(None), 1)
    executor.threads = threads or executor.threads
    setup = time.perf_counter() - started
    wall, runs = drive(executor, configs, 1)
    executor.close()
    return SideResult("thread (1 run at a time)", 1, wall, setup, runs)


def bench_thread_one_blas(configs) -> SideResult:
    """The thread executor with one thread per run: one core busy, the others idle (a baseline)."""
    side = bench_thread(configs, threads=1)
    side.name = "thread, 1 thread"
    return side


def bench_process(configs, workers: int) -> SideResult:
    from app.executors import ProcessExecutor

    started = time.perf_counter()
    executor = ProcessExecutor(None, workers)
    setup = time.perf_counter() - started
    wall, runs = drive(executor, configs, workers)
    executor.close()
    return SideResult(f"process ({workers} workers)", workers, wall, setup, runs)


def bench_dask(configs, workers: int) -> SideResult:
    import distributed

    from app.executors.cluster import DaskExecutor

    logging.getLogger("distributed").setLevel(logging.WARNING)
    started = time.perf_counter()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        executor = DaskExecutor(cluster.scheduler_address)
        setup = time.perf_counter() - started
        wall, runs = drive(executor, configs, workers)
        executor.close()
    return SideResult(f"dask (LocalCluster {workers}×1)", workers, wall, setup, runs)


def report(sides: list[SideResult], args) -> None:
    print(f"\nnormlab executors: {len(sides[0].runs)} synthetic runs (train_size {args.train_size}, hidden "
          f"{args.hidden}, {args.epochs} epochs, batch 64; none/L1/L2 × {args.seeds} seeds)")
    print(f"machine: {procfs.cpu_model()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}\n")
    base = sides[0].wall if sides[0].name.startswith("thread") else None
    header = ("executor", "sweep s", "runs/min", "vs thread", "run wall s", "engine s", "overhead s",
              "first-run overhead s", "events/run")
    rows = []
    for side in sides:
        ordered = sorted(side.runs, key=lambda r: r.overhead)
        rows.append((side.name, f"{side.wall:.1f}", f"{side.runs_per_minute:.1f}",
                     f"{base / side.wall:.2f}×" if base else "-",
                     f"{statistics.median(r.wall for r in side.runs):.2f}",
                     f"{statistics.median(r.engine for r in side.runs):.2f}",
                     f"{statistics.median(r.overhead for r in side.runs):.3f}",
                     f"{ordered[-1].overhead:.2f}",
                     f"{side.runs[0].events}"))
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(row, widths))))
    print("\nrun wall s, engine s, overhead s: medians over the runs; overhead = wall − engine (streaming, "
          "process/task start, data loading); first-run overhead: the largest (a cold worker loads its dataset).")
    print("setup s (not in the sweep):", ", ".join(f"{s.name} {s.setup:.1f}" for s in sides))
    accuracies = {s.name: {(r.config.penalty, r.config.seed): r.final.test_accuracy for r in s.runs} for s in sides}
    reference = next(iter(accuracies.values()))
    spread = max(abs(acc[k] - reference[k]) for acc in accuracies.values() for k in reference)
    print(f"same runs, same results: largest test-accuracy difference between executors {spread:.4f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="process and dask workers (default 2)")
    parser.add_argument("--only", default="thread,thread1,process,dask",
                        help="comma-separated sides to run (thread1: the thread executor with one BLAS thread)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    args = parser.parse_args(argv)
    configs = sweep_configs(args)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    sides = []
    for name in chosen:
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        if name == "thread":
            sides.append(bench_thread(configs))
        elif name == "thread1":
            sides.append(bench_thread_one_blas(configs))
        elif name == "process":
            sides.append(bench_process(configs, args.workers))
        elif name == "dask":
            sides.append(bench_dask(configs, args.workers))
        else:
            parser.error(f"--only: unknown side {name!r}; choose from thread, thread1, process, dask")
    report(sides, args)
    if args.json:
        Path(args.json).write_text(json.dumps([{
            "executor": s.name, "sweep_seconds": s.wall, "runs_per_minute": s.runs_per_minute, "setup_seconds": s.setup,
            "runs": [{"penalty": r.config.penalty, "seed": r.config.seed, "wall": r.wall, "engine": r.engine,
                      "overhead": r.overhead, "events": r.events, "test_accuracy": r.final.test_accuracy}
                     for r in s.runs]} for s in sides], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
