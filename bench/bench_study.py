"""A study of seed-sized runs three ways: one after another on one core, `normlab sweep` on every
core, and through the dashboard (`normlab serve`, a study launched over the API).

Run by hand, never by CI::

    .venv/bin/python bench/bench_study.py                  # 30 runs × 2 epochs, 2 rounds (a few minutes)
    .venv/bin/python bench/bench_study.py --rounds 1 --epochs 1

The runs: synthetic data, 20 000 examples, hidden 200, batch 64, L1 and L2 × 5 λ × 3 seeds.
The baseline is `normlab sweep --workers 1` kept to one core (`taskset`); `normlab sweep` and
the dashboard use their defaults (one run per core). Each figure is the command's wall time
(the dashboard's: from the POST until the last run finished), the three alternated round by
round in rotating order. Also checks that the sweep's numbers equal the baseline's. Beside
each figure, the CPU the rest of the machine used meanwhile: a shared machine's load hides the
second core.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import procfs
from served import ROOT, ServeProcess, child_env, http, json_records

TARGET = 0.6  # study wall time / one after another on one core, at most
PENALTIES, LAMS, SEEDS = ("l1", "l2"), (1e-5, 1e-4, 1e-3, 1e-2, 1e-1), 3
SETTINGS = {"dataset": "synthetic", "train_size": 20000, "hidden": 200, "batch_size": 64}


def sweep_flags(epochs: int) -> list[str]:
    return ["--penalties", ",".join(PENALTIES), "--lams", ",".join(f"{lam:g}" for lam in LAMS),
            "--seeds", str(SEEDS), "--epochs", str(epochs), "--json",
            *(f"--{k.replace('_', '-')}={v}" for k, v in SETTINGS.items())]


def timed_sweep(epochs: int, one_core: int | None) -> tuple[float, list[dict], float]:
    """Wall seconds, final records and the others' CPU seconds of one `normlab sweep`."""
    command = [sys.executable, "-m", "app.cli", "sweep", *sweep_flags(epochs)]
    if one_core is not None:
        command = ["taskset", "-c", str(one_core), *command, "--workers", "1"]
    busy, own = procfs.machine_cpu()[0], children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=child_env(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    others = procfs.machine_cpu()[0] - busy - (children_cpu() - own)
    if proc.returncode != 0:
        raise RuntimeError(f"normlab sweep exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    records = [r for r in json_records(proc.stdout) if r.get("event") == "done"]
    return wall, records, max(0.0, others)


def timed_dashboard(server: ServeProcess, epochs: int) -> tuple[float, float]:
    """Wall seconds from launching the study until its last run finished, and the others' CPU."""
    body = {"name": "bench", "penalties": list(PENALTIES), "lams": list(LAMS), "seeds": SEEDS,
            "settings": {**SETTINGS, "epochs": epochs}}
    busy, own = procfs.machine_cpu()[0], server_cpu(server.pid)
    start = time.perf_counter()
    study = http(server.url + "/api/studies", body)
    while True:
        counts = http(f"{server.url}/api/studies/{study['id']}")["counts"]
        if sum(counts.values()) - counts.get("queued", 0) - counts.get("running", 0) >= len(study["runs"]):
            break
        time.sleep(0.05)
    wall = time.perf_counter() - start
    others = procfs.machine_cpu()[0] - busy - (server_cpu(server.pid) - own)
    if counts.get("completed", 0) != len(study["runs"]):
        raise RuntimeError(f"the dashboard's study ended with {counts}")
    return wall, max(0.0, others)


def children_cpu() -> float:
    """CPU seconds of this process's finished children (and theirs)."""
    usage = os.times()
    return usage.children_user + usage.children_system


def server_cpu(pid: int) -> float:
    return sum(procfs.cpu_seconds(p) for p in [pid, *procfs.descendants(pid)])


def strip(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in records]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the three, alternated (default 2)")
    args = parser.parse_args(argv)
    cores = sorted(os.sched_getaffinity(0))
    runs = len(PENALTIES) * len(LAMS) * SEEDS
    print(f"machine   {procfs.cpu_model()}, {len(cores)} cores; load {procfs.loadavg()}")
    print(f"study     {runs} runs: {', '.join(PENALTIES)} × {len(LAMS)} λ × {SEEDS} seeds, {args.epochs} epochs of "
          f"{SETTINGS['train_size']} synthetic examples, hidden {SETTINGS['hidden']}, batch {SETTINGS['batch_size']}",
          flush=True)
    walls: dict[str, list[float]] = {"one core": [], "sweep": [], "dashboard": []}
    records: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = ServeProcess(Path(tmp) / "db.sqlite", Path(tmp) / "serve.log")
        try:
            status = http(server.url + "/api/status")
            print(f"dashboard workers {status['workers']}, executor {status['executor']}", flush=True)
            for round_ in range(args.rounds):
                order = list(walls)
                for name in order[round_ % 3:] + order[:round_ % 3]:
                    if name == "dashboard":
                        wall, others = timed_dashboard(server, args.epochs)
                    else:
                        wall, done, others = timed_sweep(args.epochs, cores[-1] if name == "one core" else None)
                        records[name] = strip(done)
                    walls[name].append(wall)
                    print(f"  round {round_ + 1} {name:9} {wall:6.1f} s  (the rest of the machine used "
                          f"{others:.1f} CPU s meanwhile)", flush=True)
        finally:
            server.stop()
    same = records["sweep"] == records["one core"] and len(records["sweep"]) == runs
    base = statistics.median(walls["one core"])
    print(f"\none after another on one core: {base:.1f} s (median of {args.rounds})")
    for name in ("sweep", "dashboard"):
        ratio = statistics.median(walls[name]) / base
        print(f"{name:9} {statistics.median(walls[name]):.1f} s = {ratio:.2f}× (target ≤ {TARGET}) "
              f"{'PASS' if ratio <= TARGET else 'MISS'}")
    print(f"sweep numbers equal one after another on one core: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
