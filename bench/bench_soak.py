"""Soak: a dashboard left open with work going on, watched for growth in descriptors, threads and memory.

Run by hand (the suite runs a one-minute version: tests/browser/test_soak.py):

    .venv/bin/python bench/bench_soak.py [--minutes 10] [--interval 60] [--warmup 60] [--check]

It starts `normlab serve` (process executor) on a fresh database and, for the set time, keeps
at it the way a dashboard left open for weeks is: a chromium tab on the dashboard and one on a
run page (moved to the newest run now and then), a stream of short synthetic runs (the oldest
deleted so the table stays the same size), API polling on a new connection per request, and
WebSockets opening, subscribing and closing. Every interval it prints the open descriptors,
threads and RSS of the server and of its run processes; at the end, each one's slope and its
growth from the first third of the samples after the warm-up to the last third. With
``--check`` it exits 1 when any growth passes the noise allowance or the workload met an error.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path

import procfs
from dashboard_browser import Browser
from served import ServeProcess, http

SHORT_RUN = {"dataset": "synthetic", "train_size": 600, "batch_size": 50, "hidden": 16, "epochs": 3}
KEEP_RUNS = 30
# Growth from the first to the last third of the samples that is still noise: requests and
# sockets in flight at a sample hold a thread and a descriptor or two; allocators keep a few MB.
ALLOWED_GROWTH = {"fds": 6, "threads": 6, "rss_mb": 12.0}


@dataclass
class Sample:
    seconds: float
    server: dict[str, float]
    runs: dict[str, float]


def measure(pid: int) -> dict[str, float]:
    return {"fds": procfs.open_fds(pid), "threads": procfs.threads(pid), "rss_mb": procfs.rss_mb(pid)}


def take_sample(server_pid: int, started: float) -> Sample:
    runs = [measure(p) for p in procfs.python_descendants(server_pid)]
    total = {k: sum(r[k] for r in runs) for k in ("fds", "threads", "rss_mb")}
    return Sample(time.monotonic() - started, measure(server_pid), total)


@dataclass
class Workload:
    """The traffic of a dashboard left open, each kind in its own thread until ``stop`` is set."""

    url: str
    stop: threading.Event = field(default_factory=threading.Event)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    latest_run: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def error(self, kind: str, exc: BaseException) -> None:
        with self._lock:
            detail = exc.read().decode(errors="replace")[:200] if isinstance(exc, urllib.error.HTTPError) else ""
            self.errors.append(f"{kind}: {type(exc).__name__}: {exc} {detail}".strip())

    def loop(self, kind: str, step, pause: float) -> threading.Thread:
        def run() -> None:
            while not self.stop.is_set():
                try:
                    step()
                    self.count(kind)
                except Exception as exc:  # every failure is a finding; keep going to find the rest
                    self.error(kind, exc)
                self.stop.wait(pause)
        thread = threading.Thread(target=run, name=f"soak-{kind}", daemon=True)
        thread.start()
        return thread

    # -- the kinds of traffic ----------------------------------------------------------------
    def one_run(self) -> None:
        run = http(f"{self.url}/api/runs", SHORT_RUN)
        self.latest_run = run["id"]
        deadline = time.monotonic() + 120
        while http(f"{self.url}/api/runs/{run['id']}")["status"] in ("queued", "running"):
            if time.monotonic() > deadline or self.stop.is_set():
                return
            time.sleep(0.1)
        runs = http(f"{self.url}/api/runs")
        for old in runs[KEEP_RUNS:]:
            http(f"{self.url}/api/runs/{old['id']}", method="DELETE")

    def poll(self) -> None:
        for path in ("/api/runs", "/api/status", "/api/studies"):
            http(self.url + path)
        if self.latest_run is not None:
            http(f"{self.url}/api/runs/{self.latest_run}")
            http(f"{self.url}/api/runs/{self.latest_run}/metrics?after=-1&kinds=epoch,final")

    def socket(self) -> None:
        from simple_websocket import Client

        ws = Client.connect(self.url.replace("http://", "ws://") + "/ws")
        try:
            runs = {str(self.latest_run): -1} if self.latest_run else {}
            ws.send(json.dumps({"type": "subscribe", "runs": runs}))
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                message = ws.receive(timeout=0.2)
                if message is not None and json.loads(message).get("type") == "error":
                    raise RuntimeError(f"the socket answered an error: {message[:200]}")
        finally:
            ws.close()


class Tabs:
    """Chromium with a tab on the dashboard and one on a run page, as a person leaves them open (no
    debug counters, no bench instrumentation: nothing here reads them)."""

    def __init__(self, url: str, workload: Workload):
        self.url, self.workload = url, workload
        self.chromium = Browser()
        self.dashboard = self._page()
        self.dashboard.goto(url + "/")
        self.run_page = self._page()
        self.run_page.goto(url + "/")

    def _page(self):
        page = self.chromium.browser.new_page()
        page.on("pageerror", lambda exc: self.workload.error("page", exc))
        return page

    def follow_newest_run(self) -> None:
        """Move the run tab to the newest run (a page load, a socket closed and one opened)."""
        if self.workload.latest_run is not None:
            self.run_page.goto(f"{self.url}/runs/{self.workload.latest_run}")
            self.workload.count("run page")

    def close(self) -> None:
        self.chromium.close()


def slope_per_minute(samples: list[Sample], part: str, key: str) -> float:
    xs = [s.seconds / 60 for s in samples]
    ys = [getattr(s, part)[key] for s in samples]
    if len(xs) < 2:
        return 0.0
    return statistics.linear_regression(xs, ys).slope


def growth(samples: list[Sample], part: str, key: str) -> float:
    third = max(1, len(samples) // 3)
    first = statistics.median(getattr(s, part)[key] for s in samples[:third])
    last = statistics.median(getattr(s, part)[key] for s in samples[-third:])
    return last - first


def sample_line(s: Sample) -> str:
    return (f"{s.seconds:7.0f} s   server: {s.server['fds']:4.0f} fds {s.server['threads']:4.0f} threads "
            f"{s.server['rss_mb']:7.1f} MB   run processes: {s.runs['fds']:4.0f} fds {s.runs['threads']:4.0f} threads "
            f"{s.runs['rss_mb']:7.1f} MB")


def report(samples: list[Sample], warmup: float, workload: Workload) -> tuple[list[str], bool]:
    measured = [s for s in samples if s.seconds >= warmup]
    lines = [f"after the {warmup:.0f} s warm-up, {len(measured)} samples; growth = median of the last third − "
             f"median of the first third (allowed: {ALLOWED_GROWTH})"]
    flat = len(measured) >= 3
    for part in ("server", "runs"):
        for key in ("fds", "threads", "rss_mb"):
            g, s = growth(measured, part, key), slope_per_minute(measured, part, key)
            ok = g <= ALLOWED_GROWTH[key]
            flat = flat and ok
            lines.append(f"  {part:6} {key:8} growth {g:+8.1f}   slope {s:+8.2f}/min   {'flat' if ok else 'GROWS'}")
    lines.append(f"workload: {json.dumps(workload.counts, sort_keys=True)}; errors: {len(workload.errors)}")
    lines.extend(f"  error: {e}" for e in workload.errors[:20])
    return lines, flat and not workload.errors


def soak(minutes: float, interval: float, warmup: float, tmp: Path) -> tuple[list[Sample], Workload]:
    server = ServeProcess(tmp / "soak.sqlite", tmp / "server.log")
    workload = Workload(server.url)
    tabs = None
    try:
        workload.one_run()  # a first run, so the run tab and the sockets have one to follow
        tabs = Tabs(server.url, workload)
        threads = [workload.loop("run", workload.one_run, 0.2), workload.loop("poll", workload.poll, 0.1),
                   workload.loop("socket", workload.socket, 0.2)]
        started = time.monotonic()
        samples: list[Sample] = []
        next_sample = started
        next_tab_move = started + interval / 2
        while (now := time.monotonic()) < started + minutes * 60 + 0.5:
            if now >= next_sample:
                samples.append(take_sample(server.pid, started))
                print(sample_line(samples[-1]), flush=True)
                next_sample += interval
            if now >= next_tab_move:
                try:
                    tabs.follow_newest_run()
                except Exception as exc:
                    workload.error("run page", exc)
                next_tab_move += interval
            tabs.dashboard.wait_for_timeout(200)  # lets the browser's event loop run while we wait
        workload.stop.set()
        for thread in threads:
            thread.join(30)
        return samples, workload
    finally:
        workload.stop.set()
        if tabs is not None:
            tabs.close()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to soak (default 10)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between samples (default 60)")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the samples that count (default 60)")
    parser.add_argument("--check", action="store_true", help="exit 1 on growth beyond noise or any workload error")
    args = parser.parse_args(argv)
    if not 0 < args.interval <= args.minutes * 60 or not 0 <= args.warmup < args.minutes * 60:
        parser.error("need 0 < --interval ≤ the soak's length and 0 ≤ --warmup < the soak's length")
    print(f"soak: {args.minutes:g} min, a sample every {args.interval:g} s, load {procfs.loadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="normlab-soak-") as tmp:
        try:
            samples, workload = soak(args.minutes, args.interval, args.warmup, Path(tmp))
        except Exception:
            traceback.print_exc()
            log = Path(tmp) / "server.log"
            if log.exists():
                print("server log (tail):\n" + log.read_text(errors="replace")[-3000:])
            return 1
    lines, flat = report(samples, args.warmup, workload)
    print("\n".join(lines))
    print("verdict:", "FLAT" if flat else "GROWTH OR ERRORS")
    return 0 if flat or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
