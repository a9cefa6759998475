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
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from simple_websocket import Client

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`normlab serve` in a child process."""

    def __init__(self, db: Path, executor: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", str(self.port),
                                      "--no-preload", "--executor", executor], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.get("/api/status")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.load(r)

    def post(self, path: str, body: dict):
        req = urllib.request.Request(self.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def children(self) -> list[int]:
        """The server's child processes (the process executor's run processes)."""
        children = set()
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():  # a child belongs to the thread that started it
            try:
                children.update(int(pid) for pid in (task / "children").read_text().split())
            except OSError:
                pass
        return sorted(children)

    def peak_rss_mb(self) -> tuple[float, float]:
        """Peak RSS of the server process and of its child processes, MB."""
        return _peak_rss_mb(self.proc.pid), sum(_peak_rss_mb(pid) for pid in self.children())

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU seconds used so far by the server process and by its child processes."""
        return _cpu_seconds(self.proc.pid), sum(_cpu_seconds(pid) for pid in self.children())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def watch(url: str, run_id: int, received: list[int], done: threading.Event) -> None:
    """A viewer: subscribe from the start and record every sequence number until the final event."""
    ws = Client.connect(url)
    ws.send(json.dumps({"type": "subscribe", "runs": {str(run_id): -1}}))
    while not done.is_set():
        raw = ws.receive(timeout=1)
        if raw is None:
            continue
        message = json.loads(raw)
        if message["type"] != "frame":
            continue
        for entry in message["runs"]:
            seqs = entry.get("batch", {}).get("seq", []) + entry.get("epoch", {}).get("seq", [])
            seqs += [entry[k]["seq"] for k in ("start", "final") if k in entry]
            received.extend(sorted(seqs))
            if "final" in entry:
                done.set()
    ws.close()


def timed_run(server: Server, settings: dict, viewers: int) -> tuple[float, int, str]:
    """Launch the run, attach viewers (and one stalled socket); return (engine seconds, viewers complete,
    where the CPU went)."""
    server_cpu, children_cpu = server.cpu_seconds()
    bench_cpu, wall = sum(os.times()[:2]), time.monotonic()
    stalled = Client.connect(server.url.replace("http", "ws") + "/ws") if viewers else None
    run = server.post("/api/runs", settings)
    if stalled is not None:
        stalled.send(json.dumps({"type": "subscribe", "runs": {str(run["id"]): -1}}))  # never reads
    logs, threads = [], []
    for _ in range(viewers):
        received, done = [], threading.Event()
        t = threading.Thread(target=watch, args=(server.url.replace("http", "ws") + "/ws", run["id"], received, done))
        t.start()
        logs.append(received)
        threads.append(t)
    while server.get(f"/api/runs/{run['id']}")["status"] in ("queued", "running"):
        time.sleep(0.2)
    for t in threads:
        t.join(120)
    total = server.get(f"/api/runs/{run['id']}/metrics")["last_seq"] + 1
    complete = sum(log == list(range(total)) for log in logs)
    if stalled is not None:
        stalled.close()
    server_after, children_after = server.cpu_seconds()
    cpu = (f"wall {time.monotonic() - wall:5.2f} s, CPU s: server {server_after - server_cpu:5.2f}, "
           f"run processes {children_after - children_cpu:5.2f}, viewers (this bench) {sum(os.times()[:2]) - bench_cpu:5.2f}")
    return server.get(f"/api/runs/{run['id']}")["result"]["seconds"], complete, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--executor", choices=("thread", "process"), default="process",
                        help="the server's executor (default: process, as `normlab serve`)")
    args = parser.parse_args()
    settings = {"dataset": "synthetic", "train_size": 20000, "batch_size": 64, "hidden": 200, "epochs": args.epochs}
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "bench.sqlite", args.executor)
        try:
            timed_run(server, {**settings, "epochs": 1}, 0)  # warm up: data generation, caches
            alone, watched, complete, cpu = [], [], [], []
            for _ in range(args.repeats):
                seconds, _, usage = timed_run(server, settings, 0)
                alone.append(seconds)
                cpu.append(f"  no viewers  {seconds:5.2f} s  ({usage})")
                seconds, ok, usage = timed_run(server, settings, args.viewers)
                watched.append(seconds)
                complete.append(ok)
                cpu.append(f"  {args.viewers} viewers  {seconds:5.2f} s  ({usage})")
            rss = server.peak_rss_mb()
        finally:
            server.stop()
    a, w = statistics.median(alone), statistics.median(watched)
    steps = settings["epochs"] * 313
    print(f"run: synthetic, 20 000 examples, hidden 200, batch 64, {args.epochs} epochs ({steps} batch events), "
          f"executor {args.executor}")
    print(f"no viewers:          {a:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in alone)})")
    print(f"{args.viewers} viewers + 1 stalled: {w:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in watched)})")
    print(f"slowdown:            {w / a:6.3f}×  (target ≤ 1.10×)  {'PASS' if w / a <= 1.10 else 'MISS'}")
    print(f"viewers with every event once, in order: {complete} of {args.viewers} each time")
    print("per run (engine seconds, then where the CPU went; the machine has", os.cpu_count(), "cores):")
    print("\n".join(cpu))
    print(f"server peak RSS:     {rss[0]:6.1f} MB (+ run processes {rss[1]:.1f} MB)")


if __name__ == "__main__":
    main()
