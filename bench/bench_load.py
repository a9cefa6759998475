"""Load benchmark: one seed-sized run watched by 50 WebSocket viewers (plus a stalled one) vs no viewers.

Run by hand (never by CI):

    .venv/bin/python bench/bench_load.py [--viewers 50] [--epochs 3] [--repeats 2] [--executor thread|process]

It starts `normlab serve` in its own process on a fresh database, times the same run
(synthetic data, 20 000 examples, hidden 200, batch 64) with no viewer and with N viewers,
alternating, and prints the slowdown, every viewer's delivery check and the server's peak
RSS (VmHWM; with the process executor, the server's and its run process's). The engine's own
`seconds` (from the run's final event) is the measure.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from simple_websocket import Client

import procfs
from served import BATCHES_PER_EPOCH, SEED_RUN, ServeProcess, follow_run, http

TARGET = 1.10  # watched / alone, at most


def usage(server: ServeProcess, of) -> tuple[float, float]:
    """``of`` (a procfs reader) of the server process and summed over its run processes."""
    return of(server.pid), sum(of(pid) for pid in procfs.python_descendants(server.pid))


def watch(url: str, run_id: int, received: list[int]) -> None:
    """A viewer: subscribe from the start and record every sequence number until the final event."""
    def on_entry(entry: dict) -> None:
        seqs = entry.get("batch", {}).get("seq", []) + entry.get("epoch", {}).get("seq", [])
        seqs += [entry[k]["seq"] for k in ("start", "final") if k in entry]
        received.extend(sorted(seqs))

    follow_run(url, run_id, on_entry)


def timed_run(server: ServeProcess, settings: dict, viewers: int) -> tuple[float, int, str]:
    """Launch the run, attach viewers (and one stalled socket); return (engine seconds, viewers complete,
    where the CPU went)."""
    server_cpu, children_cpu = usage(server, procfs.cpu_seconds)
    bench_cpu, wall = sum(os.times()[:2]), time.monotonic()
    stalled = Client.connect(server.url.replace("http", "ws") + "/ws") if viewers else None
    run = http(server.url + "/api/runs", settings)
    if stalled is not None:
        stalled.send(json.dumps({"type": "subscribe", "runs": {str(run["id"]): -1}}))  # never reads
    logs, threads = [], []
    for _ in range(viewers):
        received: list[int] = []
        t = threading.Thread(target=watch, args=(server.url, run["id"], received))
        t.start()
        logs.append(received)
        threads.append(t)
    while http(f"{server.url}/api/runs/{run['id']}")["status"] in ("queued", "running"):
        time.sleep(0.2)
    for t in threads:
        t.join(120)
    total = http(f"{server.url}/api/runs/{run['id']}/metrics")["last_seq"] + 1
    complete = sum(log == list(range(total)) for log in logs)
    if stalled is not None:
        stalled.close()
    server_after, children_after = usage(server, procfs.cpu_seconds)
    cpu = (f"wall {time.monotonic() - wall:5.2f} s, CPU s: server {server_after - server_cpu:5.2f}, "
           f"run processes {children_after - children_cpu:5.2f}, viewers (this bench) {sum(os.times()[:2]) - bench_cpu:5.2f}")
    return http(f"{server.url}/api/runs/{run['id']}")["result"]["seconds"], complete, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--executor", choices=("thread", "process"), default="process",
                        help="the server's executor (default: process, as `normlab serve`)")
    args = parser.parse_args()
    settings = {**SEED_RUN, "epochs": args.epochs}
    with tempfile.TemporaryDirectory() as tmp:
        server = ServeProcess(Path(tmp) / "bench.sqlite", Path(tmp) / "server.log", executor=args.executor)
        try:
            timed_run(server, {**settings, "epochs": 1}, 0)  # warm up: data generation, caches
            alone, watched, complete, cpu = [], [], [], []
            for _ in range(args.repeats):
                seconds, _, used = timed_run(server, settings, 0)
                alone.append(seconds)
                cpu.append(f"  no viewers  {seconds:5.2f} s  ({used})")
                seconds, ok, used = timed_run(server, settings, args.viewers)
                watched.append(seconds)
                complete.append(ok)
                cpu.append(f"  {args.viewers} viewers  {seconds:5.2f} s  ({used})")
            rss = usage(server, procfs.peak_rss_mb)
        finally:
            server.stop()
    a, w = statistics.median(alone), statistics.median(watched)
    print(f"run: synthetic, 20 000 examples, hidden 200, batch 64, {args.epochs} epochs "
          f"({args.epochs * BATCHES_PER_EPOCH} batch events), executor {args.executor}")
    print(f"no viewers:          {a:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in alone)})")
    print(f"{args.viewers} viewers + 1 stalled: {w:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in watched)})")
    print(f"slowdown:            {w / a:6.3f}×  (target ≤ {TARGET:.2f}×)  {'PASS' if w / a <= TARGET else 'MISS'}")
    print(f"viewers with every event once, in order: {complete} of {args.viewers} each time")
    print("per run (engine seconds, then where the CPU went; the machine has", os.cpu_count(), "cores):")
    print("\n".join(cpu))
    print(f"server peak RSS:     {rss[0]:6.1f} MB (+ run processes {rss[1]:.1f} MB)")


if __name__ == "__main__":
    sys.exit(main())
