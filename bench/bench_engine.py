"""Benchmark normlab's NumPy engine against PyTorch and against its own matmul floor.

Run by hand, never by CI (PyTorch is a benchmark-only dependency)::

    .venv/bin/pip install torch==2.13.0
    .venv/bin/python bench/bench_engine.py                 # all cores, real MNIST
    .venv/bin/python bench/bench_engine.py --threads 1
    .venv/bin/python bench/bench_engine.py --compare       # also the full seed study

In one process, on the same data (the seed setup: 20 000 random MNIST training examples,
``(x/255 - 0.5)*2`` float32, 784→200 sigmoid→10, batch 64, SGD lr 0.1, shuffled each epoch)
and with the same thread count, it measures median seconds per epoch of the training steps for

1. the engine (``train_seconds`` of its EpochEvents) for each penalty of the seed study;
2. the same model, data, initial weights and batch order in PyTorch on the CPU;
3. the floor: the two large matrix products per batch alone, in NumPy.

Repetitions are interleaved (engine epoch, torch epoch, floor epoch, engine epoch, ...) so
machine noise hits all three alike. Without PyTorch it says so and measures the engine against
its floor only. It then runs ``normlab train`` in a subprocess to report its peak memory, and
with ``--compare`` runs ``normlab compare`` and prints its table.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine import EpochEvent, RunConfig, train  # noqa: E402

import procfs  # noqa: E402
from engine_contenders import MatmulFloor, Setup, TorchTrainer, make_setup  # noqa: E402
from served import json_records, run_cli  # noqa: E402

TORCH_VERSION = "2.13.0"
SEED_STUDY = (("none", 0.0), ("l2", 0.01), ("l1", 1e-4))
TARGET_VS_TORCH = 0.5     # engine seconds / torch seconds, at most
TARGET_VS_FLOOR = 1.5     # engine seconds / floor seconds, at most
TARGET_PEAK_MB = 300.0    # peak RSS of one `normlab train` run, at most
NOISY_SPREAD = 1.5        # epoch times spread wider than this: something else used the cores
WARMUP_EPOCHS = 1         # untimed epochs per contender before measuring


# ----------------------------------------------------------------------------- contenders

def import_torch():
    """torch, or None (with a note on stderr) when it is missing: the rest runs without it."""
    try:
        import torch
    except ImportError:
        print(f"bench_engine: PyTorch is not installed, so the engine is measured against its floor only; "
              f"for the comparison (benchmark only):\n    .venv/bin/pip install torch=={TORCH_VERSION}",
              file=sys.stderr, flush=True)
        return None
    return torch


def run_engine(config: RunConfig, dataset, after_epoch: Callable[[], None]) -> list[float]:
    """Train with the engine; return each epoch's ``train_seconds``.

    ``after_epoch`` runs after every epoch's EpochEvent, outside the engine's timed
    training steps: that is where the other contenders take their turn.
    """
    seconds: list[float] = []

    def on_event(event) -> None:
        if isinstance(event, EpochEvent):
            seconds.append(event.train_seconds)
            after_epoch()

    final = train(config, dataset, on_event)
    if final.kind != "done":
        raise RuntimeError(f"engine run {config.describe_penalty()} ended {final.kind}: {getattr(final, 'reason', '')}")
    return seconds


# ----------------------------------------------------------------------------- speed

@dataclass
class SpeedRow:
    """Per-epoch timings of the three contenders for one penalty."""

    label: str
    engine: list[float]
    torch: list[float]
    floor: list[float]

    @property
    def medians(self) -> tuple[float, float, float]:
        """Median s/epoch of engine, torch (nan without torch) and floor."""
        return tuple(statistics.median(v) if v else float("nan") for v in (self.engine, self.torch, self.floor))


def measure_penalty(torch, setup: Setup, penalty: str, lam: float, epochs: int) -> SpeedRow:
    """Interleave engine, torch (when installed) and floor epochs for one penalty; ``epochs`` timed each."""
    config = replace(setup.config, penalty=penalty, lam=lam, epochs=epochs + WARMUP_EPOCHS)
    trainer = TorchTrainer(torch, setup, penalty, lam) if torch is not None else None
    floor = MatmulFloor(setup)
    torch_s: list[float] = []
    floor_s: list[float] = []

    def others() -> None:
        if trainer is not None:
            torch_s.append(trainer.epoch())
        floor_s.append(floor.epoch())

    engine_s = run_engine(config, setup.dataset, others)
    w = WARMUP_EPOCHS
    return SpeedRow(config.describe_penalty(), engine_s[w:], torch_s[w:], floor_s[w:])


def limit_threads(torch, threads: int) -> None:
    """Limit numpy's BLAS (and any OpenMP pool loaded) and torch to ``threads``, process-wide."""
    threadpool_limits(limits=threads)
    if torch is not None:
        torch.set_num_threads(threads)


def measure_speed(torch, setup: Setup, epochs: int) -> list[SpeedRow]:
    """All penalties of the seed study (threads already limited by ``limit_threads``)."""
    rows = []
    for penalty, lam in SEED_STUDY:
        rows.append(measure_penalty(torch, setup, penalty, lam, epochs))
        print(f"  measured {rows[-1].label}", file=sys.stderr, flush=True)
    return rows


def verdict(ratio: float, target: float) -> str:
    """PASS when the measured figure is within its target (at most), else MISS."""
    return "PASS" if ratio <= target else "MISS"


def ratio_cell(ratio: float, target: float) -> str:
    return "-" if ratio != ratio else f"{ratio:.3f} {verdict(ratio, target)}"  # nan: no torch


def speed_table(rows: list[SpeedRow]) -> str:
    """Median s/epoch per contender and the two ratios against their targets."""
    header = ("penalty", "engine s/ep", "torch s/ep", "floor s/ep",
              f"engine/torch (≤{TARGET_VS_TORCH:g})", f"engine/floor (≤{TARGET_VS_FLOOR:g})")
    lines = []
    for row in rows:
        eng, tor, flo = row.medians
        r_t, r_f = eng / tor, eng / flo
        lines.append((row.label, f"{eng:.4f}", f"{tor:.4f}" if row.torch else "-", f"{flo:.4f}",
                      ratio_cell(r_t, TARGET_VS_TORCH), ratio_cell(r_f, TARGET_VS_FLOOR)))
    return format_table(header, lines)


def spread_table(rows: list[SpeedRow]) -> str:
    """Min and max per contender, and a noise verdict per penalty.

    The work per epoch is fixed, so a row is NOISY when any contender's slowest epoch took
    over NOISY_SPREAD × its fastest, or when its floor median (the same work in every row)
    is over NOISY_SPREAD × the fastest floor epoch of the whole run.
    """
    best_floor = min(min(r.floor) for r in rows)
    header = ("penalty", "engine min–max", "torch min–max", "floor min–max", "noise")
    cell = lambda v: f"{min(v):.4f}–{max(v):.4f}" if v else "-"  # noqa: E731
    lines = []
    for r in rows:
        spread = max(max(v) / min(v) for v in (r.engine, r.torch, r.floor) if v)
        drift = statistics.median(r.floor) / best_floor
        noisy = spread > NOISY_SPREAD or drift > NOISY_SPREAD
        noise = f"NOISY (max/min {spread:.1f}, floor {drift:.1f}× best): rerun" if noisy else "ok"
        lines.append((r.label, cell(r.engine), cell(r.torch), cell(r.floor), noise))
    return format_table(header, lines)


def format_table(header, rows) -> str:
    """A plain aligned text table."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- environment

def describe_environment(torch, setup: Setup, threads: int, epochs: int) -> str:
    """Versions, BLAS libraries, thread count and dataset, as printed above the results."""
    lines = [
        f"date      {time.strftime('%Y-%m-%d %H:%M')}",
        f"machine   {procfs.cpu_model()}, {os.cpu_count()} logical cores",
        f"python    {platform.python_version()}   numpy {np.__version__}   "
        f"torch {torch.__version__ if torch is not None else 'not installed'}",
        f"threads   {threads} (numpy BLAS via threadpoolctl, torch.set_num_threads)",
        f"dataset   {setup.config.dataset} ({setup.dataset.source}), {len(setup.y)} training examples, "
        f"{setup.x.dtype}, batch {setup.config.batch_size}, hidden {setup.config.hidden}, lr {setup.config.lr:g}",
        f"epochs    {epochs} timed per contender and penalty (+{WARMUP_EPOCHS} warm-up), median reported",
        "BLAS / thread pools:",
    ]
    for pool in threadpool_info():
        lines.append(f"  {pool.get('internal_api')} {pool.get('version')} ({pool.get('user_api')}, "
                     f"{pool.get('num_threads')} threads, {pool.get('threading_layer', '-')}, "
                     f"{pool.get('architecture', '-')}): {Path(pool['filepath']).name}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- subprocesses

# Runs a command and reports the peak RSS of its children on stderr. Linux charges a child, at
# exec, with the resident size of the process it was forked from (see exec_mmap), so measuring
# `normlab train` directly from this process would report this process's ~600 MB (torch and
# data loaded). Launched from this small interpreter, the child starts from ~10 MB instead.
MAXRSS_LAUNCHER = """\
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(f"maxrss_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def measure_memory(threads: int, dataset: str) -> str:
    """Peak RSS of one seed-setup ``normlab train`` run (20 epochs, default flags).

    The figure is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` taken in a small launcher process
    (see MAXRSS_LAUNCHER), so it is the run's own peak, not this process's size.
    """
    start = time.perf_counter()
    proc = run_cli("train", "--json", "--dataset", dataset, blas_threads=threads,
                   launcher=(sys.executable, "-c", MAXRSS_LAUNCHER))
    wall = time.perf_counter() - start
    kib = int(proc.stderr.rsplit("maxrss_kib=", 1)[1].split()[0])  # KiB on Linux
    peak_mb = kib / 1024
    done = json_records(proc.stdout)[-1]
    return "\n".join([
        f"peak RSS   {peak_mb:.0f} MB (target ≤ {TARGET_PEAK_MB:g} MB) {verdict(peak_mb, TARGET_PEAK_MB)}",
        f"test acc   {done['test_accuracy']:.4f}",
        f"seconds    {done['seconds']:.1f} (engine, 20 epochs incl. evaluation); {wall:.1f} wall incl. start-up and data",
    ])


def run_compare(threads: int) -> str:
    """Run the seed study (``normlab compare --json``) and tabulate its final records."""
    proc = run_cli("compare", "--json", blas_threads=threads)
    records = json_records(proc.stdout)
    last_epoch = {r["run"]: r for r in records if r.get("event") == "epoch"}
    rows = []
    for r in records:
        if r.get("event") != "done":
            continue
        w1 = last_epoch[r["run"]]["weights"][0]
        rows.append((r["run"], f"{r['test_accuracy']:.4f}", f"{r['sparsity']:.1%}", f"{w1['sparsity']:.1%}",
                     str(r["dead_units"]), f"{r['seconds']:.1f}"))
    header = ("penalty", "test acc", "sparsity (|w|<1e-3)", "W1 sparsity", "dead units", "seconds")
    return format_table(header, rows)


# ----------------------------------------------------------------------------- main

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per contender and penalty (default 5)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for numpy's BLAS and torch (default: all cores)")
    parser.add_argument("--dataset", choices=("mnist", "synthetic"), default="mnist",
                        help="mnist (default) or synthetic for machines without MNIST")
    parser.add_argument("--skip-memory", action="store_true", help="skip the `normlab train` peak-memory run")
    parser.add_argument("--compare", action="store_true",
                        help="also run `normlab compare` (real MNIST, 3 × 20 epochs) and print its table")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.threads < 1:
        parser.error("--epochs and --threads must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    torch = import_torch()
    limit_threads(torch, args.threads)
    setup = make_setup(args.dataset)
    print(describe_environment(torch, setup, args.threads, args.epochs), flush=True)

    print("\n== speed: median seconds per epoch, training steps only ==", flush=True)
    rows = measure_speed(torch, setup, args.epochs)
    print(speed_table(rows))
    print()
    print(spread_table(rows), flush=True)

    if not args.skip_memory:
        print(f"\n== memory: `normlab train --json --dataset {args.dataset}` (seed setup, 20 epochs), subprocess ==",
              flush=True)
        print(measure_memory(args.threads, args.dataset), flush=True)
    if args.compare:
        print("\n== `normlab compare --json` (seed study, real MNIST) ==", flush=True)
        print(run_compare(args.threads), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
