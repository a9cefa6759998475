"""Benchmark normlab's NumPy engine against PyTorch and against its own matmul floor.

Run by hand, never by CI (PyTorch is a benchmark-only dependency)::

    .venv/bin/pip install torch==2.13.0
    .venv/bin/python bench/bench_engine.py                 # 1 thread and all cores, real MNIST
    .venv/bin/python bench/bench_engine.py --compare       # also the full reference study
    .venv/bin/python bench/bench_engine.py --emulate-avx2  # AVX2 kernels only (OpenBLAS Haswell, torch avx2)

Each contender runs in a process of its own, on the same data (the reference setup: 20 000 random
MNIST training examples, ``(x/255 - 0.5)*2`` float32, 784→200 sigmoid→10, batch 64, SGD lr 0.1,
shuffled each epoch), and they take turns epoch by epoch so machine noise hits all alike:

1. the engine (``train_seconds`` of its EpochEvents), at 1 thread and at all cores;
2. the same model, data, initial weights and batch order in PyTorch, at all cores;
3. the floor: the two large matrix products per batch alone, on BLAS's own threads, at 1 thread
   and at all cores.

The engine is judged against PyTorch at all cores and against the floor at the same thread
count. It prints the BLAS kernel each process found (threadpoolctl) and the CPU's vector
extensions, so figures from different machines can be told apart. Without PyTorch it says so
and measures engine and floor only. Then ``normlab train`` in a subprocess for its peak memory,
and with ``--compare`` ``normlab compare``'s table.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import engine_contenders  # noqa: E402
import procfs  # noqa: E402
from served import json_records, run_cli  # noqa: E402

TORCH_VERSION = "2.13.0"
SEED_STUDY = (("none", 0.0), ("l2", 0.01), ("l1", 1e-4))
TARGET_VS_TORCH = 0.5     # engine seconds / torch seconds at all cores, at most
TARGET_VS_FLOOR = 1.3     # engine seconds / floor seconds at the same thread count, at most
TARGET_PEAK_MB = 300.0    # peak RSS of one `normlab train` run, at most
NOISY_SPREAD = 1.5        # epoch times spread wider than this: something else used the cores
PAUSE_SECONDS = 0.3       # between turns: longer than BLAS's and OpenMP's spin after a call
# Only the AVX2 kernels, as on a machine without AVX-512: OpenBLAS's Haswell kernels for NumPy,
# PyTorch's avx2 code paths and MKL's / oneDNN's AVX2 ones.
AVX2_ENV = {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
            "ONEDNN_MAX_CPU_ISA": "AVX2"}
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile")


def torch_installed() -> bool:
    """Whether PyTorch can be imported (a note on stderr when not: the rest runs without it)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        print(f"bench_engine: PyTorch is not installed, so the engine is measured against its floor only; "
              f"for the comparison (benchmark only):\n    .venv/bin/pip install torch=={TORCH_VERSION}",
              file=sys.stderr, flush=True)
        return False
    return True


# ----------------------------------------------------------------------------- contenders

@dataclass
class Contender:
    """One contender's process and its epoch times per penalty."""

    kind: str
    threads: int
    process: multiprocessing.Process
    conn: object
    seconds: dict[str, list[float]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.kind}@{self.threads}"

    def turn(self, penalty: str, lam: float, keep: bool = True) -> None:
        """Time this contender's epochs on ``penalty`` (an engine turn is a fresh 2-epoch run: its second counts)."""
        count = 2 if self.kind == "engine" else 1
        self.conn.send(("epochs", penalty, lam, count))
        times = self.conn.recv()
        if keep:
            self.seconds.setdefault(penalty, []).append(times[-1])
        time.sleep(PAUSE_SECONDS)

    def info(self) -> dict:
        self.conn.send(("info",))
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send(None)
        self.process.join(30)


def start_contenders(kinds: list[tuple[str, int]], dataset: str) -> list[Contender]:
    context = multiprocessing.get_context("spawn")
    contenders = []
    for kind, threads in kinds:
        parent, child = context.Pipe()
        process = context.Process(target=engine_contenders.serve, args=(child, kind, threads, dataset), daemon=True)
        process.start()
        contenders.append(Contender(kind, threads, process, parent))
    return contenders


def wait_quiet(cores: float, max_wait: float) -> None:
    """Wait (up to ``max_wait`` s) until the machine uses fewer than ``cores`` over 1 s (the contenders are idle)."""
    deadline = time.monotonic() + max_wait
    while cores > 0 and time.monotonic() < deadline:
        busy = procfs.machine_cpu()[0]
        time.sleep(1.0)
        if procfs.machine_cpu()[0] - busy < cores:
            return


def measure_speed(contenders: list[Contender], epochs: int, quiet: tuple[float, float] = (0.0, 0.0)) -> None:
    """For each penalty: one untimed turn each, then ``epochs`` rounds of one turn each, in rotating order,
    each round once the machine is quiet (``quiet``: fewer cores busy than this, waiting at most that long)."""
    for penalty, lam in SEED_STUDY:
        for contender in contenders:
            contender.turn(penalty, lam, keep=False)
        for round_ in range(epochs):
            wait_quiet(*quiet)
            shift = round_ % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                contender.turn(penalty, lam)
        print(f"  measured {penalty}", file=sys.stderr, flush=True)


def median(contender: Contender | None, penalty: str) -> float:
    if contender is None or not contender.seconds.get(penalty):
        return float("nan")
    return statistics.median(contender.seconds[penalty])


def verdict(ratio: float, target: float) -> str:
    """PASS when the measured figure is within its target (at most), else MISS."""
    return "PASS" if ratio <= target else "MISS"


def ratio_cell(ratio: float, target: float) -> str:
    return "-" if ratio != ratio else f"{ratio:.3f} {verdict(ratio, target)}"  # nan: no torch


def speed_table(by_name: dict[str, Contender], threads: int) -> str:
    """Median s/epoch per contender and the ratios against their targets."""
    names = list(by_name)
    header = ("penalty", *(f"{n} s/ep" for n in names), f"engine/torch @{threads} (≤{TARGET_VS_TORCH:g})",
              *(f"engine/floor @{t} (≤{TARGET_VS_FLOOR:g})" for t in sorted({1, threads})))
    lines = []
    for penalty, _ in SEED_STUDY:
        cells = [f"{median(by_name[n], penalty):.4f}" for n in names]
        engine_all, torch_all = median(by_name.get(f"engine@{threads}"), penalty), median(by_name.get(f"torch@{threads}"), penalty)
        floors = [ratio_cell(median(by_name.get(f"engine@{t}"), penalty) / median(by_name.get(f"floor@{t}"), penalty),
                             TARGET_VS_FLOOR) for t in sorted({1, threads})]
        lines.append((penalty, *cells, ratio_cell(engine_all / torch_all, TARGET_VS_TORCH), *floors))
    return format_table(header, lines)


def spread_table(by_name: dict[str, Contender]) -> str:
    """Min–max per contender and a noise verdict per penalty (the work per epoch is fixed)."""
    header = ("penalty", *(f"{n} min–max" for n in by_name), "noise")
    lines = []
    for penalty, _ in SEED_STUDY:
        runs = [c.seconds.get(penalty, []) for c in by_name.values()]
        spread = max(max(v) / min(v) for v in runs if v)
        noise = f"NOISY (max/min {spread:.1f}): rerun" if spread > NOISY_SPREAD else "ok"
        lines.append((penalty, *(f"{min(v):.4f}–{max(v):.4f}" if v else "-" for v in runs), noise))
    return format_table(header, lines)


def format_table(header, rows) -> str:
    """A plain aligned text table."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- environment

def cpu_flags() -> str:
    """The vector extensions /proc/cpuinfo lists (of those that decide the kernels)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return " ".join(f for f in CPU_FLAGS if f in flags) or "none of " + ", ".join(CPU_FLAGS)


def describe_environment(contenders: list[Contender], args: argparse.Namespace) -> str:
    """Versions, CPU, the thread pools and BLAS kernel each contender's process found, and the setup."""
    lines = [
        f"date      {time.strftime('%Y-%m-%d %H:%M')}",
        f"machine   {procfs.cpu_model()}, {os.cpu_count()} logical cores; load {procfs.loadavg()}",
        f"cpu flags {cpu_flags()}" + ("   (--emulate-avx2: AVX2 kernels only)" if args.emulate_avx2 else ""),
        f"python    {platform.python_version()}   numpy {np.__version__}",
        f"dataset   {args.dataset}, reference setup (20 000 examples, batch 64, hidden 200, lr 0.1)",
        f"epochs    {args.epochs} timed per contender and penalty (+1 untimed turn each), median reported",
        "processes (thread pools as threadpoolctl sees them inside each):",
    ]
    for contender in contenders:
        info = contender.info()
        pools = "; ".join(f"{p.get('internal_api')} {p.get('version')} {p.get('architecture', '-')} "
                          f"{p.get('num_threads')} thread(s)" for p in info["pools"])
        torch_note = f"torch {info['torch']} ({info['torch_cpu']}); " if "torch" in info else ""
        lines.append(f"  {contender.name:9} {torch_note}{pools}")
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


def measure_memory(dataset: str) -> str:
    """Peak RSS of one seed-setup ``normlab train`` run (20 epochs, default flags).

    The figure is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` taken in a small launcher process
    (see MAXRSS_LAUNCHER), so it is the run's own peak, not this process's size.
    """
    start = time.perf_counter()
    proc = run_cli("train", "--json", "--dataset", dataset, launcher=(sys.executable, "-c", MAXRSS_LAUNCHER))
    wall = time.perf_counter() - start
    kib = int(proc.stderr.rsplit("maxrss_kib=", 1)[1].split()[0])  # KiB on Linux
    peak_mb = kib / 1024
    done = json_records(proc.stdout)[-1]
    return "\n".join([
        f"peak RSS   {peak_mb:.0f} MB (target ≤ {TARGET_PEAK_MB:g} MB) {verdict(peak_mb, TARGET_PEAK_MB)}",
        f"test acc   {done['test_accuracy']:.4f}",
        f"seconds    {done['seconds']:.1f} (engine, 20 epochs incl. evaluation); {wall:.1f} wall incl. start-up and data",
    ])


def run_compare() -> str:
    """Run the reference study (``normlab compare --json``, every core) and tabulate its final records."""
    proc = run_cli("compare", "--json")
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
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="'all cores': the threads of the multi-threaded contenders (default: the usable cores)")
    parser.add_argument("--dataset", choices=("mnist", "synthetic"), default="mnist",
                        help="mnist (default) or synthetic for machines without MNIST")
    parser.add_argument("--emulate-avx2", action="store_true",
                        help="restrict NumPy's OpenBLAS and PyTorch to their AVX2 kernels (a machine without AVX-512)")
    parser.add_argument("--quiet", type=float, default=0.3, help="before each round wait until the rest of the "
                        "machine uses fewer cores than this (0: do not wait; default %(default)s)")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="longest wait for quiet, s (default %(default)s)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the `normlab train` peak-memory run")
    parser.add_argument("--compare", action="store_true",
                        help="also run `normlab compare` (real MNIST, 3 × 20 epochs) and print its table")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.threads < 1:
        parser.error("--epochs and --threads must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.emulate_avx2:
        os.environ.update(AVX2_ENV)  # before any contender (or `normlab train`) process starts
    threads = args.threads
    kinds = [("engine", 1), ("engine", threads), ("floor", 1), ("floor", threads)]
    if torch_installed():
        kinds.insert(2, ("torch", threads))
    kinds = list(dict.fromkeys(kinds))  # one of each when --threads 1
    contenders = start_contenders(kinds, args.dataset)
    try:
        print(describe_environment(contenders, args), flush=True)
        print("\n== speed: median seconds per epoch, training steps only, each contender in its own process ==",
              flush=True)
        measure_speed(contenders, args.epochs, (args.quiet, args.quiet_wait))
    finally:
        for contender in contenders:
            contender.stop()
    by_name = {c.name: c for c in contenders}
    print(speed_table(by_name, threads))
    print()
    print(spread_table(by_name), flush=True)

    if not args.skip_memory:
        print(f"\n== memory: `normlab train --json --dataset {args.dataset}` (reference setup, 20 epochs), subprocess ==",
              flush=True)
        print(measure_memory(args.dataset), flush=True)
    if args.compare:
        print("\n== `normlab compare --json` (reference study, real MNIST) ==", flush=True)
        print(run_compare(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
